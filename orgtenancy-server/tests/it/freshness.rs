//! The caller's facts and its token's state are read with every request, never kept from an
//! earlier one: a change of the caller's organization or flags, and a revocation, are
//! honoured by the very next request on the same token (SPEC §5). The single statement that
//! authenticates a request (`Store::token_holder`) must keep this; so must any cache.

use serde_json::json;

use crate::support::{Backend, Who, World};

on_both_backends!(organization_and_flag_changes_are_seen_at_once);

async fn organization_and_flag_changes_are_seen_at_once(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let token = world.token(Who::UserA).unwrap();
    let id = world.id(Who::UserA);
    let (a, b) = (world.org_a, world.org_b);
    // Warm whatever could be warmed: the same reads, many times.
    for _ in 0..3 {
        h.get(&format!("/organizations/{a}"), Some(token))
            .await
            .expect(200);
        h.get(&format!("/organizations/{b}"), Some(token))
            .await
            .expect(403);
    }
    // Moved to B: A's door closes and B's opens on the next request.
    h.patch(
        &format!("/users/{id}"),
        Some(world.root()),
        json!({ "organization_id": b }),
    )
    .await
    .expect(200);
    h.get(&format!("/organizations/{a}"), Some(token))
        .await
        .expect(403);
    h.get(&format!("/organizations/{b}"), Some(token))
        .await
        .expect(200);
    // A flag granted: the next request may create a CA; taken away: the next may not.
    let ca = |name: &str| {
        json!({
            "name": name, "subject_dn": format!("CN={name},O=Test"), "key_type": "ec",
            "valid_days": 365,
        })
    };
    h.post("/cas/", Some(token), ca("before")).await.expect(403);
    h.patch(
        &format!("/users/{id}"),
        Some(world.root()),
        json!({ "can_create_ca": true }),
    )
    .await
    .expect(200);
    h.post("/cas/", Some(token), ca("granted"))
        .await
        .expect(201);
    h.patch(
        &format!("/users/{id}"),
        Some(world.root()),
        json!({ "can_create_ca": false }),
    )
    .await
    .expect(200);
    h.post("/cas/", Some(token), ca("taken")).await.expect(403);
    // Out of every organization: B closes too.
    h.patch(
        &format!("/users/{id}"),
        Some(world.root()),
        json!({ "organization_id": null }),
    )
    .await
    .expect(200);
    h.get(&format!("/organizations/{b}"), Some(token))
        .await
        .expect(403);
}
