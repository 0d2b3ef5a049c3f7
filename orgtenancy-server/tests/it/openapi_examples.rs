//! SPEC §13: every request body of both OpenAPI documents has an example the server accepts
//! as shown. Each operation's example (the media type's `example`, else its schema's) is sent
//! as is — only path ids, id fields and the refresh token replaced by ones of a seeded world —
//! by a caller who may do it, and must answer 2xx. (That the documents are valid OpenAPI is
//! `scripts/openapi-validate.sh`, with openapi-spec-validator.)

use poem::http::Method;
use serde_json::{Value, json};

use crate::support::{Backend, Body, Reply, Who, World, api};

/// The rows the ids of the examples are replaced with.
struct Ids {
    org: i64,
    user: i64,
    ca: i64,
    cert: i64,
}

/// An operation with a request body, as one of the documents describes it.
struct Operation {
    /// `/api/v1` or `/access/v1`.
    prefix: String,
    /// The path template, e.g. `/users/{id}`.
    path: String,
    method: Method,
    id: String,
    content_type: String,
    example: Option<Value>,
    /// Required parameters other than the path's.
    required: Vec<String>,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}{} ({})", self.method, self.prefix, self.path, self.id)
    }
}

/// The operations with a request body of the document at `prefix`/openapi.json.
async fn operations(world: &World, prefix: &str) -> Vec<Operation> {
    let reply = world
        .h
        .send(
            Method::GET,
            &format!("{prefix}/openapi.json"),
            None,
            Body::None,
        )
        .await;
    reply.expect(200);
    let doc = &reply.json;
    assert_eq!(doc["servers"][0]["url"], prefix, "the document's server");
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Some(content) = op["requestBody"]["content"].as_object() else {
                continue;
            };
            let (content_type, media) = content.iter().next().expect("a media type");
            let schema = match media["schema"]["$ref"].as_str() {
                Some(reference) => {
                    let name = reference.trim_start_matches("#/components/schemas/");
                    &doc["components"]["schemas"][name]
                }
                None => &media["schema"],
            };
            let example = media.get("example").or_else(|| schema.get("example"));
            let required = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["required"] == true && p["in"] != "path")
                .map(|p| format!("{} {}", p["in"], p["name"]))
                .collect();
            found.push(Operation {
                prefix: prefix.to_owned(),
                path: path.clone(),
                method: method.to_uppercase().parse().expect("method"),
                id: op["operationId"].as_str().unwrap_or_default().to_owned(),
                content_type: content_type.clone(),
                example: example.cloned(),
                required,
            });
        }
    }
    found
}

/// The path with its `{…}` ids filled in, by the collection they name.
fn fill_path(path: &str, ids: &Ids) -> Result<String, String> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut filled = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        if !segment.starts_with('{') {
            filled.push((*segment).to_owned());
            continue;
        }
        let collection = index.checked_sub(1).map(|i| segments[i]);
        let id = match (*segment, collection) {
            ("{user_id}", _) | ("{id}", Some("users")) => ids.user,
            ("{id}", Some("organizations")) => ids.org,
            ("{id}", Some("cas")) => ids.ca,
            ("{id}", Some("certificates")) => ids.cert,
            _ => return Err(format!("no id for {segment} in {path}")),
        };
        filled.push(id.to_string());
    }
    Ok(filled.join("/"))
}

/// `value` with the same type as `like` (AuthZEN ids are strings).
fn id_like(like: &Value, id: i64) -> Value {
    if like.is_string() {
        json!(id.to_string())
    } else {
        json!(id)
    }
}

/// Replaces the id fields of `value` (and the refresh token) in place; the rest is as shown.
fn substitute(value: &mut Value, ids: &Ids, refresh: Option<&str>) -> Result<(), String> {
    let Some(object) = value.as_object_mut() else {
        if let Some(items) = value.as_array_mut() {
            for item in items {
                substitute(item, ids, refresh)?;
            }
        }
        return Ok(());
    };
    // An AuthZEN subject or resource: `{"type": ..., "id": ...}`.
    let typed = match object.get("type").and_then(Value::as_str) {
        Some("user") => Some(ids.user),
        Some("organization") => Some(ids.org),
        Some("ca") => Some(ids.ca),
        Some("certificate") => Some(ids.cert),
        _ => None,
    };
    for (key, field) in object.iter_mut() {
        let id = match key.as_str() {
            "id" => typed,
            "organization_id" => Some(ids.org),
            "user_id" => Some(ids.user),
            "ca_id" | "parent_ca_id" => Some(ids.ca),
            "refresh_token" => {
                let token = refresh.ok_or("no refresh token yet (log in first)")?;
                *field = json!(token);
                continue;
            }
            _ => None,
        };
        match id {
            Some(id) if !field.is_null() => *field = id_like(field, id),
            _ => substitute(field, ids, refresh)?,
        }
    }
    Ok(())
}

