//! Users: create (and bootstrap), read, list, update, delete, invalidate; typed errors.

use orgtenancy_core::{Capability, CapabilitySet, OrgId, Role, Scope, UserId};
use orgtenancy_sqlx::{
    Actor, AuditFilter, Conflict, Entity, Page, SqlStore, Store, StoreError, UserPatch,
};

use crate::support::{new_user, org, root, user};

on_both_backends!(
    user_lifecycle,
    user_updates,
    user_conflicts,
    user_validation,
    missing_user,
    bootstrap_only_once,
    delete_user_audit_and_tokens,
);

async fn user_lifecycle(store: &SqlStore) {
    assert_eq!(store.has_no_users().await, Ok(true));
    let acme = org(store, "acme").await;
    let mut new = new_user("alice", Role::Admin, Some(acme.id));
    new.capabilities = CapabilitySet::from_bits(0b1010_0000_0000_0000_0000_0000_0000_0001);
    new.is_active = false;
    let alice = store
        .create_user(&root(), new.clone(), true)
        .await
        .expect("bootstrap");
    assert_eq!(store.has_no_users().await, Ok(false));
    assert_eq!(alice.username, new.username);
    assert_eq!(alice.email, new.email);
    assert_eq!(alice.password_hash, new.password_hash);
    assert_eq!(alice.role, Role::Admin);
    assert!(!alice.is_active);
    assert_eq!(alice.organization_id, Some(acme.id));
    assert_eq!(
        alice.capabilities, new.capabilities,
        "all 32 bits round-trip"
    );
    assert_eq!(alice.created_at, alice.updated_at);
    assert_eq!(alice.tokens_valid_after, alice.created_at);

    assert_eq!(store.get_user(alice.id).await.as_ref(), Ok(&alice));
    assert_eq!(
        store.get_user_by_username("alice").await.as_ref(),
        Ok(&alice)
    );
    assert_eq!(
        store.get_user_by_username("ALICE").await,
        Err(StoreError::NotFound(Entity::User)),
        "usernames are exact"
    );
    let bob = user(store, "bob", None).await;
    assert_eq!(
        store.list_users(Page::default()).await,
        Ok(vec![alice.clone(), bob.clone()])
    );

    let entries = store
        .list_audit(
            Scope::All,
            AuditFilter {
                action: Some("user_create".into()),
                ..AuditFilter::default()
            },
            Page::default(),
        )
        .await
        .expect("audit");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].organization_id, Some(acme.id));
    assert_eq!(entries[0].resource_id, Some(alice.id.to_string()));
    assert_eq!(entries[0].detail.as_deref(), Some("alice"));
    assert_eq!(entries[1].organization_id, None);
}

