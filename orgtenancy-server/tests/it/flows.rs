//! What the permission tables do not show: response contents, state after a change, the
//! isolation rules SPEC §4 and §5 close, conflicts, pagination and the audit trail.

use serde_json::{Value, json};

use crate::support::{Backend, Who, World};

fn ids(value: &Value) -> Vec<i64> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

async fn organization_lists_are_scoped(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let all = h.get("/organizations/", Some(world.root())).await;
    assert_eq!(ids(&all.json), vec![world.org_a, world.org_b]);
    for (who, expected) in [
        (Who::AdminA, vec![world.org_a]),
        (Who::UserA, vec![world.org_a]),
        (Who::UserB, vec![world.org_b]),
        (Who::Loner, vec![]),
        (Who::AdminNone, vec![]),
    ] {
        let reply = h.get("/organizations/", world.token(who)).await;
        assert_eq!(ids(&reply.json), expected, "{who:?}");
    }
    let org = h
        .get(
            &format!("/organizations/{}", world.org_a),
            world.token(Who::UserA),
        )
        .await;
    let mut keys: Vec<&str> = org
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["created_at", "description", "id", "name", "updated_at"]
    );
    assert_eq!(org.json["name"], "acme");
    // Pagination over organizations.
    let page = h
        .get("/organizations/?skip=1&limit=1", Some(world.root()))
        .await;
    assert_eq!(ids(&page.json), vec![world.org_b]);
}

async fn organization_lifecycle(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let admin = world.token(Who::AdminNone);
    // Creating an organization does not change the creator's membership.
    let created = h
        .post(
            "/organizations/",
            admin,
            json!({"name": "  initech  ", "description": "TPS"}),
        )
        .await;
    created.expect(201);
    assert_eq!(created.json["name"], "initech", "names are trimmed");
    assert_eq!(created.json["description"], "TPS");
    let id = created.id();
    assert_eq!(
        h.get("/users/me", admin).await.json["organization_id"],
        Value::Null
    );
    // Duplicates conflict, on create and on rename.
    h.post(
        "/organizations/",
        Some(world.root()),
        json!({"name": "initech"}),
    )
    .await
    .expect(409)
    .assert_error_shape();
    let path = format!("/organizations/{id}");
    h.put(&path, Some(world.root()), json!({"name": "acme"}))
        .await
        .expect(409)
        .assert_error_shape();
    // Absent fields stay; null clears the description.
    let renamed = h
        .put(&path, Some(world.root()), json!({"name": "initrode"}))
        .await;
    renamed.expect(200);
    assert_eq!(renamed.json["description"], "TPS");
    assert_eq!(renamed.json["name"], "initrode");
    let cleared = h
        .put(&path, Some(world.root()), json!({"description": null}))
        .await;
    assert_eq!(cleared.json["description"], Value::Null);
    assert_eq!(cleared.json["name"], "initrode");
    // Members block deletion; removing them unblocks it.
    let member = h
        .create_user(Some(world.root()), "peter", "user", Some(id))
        .await;
    h.delete(&path, Some(world.root()))
        .await
        .expect(409)
        .assert_error_shape();
    h.delete(&format!("{path}/users/{member}"), Some(world.root()))
        .await
        .expect(200);
    h.delete(&path, Some(world.root())).await.expect(204);
    h.get(&path, Some(world.root())).await.expect(404);
    let log = h
        .get(
            &format!("/audit-logs/?action=org_delete&resource_id={id}"),
            Some(world.root()),
        )
        .await;
    assert_eq!(log.json.as_array().unwrap().len(), 1, "{}", log.text);
    assert_eq!(log.json[0]["resource_type"], "organization");
    assert_eq!(log.json[0]["username"], "root");
}

