//! Hostile text in every text field and filter (issue 11, SPEC §7), on both backends: a NUL
//! character (PostgreSQL refuses it in `text`, SQLite stores it and miscounts), one leading
//! the value, an unpaired surrogate escape, 10⁶ characters, and dates outside the years both
//! databases compare alike. Each must be a 4xx whose `detail` names the field, and nothing may
//! change: every list a superuser can read is the same afterwards.

use poem::http::Method;
use serde_json::{Value, json};

use crate::support::{Backend, Body, PASSWORD, Reply, World};

/// How a case's value travels.
#[derive(Debug, Clone, Copy)]
enum Carrier {
    /// A field of a JSON body (a `/`-separated path into `base`; numbers index arrays).
    Json,
    /// A field of the token form.
    Form,
    /// A query parameter.
    Query,
}

/// One field of one endpoint.
struct Field {
    method: Method,
    /// The path; `{org}`, `{user}`, `{ca}`, `{cert}` are filled in from the world.
    path: &'static str,
    carrier: Carrier,
    /// The field (for JSON a path such as `subject/id`).
    field: &'static str,
    /// A valid body the field is put into (JSON), or the other form fields.
    base: Value,
    /// The word the detail must contain.
    named: &'static str,
}

fn field(method: Method, path: &'static str, carrier: Carrier, field: &'static str) -> Field {
    // `san_dns_names/0` names `san_dns_names`; `subject/id` names `id`.
    let named = field
        .rsplit('/')
        .find(|part| part.parse::<usize>().is_err())
        .unwrap_or(field);
    Field {
        method,
        path,
        carrier,
        field,
        base: json!({}),
        named,
    }
}

fn json_field(method: Method, path: &'static str, name: &'static str, base: Value) -> Field {
    Field {
        base,
        ..field(method, path, Carrier::Json, name)
    }
}

fn authzen(name: &'static str) -> Field {
    let base = json!({
        "subject": {"type": "user", "id": "{user}"},
        "action": {"name": "read"},
        "resource": {"type": "ca", "id": "{ca}"},
    });
    json_field(Method::POST, "/access/v1/evaluation", name, base)
}

#[rustfmt::skip]
fn fields() -> Vec<Field> {
    use Method as M;
    let org = || json!({"name": "fresh org", "description": "d"});
    let user = || json!({"username": "fresh", "email": "fresh@example.com", "password": PASSWORD});
    let ca = || json!({"name": "Fresh CA", "subject_dn": "CN=Fresh CA,O=Acme", "key_type": "ec"});
    let ca_parts = || json!({"name": "Parts CA", "common_name": "Parts", "organization": "Acme",
                             "country": "US", "key_type": "ec"});
    let csr = || json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----", "ca_name": "Fresh CA",
                        "certificate_type": "client", "common_name": "svc", "subject_dn": "CN=svc",
                        "san_email_addresses": ["svc@example.com"]});
    let cert = || json!({"common_name": "svc.example.com", "certificate_type": "server",
                         "key_type": "ec", "san_dns_names": ["svc.example.com"],
                         "san_ip_addresses": ["10.0.0.1"], "subject_dn": "CN=svc.example.com"});
    vec![
        field(M::POST, "/api/v1/auth/token", Carrier::Form, "username"),
        field(M::POST, "/api/v1/auth/token", Carrier::Form, "password"),
        field(M::POST, "/api/v1/auth/token", Carrier::Form, "grant_type"),
        json_field(M::POST, "/api/v1/organizations/", "name", org()),
        json_field(M::POST, "/api/v1/organizations/", "description", org()),
        json_field(M::PUT, "/api/v1/organizations/{org}", "name", org()),
        json_field(M::PUT, "/api/v1/organizations/{org}", "description", org()),
        json_field(M::POST, "/api/v1/users/", "username", user()),
        json_field(M::POST, "/api/v1/users/", "email", user()),
        json_field(M::POST, "/api/v1/users/", "password", user()),
        json_field(M::PATCH, "/api/v1/users/{user}", "email", json!({})),
        json_field(M::PATCH, "/api/v1/users/{user}", "password", json!({})),
        json_field(M::POST, "/api/v1/auth/refresh", "refresh_token", json!({})),
        json_field(M::POST, "/api/v1/cas/", "name", ca()),
        json_field(M::POST, "/api/v1/cas/", "description", ca()),
        json_field(M::POST, "/api/v1/cas/", "subject_dn", ca()),
        json_field(M::POST, "/api/v1/cas/", "common_name", ca_parts()),
        json_field(M::POST, "/api/v1/cas/", "organization", ca_parts()),
        json_field(M::POST, "/api/v1/cas/", "country", ca_parts()),
        json_field(M::POST, "/api/v1/certificates/?ca_id={ca}", "common_name", cert()),
        json_field(M::POST, "/api/v1/certificates/?ca_id={ca}", "subject_dn", cert()),
        json_field(M::POST, "/api/v1/certificates/?ca_id={ca}", "san_dns_names/0", Value::Null),
        json_field(M::POST, "/api/v1/certificates/?ca_id={ca}", "san_ip_addresses/0", Value::Null),
        json_field(M::POST, "/api/v1/certificates/{cert}/revoke", "reason", json!({})),
        json_field(M::POST, "/api/v1/certificates/?ca_id={ca}", "san_email_addresses/0", json!({
            "common_name": "svc", "certificate_type": "client", "key_type": "ec",
            "san_email_addresses": ["svc@example.com"]})),
        json_field(M::POST, "/api/v1/cas/", "crl_base_url", json!({
            "name": "URL CA", "subject_dn": "CN=URL CA", "key_type": "ec",
            "crl_base_url": "http://pki.example.com"})),
        json_field(M::POST, "/api/v1/certificates/sign-csr", "csr", csr()),
        json_field(M::POST, "/api/v1/certificates/sign-csr", "ca_name", csr()),
        json_field(M::POST, "/api/v1/certificates/sign-csr", "common_name", csr()),
        json_field(M::POST, "/api/v1/certificates/sign-csr", "subject_dn", csr()),
        json_field(M::POST, "/api/v1/certificates/sign-csr", "san_email_addresses/0", csr()),
        json_field(M::POST, "/api/v1/certificates/{cert}/renew", "csr", json!({"csr": "x"})),
        authzen("subject/id"),
        authzen("subject/type"),
        authzen("action/name"),
        authzen("resource/type"),
        authzen("resource/id"),
        field(M::GET, "/api/v1/audit-logs/", Carrier::Query, "action"),
        field(M::GET, "/api/v1/audit-logs/", Carrier::Query, "resource_type"),
        field(M::GET, "/api/v1/audit-logs/", Carrier::Query, "since"),
        field(M::GET, "/api/v1/audit-logs/", Carrier::Query, "until"),
        json_field(M::POST, "/access/v1/evaluations", "evaluations/0/subject/id", json!({
            "evaluations": [{"subject": {"type": "user", "id": "{user}"},
                             "action": {"name": "read"}, "resource": {"type": "ca", "id": "{ca}"}}],
        })),
        // Last: accepted by mistake, it would sign the superuser out for the rest of the table.
        json_field(M::POST, "/api/v1/auth/logout", "refresh_token", json!({})),
    ]
    .into_iter()
    .map(|mut f| {
        if f.base.is_null() {
            f.base = cert();
        }
        f
    })
    .collect()
}

