//! Issue 11 item 5: an admin cannot tell a missing user id from another tenant's user or a
//! superuser — one status and one body for every user it may not act on, on each endpoint
//! about one user — while a superuser still gets 404 for a missing id. And item 6: `is_active`
//! on `POST /users/` is accepted, with the engine deciding who may create an inactive user.

use serde_json::json;

use crate::support::{Backend, PASSWORD, Who, World, user_body};

on_both_backends!(
    an_admin_cannot_tell_missing_from_out_of_reach,
    inactive_users_can_be_created,
);

/// Far beyond any id the world assigns.
const MISSING: i64 = 987_654;

async fn an_admin_cannot_tell_missing_from_out_of_reach(backend: Backend) {
    let w = World::new(&backend).await;
    let (h, a) = (&w.h, w.org_a);
    let admin = w.token(Who::AdminA);
    // Another tenant's user, another tenant's admin, the superuser (in no organization).
    let out_of_reach = [w.id(Who::UserB), w.id(Who::AdminB), w.id(Who::Superuser)];
    let patch = json!({ "email": "changed@example.com" });
    type Request = (&'static str, fn(i64, i64) -> String);
    let requests: [Request; 5] = [
        ("POST", |org, id| format!("/organizations/{org}/users/{id}")),
        ("DELETE", |org, id| {
            format!("/organizations/{org}/users/{id}")
        }),
        ("GET", |_, id| format!("/users/{id}")),
        ("PATCH", |_, id| format!("/users/{id}")),
        ("DELETE", |_, id| format!("/users/{id}")),
    ];
    for (method, path) in requests {
        let send = async |token: Option<&str>, id: i64| {
            let path = path(a, id);
            match method {
                "POST" => h.post(&path, token, json!({})).await,
                "GET" => h.get(&path, token).await,
                "PATCH" => h.patch(&path, token, patch.clone()).await,
                _ => h.delete(&path, token).await,
            }
        };
        let missing = send(admin, MISSING).await;
        assert!(missing.code() >= 400, "{method} missing: {}", missing.text);
        for id in out_of_reach {
            let other = send(admin, id).await;
            assert_eq!(
                (other.code(), &other.text),
                (missing.code(), &missing.text),
                "{method} {}: user {id} answers unlike a missing id",
                path(a, id)
            );
        }
        // A superuser may act on every user, so it learns that the id is missing.
        let root = send(Some(w.root()), MISSING).await;
        assert_eq!(root.code(), 404, "{method} by the superuser: {}", root.text);
    }
}

async fn inactive_users_can_be_created(backend: Backend) {
    let w = World::new(&backend).await;
    let h = &w.h;
    let mut body = user_body("dormant", "user", Some(w.org_a));
    body["is_active"] = json!(false);
    let created = h.post("/users/", Some(w.root()), body.clone()).await;
    created.expect(201);
    assert_eq!(created.json["is_active"], false);
    let login = h.login_reply("dormant", PASSWORD).await;
    login.expect(401);
    // Deactivating is a superuser's act: so is creating an inactive account.
    body["username"] = json!("dormant2");
    body["email"] = json!("dormant2@example.com");
    let by_admin = h.post("/users/", w.token(Who::AdminA), body.clone()).await;
    by_admin.expect(403);
    body["is_active"] = json!(true);
    h.post("/users/", w.token(Who::AdminA), body)
        .await
        .expect(201);
}