async fn membership(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let admin_a = world.token(Who::AdminA);
    let newcomer = h
        .create_user(Some(world.root()), "newcomer", "user", None)
        .await;
    let org_a = world.org_a;
    let added = h
        .post(
            &format!("/organizations/{org_a}/users/{newcomer}"),
            admin_a,
            json!(null),
        )
        .await;
    added.expect(200);
    assert_eq!(added.json["organization_id"], org_a);
    assert_eq!(added.json["username"], "newcomer");
    let members = h
        .get(&format!("/organizations/{org_a}/users"), admin_a)
        .await;
    assert!(ids(&members.json).contains(&newcomer));
    assert!(
        members.json[0].get("password_hash").is_none() && members.json[0].get("password").is_none()
    );
    let page = h
        .get(
            &format!("/organizations/{org_a}/users?limit=1&skip=1"),
            admin_a,
        )
        .await;
    assert_eq!(page.json.as_array().unwrap().len(), 1);
    // An admin cannot pull a user out of another organization; a superuser can move it.
    let user_b = world.id(Who::UserB);
    h.post(
        &format!("/organizations/{org_a}/users/{user_b}"),
        admin_a,
        json!(null),
    )
    .await
    .expect(403);
    let moved = h
        .post(
            &format!("/organizations/{org_a}/users/{user_b}"),
            Some(world.root()),
            json!(null),
        )
        .await;
    assert_eq!(moved.json["organization_id"], org_a);
    let removed = h
        .delete(&format!("/organizations/{org_a}/users/{newcomer}"), admin_a)
        .await;
    removed.expect(200);
    assert_eq!(removed.json["organization_id"], Value::Null);
    h.delete(&format!("/organizations/{org_a}/users/{newcomer}"), admin_a)
        .await
        .expect(404);
    for action in ["org_add_user", "org_remove_user"] {
        let log = h
            .get(
                &format!("/audit-logs/?action={action}&resource_type=user"),
                admin_a,
            )
            .await;
        assert!(
            !log.json.as_array().unwrap().is_empty(),
            "{action} audited: {}",
            log.text
        );
    }
}

async fn user_fields_and_conflicts(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let me = h.get("/users/me", world.token(Who::UserA)).await;
    let mut keys: Vec<&str> = me
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "can_create_ca",
            "can_create_cert",
            "can_delete_ca",
            "can_export_private_key",
            "can_revoke_cert",
            "created_at",
            "email",
            "id",
            "is_active",
            "organization_id",
            "role",
            "updated_at",
            "username",
        ]
    );
    assert_eq!(me.json["role"], "user");
    assert_eq!(me.json["organization_id"], world.org_a);
    let root = Some(world.root());
    let mut duplicate = crate::support::user_body("user_a", "user", None);
    duplicate["email"] = json!("other@example.com");
    h.post("/users/", root, duplicate)
        .await
        .expect(409)
        .assert_error_shape();
    let mut same_email = crate::support::user_body("someone", "user", None);
    same_email["email"] = json!("user_a@example.com");
    h.post("/users/", root, same_email)
        .await
        .expect(409)
        .assert_error_shape();
    let user_b = world.id(Who::UserB);
    h.patch(
        &format!("/users/{user_b}"),
        root,
        json!({"email": "user_a@example.com"}),
    )
    .await
    .expect(409)
    .assert_error_shape();
}

async fn user_patch_semantics(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let root = Some(world.root());
    let id = h
        .create_user(root, "mover", "user", Some(world.org_a))
        .await;
    let path = format!("/users/{id}");
    // Absent organization_id: unchanged.
    let flags = h
        .patch(
            &path,
            root,
            json!({"can_create_ca": true, "can_delete_ca": true}),
        )
        .await;
    assert_eq!(flags.json["organization_id"], world.org_a);
    assert_eq!(flags.json["can_create_ca"], true);
    assert_eq!(flags.json["can_delete_ca"], true);
    assert_eq!(flags.json["can_create_cert"], false);
    // A value moves; an explicit null means no organization.
    let moved = h
        .patch(&path, root, json!({"organization_id": world.org_b}))
        .await;
    assert_eq!(moved.json["organization_id"], world.org_b);
    let none = h.patch(&path, root, json!({"organization_id": null})).await;
    assert_eq!(none.json["organization_id"], Value::Null);
    assert_eq!(none.json["can_create_ca"], true, "flags are kept");
    // Self-service covers email and password, not flags, role or organization.
    let user_a = world.id(Who::UserA);
    let own = format!("/users/{user_a}");
    let token = world.token(Who::UserA);
    h.patch(&own, token, json!({"can_create_ca": true}))
        .await
        .expect(403)
        .assert_error_shape();
    h.patch(&own, token, json!({"role": "admin"}))
        .await
        .expect(403);
    h.patch(&own, token, json!({"organization_id": null}))
        .await
        .expect(403);
    h.patch(&own, token, json!({"email": "new-a@example.com"}))
        .await
        .expect(200);
    // A superuser cannot demote or deactivate itself.
    let root_id = world.id(Who::Superuser);
    h.patch(&format!("/users/{root_id}"), root, json!({"role": "admin"}))
        .await
        .expect(403);
    h.patch(
        &format!("/users/{root_id}"),
        root,
        json!({"is_active": false}),
    )
    .await
    .expect(403);
    // An admin cannot touch a superuser, even one in its organization.
    let su_in_a = h
        .create_user(root, "su_in_a", "superuser", Some(world.org_a))
        .await;
    h.patch(
        &format!("/users/{su_in_a}"),
        world.token(Who::AdminA),
        json!({"email": "x@example.com"}),
    )
    .await
    .expect(403);
    h.get(&format!("/users/{su_in_a}"), world.token(Who::AdminA))
        .await
        .expect(403);
}

