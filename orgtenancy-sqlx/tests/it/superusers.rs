//! Issue 11 in the store: the last active superuser remains (also against racing writers),
//! a deactivation ends every session, a no-op patch writes nothing, logout and sign-out
//! everywhere are audited, and writes that rest on a row re-check it.

use std::sync::Arc;

use chrono::{Duration, Utc};
use orgtenancy_core::{Role, Scope, UserId};
use orgtenancy_sqlx::{
    AuditFilter, Conflict, Entity, Logout, OrganizationPatch, Page, SqlStore, Store, StoreError,
    User, UserPatch,
};

use crate::support::{new_user, org, root, user};

on_both_backends!(
    the_last_superuser_is_refused,
    racing_superusers_leave_one,
    deactivation_ends_every_session,
    a_no_op_patch_writes_nothing,
    logout_and_invalidate_are_audited,
    stale_facts_are_a_conflict,
);

const LAST: Result<(), StoreError> = Err(StoreError::Conflict(Conflict::LastSuperuser));

async fn superuser(store: &SqlStore, name: &str, active: bool) -> User {
    let mut new = new_user(name, Role::Superuser, None);
    new.is_active = active;
    store
        .create_user(&root(), new, false)
        .await
        .expect("create superuser")
}

fn demote() -> UserPatch {
    UserPatch {
        role: Some(Role::Admin),
        ..UserPatch::default()
    }
}

fn deactivate() -> UserPatch {
    UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    }
}

async fn entries(store: &SqlStore) -> usize {
    store
        .list_audit(
            Scope::All,
            AuditFilter::default(),
            Page {
                skip: 0,
                limit: 1000,
            },
        )
        .await
        .expect("audit")
        .len()
}

async fn the_last_superuser_is_refused(store: &SqlStore) {
    let only = superuser(store, "only", true).await;
    // An inactive superuser does not count.
    let dormant = superuser(store, "dormant", false).await;
    let before = entries(store).await;
    for (what, patch) in [("demote", demote()), ("deactivate", deactivate())] {
        let result = store.update_user(&root(), only.id, patch).await.map(drop);
        assert_eq!(result, LAST, "{what}");
    }
    assert_eq!(store.delete_user(&root(), only.id).await, LAST, "delete");
    assert_eq!(entries(store).await, before, "a refusal writes nothing");
    assert_eq!(store.get_user(only.id).await.as_ref(), Ok(&only));
    assert_eq!(store.has_other_active_superuser(only.id).await, Ok(false));
    assert_eq!(store.has_other_active_superuser(dormant.id).await, Ok(true));
    // Changes that keep it an active superuser go ahead; so do changes of the inactive one.
    let email = UserPatch {
        email: Some("only@new.example".into()),
        ..UserPatch::default()
    };
    store
        .update_user(&root(), only.id, email)
        .await
        .expect("email");
    store
        .update_user(&root(), dormant.id, demote())
        .await
        .expect("demote inactive");
    // With a second active superuser, either may go, but not both.
    let second = superuser(store, "second", true).await;
    store
        .update_user(&root(), only.id, deactivate())
        .await
        .expect("deactivate");
    assert_eq!(store.delete_user(&root(), second.id).await, LAST);
    store
        .update_user(
            &root(),
            only.id,
            UserPatch {
                is_active: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .expect("reactivate");
    store.delete_user(&root(), second.id).await.expect("delete");
}

/// Two superusers demote, deactivate or delete each other at once, many times: one always
/// remains, and each loser gets `Conflict::LastSuperuser`.
async fn racing_superusers_leave_one(store: &SqlStore) {
    let store = Arc::new(store.clone());
    for trial in 0..30 {
        let a = superuser(&store, &format!("a{trial}"), true).await;
        let b = superuser(&store, &format!("b{trial}"), true).await;
        // Take away every other superuser so that a and b are the only two.
        for other in store
            .list_users(Page {
                skip: 0,
                limit: 1000,
            })
            .await
            .expect("list")
        {
            if other.role == Role::Superuser && other.id != a.id && other.id != b.id {
                store
                    .update_user(&root(), other.id, demote())
                    .await
                    .expect("demote the rest");
            }
        }
        let act = |kind: usize, id: UserId| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                match kind {
                    0 => store.update_user(&root(), id, demote()).await.map(drop),
                    1 => store.update_user(&root(), id, deactivate()).await.map(drop),
                    _ => store.delete_user(&root(), id).await,
                }
            })
        };
        let (first, second) = (act(trial % 3, a.id), act((trial + 1) % 3, b.id));
        let results = [first.await.expect("join"), second.await.expect("join")];
        let remaining = store
            .has_other_active_superuser(UserId(0))
            .await
            .expect("count");
        assert!(
            remaining,
            "trial {trial}: no active superuser left ({results:?})"
        );
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "trial {trial}: {results:?}"
        );
        assert!(results.contains(&LAST), "trial {trial}: {results:?}");
    }
}

