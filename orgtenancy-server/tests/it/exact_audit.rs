//! Issue 11 items 2 and 4 over HTTP: the audit log holds exactly the changes made. A PATCH or
//! PUT that changes nothing writes no entry and keeps `updated_at`; a real change names only
//! the fields it changed; logout and sign-out everywhere are one entry each; a move between
//! organizations is readable by both organizations' admins. A deactivation ends every session
//! for good (reactivation does not revive old tokens).

use serde_json::{Value, json};

use crate::support::{Backend, Harness, PASSWORD, Who, World};

on_both_backends!(
    no_op_changes_are_not_audited,
    logout_and_invalidate_are_audited,
    a_move_is_visible_to_both_organizations,
    deactivation_ends_every_session,
);

/// Every entry the superuser can read.
async fn log(h: &Harness, root: &str) -> Vec<Value> {
    let reply = h.get("/audit-logs/?limit=1000", Some(root)).await;
    reply.expect(200);
    reply.json.as_array().cloned().unwrap_or_default()
}

/// The entries after the first `since`, as (action, detail).
fn new_entries(log: &[Value], since: usize) -> Vec<(String, String)> {
    log.iter()
        .skip(since)
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&e["action"]), text(&e["detail"]))
        })
        .collect()
}

async fn no_op_changes_are_not_audited(backend: Backend) {
    let w = World::new(&backend).await;
    let (h, root) = (&w.h, w.root());
    let (user, org) = (w.id(Who::UserA), w.org_a);
    let user_path = format!("/users/{user}");
    let org_path = format!("/organizations/{org}");
    let user_before = h.get(&user_path, Some(root)).await.json;
    let org_before = h.get(&org_path, Some(root)).await.json;
    let since = log(h, root).await.len();
    let user_patches = [
        (Who::UserA, json!({})),
        (
            Who::AdminA,
            json!({ "email": user_before["email"], "can_create_ca": false }),
        ),
        (
            Who::Superuser,
            json!({ "role": "user", "is_active": true, "organization_id": org }),
        ),
    ];
    for (who, body) in user_patches {
        let reply = h.patch(&user_path, w.token(who), body.clone()).await;
        reply.expect(200);
        assert_eq!(
            reply.json, user_before,
            "{who:?} {body}: the user is unchanged"
        );
    }
    let org_puts = [
        json!({}),
        json!({ "name": null }),
        json!({ "name": org_before["name"], "description": org_before["description"] }),
    ];
    for body in org_puts {
        let reply = h.put(&org_path, w.token(Who::AdminA), body.clone()).await;
        reply.expect(200);
        assert_eq!(
            reply.json, org_before,
            "{body}: the organization is unchanged"
        );
    }
    assert_eq!(
        new_entries(&log(h, root).await, since),
        [],
        "no entry for a no-op"
    );
    // A real change names only what changed.
    let body = json!({ "email": "new-a@example.com", "can_create_ca": false, "role": "user" });
    h.patch(&user_path, Some(root), body).await.expect(200);
    let expected = [("user_update".to_owned(), "email".to_owned())];
    assert_eq!(new_entries(&log(h, root).await, since), expected);
}

async fn logout_and_invalidate_are_audited(backend: Backend) {
    let w = World::new(&backend).await;
    let (h, root) = (&w.h, w.root());
    let since = log(h, root).await.len();
    let login = h.login_reply("user_a", PASSWORD).await;
    login.expect(200);
    let token = login.json["access_token"].as_str().map(str::to_owned);
    let refresh = login.json["refresh_token"].clone();
    h.post(
        "/auth/logout",
        token.as_deref(),
        json!({ "refresh_token": refresh }),
    )
    .await
    .expect(204);
    let token = h.login("user_a").await;
    h.post("/auth/invalidate", Some(&token), json!({}))
        .await
        .expect(204);
    let actions: Vec<String> = new_entries(&log(h, root).await, since)
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(
        actions,
        [
            "login_success",
            "logout",
            "login_success",
            "token_invalidate"
        ]
    );
    // The user's admin reads them too (they belong to the user's organization).
    let own = h
        .get("/audit-logs/?action=logout", w.token(Who::AdminA))
        .await;
    own.expect(200);
    assert_eq!(own.json.as_array().map(Vec::len), Some(1));
}

/// How many `user_update` entries about `user` the admin `reader` can read.
async fn updates_seen(w: &World, reader: Who, user: i64) -> usize {
    let seen =
        w.h.get("/audit-logs/?action=user_update", w.token(reader))
            .await;
    seen.expect(200);
    let about = |e: &&Value| e["resource_id"].to_string().trim_matches('"') == user.to_string();
    seen.json
        .as_array()
        .into_iter()
        .flatten()
        .filter(about)
        .count()
}

async fn a_move_is_visible_to_both_organizations(backend: Backend) {
    let w = World::new(&backend).await;
    let (h, root) = (&w.h, w.root());
    let user = w.id(Who::UserA);
    let path = format!("/users/{user}");
    let since = log(h, root).await.len();
    h.patch(&path, Some(root), json!({ "organization_id": w.org_b }))
        .await
        .expect(200);
    assert_eq!(
        updates_seen(&w, Who::AdminA, user).await,
        1,
        "the organization left"
    );
    assert_eq!(
        updates_seen(&w, Who::AdminB, user).await,
        1,
        "the organization joined"
    );
    h.patch(&path, Some(root), json!({ "organization_id": null }))
        .await
        .expect(200);
    assert_eq!(
        updates_seen(&w, Who::AdminB, user).await,
        2,
        "leaving for none"
    );
    assert_eq!(updates_seen(&w, Who::AdminA, user).await, 1);
    // One entry per organization concerned: A and B for the move, B for leaving.
    let entries = new_entries(&log(h, root).await, since);
    assert_eq!(entries.len(), 3, "{entries:?}");
}

async fn deactivation_ends_every_session(backend: Backend) {
    let w = World::new(&backend).await;
    let (h, root) = (&w.h, w.root());
    let login = h.login_reply("user_a", PASSWORD).await;
    login.expect(200);
    let token = login.json["access_token"].as_str().map(str::to_owned);
    let refresh = login.json["refresh_token"].clone();
    let path = format!("/users/{}", w.id(Who::UserA));
    h.patch(&path, Some(root), json!({ "is_active": false }))
        .await
        .expect(200);
    h.patch(&path, Some(root), json!({ "is_active": true }))
        .await
        .expect(200);
    h.get("/users/me", token.as_deref()).await.expect(401);
    h.post("/auth/refresh", None, json!({ "refresh_token": refresh }))
        .await
        .expect(401);
    // A new login works as before.
    let fresh = h.login("user_a").await;
    h.get("/users/me", Some(&fresh)).await.expect(200);
}
