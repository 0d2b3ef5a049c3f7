//! The start-up line and the request log lines, in text and JSON.

use serde_json::{Value, json};

use super::{Running, call, serve, token};

/// Drives the requests whose lines the tests look for: the bootstrap, a GET with the
/// client's `X-Request-ID`, a GET without one, a 403 and a health check. Returns the
/// superuser's and alice's ids, and the generated request id.
fn traffic(server: &Running) -> (i64, i64, String) {
    let root = json!({"username": "root", "email": "root@example.com",
        "password": "root-password", "role": "superuser"});
    let created = call(server, "POST", "/api/v1/users/", None, None, Some(&root));
    assert_eq!(created.status, 201, "{}", created.body);
    let root_token = token(server, "root", "root-password");
    let alice = json!({"username": "alice", "email": "alice@example.com",
        "password": "alice-password", "role": "user"});
    let alice_id = call(
        server,
        "POST",
        "/api/v1/users/",
        Some(&root_token),
        None,
        Some(&alice),
    );
    assert_eq!(alice_id.status, 201);
    let me = call(
        server,
        "GET",
        "/api/v1/users/me",
        Some(&root_token),
        Some("client-id-42"),
        None,
    );
    assert_eq!(
        (me.status, me.request_id.as_deref()),
        (200, Some("client-id-42"))
    );
    let made = call(
        server,
        "GET",
        "/api/v1/organizations/",
        Some(&root_token),
        None,
        None,
    );
    let generated = made.request_id.expect("a generated request id");
    assert_eq!(generated.len(), 32, "{generated}");
    let alice_token = token(server, "alice", "alice-password");
    let denied = call(
        server,
        "GET",
        "/api/v1/users/",
        Some(&alice_token),
        Some("denied-1"),
        None,
    );
    assert_eq!(denied.status, 403);
    let health = call(server, "GET", "/healthz", None, Some("health-1"), None);
    assert_eq!(
        (health.status, health.request_id.as_deref()),
        (200, Some("health-1"))
    );
    (
        created.body["id"].as_i64().expect("id"),
        alice_id.body["id"].as_i64().expect("id"),
        generated,
    )
}

fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    let mut lines = log.lines().filter(|line| line.contains(needle));
    let line = lines
        .next()
        .unwrap_or_else(|| panic!("no line with {needle} in\n{log}"));
    assert!(
        lines.next().is_none(),
        "{needle} logged more than once:\n{log}"
    );
    line
}

#[test]
fn startup_line_and_request_logs_text() {
    let dir = tempfile::tempdir().expect("dir");
    let server = serve(dir.path(), "info", &["--strict-isolation"]);
    let bind = server.bind.clone();
    let (root, alice, generated) = traffic(&server);
    let log = server.stop();
    let startup = line_with(&log, "orgtenancy-server started");
    for expected in [
        " WARN ".to_owned(),
        format!("version=\"{}\"", orgtenancy_server::VERSION),
        format!("bind=\"{bind}\""),
        "database=\"sqlite://orgtenancy.db?mode=rwc\"".to_owned(),
        format!("docs=\"http://{bind}/docs\""),
        "policy=\"strict\"".to_owned(),
        "no users yet".to_owned(),
        "create-superuser".to_owned(),
    ] {
        assert!(
            startup.contains(&expected),
            "{expected} missing in {startup}"
        );
    }
    let me = line_with(&log, "request_id=client-id-42");
    for expected in [
        " INFO ",
        "method=GET",
        "path=/api/v1/users/me",
        &format!("user_id={root}"),
        "status=200",
        "latency_ms=",
    ] {
        assert!(me.contains(expected), "{expected} missing in {me}");
    }
    line_with(&log, &format!("request_id={generated}"));
    let denied = line_with(&log, "request_id=denied-1");
    for expected in [
        &format!("user_id={alice}"),
        "reason=role_required",
        "status=403",
    ] {
        assert!(denied.contains(expected), "{expected} missing in {denied}");
    }
    assert!(!log.contains("health-1"), "/healthz logged at info:\n{log}");
}

#[test]
fn request_logs_json_and_healthz_at_debug() {
    let dir = tempfile::tempdir().expect("dir");
    let server = serve(dir.path(), "debug", &["--log-format", "json"]);
    let (root, alice, _) = traffic(&server);
    let log = server.stop();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let by_id = |id: &str| {
        let found: Vec<&Value> = lines
            .iter()
            .filter(|line| {
                line["span"]["request_id"] == id
                    && line["target"] == "orgtenancy_server::request_log"
            })
            .collect();
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        found[0]
    };
    let me = by_id("client-id-42");
    assert_eq!(me["level"], "INFO");
    assert_eq!(me["span"]["method"], "GET");
    assert_eq!(me["span"]["path"], "/api/v1/users/me");
    assert_eq!(me["span"]["user_id"], root);
    assert_eq!(me["fields"]["status"], 200);
    assert!(me["fields"]["latency_ms"].is_number(), "{me}");
    let denied = by_id("denied-1");
    assert_eq!(denied["span"]["user_id"], alice);
    assert_eq!(denied["span"]["reason"], "role_required");
    assert_eq!(denied["fields"]["status"], 403);
    let health = by_id("health-1");
    assert_eq!(health["level"], "DEBUG");
    let startup = lines
        .iter()
        .find(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("orgtenancy-server started"))
        })
        .expect("the start-up line");
    assert_eq!(startup["fields"]["policy"], "documented");
    assert_eq!(startup["fields"]["version"], orgtenancy_server::VERSION);
}
