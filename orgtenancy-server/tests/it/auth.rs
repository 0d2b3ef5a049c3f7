//! SPEC §5 authentication: the token endpoint, refresh rotation, logout, sign-out
//! everywhere, and the user re-read on every request.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use orgtenancy_core::Policy;
use orgtenancy_server::ServerConfig;
use poem::http::Method;
use serde_json::{Value, json};

use crate::support::{Backend, Body, Harness, PASSWORD, Who, World, config, user_body};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

async fn token_endpoint(backend: Backend) {
    let h = Harness::new(&backend).await;
    let id = h.create_user(None, "root", "superuser", None).await;
    let reply = h.login_reply("root", PASSWORD).await;
    reply.expect(200);
    assert_eq!(reply.json["token_type"], "bearer");
    let refresh = reply.json["refresh_token"].as_str().expect("refresh_token");
    assert!(refresh.len() >= 40, "refresh tokens carry 32 random bytes");
    let access = reply.json["access_token"].as_str().expect("access_token");
    let claims = claims(access);
    assert_eq!(claims["sub"], "root");
    assert_eq!(claims["id"], id);
    assert_eq!(claims["role"], "superuser");
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(
        lifetime,
        15 * 60,
        "access tokens live 15 minutes by default"
    );
    h.get("/users/me", Some(access)).await.expect(200);
    // Login success is audited.
    let log = h
        .get("/audit-logs/?action=login_success", Some(access))
        .await;
    log.expect(200);
    assert_eq!(log.json.as_array().unwrap().len(), 1);
    assert_eq!(log.json[0]["username"], "root");
}

async fn wrong_credentials(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let wrong = h.login_reply("user_a", "not the password").await;
    let unknown = h.login_reply("nobody", PASSWORD).await;
    let inactive = h.login_reply("inactive", PASSWORD).await;
    for reply in [&wrong, &unknown, &inactive] {
        reply.expect(401).assert_error_shape();
    }
    assert_eq!(
        wrong.json, unknown.json,
        "wrong password and unknown user are indistinguishable"
    );
    assert_eq!(wrong.json, inactive.json);
    let failures = h
        .get("/audit-logs/?action=login_failure", Some(world.root()))
        .await;
    failures.expect(200);
    let names: Vec<&str> = failures
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["username"].as_str())
        .collect();
    for name in ["user_a", "nobody", "inactive"] {
        assert!(
            names.contains(&name),
            "login_failure for {name} audited: {names:?}"
        );
    }
    // Admin A sees the failures inside its organization only.
    let seen_by_admin = h
        .get(
            "/audit-logs/?action=login_failure",
            world.token(Who::AdminA),
        )
        .await;
    for entry in seen_by_admin.json.as_array().unwrap() {
        assert_eq!(entry["organization_id"], world.org_a);
    }
}

async fn form_errors(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let missing = vec![("username".to_owned(), "root".to_owned())];
    let reply = h
        .send(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Body::Form(missing),
        )
        .await;
    reply.expect(422).assert_error_shape();
    let as_json = json!({ "username": "root", "password": PASSWORD });
    let reply = h
        .send(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Body::Json(as_json),
        )
        .await;
    reply.expect(415).assert_error_shape();
    let grant = vec![
        ("username".to_owned(), "root".to_owned()),
        ("password".to_owned(), PASSWORD.to_owned()),
        ("grant_type".to_owned(), "client_credentials".to_owned()),
    ];
    let reply = h
        .send(Method::POST, "/api/v1/auth/token", None, Body::Form(grant))
        .await;
    reply.expect(400).assert_error_shape();
    // What OAuth2 clients such as the interactive docs send is accepted.
    let oauth = vec![
        ("grant_type".to_owned(), "password".to_owned()),
        ("username".to_owned(), "root".to_owned()),
        ("password".to_owned(), PASSWORD.to_owned()),
        ("scope".to_owned(), String::new()),
    ];
    h.send(Method::POST, "/api/v1/auth/token", None, Body::Form(oauth))
        .await
        .expect(200);
}

// An unknown username costs what a wrong password costs by construction: both run one
// verification against a hash with the same parameters (`auth::tests` checks the dummy hash's
// parameters, `hardening::unknown_users_are_treated_like_wrong_passwords` the identical
// answers, audit entries and throttling), never measured with a clock.

