//! `DELETE /api/v1/auth/lockouts/{username}` against the real binary.

use serde_json::json;

use super::{call, fresh, login, serve, token};
use crate::support::Backend;

fn clears_a_lockout(backend: &Backend) {
    let db = fresh(backend);
    let dir = tempfile::tempdir().expect("dir");
    let server = serve(
        dir.path(),
        "warn",
        &["--database-url", &db.url, "--max-login-failures", "2"],
    );
    let root = json!({"username": "root", "email": "root@example.com",
        "password": "root-password", "role": "superuser"});
    assert_eq!(
        call(&server, "POST", "/api/v1/users/", None, None, Some(&root)).status,
        201
    );
    let root_token = token(&server, "root", "root-password");
    let org = call(
        &server,
        "POST",
        "/api/v1/organizations/",
        Some(&root_token),
        None,
        Some(&json!({"name": "Acme"})),
    );
    let org = org.body["id"].as_i64().expect("org id");
    let mut ids = Vec::new();
    for (name, role) in [("boss", "admin"), ("alice", "user")] {
        let body = json!({"username": name, "email": format!("{name}@example.com"),
            "password": format!("{name}-password"), "role": role, "organization_id": org});
        let created = call(
            &server,
            "POST",
            "/api/v1/users/",
            Some(&root_token),
            None,
            Some(&body),
        );
        assert_eq!(created.status, 201);
        ids.push(created.body["id"].as_i64().expect("id"));
    }
    let alice_id = ids[1];
    let boss = token(&server, "boss", "boss-password");
    let alice = token(&server, "alice", "alice-password");
    for _ in 0..2 {
        assert_eq!(login(&server, "alice", "wrong-password").status, 401);
    }
    assert_eq!(
        login(&server, "alice", "alice-password").status,
        429,
        "alice is locked out"
    );
    for (who, token) in [("admin", &boss), ("user", &alice)] {
        let refused = call(
            &server,
            "DELETE",
            "/api/v1/auth/lockouts/alice",
            Some(token),
            None,
            None,
        );
        assert_eq!(refused.status, 403, "{who}: {}", refused.body);
    }
    assert_eq!(
        login(&server, "alice", "alice-password").status,
        429,
        "still locked out"
    );
    let cleared = call(
        &server,
        "DELETE",
        "/api/v1/auth/lockouts/Alice",
        Some(&root_token),
        None,
        None,
    );
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["username"], "alice", "{}", cleared.body);
    assert!(
        cleared.body["cleared_attempts"]
            .as_u64()
            .is_some_and(|n| n >= 3),
        "{}",
        cleared.body
    );
    assert_eq!(
        login(&server, "alice", "alice-password").status,
        200,
        "alice logs in again"
    );
    let audit = call(
        &server,
        "GET",
        "/api/v1/audit-logs/?action=login_lockout_clear",
        Some(&root_token),
        None,
        None,
    );
    let entries = audit.body.as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{}", audit.body);
    assert_eq!(entries[0]["username"], "root");
    assert_eq!(entries[0]["resource_type"], "user");
    assert_eq!(entries[0]["resource_id"], alice_id);
    assert!(
        entries[0]["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("alice: ")),
        "{}",
        audit.body
    );
    assert_eq!(
        entries[0]["organization_id"], org,
        "the admins of alice's organization see it"
    );
    // The operation is in the OpenAPI document.
    let spec = call(&server, "GET", "/api/v1/openapi.json", None, None, None);
    assert!(spec.body["paths"]["/auth/lockouts/{username}"]["delete"].is_object());
    server.stop();
}

#[test]
fn lockout_clearing_sqlite() {
    clears_a_lockout(&Backend::Sqlite);
}

#[test]
fn lockout_clearing_postgres() {
    if let Some(backend) = Backend::postgres() {
        clears_a_lockout(&backend);
    }
}
