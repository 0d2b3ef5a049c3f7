//! SPEC §7: bad input never causes a 5xx, always gets a JSON `{"detail"}` with the right
//! status; and the service endpoints (`/`, `/healthz`, the OpenAPI document, `/docs`).

use poem::http::Method;

use crate::support::{Backend, Body, Harness, World, api};

/// One bad request, sent as the superuser (so permissions never hide the input error).
struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: &'static str,
    expect: u16,
}

const fn case(
    expect: u16,
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: &'static str,
    name: &'static str,
) -> Case {
    Case {
        name,
        method,
        path,
        content_type,
        body,
        expect,
    }
}

const JSON: Option<&str> = Some("application/json");
const NONE: Option<&str> = None;

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Method as M;
    vec![
        // Path ids.
        case(422, M::GET,    "/organizations/abc", NONE, "", "non-numeric organization id"),
        case(422, M::GET,    "/organizations/99999999999999999999999", NONE, "", "huge organization id"),
        case(404, M::GET,    "/organizations/-1", NONE, "", "negative organization id"),
        case(422, M::GET,    "/organizations/1.5", NONE, "", "float organization id"),
        case(422, M::GET,    "/users/abc", NONE, "", "non-numeric user id"),
        case(404, M::GET,    "/users/-7", NONE, "", "negative user id"),
        case(422, M::DELETE, "/users/18446744073709551616", NONE, "", "huge user id"),
        case(422, M::POST,   "/organizations/1/users/x", NONE, "", "non-numeric member id"),
        // JSON bodies.
        case(400, M::POST,   "/organizations/", JSON, r#"{"name": "#, "malformed JSON"),
        case(400, M::POST,   "/organizations/", JSON, "name=acme", "not JSON at all"),
        case(422, M::POST,   "/organizations/", JSON, "", "empty body"),
        case(422, M::POST,   "/organizations/", JSON, r#"["acme"]"#, "JSON array"),
        case(422, M::POST,   "/organizations/", JSON, r#"{"name": 5}"#, "wrong type"),
        case(422, M::POST,   "/organizations/", JSON, r#"{"description": "x"}"#, "missing field"),
        case(422, M::POST,   "/organizations/", JSON, r#"{"name": ""}"#, "empty name"),
        case(422, M::POST,   "/organizations/", JSON, r#"{"name": "   "}"#, "blank name"),
        case(415, M::POST,   "/organizations/", Some("text/plain"), r#"{"name": "x"}"#, "wrong content type"),
        case(415, M::POST,   "/organizations/", NONE, r#"{"name": "x"}"#, "no content type"),
        case(415, M::POST,   "/organizations/", Some("application/x-www-form-urlencoded"), "name=x", "form instead of JSON"),
        case(422, M::PUT,    "/organizations/1", JSON, r#"{"name": " "}"#, "blank rename"),
        case(422, M::PUT,    "/organizations/1", JSON, r#"{"name": 1}"#, "rename to a number"),
        case(422, M::POST,   "/users/", JSON, r#"{"username": "x", "email": "x@example.com", "password": "short"}"#, "short password"),
        case(422, M::POST,   "/users/", JSON, r#"{"username": "x", "email": "not-an-email", "password": "long enough"}"#, "bad email"),
        case(422, M::POST,   "/users/", JSON, r#"{"username": "x", "email": "x@example.com", "password": "long enough", "role": "god"}"#, "unknown role"),
        case(422, M::POST,   "/users/", JSON, r#"{"email": "x@example.com", "password": "long enough"}"#, "missing username"),
        case(422, M::POST,   "/users/", JSON, r#"{"username": " ", "email": "x@example.com", "password": "long enough"}"#, "blank username"),
        case(422, M::POST,   "/users/", JSON, r#"{"username": " x", "email": "x@example.com", "password": "long enough"}"#, "padded username"),
        case(422, M::POST,   "/users/", JSON, r#"{"username": "x", "email": "x@example.com", "password": "long enough", "can_create_ca": "yes"}"#, "flag of the wrong type"),
        case(422, M::PATCH,  "/users/1", JSON, r#"{"organization_id": "one"}"#, "organization id of the wrong type"),
        case(422, M::PATCH,  "/users/1", JSON, r#"{"email": "nope"}"#, "bad email in a patch"),
        case(400, M::PATCH,  "/users/1", JSON, "{", "patch with malformed JSON"),
        // Pagination.
        case(422, M::GET,    "/users/?limit=0", NONE, "", "limit 0"),
        case(422, M::GET,    "/users/?limit=1001", NONE, "", "limit 1001"),
        case(422, M::GET,    "/users/?skip=-1", NONE, "", "negative skip"),
        case(422, M::GET,    "/organizations/?limit=ten", NONE, "", "non-numeric limit"),
        case(422, M::GET,    "/audit-logs/?limit=0", NONE, "", "audit limit 0"),
        case(422, M::GET,    "/audit-logs/?user_id=me", NONE, "", "audit user_id not a number"),
        case(422, M::GET,    "/audit-logs/?since=soon", NONE, "", "audit since not a time"),
        case(422, M::GET,    "/audit-logs/?resource_id=abc", NONE, "", "audit resource_id not an integer"),
        case(422, M::GET,    "/audit-logs/?action=%FF", NONE, "", "query parameter not UTF-8"),
        case(422, M::GET,    "/organizations/?x%00=1", NONE, "", "query parameter name with a NUL"),
        case(422, M::POST,   "/auth/token", NONE, "", "empty token request"),
        case(422, M::POST,   "/auth/token", Some("application/x-www-form-urlencoded"), "", "empty token form"),
        case(422, M::POST,   "/auth/token", Some("application/x-www-form-urlencoded"), "username=root", "token form without password"),
        case(422, M::GET,    "/organizations/1/users?limit=5000", NONE, "", "members limit 5000"),
        // Routes and methods.
        case(404, M::GET,    "/nope", NONE, "", "unknown API route"),
        case(404, M::GET,    "/organizations/1/nope", NONE, "", "unknown nested route"),
        case(405, M::DELETE, "/organizations/", NONE, "", "wrong method on a collection"),
        case(405, M::PATCH,  "/organizations/1", JSON, "{}", "wrong method on an item"),
        case(405, M::GET,    "/auth/token", NONE, "", "wrong method on the token endpoint"),
    ]
}

async fn bad_requests(backend: Backend) {
    let world = World::new(&backend).await;
    let mut failures = Vec::new();
    for case in cases() {
        let body = Body::Raw(case.content_type, case.body.as_bytes().to_vec());
        let reply = world
            .h
            .send(
                case.method.clone(),
                &api(case.path),
                Some(world.root()),
                body,
            )
            .await;
        if reply.code() != case.expect {
            failures.push(format!(
                "{}: expected {}, got {} {}",
                case.name,
                case.expect,
                reply.code(),
                reply.text
            ));
            continue;
        }
        reply.assert_error_shape();
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// An empty token request names every missing field, with or without a content type.
async fn token_form_names_missing_fields(backend: Backend) {
    let h = Harness::new(&backend).await;
    for content_type in [None, Some("application/x-www-form-urlencoded")] {
        let body = Body::Raw(content_type, Vec::new());
        let reply = h.send(Method::POST, &api("/auth/token"), None, body).await;
        reply.expect(422).assert_error_shape();
        assert_eq!(
            reply.json["detail"], "missing form fields: `username`, `password`",
            "{content_type:?}"
        );
    }
    let body = Body::Raw(None, b"username=root".to_vec());
    let reply = h.send(Method::POST, &api("/auth/token"), None, body).await;
    reply.expect(415).assert_error_shape();
}

/// Every 422 names the field at fault in words (SPEC §13): as `field`, `parent.field` or
/// `list[index]`, never poem's `param0` or a type name alone.
#[rustfmt::skip]
fn named_details() -> Vec<(Method, &'static str, &'static str, &'static str)> {
    use Method as M;
    vec![
        (M::POST,  "/api/v1/organizations/", r#"{"description": "x"}"#, "missing field `name`"),
        (M::POST,  "/api/v1/organizations/", r#"{"name": null}"#, "missing field `name`"),
        (M::POST,  "/api/v1/organizations/", r#"{"name": 5}"#, "invalid name: expected a string, found an integer"),
        (M::POST,  "/api/v1/organizations/", r#"{"name": "a", "nmae": "b"}"#, "unknown field `nmae`"),
        (M::POST,  "/api/v1/organizations/", r#"["acme"]"#, "invalid body: expected an object, found an array"),
        (M::POST,  "/api/v1/users/", r#"{"username": "x", "email": "x@example.com", "password": "long enough", "is_activ": false}"#, "unknown field `is_activ`"),
        (M::POST,  "/api/v1/users/", r#"{"username": "x", "email": "x@example.com", "password": "long enough", "role": "god"}"#, "invalid role: expected one of `user`, `admin`, `superuser`, got `god`"),
        (M::POST,  "/api/v1/users/", r#"{"username": "x", "email": "x@example.com", "password": "short"}"#, "invalid password: at least 8 characters"),
        (M::POST,  "/api/v1/users/", r#"{"username": "x", "email": "nope", "password": "long enough"}"#, "invalid email: not a valid email address"),
        (M::PATCH, "/api/v1/users/1", r#"{"organization_id": "one"}"#, "invalid organization_id: expected an integer, found a string"),
        (M::PATCH, "/api/v1/users/1", r#"{"can_create_ca": "yes"}"#, "invalid can_create_ca: expected a boolean, found a string"),
        (M::POST,  "/api/v1/cas/", r#"{"name": "n", "subject_dn": "CN=x", "valid_days": 1.5}"#, "invalid valid_days: expected an integer, found a number"),
        (M::POST,  "/api/v1/certificates/?ca_id=1", r#"{"common_name": "a", "certificate_type": "server", "san_dns_names": [null]}"#, "invalid san_dns_names[0]: expected a string, found null"),
        (M::POST,  "/api/v1/certificates/sign-csr", r#"{"csr": "x", "ca_id": 1, "certificate_type": "server"}"#, "invalid csr: not a PEM certificate signing request"),
        (M::POST,  "/api/v1/certificates/sign-csr", r#"{"csr": "x", "certificate_type": "dual"}"#, "invalid certificate_type: expected one of"),
        (M::POST,  "/api/v1/certificates/1/renew", r#"{"csr": 7}"#, "invalid csr: expected a string, found an integer"),
        (M::POST,  "/api/v1/cas/", r#"{"name": "n", "subject_dn": "CN=x", "crl_base_url": "ftp://x"}"#, "invalid crl_base_url: must be an absolute http:// or https:// URL"),
        (M::POST,  "/access/v1/evaluation", r#"{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "ca", "id": "1"}}"#, "missing field `subject.id`"),
        (M::GET,   "/api/v1/organizations/abc", "", "invalid id: `abc` is not a valid id"),
        (M::POST,  "/api/v1/organizations/1/users/x", "", "invalid user_id: `x` is not a valid id"),
        (M::GET,   "/api/v1/users/?limit=0", "", "invalid limit:"),
        (M::GET,   "/api/v1/audit-logs/?user_id=me", "", "invalid user_id:"),
    ]
}

async fn details_name_the_field(backend: Backend) {
    let world = World::new(&backend).await;
    let mut failures = Vec::new();
    for (method, path, body, expected) in named_details() {
        let body = match body {
            "" => Body::None,
            text => Body::Raw(Some("application/json"), text.as_bytes().to_vec()),
        };
        let reply = world
            .h
            .send(method.clone(), path, Some(world.root()), body)
            .await;
        let detail = reply.json["detail"].as_str().unwrap_or_default();
        if reply.code() != 422 || !detail.starts_with(expected) {
            failures.push(format!(
                "{method} {path}: {} {detail:?}, expected {expected:?}",
                reply.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn outside_the_api(backend: Backend) {
    let h = Harness::new(&backend).await;
    for path in ["/nope", "/api", "/api/v2/organizations"] {
        let reply = h.send(Method::GET, path, None, Body::None).await;
        reply.expect(404).assert_error_shape();
    }
    h.send(Method::POST, "/healthz", None, Body::None)
        .await
        .expect(405)
        .assert_error_shape();
}

async fn oversized_bodies(backend: Backend) {
    let world = World::new(&backend).await;
    let name = "x".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"name": "{name}"}}"#).into_bytes();
    let reply = world
        .h
        .send(
            Method::POST,
            &api("/organizations/"),
            Some(world.root()),
            Body::Raw(Some("application/json"), body),
        )
        .await;
    reply.expect(413).assert_error_shape();
    // Just under the limit, the field validation answers.
    let long = "y".repeat(256);
    let body = format!(r#"{{"name": "{long}"}}"#).into_bytes();
    let reply = world
        .h
        .send(
            Method::POST,
            &api("/organizations/"),
            Some(world.root()),
            Body::Raw(Some("application/json"), body),
        )
        .await;
    reply.expect(422).assert_error_shape();
    let description = "z".repeat(4097);
    let reply = world
        .h
        .post(
            "/organizations/",
            Some(world.root()),
            serde_json::json!({"name": "d", "description": description}),
        )
        .await;
    reply.expect(422).assert_error_shape();
}

async fn service_endpoints(backend: Backend) {
    let h = Harness::new(&backend).await;
    let root = h.send(Method::GET, "/", None, Body::None).await;
    root.expect(200);
    assert_eq!(root.json["name"], "orgtenancy-server");
    assert_eq!(root.json["version"], env!("CARGO_PKG_VERSION"));
    let health = h.send(Method::GET, "/healthz", None, Body::None).await;
    health.expect(200);
    assert_eq!(health.json["status"], "ok");
    let spec = h
        .send(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    spec.expect(200);
    assert!(
        spec.json["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    for path in [
        "/organizations",
        "/organizations/{id}",
        "/organizations/{id}/users",
        "/organizations/{id}/users/{user_id}",
        "/users",
        "/users/me",
        "/users/{id}",
        "/auth/token",
        "/auth/refresh",
        "/auth/logout",
        "/auth/invalidate",
        "/audit-logs",
    ] {
        assert!(spec.json["paths"].get(path).is_some(), "{path} documented");
    }
    let scheme = &spec.json["components"]["securitySchemes"]["OAuth2PasswordBearer"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(
        scheme["flows"]["password"]["tokenUrl"],
        "/api/v1/auth/token"
    );
    assert_eq!(spec.json["servers"][0]["url"], "/api/v1");
    let docs = h.send(Method::GET, "/docs", None, Body::None).await;
    docs.expect(200);
    assert!(docs.text.contains("swagger"), "interactive docs served");
    h.send(Method::GET, "/docs/", None, Body::None)
        .await
        .expect(200);
}

on_both_backends!(
    bad_requests,
    details_name_the_field,
    token_form_names_missing_fields,
    outside_the_api,
    oversized_bodies,
    service_endpoints
);