async fn deactivation_ends_every_session(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let later = Utc::now() + Duration::hours(1);
    store
        .insert_refresh_token(bob.id, "r1", later)
        .await
        .expect("insert");
    let off = store
        .update_user(&root(), bob.id, deactivate())
        .await
        .expect("deactivate");
    assert!(
        off.tokens_valid_after > bob.tokens_valid_after,
        "tokens issued before are dead"
    );
    assert_eq!(off.tokens_valid_after, off.updated_at);
    let on = UserPatch {
        is_active: Some(true),
        ..UserPatch::default()
    };
    let back = store
        .update_user(&root(), bob.id, on)
        .await
        .expect("reactivate");
    assert_eq!(
        back.tokens_valid_after, off.tokens_valid_after,
        "they stay dead"
    );
    assert_eq!(
        store.rotate_refresh_token("r1", "r2", later).await,
        Err(StoreError::NotFound(Entity::RefreshToken)),
        "the refresh token went with the deactivation"
    );
}

async fn a_no_op_patch_writes_nothing(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let bob = user(store, "bob", Some(acme.id)).await;
    let before = entries(store).await;
    let same = UserPatch {
        email: Some(bob.email.clone()),
        capabilities: Some(bob.capabilities),
        role: Some(bob.role),
        is_active: Some(bob.is_active),
        organization_id: Some(bob.organization_id),
        expected: Some(bob.principal()),
        ..UserPatch::default()
    };
    for patch in [UserPatch::default(), same] {
        let got = store
            .update_user(&root(), bob.id, patch)
            .await
            .expect("no-op");
        assert_eq!(got, bob, "same row, same updated_at");
    }
    let patches = [
        OrganizationPatch::default(),
        OrganizationPatch {
            name: Some(format!("  {}  ", acme.name)),
            description: Some(None),
        },
    ];
    for patch in patches {
        let got = store
            .update_organization(&root(), acme.id, patch)
            .await
            .expect("no-op");
        assert_eq!(got, acme, "same row, same updated_at");
    }
    assert_eq!(entries(store).await, before, "no entry for a no-op");
    assert_eq!(store.get_user(bob.id).await.as_ref(), Ok(&bob));
}

async fn logout_and_invalidate_are_audited(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let bob = user(store, "bob", Some(acme.id)).await;
    let later = Utc::now() + Duration::hours(1);
    store
        .insert_refresh_token(bob.id, "r1", later)
        .await
        .expect("insert");
    let actor = orgtenancy_sqlx::Actor::user(&bob);
    let logout = Logout {
        jti: "jti-1",
        expires_at: later,
        refresh_token_hash: Some("r1"),
    };
    store.logout(&actor, &bob, logout).await.expect("logout");
    assert_eq!(store.is_access_token_revoked("jti-1").await, Ok(true));
    assert_eq!(
        store.rotate_refresh_token("r1", "r2", later).await,
        Err(StoreError::NotFound(Entity::RefreshToken))
    );
    store
        .invalidate_tokens(&actor, bob.id)
        .await
        .expect("invalidate");
    let log = store
        .list_audit(
            Scope::Organization(acme.id),
            AuditFilter::default(),
            Page::default(),
        )
        .await
        .expect("audit");
    let tail: Vec<_> = log
        .iter()
        .skip(log.len().saturating_sub(2))
        .map(|e| (e.action.as_str(), e.user_id, e.resource_id.clone()))
        .collect();
    let id = Some(bob.id.to_string());
    assert_eq!(
        tail,
        [
            ("logout", Some(bob.id), id.clone()),
            ("token_invalidate", Some(bob.id), id)
        ]
    );
}

async fn stale_facts_are_a_conflict(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let bob = user(store, "bob", Some(acme.id)).await;
    superuser(store, "root", true).await;
    let seen = bob.principal();
    let promote = UserPatch {
        role: Some(Role::Superuser),
        ..UserPatch::default()
    };
    store
        .update_user(&root(), bob.id, promote)
        .await
        .expect("promote");
    let changed = Err(StoreError::Conflict(Conflict::Changed));
    assert_eq!(
        store
            .remove_member_if(&root(), acme.id, &seen)
            .await
            .map(drop),
        changed
    );
    assert_eq!(store.delete_user_if(&root(), &seen).await, changed);
    let now = store.get_user(bob.id).await.expect("get");
    assert_eq!(now.organization_id, Some(acme.id), "still a member");
    store
        .remove_member_if(&root(), acme.id, &now.principal())
        .await
        .expect("remove");
    let now = store.get_user(bob.id).await.expect("get");
    store
        .delete_user_if(&root(), &now.principal())
        .await
        .expect("delete");
}
