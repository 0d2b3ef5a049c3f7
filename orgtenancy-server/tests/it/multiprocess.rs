//! Two server processes on one PostgreSQL database, sharing nothing but it (issue 7 item 5,
//! SPEC §5 and §8): started at the same moment, they agree on the generated signing key; a
//! token issued by one is accepted by the other; a logout, an `/auth/invalidate` or a
//! deactivation at one is honoured at the other on the next request; and the concurrency
//! race passes with its clients spread over both.

use serde_json::{Value, json};

use crate::{
    concurrency::{
        client::Http,
        fresh_database, race_and_check,
        world::{Shape, bootstrap},
    },
    e2e::{Server, start},
    support::{Backend, Database, PASSWORD},
};

/// Starts two servers on `url` at the same time (both run the migrations and look for the
/// signing key concurrently).
fn start_two(url: &str) -> (tempfile::TempDir, Server, Server) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path();
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| start(path, Some(url)));
        let b = scope.spawn(|| start(path, Some(url)));
        (a.join().expect("start A"), b.join().expect("start B"))
    });
    (dir, a, b)
}

/// Creates a plain user through `root` and returns a client of it logged in at `base`.
fn user(root: &Http, name: &str, base: &str) -> (i64, Http, Value) {
    let body = json!({
        "username": name, "email": format!("{name}@example.com"), "password": PASSWORD,
        "role": "user",
    });
    let answer = root.must("POST", "/users/", Some(&body));
    assert_eq!(answer.status, 201, "{}", answer.json);
    let mut client = Http::new(base);
    let login = client.login(name);
    (answer.id(), client, login.json)
}

#[track_caller]
fn status(client: &Http, method: &str, path: &str, body: Option<&Value>) -> u16 {
    client.must(method, path, body).status
}

/// Tokens cross processes both ways.
fn tokens_cross(root: &Http, a: &str, b: &str) {
    let (_, at_a, _) = user(root, "carol", a);
    assert_eq!(
        status(&at_a.on(b), "GET", "/users/me", None),
        200,
        "A's token at B"
    );
    let mut at_b = Http::new(b);
    at_b.login("carol");
    assert_eq!(
        status(&at_b.on(a), "GET", "/users/me", None),
        200,
        "B's token at A"
    );
}

/// A logout at A revokes the access token and the refresh token at B.
fn logout_crosses(root: &Http, a: &str, b: &str) {
    let (_, at_a, tokens) = user(root, "dave", a);
    let refresh = json!({ "refresh_token": tokens["refresh_token"] });
    assert_eq!(status(&at_a.on(b), "GET", "/users/me", None), 200);
    assert_eq!(status(&at_a, "POST", "/auth/logout", Some(&refresh)), 204);
    assert_eq!(
        status(&at_a.on(b), "GET", "/users/me", None),
        401,
        "logged-out token at B"
    );
    let anonymous = Http::new(b);
    assert_eq!(
        status(&anonymous, "POST", "/auth/refresh", Some(&refresh)),
        401,
        "revoked refresh token at B"
    );
}

/// `/auth/invalidate` at B signs the user out at A, including tokens A issued.
fn invalidate_crosses(root: &Http, a: &str, b: &str) {
    let (_, at_a, tokens) = user(root, "erin", a);
    let mut at_b = Http::new(b);
    at_b.login("erin");
    assert_eq!(status(&at_b, "POST", "/auth/invalidate", None), 204);
    assert_eq!(
        status(&at_a, "GET", "/users/me", None),
        401,
        "A's token after invalidate at B"
    );
    assert_eq!(
        status(&at_b.on(a), "GET", "/users/me", None),
        401,
        "B's token at A"
    );
    let refresh = json!({ "refresh_token": tokens["refresh_token"] });
    assert_eq!(
        status(&Http::new(a), "POST", "/auth/refresh", Some(&refresh)),
        401
    );
}

/// A deactivation at A refuses the user's token at B on the next request.
fn deactivation_crosses(root: &Http, a: &str, b: &str) {
    let (id, _, _) = user(root, "frank", a);
    let mut at_b = Http::new(b);
    at_b.login("frank");
    assert_eq!(status(&at_b, "GET", "/users/me", None), 200);
    let deactivate = json!({ "is_active": false });
    assert_eq!(
        status(
            &root.on(a),
            "PATCH",
            &format!("/users/{id}"),
            Some(&deactivate)
        ),
        200
    );
    assert_eq!(
        status(&at_b, "GET", "/users/me", None),
        401,
        "deactivated user at B"
    );
}

/// Two fresh servers on a fresh schema, or `None` when PostgreSQL is not configured.
fn two_servers() -> Option<(Database, tempfile::TempDir, Server, Server)> {
    let db = fresh_database(&Backend::postgres()?);
    let (dir, a, b) = start_two(&db.url);
    Some((db, dir, a, b))
}

#[test]
fn tokens_and_sign_outs_cross_processes() {
    let Some((_db, _dir, a, b)) = two_servers() else {
        return;
    };
    let root = bootstrap(&a.base);
    tokens_cross(&root, &a.base, &b.base);
    logout_crosses(&root, &a.base, &b.base);
    invalidate_crosses(&root, &a.base, &b.base);
    deactivation_crosses(&root, &a.base, &b.base);
}

#[test]
fn race_spread_over_both() {
    let Some((_db, _dir, a, b)) = two_servers() else {
        return;
    };
    let (figures, _) = race_and_check(&[a.base.clone(), b.base.clone()], Shape::from_env());
    assert!(figures.clients >= 64);
}