/// The order to send them in: the user of the examples is created, then logs in (its
/// tokens feed `refresh_token`), then everything else; signing out last.
fn rank(operation: &Operation) -> u8 {
    match operation.id.as_str() {
        "create_user" => 0,
        "login" => 1,
        "refresh_token" => 2,
        "logout" => 4,
        _ => 3,
    }
}

/// The example as a form: each member a field, strings as they are.
fn form(example: &Value) -> Vec<(String, String)> {
    example
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            (name.clone(), text)
        })
        .collect()
}

async fn examples_are_accepted(backend: Backend) {
    let world = World::new(&backend).await;
    let root = world.root().to_owned();
    let ca = world
        .h
        .post(
            "/cas/",
            Some(&root),
            json!({"name": "Seed CA", "subject_dn": "CN=Seed CA", "key_type": "ec"}),
        )
        .await;
    ca.expect(201);
    let issue = format!("/certificates/?ca_id={}", ca.id());
    let cert = json!({"common_name": "seed.example", "certificate_type": "server",
                      "key_type": "ec", "san_dns_names": ["seed.example"]});
    let cert = world.h.post(&issue, Some(&root), cert).await;
    cert.expect(201);
    let ids = Ids {
        org: world.org_a,
        user: world.id(Who::UserA),
        ca: ca.id(),
        cert: cert.id(),
    };
    let mut all = operations(&world, "/api/v1").await;
    all.extend(operations(&world, "/access/v1").await);
    for expected in ["login", "create_user", "create_ca", "authzen_evaluations"] {
        assert!(all.iter().any(|op| op.id == expected), "{expected} listed");
    }
    all.sort_by_key(rank);
    // The tokens of the examples' own user, from the login example on.
    let (mut access, mut refresh) = (None::<String>, None::<String>);
    let mut failures = Vec::new();
    for op in &all {
        let Some(mut example) = op.example.clone() else {
            failures.push(format!("{}: no example", op.name()));
            continue;
        };
        if !op.required.is_empty() {
            failures.push(format!("{}: required {:?}", op.name(), op.required));
            continue;
        }
        let filled = fill_path(&op.path, &ids)
            .and_then(|path| substitute(&mut example, &ids, refresh.as_deref()).map(|()| path));
        let path = match filled {
            Ok(path) => path,
            Err(why) => {
                failures.push(format!("{}: {why}", op.name()));
                continue;
            }
        };
        let body = if op
            .content_type
            .starts_with("application/x-www-form-urlencoded")
        {
            Body::Form(form(&example))
        } else {
            Body::Json(example.clone())
        };
        // Signing out is the examples' user's own act; everything else the superuser's.
        let token = match op.id.as_str() {
            "logout" => access.clone(),
            "login" | "refresh_token" => None,
            _ => Some(root.clone()),
        };
        let target = format!("{}{path}", op.prefix);
        let reply: Reply = world
            .h
            .send(op.method.clone(), &target, token.as_deref(), body)
            .await;
        if !reply.status.is_success() {
            failures.push(format!(
                "{}: {} for {example}: {}",
                op.name(),
                reply.code(),
                reply.text
            ));
        }
        if let Some(token) = reply.json["refresh_token"].as_str() {
            refresh = Some(token.to_owned());
        }
        if let Some(token) = reply.json["access_token"].as_str() {
            access = Some(token.to_owned());
        }
    }
    assert!(
        failures.is_empty(),
        "examples refused or missing:\n{}",
        failures.join("\n")
    );
}

/// The token form: `grant_type` defaults to `password` (as the docs UI prefills it), may be
/// left out or empty, and any other value is a 400 that names it.
async fn token_form_grant_type(backend: Backend) {
    let world = World::new(&backend).await;
    let doc = world.h.get("/openapi.json", None).await;
    let grant = &doc.json["components"]["schemas"]["TokenForm"]["properties"]["grant_type"];
    assert_eq!(grant["default"], "password", "{grant}");
    let path = api("/auth/token");
    let login = |grant: Option<&str>| {
        let mut fields = vec![
            ("username".to_owned(), "root".to_owned()),
            ("password".to_owned(), crate::support::PASSWORD.to_owned()),
        ];
        if let Some(grant) = grant {
            fields.push(("grant_type".to_owned(), grant.to_owned()));
        }
        world.h.send(Method::POST, &path, None, Body::Form(fields))
    };
    for accepted in [None, Some(""), Some("password")] {
        login(accepted).await.expect(200);
    }
    let refused = login(Some("client_credentials")).await;
    refused.expect(400).assert_error_shape();
    let detail = refused.json["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("grant_type"), "{detail}");
}

on_both_backends!(examples_are_accepted, token_form_grant_type);