/// The hostile values. `Raw` is spliced into JSON text as is (an escape serde_json would
/// never produce); the rest are sent as ordinary strings.
#[derive(Debug, Clone, Copy)]
enum Poison {
    Nul,
    LeadingNul,
    LoneSurrogate,
    Huge,
}

const POISONS: [Poison; 4] = [
    Poison::Nul,
    Poison::LeadingNul,
    Poison::LoneSurrogate,
    Poison::Huge,
];

/// Dates no filter may take: before 4713 BC (PostgreSQL's first), year 0, after 9999.
const FAR_DATES: [&str; 4] = [
    "-5000-01-01",
    "0000-06-01",
    "+10000-01-01",
    "+10000-01-01T00:00:00Z",
];

/// A placeholder spliced out of the JSON text.
const MARK: &str = "__hostile__";

struct Ids {
    org: i64,
    user: i64,
    ca: i64,
    cert: i64,
}

fn fill(path: &str, ids: &Ids) -> String {
    path.replace("{org}", &ids.org.to_string())
        .replace("{user}", &ids.user.to_string())
        .replace("{ca}", &ids.ca.to_string())
        .replace("{cert}", &ids.cert.to_string())
}

/// `value` with the string at `path` (`/`-separated) set to `leaf`.
fn put(value: &mut Value, path: &str, leaf: Value) {
    let mut at = value;
    for part in path.split('/') {
        at = match part.parse::<usize>() {
            Ok(index) => &mut at[index],
            Err(_) => &mut at[part],
        };
    }
    *at = leaf;
}

/// The JSON text of `base` with the field set to `poison`, placeholders filled.
fn json_text(f: &Field, poison: Poison, ids: &Ids) -> String {
    let mut body = f.base.clone();
    put(&mut body, f.field, Value::String(MARK.to_owned()));
    let text = fill(&body.to_string(), ids);
    let value = match poison {
        Poison::Nul => r#""ok\u0000ok""#.to_owned(),
        Poison::LeadingNul => r#""\u0000ok""#.to_owned(),
        Poison::LoneSurrogate => r#""ok\ud800""#.to_owned(),
        Poison::Huge => format!("\"{}\"", "x".repeat(1_000_000)),
    };
    text.replace(&format!("\"{MARK}\""), &value)
}

/// The longest URI the `http` crate builds; a real server's request-line limit (hyper's
/// buffer) is lower still, so a query cannot carry 10⁶ characters to the operation.
const LONGEST_QUERY_VALUE: usize = 60_000;

/// The percent-encoded form of `poison` (`huge` characters for [`Poison::Huge`]).
fn encoded(poison: Poison, huge: usize) -> String {
    match poison {
        Poison::Nul => "ok%00ok".to_owned(),
        Poison::LeadingNul => "%00ok".to_owned(),
        // CESU-8 of U+D800: bytes that are not UTF-8.
        Poison::LoneSurrogate => "ok%ED%A0%80".to_owned(),
        Poison::Huge => "x".repeat(huge),
    }
}

