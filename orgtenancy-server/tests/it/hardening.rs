//! Login hardening and protective limits (issue 7, item 6; SPEC §5, §7): attempts limited per
//! username and per client address, shared by every app on one database; unknown usernames
//! treated like wrong passwords; security headers on every response; header size limits.
//! (The request timeout is unit-tested in `src/limits.rs` with a handler that never ends.)

use orgtenancy_server::{App, ServerConfig, app, headers::SECURITY_HEADERS};
use poem::{
    http::{Method, StatusCode},
    test::TestClient,
};
use serde_json::json;

use crate::support::{self, Backend, Body, Harness, PASSWORD, Reply, config, read_reply};

/// A client of one app; several can share one database, like server processes.
struct Client(TestClient<App>);

impl Client {
    /// A second app over `h`'s database, through its own connection pool.
    async fn beside(h: &Harness, config: ServerConfig) -> Client {
        let store = support::store(&h._db).await;
        Client(TestClient::new(app(store, config).await.unwrap()))
    }

    /// `POST /auth/token`, from the client address `from` (as `X-Forwarded-For`).
    async fn login(&self, username: &str, password: &str, from: &str) -> Reply {
        let form = [("username", username), ("password", password)];
        let response = self
            .0
            .post("/api/v1/auth/token")
            .header("x-forwarded-for", from)
            .form(&form)
            .send()
            .await;
        read_reply(response).await
    }
}

fn limits(per_username: u32, per_address: u32, trust_forwarded_for: bool) -> ServerConfig {
    ServerConfig {
        max_login_failures: per_username,
        max_login_failures_per_address: per_address,
        trust_forwarded_for,
        ..config()
    }
}

/// A 429 in the documented shape, with a `Retry-After` within the window.
#[track_caller]
fn assert_throttled(reply: &Reply) {
    reply.expect(429).assert_error_shape();
    let retry_after: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let window = ServerConfig::default().login_failure_window.as_secs();
    assert!((1..=window).contains(&retry_after), "{retry_after}");
}

/// The details of the `login_failure` entries of `username` (in any case), oldest first, read
/// as the superuser through an app with no limits (so a throttled root can still read them).
async fn failures_of(h: &Harness, username: &str) -> Vec<String> {
    let unlimited = Client::beside(h, limits(0, 0, false)).await;
    let login = unlimited.login("root", PASSWORD, "192.0.2.250").await;
    login.expect(200);
    let token = login.json["access_token"].as_str().unwrap();
    let response = unlimited
        .0
        .get("/api/v1/audit-logs/?action=login_failure&limit=1000")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    let log = read_reply(response).await;
    log.expect(200);
    log.json
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| {
            entry["username"]
                .as_str()
                .is_some_and(|name| name.eq_ignore_ascii_case(username))
        })
        .map(|entry| entry["detail"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn throttled_per_username_from_any_address(backend: Backend) {
    let h = Harness::with_config(&backend, limits(3, 100, true)).await;
    h.create_user(None, "root", "superuser", None).await;
    let one = Client::beside(&h, limits(3, 100, true)).await;
    for from in ["192.0.2.1", "192.0.2.2", "2001:db8::1"] {
        one.login("ROOT", "wrong password", from)
            .await
            .expect(401)
            .assert_error_shape();
    }
    // Used up, whatever the address and the case of the name; the right password too.
    assert_throttled(&one.login("root", PASSWORD, "198.51.100.9").await);
    assert_throttled(&one.login("Root", "wrong password", "192.0.2.1").await);
    // Other usernames from the same addresses are not affected.
    one.login("someone-else", "wrong password", "192.0.2.1")
        .await
        .expect(401);
    // Every failure is audited, and the first refusal of the window; later ones are not.
    let details = failures_of(&h, "root").await;
    assert_eq!(details.len(), 4, "{details:?}");
    let refusals: Vec<&String> = details.iter().filter(|d| d.contains("throttled")).collect();
    assert_eq!(refusals.len(), 1, "{details:?}");
    assert!(refusals[0].contains("for this username"), "{details:?}");
}

async fn throttled_per_address_across_usernames(backend: Backend) {
    let h = Harness::with_config(&backend, limits(100, 3, true)).await;
    h.create_user(None, "root", "superuser", None).await;
    let one = Client::beside(&h, limits(100, 3, true)).await;
    for username in ["alice", "bob", "carol"] {
        one.login(username, "guess", "203.0.113.7")
            .await
            .expect(401);
    }
    assert_throttled(&one.login("dave", "guess", "203.0.113.7").await);
    assert_throttled(&one.login("root", PASSWORD, "203.0.113.7").await);
    // Another address is not affected.
    one.login("dave", "guess", "203.0.113.8").await.expect(401);
    let refused = failures_of(&h, "dave").await;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].contains("from this address"), "{refused:?}");
}