async fn user_updates(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let bob = user(store, "bob", Some(acme.id)).await;
    let actor = Actor::user(&bob);

    let email = store
        .update_user(
            &actor,
            bob.id,
            UserPatch {
                email: Some("new@example.com".into()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("email");
    assert_eq!(email.email, "new@example.com");
    assert_eq!(
        email.tokens_valid_after, bob.tokens_valid_after,
        "email keeps tokens"
    );
    assert_eq!(email.password_hash, bob.password_hash);

    let password = store
        .update_user(
            &actor,
            bob.id,
            UserPatch {
                password_hash: Some("$argon2id$new".into()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("password");
    assert_eq!(password.password_hash, "$argon2id$new");
    assert!(
        password.tokens_valid_after > bob.tokens_valid_after,
        "password moves the cut-off"
    );
    assert_eq!(password.tokens_valid_after, password.updated_at);

    let flag = Capability::of::<31>();
    let everything = store
        .update_user(
            &root(),
            bob.id,
            UserPatch {
                capabilities: Some(CapabilitySet::EMPTY.with(flag)),
                role: Some(Role::Superuser),
                is_active: Some(false),
                organization_id: Some(Some(globex.id)),
                ..UserPatch::default()
            },
        )
        .await
        .expect("everything");
    assert!(everything.capabilities.contains(flag));
    assert_eq!(everything.role, Role::Superuser);
    assert!(!everything.is_active);
    assert_eq!(everything.organization_id, Some(globex.id));
    assert_eq!(
        everything.email, "new@example.com",
        "absent fields unchanged"
    );

    let orgless = store
        .update_user(
            &root(),
            bob.id,
            UserPatch {
                organization_id: Some(None),
                ..UserPatch::default()
            },
        )
        .await
        .expect("leave");
    assert_eq!(orgless.organization_id, None);
    assert_eq!(store.get_user(bob.id).await.as_ref(), Ok(&orgless));

    // A patch that changes nothing is no change: same row (`updated_at` too), no entry.
    let empty = store
        .update_user(&root(), bob.id, UserPatch::default())
        .await
        .expect("no-op");
    assert_eq!(empty, orgless);

    // The audit trail: details name the fields, never their values; each entry goes to the
    // organization concerned (the new one, or the one left; a move between two: both).
    let entries = store
        .list_audit(
            Scope::All,
            AuditFilter {
                action: Some("user_update".into()),
                ..AuditFilter::default()
            },
            Page::default(),
        )
        .await
        .expect("audit");
    let details: Vec<_> = entries
        .iter()
        .map(|e| e.detail.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        details,
        [
            "email",
            "password",
            "capabilities, role, is_active, organization_id",
            "capabilities, role, is_active, organization_id",
            "organization_id",
        ]
    );
    let orgs: Vec<_> = entries.iter().map(|e| e.organization_id).collect();
    assert_eq!(
        orgs,
        [
            Some(acme.id),
            Some(acme.id),
            Some(globex.id),
            Some(acme.id),
            Some(globex.id),
        ]
    );
    assert_eq!(entries[0].user_id, Some(bob.id));
    assert_eq!(entries[0].username.as_deref(), Some("bob"));
    assert!(
        entries
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains("argon2"))
    );
}

async fn user_conflicts(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let carol = user(store, "carol", None).await;
    let mut same_name = new_user("bob", Role::User, None);
    same_name.email = "other@example.com".into();
    assert_eq!(
        store.create_user(&root(), same_name, false).await,
        Err(StoreError::Conflict(Conflict::Username))
    );
    let mut same_email = new_user("robert", Role::User, None);
    same_email.email = bob.email.clone();
    assert_eq!(
        store.create_user(&root(), same_email, false).await,
        Err(StoreError::Conflict(Conflict::Email))
    );
    assert_eq!(
        store
            .update_user(
                &root(),
                carol.id,
                UserPatch {
                    email: Some(bob.email.clone()),
                    ..UserPatch::default()
                },
            )
            .await,
        Err(StoreError::Conflict(Conflict::Email))
    );
    assert_eq!(
        store
            .create_user(&root(), new_user("dan", Role::User, Some(OrgId(77))), false)
            .await,
        Err(StoreError::Conflict(Conflict::MissingOrganization))
    );
    assert_eq!(
        store
            .update_user(
                &root(),
                carol.id,
                UserPatch {
                    organization_id: Some(Some(OrgId(77))),
                    ..UserPatch::default()
                },
            )
            .await,
        Err(StoreError::Conflict(Conflict::MissingOrganization))
    );
    // Keeping one's own email is not a conflict.
    store
        .update_user(
            &root(),
            carol.id,
            UserPatch {
                email: Some(carol.email.clone()),
                ..UserPatch::default()
            },
        )
        .await
        .expect("own email");
    assert_eq!(
        store
            .list_users(Page::default())
            .await
            .expect("users")
            .len(),
        2
    );
    let audited = store
        .list_audit(Scope::All, AuditFilter::default(), Page::default())
        .await
        .expect("audit");
    // Keeping one's own email changes nothing, so it is not audited (issue 11).
    assert_eq!(audited.len(), 2, "two creates, no update: {audited:?}");
}

async fn user_validation(store: &SqlStore) {
    let cases = [
        ("username", new_user("", Role::User, None)),
        ("username", new_user("  ", Role::User, None)),
        ("username", new_user(&"u".repeat(256), Role::User, None)),
        ("email", {
            let mut new = new_user("e", Role::User, None);
            new.email = String::new();
            new
        }),
        ("password", {
            let mut new = new_user("p", Role::User, None);
            new.password_hash = String::new();
            new
        }),
    ];
    for (field, new) in cases {
        match store.create_user(&root(), new, false).await {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected invalid {field}, got {other:?}"),
        }
    }
    let bob = user(store, "bob", None).await;
    for (field, patch) in [
        (
            "email",
            UserPatch {
                email: Some(" ".into()),
                ..UserPatch::default()
            },
        ),
        (
            "password",
            UserPatch {
                password_hash: Some(String::new()),
                ..UserPatch::default()
            },
        ),
    ] {
        match store.update_user(&root(), bob.id, patch).await {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected invalid {field}, got {other:?}"),
        }
    }
    assert_eq!(store.has_no_users().await, Ok(false));
}

async fn missing_user(store: &SqlStore) {
    let missing = UserId(31337);
    let not_found = Err(StoreError::NotFound(Entity::User));
    assert_eq!(store.get_user(missing).await, not_found);
    assert_eq!(store.get_user_by_username("nobody").await, not_found);
    assert_eq!(
        store
            .update_user(&root(), missing, UserPatch::default())
            .await,
        not_found
    );
    assert_eq!(
        store.delete_user(&root(), missing).await,
        Err(StoreError::NotFound(Entity::User))
    );
    assert_eq!(
        store.invalidate_tokens(&root(), missing).await,
        Err(StoreError::NotFound(Entity::User))
    );
    assert_eq!(store.has_no_users().await, Ok(true));
}

async fn bootstrap_only_once(store: &SqlStore) {
    store
        .create_user(&root(), new_user("first", Role::Superuser, None), true)
        .await
        .expect("first");
    assert_eq!(
        store
            .create_user(&root(), new_user("second", Role::Superuser, None), true)
            .await,
        Err(StoreError::Conflict(Conflict::NotFirstUser))
    );
    // Even a duplicate username loses to "not first": nothing is inserted.
    assert_eq!(
        store
            .create_user(&root(), new_user("first", Role::Superuser, None), true)
            .await,
        Err(StoreError::Conflict(Conflict::NotFirstUser))
    );
    store
        .create_user(&root(), new_user("second", Role::User, None), false)
        .await
        .expect("an ordinary create");
    let audited = store
        .list_audit(Scope::All, AuditFilter::default(), Page::default())
        .await
        .expect("audit");
    assert_eq!(audited.len(), 2);
}

async fn delete_user_audit_and_tokens(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let bob = user(store, "bob", Some(acme.id)).await;
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    store
        .insert_refresh_token(bob.id, "bob-token", expires)
        .await
        .expect("token");
    store.delete_user(&root(), bob.id).await.expect("delete");
    assert_eq!(
        store.get_user(bob.id).await,
        Err(StoreError::NotFound(Entity::User))
    );
    assert_eq!(
        store
            .rotate_refresh_token("bob-token", "next", expires)
            .await,
        Err(StoreError::NotFound(Entity::RefreshToken)),
        "the user's refresh tokens went with it"
    );
    // The username is free again, under a new id.
    let again = user(store, "bob", None).await;
    assert!(again.id > bob.id);
    let entries = store
        .list_audit(
            Scope::Organization(acme.id),
            AuditFilter {
                action: Some("user_delete".into()),
                ..AuditFilter::default()
            },
            Page::default(),
        )
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].resource_id, Some(bob.id.to_string()));
    assert_eq!(entries[0].detail.as_deref(), Some("bob"));
    // The organization can go now.
    store
        .delete_organization(&root(), acme.id)
        .await
        .expect("empty organization");
}