async fn refresh_rotation(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let first = h.login_reply("root", PASSWORD).await;
    let old = first.json["refresh_token"].as_str().unwrap().to_owned();
    let rotated = h
        .post("/auth/refresh", None, json!({ "refresh_token": old }))
        .await;
    rotated.expect(200);
    let new_refresh = rotated.json["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, old);
    let access = rotated.json["access_token"].as_str().unwrap();
    h.get("/users/me", Some(access)).await.expect(200);
    // A refresh token is single use.
    h.post("/auth/refresh", None, json!({ "refresh_token": old }))
        .await
        .expect(401)
        .assert_error_shape();
    h.post("/auth/refresh", None, json!({ "refresh_token": "forged" }))
        .await
        .expect(401);
    h.post("/auth/refresh", None, json!({})).await.expect(422);
    h.post(
        "/auth/refresh",
        None,
        json!({ "refresh_token": new_refresh }),
    )
    .await
    .expect(200);
}

async fn logout(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let login = h.login_reply("root", PASSWORD).await;
    let access = login.json["access_token"].as_str().unwrap().to_owned();
    let refresh = login.json["refresh_token"].as_str().unwrap().to_owned();
    let other_session = h.login("root").await;
    h.post("/auth/logout", None, json!({}))
        .await
        .expect(401)
        .assert_error_shape();
    h.post(
        "/auth/logout",
        Some(&access),
        json!({ "refresh_token": refresh }),
    )
    .await
    .expect(204);
    h.get("/users/me", Some(&access))
        .await
        .expect(401)
        .assert_error_shape();
    h.post("/auth/refresh", None, json!({ "refresh_token": refresh }))
        .await
        .expect(401);
    // Other sessions are untouched; a logout without a body is fine too.
    h.get("/users/me", Some(&other_session)).await.expect(200);
    h.send(
        Method::POST,
        "/api/v1/auth/logout",
        Some(&other_session),
        Body::None,
    )
    .await
    .expect(204);
    h.get("/users/me", Some(&other_session)).await.expect(401);
}

async fn invalidate_everywhere(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let login = h.login_reply("root", PASSWORD).await;
    let access = login.json["access_token"].as_str().unwrap().to_owned();
    let refresh = login.json["refresh_token"].as_str().unwrap().to_owned();
    let second = h.login("root").await;
    h.post("/auth/invalidate", None, json!({}))
        .await
        .expect(401);
    h.send(
        Method::POST,
        "/api/v1/auth/invalidate",
        Some(&access),
        Body::None,
    )
    .await
    .expect(204);
    h.get("/users/me", Some(&access)).await.expect(401);
    h.get("/users/me", Some(&second)).await.expect(401);
    h.post("/auth/refresh", None, json!({ "refresh_token": refresh }))
        .await
        .expect(401);
    // A token issued right after, even within the same second, is valid.
    let fresh = h.login("root").await;
    h.get("/users/me", Some(&fresh)).await.expect(200);
}

async fn password_change_signs_out(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let user_a = world.id(Who::UserA);
    let before = world.token(Who::UserA).unwrap();
    let refresh = h.login_reply("user_a", PASSWORD).await.json["refresh_token"].clone();
    let path = format!("/users/{user_a}");
    h.patch(&path, Some(before), json!({ "password": "short" }))
        .await
        .expect(422);
    h.patch(
        &path,
        Some(before),
        json!({ "password": "a brand new secret" }),
    )
    .await
    .expect(200);
    h.get("/users/me", Some(before)).await.expect(401);
    h.post("/auth/refresh", None, json!({ "refresh_token": refresh }))
        .await
        .expect(401);
    h.login_reply("user_a", PASSWORD).await.expect(401);
    let after = h.login_reply("user_a", "a brand new secret").await;
    after.expect(200);
    h.get("/users/me", after.json["access_token"].as_str())
        .await
        .expect(200);
}

async fn every_request_rereads_the_user(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let token = world.token(Who::UserA).unwrap();
    // The token says "user"; a promotion takes effect on the next request.
    h.get("/users/", Some(token)).await.expect(403);
    let id = world.id(Who::UserA);
    h.patch(
        &format!("/users/{id}"),
        Some(world.root()),
        json!({ "role": "superuser" }),
    )
    .await
    .expect(200);
    h.get("/users/", Some(token)).await.expect(200);
    // Deactivation and deletion end the session at once.
    let loner = world.token(Who::Loner).unwrap();
    let loner_id = world.id(Who::Loner);
    h.patch(
        &format!("/users/{loner_id}"),
        Some(world.root()),
        json!({ "is_active": false }),
    )
    .await
    .expect(200);
    h.get("/users/me", Some(loner))
        .await
        .expect(401)
        .assert_error_shape();
    let user_b = world.token(Who::UserB).unwrap();
    h.delete(
        &format!("/users/{}", world.id(Who::UserB)),
        Some(world.root()),
    )
    .await
    .expect(204);
    h.get("/users/me", Some(user_b)).await.expect(401);
    // Bad tokens of every kind.
    for bad in [
        "",
        "garbage",
        "a.b.c",
        world.token(Who::Expired).unwrap(),
        world.token(Who::Tampered).unwrap(),
    ] {
        h.get("/users/me", Some(bad))
            .await
            .expect(401)
            .assert_error_shape();
    }
}

async fn failed_logins_are_throttled(backend: Backend) {
    let config = ServerConfig {
        max_login_failures: 3,
        ..config()
    };
    let h = Harness::with_config(&backend, config).await;
    h.create_user(None, "root", "superuser", None).await;
    for _ in 0..3 {
        h.login_reply("root", "wrong password").await.expect(401);
    }
    let blocked = h.login_reply("root", PASSWORD).await;
    blocked.expect(429).assert_error_shape();
    assert!(blocked.headers.contains_key("retry-after"));
    // Other usernames are not affected.
    h.login_reply("someone-else", "wrong password")
        .await
        .expect(401);
}

async fn signing_key_is_kept_in_the_database(backend: Backend) {
    let h = Harness::with_config(&backend, ServerConfig::default()).await;
    h.create_user(None, "root", "superuser", None).await;
    let token = h.login("root").await;
    // A second app (a restart, or another process) on the same database accepts the token.
    let again = orgtenancy_server::app(h.store.clone(), ServerConfig::default())
        .await
        .unwrap();
    let client = poem::test::TestClient::new(again);
    let reply = client
        .get("/api/v1/users/me")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    reply.assert_status_is_ok();
    // A configured key is used instead, and must be long enough.
    let other = orgtenancy_server::app(h.store.clone(), config())
        .await
        .unwrap();
    let client = poem::test::TestClient::new(other);
    let reply = client
        .get("/api/v1/users/me")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    reply.assert_status(poem::http::StatusCode::UNAUTHORIZED);
    let weak = ServerConfig {
        signing_key: Some(b"short".to_vec()),
        ..ServerConfig::default()
    };
    assert!(orgtenancy_server::app(h.store.clone(), weak).await.is_err());
}

async fn bootstrap_and_registration(backend: Backend) {
    let h = Harness::new(&backend).await;
    // Anyone may create the very first user, with any role.
    h.post("/users/", None, json!({"username": "root"}))
        .await
        .expect(422);
    h.create_user(None, "root", "superuser", None).await;
    // Afterwards anonymous creation needs open registration.
    h.post("/users/", None, user_body("anon", "user", None))
        .await
        .expect(401)
        .assert_error_shape();
    let open = ServerConfig {
        policy: Policy {
            open_registration: true,
            ..Policy::DOCUMENTED
        },
        ..config()
    };
    let app = orgtenancy_server::app(h.store.clone(), open).await.unwrap();
    let client = poem::test::TestClient::new(app);
    let reply = client
        .post("/api/v1/users/")
        .body_json(&user_body("anon", "user", None))
        .send()
        .await;
    reply.assert_status(poem::http::StatusCode::CREATED);
    for body in [
        user_body("anon2", "admin", None),
        user_body("anon3", "user", Some(1)),
    ] {
        let reply = client.post("/api/v1/users/").body_json(&body).send().await;
        reply.assert_status(poem::http::StatusCode::UNAUTHORIZED);
    }
    let mut flagged = user_body("anon4", "user", None);
    flagged["can_create_ca"] = json!(true);
    let reply = client
        .post("/api/v1/users/")
        .body_json(&flagged)
        .send()
        .await;
    reply.assert_status(poem::http::StatusCode::UNAUTHORIZED);
}

on_both_backends!(
    token_endpoint,
    wrong_credentials,
    form_errors,
    refresh_rotation,
    logout,
    invalidate_everywhere,
    password_change_signs_out,
    every_request_rereads_the_user,
    failed_logins_are_throttled,
    signing_key_is_kept_in_the_database,
    bootstrap_and_registration,
);