async fn forwarded_for_is_ignored_unless_trusted(backend: Backend) {
    let h = Harness::with_config(&backend, limits(100, 3, false)).await;
    h.create_user(None, "root", "superuser", None).await;
    let untrusting = Client::beside(&h, limits(100, 3, false)).await;
    // Each request claims another address; all come from the same peer and count together.
    for (username, from) in [("a", "192.0.2.1"), ("b", "192.0.2.2"), ("c", "192.0.2.3")] {
        untrusting.login(username, "guess", from).await.expect(401);
    }
    assert_throttled(&untrusting.login("d", "guess", "192.0.2.4").await);
}

async fn throttling_is_shared_by_apps_on_one_database(backend: Backend) {
    let h = Harness::with_config(&backend, limits(3, 100, true)).await;
    h.create_user(None, "root", "superuser", None).await;
    let first = Client::beside(&h, limits(3, 100, true)).await;
    let second = Client::beside(&h, limits(3, 100, true)).await;
    first.login("root", "wrong", "192.0.2.1").await.expect(401);
    second.login("root", "wrong", "192.0.2.1").await.expect(401);
    // A success at one app clears the username's count for both.
    second
        .login("root", PASSWORD, "192.0.2.1")
        .await
        .expect(200);
    first.login("root", "wrong", "192.0.2.1").await.expect(401);
    second.login("root", "wrong", "192.0.2.1").await.expect(401);
    first.login("root", "wrong", "192.0.2.1").await.expect(401);
    assert_throttled(&second.login("root", PASSWORD, "192.0.2.1").await);
    assert_throttled(&first.login("root", PASSWORD, "192.0.2.1").await);
}

// Attempts are counted before the password is checked, atomically in the database: however
// many race, over two apps (two pools, like two processes), exactly the limit gets through.
async fn racing_attempts_get_exactly_the_limit(backend: Backend) {
    const LIMIT: u32 = 5;
    const RACERS: usize = 24;
    let h = Harness::with_config(&backend, limits(LIMIT, 0, false)).await;
    h.create_user(None, "root", "superuser", None).await;
    let apps = [
        std::sync::Arc::new(Client::beside(&h, limits(LIMIT, 0, false)).await),
        std::sync::Arc::new(Client::beside(&h, limits(LIMIT, 0, false)).await),
    ];
    let racers: Vec<_> = (0..RACERS)
        .map(|i| {
            let app = std::sync::Arc::clone(&apps[i % 2]);
            tokio::spawn(async move { app.login("root", "wrong", "192.0.2.1").await.code() })
        })
        .collect();
    let mut codes = Vec::new();
    for racer in racers {
        codes.push(racer.await.unwrap());
    }
    let admitted = codes.iter().filter(|&&code| code == 401).count();
    let refused = codes.iter().filter(|&&code| code == 429).count();
    assert_eq!(
        (admitted, refused),
        (LIMIT as usize, RACERS - LIMIT as usize),
        "{codes:?}"
    );
}

async fn success_does_not_clear_the_address(backend: Backend) {
    let h = Harness::with_config(&backend, limits(100, 3, true)).await;
    h.create_user(None, "root", "superuser", None).await;
    let one = Client::beside(&h, limits(100, 3, true)).await;
    one.login("x", "guess", "192.0.2.1").await.expect(401);
    one.login("y", "guess", "192.0.2.1").await.expect(401);
    // The success gives its own attempt back, not the two failures before it.
    one.login("root", PASSWORD, "192.0.2.1").await.expect(200);
    one.login("z", "guess", "192.0.2.1").await.expect(401);
    assert_throttled(&one.login("w", "guess", "192.0.2.1").await);
}

