//! The tamper-evident audit chain over HTTP and from the command line: only a superuser may
//! verify it, an intact chain verifies, and a row edited directly in the database is reported
//! by the endpoint and by `orgtenancy-server verify-audit` (which then exits non-zero).

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sqlx::Connection as _;

use crate::support::{Backend, Who, World};

on_both_backends!(
    documented,
    only_a_superuser_verifies,
    tampering_is_reported,
    command_verifies
);

const VERIFY: &str = "/audit-logs/verify";

/// The operation and its response types are in the OpenAPI document.
async fn documented(backend: Backend) {
    let h = crate::support::Harness::new(&backend).await;
    let spec = h
        .send(
            poem::http::Method::GET,
            "/api/v1/openapi.json",
            None,
            crate::support::Body::None,
        )
        .await
        .json;
    let operation = &spec["paths"][VERIFY]["get"];
    assert_eq!(
        operation["operationId"], "verify_audit_chain",
        "{operation}"
    );
    let ok = &operation["responses"]["200"]["content"]["application/json; charset=utf-8"]["schema"];
    assert_eq!(ok["$ref"], "#/components/schemas/AuditChainReport", "{ok}");
    for status in ["401", "403"] {
        assert!(
            operation["responses"].get(status).is_some(),
            "{status} documented"
        );
    }
    let schemas = &spec["components"]["schemas"];
    let reasons = &schemas["AuditChainBreakReason"]["enum"];
    assert_eq!(
        reasons,
        &serde_json::json!([
            "hash_mismatch",
            "prev_hash_mismatch",
            "unhashed",
            "head_mismatch"
        ])
    );
    for field in ["ok", "entries_checked", "head_hash", "first_broken"] {
        assert!(
            schemas["AuditChainReport"]["properties"]
                .get(field)
                .is_some(),
            "{field}"
        );
    }
}

async fn only_a_superuser_verifies(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let reply = h.get(VERIFY, Some(world.root())).await;
    reply.expect(200);
    let report = &reply.json;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["first_broken"], Value::Null);
    assert_eq!(report["unchained_entries"], 0);
    assert!(report["entries_checked"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["head_hash"].as_str().unwrap().len(), 64);
    let newest = h
        .get("/audit-logs/?limit=1000", Some(world.root()))
        .await
        .json
        .as_array()
        .unwrap()
        .last()
        .map(|entry| entry["id"].clone())
        .unwrap();
    assert_eq!(report["head_id"], newest);
    for (who, status) in [
        (Who::AdminA, 403),
        (Who::AdminNone, 403),
        (Who::UserA, 403),
        (Who::Loner, 403),
        (Who::Anonymous, 401),
        (Who::Inactive, 401),
        (Who::Expired, 401),
        (Who::Tampered, 401),
    ] {
        let reply = h.get(VERIFY, world.token(who)).await;
        assert_eq!(reply.code(), status, "{who:?}: {}", reply.text);
        reply.assert_error_shape();
    }
}

/// Edits one audit row behind the server's back, as someone with database access could
/// (dropping the append-only trigger first).
async fn edit_entry(url: &str, id: i64) {
    let edit = format!("UPDATE audit_log SET detail = 'nothing happened' WHERE id = {id}");
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        for sql in ["DROP TRIGGER audit_log_no_update", &edit] {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        for sql in [
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
            &edit,
        ] {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    }
}

/// The id of an audit entry in the middle of the log.
async fn middle_entry(world: &World) -> i64 {
    let entries = world
        .h
        .get("/audit-logs/?limit=1000", Some(world.root()))
        .await
        .json;
    let entries = entries.as_array().unwrap();
    entries[entries.len() / 2]["id"].as_i64().unwrap()
}

async fn tampering_is_reported(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let id = middle_entry(&world).await;
    edit_entry(&h._db.url, id).await;
    let reply = h.get(VERIFY, Some(world.root())).await;
    reply.expect(200);
    let report = &reply.json;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["first_broken"]["id"], id, "{report}");
    assert_eq!(
        report["first_broken"]["reason"], "hash_mismatch",
        "{report}"
    );
    assert!(report["first_broken"]["detail"].is_string());
    // Entries before the broken one were checked; nothing after it is trusted.
    assert!(report["entries_checked"].as_i64().unwrap() > 0);
}

/// Runs `orgtenancy-server verify-audit --database-url URL` (the real binary).
async fn run_verify(url: &str) -> Output {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_orgtenancy-server"))
            .args(["verify-audit", "--database-url", &url])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run orgtenancy-server verify-audit")
    })
    .await
    .unwrap()
}

async fn command_verifies(backend: Backend) {
    let world = World::new(&backend).await;
    let url = world.h._db.url.clone();
    if url.starts_with("sqlite:") {
        // A mistyped path is "cannot verify" (2), and no empty database appears there.
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such.db");
        let reply = run_verify(&format!("sqlite://{}", missing.display())).await;
        let stderr = String::from_utf8_lossy(&reply.stderr);
        assert_eq!(reply.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("cannot verify"), "{stderr}");
        assert!(
            !missing.exists(),
            "verify-audit created {}",
            missing.display()
        );
    }
    let intact = run_verify(&url).await;
    let stdout = String::from_utf8_lossy(&intact.stdout);
    assert_eq!(intact.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");

    let id = middle_entry(&world).await;
    edit_entry(&url, id).await;
    let broken = run_verify(&url).await;
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN at entry {id} (hash_mismatch)")),
        "{stdout}"
    );
}