async fn user_pagination(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let all = h.get("/users/?limit=1000", Some(world.root())).await;
    let every = ids(&all.json);
    assert!(
        every.windows(2).all(|pair| pair[0] < pair[1]),
        "stable order by id"
    );
    let page = h.get("/users/?skip=2&limit=3", Some(world.root())).await;
    assert_eq!(ids(&page.json), every[2..5].to_vec());
    let past = h.get("/users/?skip=1000", Some(world.root())).await;
    assert_eq!(ids(&past.json), Vec::<i64>::new());
}

async fn audit_scope_and_filters(backend: Backend) {
    let world = World::new(&backend).await;
    let h = &world.h;
    let root = Some(world.root());
    // An entry in organization B, and one in A.
    h.put(
        &format!("/organizations/{}", world.org_b),
        root,
        json!({"description": "b"}),
    )
    .await
    .expect(200);
    h.put(
        &format!("/organizations/{}", world.org_a),
        root,
        json!({"description": "a"}),
    )
    .await
    .expect(200);
    let all = h.get("/audit-logs/?action=org_update", root).await;
    assert_eq!(all.json.as_array().unwrap().len(), 2);
    let entry = &all.json[0];
    let mut keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "action",
            "created_at",
            "detail",
            "id",
            "organization_id",
            "resource_id",
            "resource_type",
            "user_id",
            "username"
        ]
    );
    // Admin A sees only A's entries, whatever the filters say.
    let admin_a = world.token(Who::AdminA);
    let own = h.get("/audit-logs/?action=org_update", admin_a).await;
    assert_eq!(own.json.as_array().unwrap().len(), 1);
    assert_eq!(own.json[0]["organization_id"], world.org_a);
    let widened = h
        .get(
            &format!(
                "/audit-logs/?resource_id={}&resource_type=organization&action=org_update",
                world.org_b
            ),
            admin_a,
        )
        .await;
    assert_eq!(widened.json.as_array().unwrap().len(), 0);
    let everything = h.get("/audit-logs/?limit=1000", admin_a).await;
    for entry in everything.json.as_array().unwrap() {
        assert_eq!(entry["organization_id"], world.org_a, "{entry}");
    }
    assert!(
        h.get("/audit-logs/", world.token(Who::AdminNone))
            .await
            .json
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Filters narrow.
    let by_user = h
        .get(
            &format!("/audit-logs/?user_id={}", world.id(Who::Superuser)),
            root,
        )
        .await;
    assert!(
        by_user
            .json
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["user_id"] == world.id(Who::Superuser))
    );
    let future = h.get("/audit-logs/?since=2999-01-01", root).await;
    assert!(future.json.as_array().unwrap().is_empty());
    let past = h.get("/audit-logs/?until=2000-01-01T00:00:00", root).await;
    assert!(past.json.as_array().unwrap().is_empty());
    let window = h
        .get(
            "/audit-logs/?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00%2B00:00&limit=2",
            root,
        )
        .await;
    assert_eq!(window.json.as_array().unwrap().len(), 2);
    h.get("/audit-logs/?since=yesterday", root)
        .await
        .expect(422)
        .assert_error_shape();
    let page = h.get("/audit-logs/?skip=1&limit=1", root).await;
    let first_two = h.get("/audit-logs/?limit=2", root).await;
    assert_eq!(ids(&page.json), ids(&first_two.json)[1..].to_vec());
}

on_both_backends!(
    organization_lists_are_scoped,
    organization_lifecycle,
    membership,
    user_fields_and_conflicts,
    user_patch_semantics,
    user_pagination,
    audit_scope_and_filters,
);