fn request(f: &Field, value: &str, ids: &Ids) -> (String, Body) {
    let path = fill(f.path, ids);
    match f.carrier {
        Carrier::Json => (
            path,
            Body::Raw(Some("application/json"), value.as_bytes().to_vec()),
        ),
        Carrier::Form => {
            let mut form = format!("username=root&password={PASSWORD}&grant_type=password");
            form = form
                .split('&')
                .filter(|pair| !pair.starts_with(&format!("{}=", f.field)))
                .collect::<Vec<_>>()
                .join("&");
            form.push_str(&format!("&{}={value}", f.field));
            let bytes = form.into_bytes();
            (
                path,
                Body::Raw(Some("application/x-www-form-urlencoded"), bytes),
            )
        }
        Carrier::Query => (format!("{path}?{}={value}", f.field), Body::None),
    }
}

/// Everything a superuser can list, to compare before and after a refused request.
async fn snapshot(world: &World) -> Vec<Value> {
    let mut lists = Vec::new();
    for path in [
        "/organizations/",
        "/users/?limit=1000",
        "/audit-logs/?limit=1000",
        "/cas/?limit=1000",
        "/certificates/?limit=1000",
    ] {
        let reply = world.h.get(path, Some(world.root())).await;
        reply.expect(200);
        lists.push(reply.json.clone());
    }
    lists
}

/// Why `reply` is not the refusal it must be, if it is not.
fn refusal_problem(reply: &Reply, named: &str) -> Option<String> {
    if !(400..500).contains(&reply.code()) || matches!(reply.code(), 401 | 403 | 404) {
        return Some(format!("status {}", reply.code()));
    }
    let detail = reply.json["detail"].as_str().unwrap_or_default();
    let shown: String = detail.chars().take(160).collect();
    if !detail.contains(named) {
        return Some(format!("detail does not name `{named}`: {shown:?}"));
    }
    // A refusal quotes at most a little of the value it refuses.
    if detail.chars().count() > 600 {
        return Some(format!(
            "detail of {} characters: {shown:?}",
            detail.chars().count()
        ));
    }
    None
}

async fn world_with_pki(backend: &Backend) -> (World, Ids) {
    let world = World::new(backend).await;
    let root = world.root().to_owned();
    let ca = world
        .h
        .post(
            "/cas/",
            Some(&root),
            json!({"name": "Hostile Root", "subject_dn": "CN=Hostile Root", "key_type": "ec"}),
        )
        .await;
    let ca = ca.expect(201).id();
    let cert = world
        .h
        .post(
            &format!("/certificates/?ca_id={ca}"),
            Some(&root),
            json!({"common_name": "a.example.com", "certificate_type": "server", "key_type": "ec",
               "san_dns_names": ["a.example.com"]}),
        )
        .await;
    let cert = cert.expect(201).id();
    let user = world.id(crate::support::Who::UserA);
    let ids = Ids {
        org: world.org_a,
        user,
        ca,
        cert,
    };
    (world, ids)
}

async fn hostile_text_everywhere(backend: Backend) {
    let (world, ids) = world_with_pki(&backend).await;
    let root = world.root().to_owned();
    let mut failures = Vec::new();
    let mut sent = 0;
    for f in fields() {
        let values: Vec<(String, String)> = match f.carrier {
            Carrier::Json => POISONS
                .iter()
                .map(|p| (format!("{p:?}"), json_text(&f, *p, &ids)))
                .collect(),
            Carrier::Form | Carrier::Query => {
                let huge = match f.carrier {
                    Carrier::Query => LONGEST_QUERY_VALUE,
                    _ => 1_000_000,
                };
                let mut values: Vec<_> = POISONS
                    .iter()
                    .map(|p| (format!("{p:?}"), encoded(*p, huge)))
                    .collect();
                if matches!(f.field, "since" | "until") {
                    values.extend(
                        FAR_DATES
                            .iter()
                            .map(|d| (format!("date {d}"), d.replace('+', "%2B"))),
                    );
                }
                values
            }
        };
        for (label, value) in values {
            let before = snapshot(&world).await;
            let (path, body) = request(&f, &value, &ids);
            let token = (!matches!(f.carrier, Carrier::Form)).then_some(root.as_str());
            let reply = world.h.send(f.method.clone(), &path, token, body).await;
            sent += 1;
            let case = format!("{} {} `{}` {label}", f.method, f.path, f.field);
            if let Some(problem) = refusal_problem(&reply, f.named) {
                failures.push(format!("{case}: {problem}"));
                continue;
            }
            reply.assert_error_shape();
            if snapshot(&world).await != before {
                failures.push(format!("{case}: something changed"));
            }
        }
    }
    assert!(sent > 120, "only {sent} requests");
    assert!(
        failures.is_empty(),
        "{} of {sent} hostile requests were not refused cleanly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

on_both_backends!(hostile_text_everywhere);