async fn unknown_users_are_treated_like_wrong_passwords(backend: Backend) {
    let h = Harness::with_config(&backend, limits(2, 100, false)).await;
    h.create_user(None, "root", "superuser", None).await;
    h.create_user(Some(&h.login("root").await), "alice", "user", None)
        .await;
    let mut replies = Vec::new();
    for username in ["alice", "ghost"] {
        let first = h.login_reply(username, "wrong password").await;
        let second = h.login_reply(username, "wrong password").await;
        let third = h.login_reply(username, "wrong password").await;
        first.expect(401);
        second.expect(401);
        assert_throttled(&third);
        replies.push((first, third));
    }
    let [(alice, alice_throttled), (ghost, ghost_throttled)] = replies.try_into().unwrap();
    // The same answers, byte for byte and header for header (but the date and the request id,
    // which is every request's own).
    assert_eq!(alice.text, ghost.text);
    assert_eq!(alice_throttled.text, ghost_throttled.text);
    let without_date = |reply: &Reply| {
        let mut headers = reply.headers.clone();
        headers.remove("date");
        headers.remove("retry-after");
        assert!(headers.remove("x-request-id").is_some(), "no request id");
        headers
    };
    assert_eq!(without_date(&alice), without_date(&ghost));
    assert_eq!(
        without_date(&alice_throttled),
        without_date(&ghost_throttled)
    );
    // The same audit trail.
    let alice = failures_of(&h, "alice").await;
    let ghost = failures_of(&h, "ghost").await;
    assert_eq!(alice, ghost);
    assert_eq!(alice.len(), 3, "{alice:?}");
}

#[track_caller]
fn assert_security_headers(what: &str, reply: &Reply) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            reply.headers.get(&name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what} ({}) lacks {name}",
            reply.code()
        );
    }
}

async fn security_headers_on_every_response(backend: Backend) {
    let small_bodies = ServerConfig {
        max_body_bytes: 1024,
        max_login_failures: 1,
        ..config()
    };
    let h = Harness::with_config(&backend, small_bodies).await;
    let big = json!({ "username": "x".repeat(4096) });
    let cases: Vec<(&str, Method, &str, Body, u16)> = vec![
        (
            "invalid field",
            Method::POST,
            "/api/v1/users/",
            Body::Json(json!({"username": "a"})),
            422,
        ),
        ("root", Method::GET, "/", Body::None, 200),
        ("health", Method::GET, "/healthz", Body::None, 200),
        (
            "openapi",
            Method::GET,
            "/api/v1/openapi.json",
            Body::None,
            200,
        ),
        ("docs", Method::GET, "/docs", Body::None, 200),
        ("no token", Method::GET, "/api/v1/users/me", Body::None, 401),
        (
            "no route",
            Method::GET,
            "/api/v1/nothing-here",
            Body::None,
            404,
        ),
        ("wrong method", Method::DELETE, "/", Body::None, 405),
        (
            "body too large",
            Method::POST,
            "/api/v1/users/",
            Body::Json(big),
            413,
        ),
        (
            "not JSON",
            Method::POST,
            "/api/v1/users/",
            Body::Raw(Some("text/plain"), b"x".to_vec()),
            415,
        ),
    ];
    for (what, method, path, body, status) in cases {
        let reply = h.send(method, path, None, body).await;
        reply.expect(status);
        if status >= 400 {
            reply.assert_error_shape();
        }
        assert_security_headers(what, &reply);
    }
    h.login_reply("nobody", "guess").await.expect(401);
    let throttled = h.login_reply("nobody", "guess").await;
    throttled.expect(429);
    assert_security_headers("throttled", &throttled);
}

async fn oversized_headers_are_refused(backend: Backend) {
    let small = ServerConfig {
        max_header_bytes: 2048,
        ..config()
    };
    let h = Harness::with_config(&backend, small).await;
    let request = |size: usize| {
        h.client
            .get("/api/v1/users/me")
            .header("x-padding", "p".repeat(size))
            .send()
    };
    // Within the limit the request goes on (to a 401: no token).
    read_reply(request(1024).await).await.expect(401);
    let refused = read_reply(request(4096).await).await;
    refused.expect(431).assert_error_shape();
    assert_security_headers("headers too large", &refused);
}

async fn the_document_lists_the_refusals(backend: Backend) {
    let h = Harness::new(&backend).await;
    let doc = h
        .send(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    doc.expect(200);
    let login = &doc.json["paths"]["/auth/token"]["post"]["responses"];
    assert!(
        login["429"]["headers"]["RETRY-AFTER"].is_object(),
        "{login}"
    );
    assert!(
        login["503"]["headers"]["RETRY-AFTER"].is_object(),
        "{login}"
    );
    assert!(login["431"].is_object(), "{login}");
    assert_eq!(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.as_u16(), 431);
}

on_both_backends!(
    throttled_per_username_from_any_address,
    throttled_per_address_across_usernames,
    forwarded_for_is_ignored_unless_trusted,
    throttling_is_shared_by_apps_on_one_database,
    racing_attempts_get_exactly_the_limit,
    success_does_not_clear_the_address,
    unknown_users_are_treated_like_wrong_passwords,
    security_headers_on_every_response,
    oversized_headers_are_refused,
    the_document_lists_the_refusals,
);
