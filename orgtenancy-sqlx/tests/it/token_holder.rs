//! `Store::token_holder`, the one statement authentication reads: the user as stored now and
//! the token's revocation. Every committed change of the user's row or of the revocations is
//! seen by the next read, and the user it returns is the user `get_user` returns.

use chrono::{Duration, Utc};
use orgtenancy_core::{CapabilitySet, Role, UserId};
use orgtenancy_sqlx::{Entity, SqlStore, Store, StoreError, User, UserPatch};

use crate::support::{org, root, user};

on_both_backends!(
    token_holder_reads_revocation_and_user_together,
    token_holder_sees_every_committed_change,
);

/// The user of `holder` as `get_user` reads it, and the revocation.
async fn holder(store: &SqlStore, id: UserId, jti: &str) -> Result<(User, bool), StoreError> {
    let holder = store.token_holder(id, jti).await?;
    assert_eq!(
        Ok(&holder.user),
        store.get_user(id).await.as_ref(),
        "the same user as a plain read"
    );
    Ok((holder.user, holder.token_revoked))
}

async fn token_holder_reads_revocation_and_user_together(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let (read, revoked) = holder(store, bob.id, "jti-1").await.expect("holder");
    assert_eq!(read, bob);
    assert!(!revoked);
    let later = Utc::now() + Duration::minutes(15);
    store
        .revoke_access_token("jti-1", later)
        .await
        .expect("revoke");
    assert_eq!(holder(store, bob.id, "jti-1").await.map(|h| h.1), Ok(true));
    assert_eq!(
        holder(store, bob.id, "jti-2").await.map(|h| h.1),
        Ok(false),
        "only the revoked id"
    );
    assert_eq!(
        store.token_holder(UserId(i64::MAX), "jti-2").await,
        Err(StoreError::NotFound(Entity::User))
    );
}

/// Each change commits, and the very next read shows it: nothing of an earlier read is kept.
async fn token_holder_sees_every_committed_change(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let bob = user(store, "bob", None).await;
    let jti = "bob-token";
    let mut last = holder(store, bob.id, jti).await.expect("holder").0;
    let patches = [
        UserPatch {
            role: Some(Role::Admin),
            ..UserPatch::default()
        },
        UserPatch {
            capabilities: Some(CapabilitySet::from_bits(1)),
            ..UserPatch::default()
        },
        UserPatch {
            organization_id: Some(Some(acme.id)),
            ..UserPatch::default()
        },
        UserPatch {
            password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$fake$new".to_owned()),
            ..UserPatch::default()
        },
        UserPatch {
            is_active: Some(false),
            ..UserPatch::default()
        },
    ];
    for patch in patches {
        let changed = store
            .update_user(&root(), bob.id, patch.clone())
            .await
            .expect("update");
        let read = holder(store, bob.id, jti).await.expect("holder").0;
        assert_eq!(read, changed, "after {patch:?}");
        assert_ne!(read, last, "{patch:?} is seen");
        last = read;
    }
    let cut = store
        .invalidate_tokens(&root(), bob.id)
        .await
        .expect("invalidate");
    let read = holder(store, bob.id, jti).await.expect("holder").0;
    assert_eq!(read.tokens_valid_after, cut, "sign-out everywhere is seen");
    store
        .revoke_access_token(jti, Utc::now() + Duration::minutes(15))
        .await
        .expect("revoke");
    assert_eq!(holder(store, bob.id, jti).await.map(|h| h.1), Ok(true));
    store.delete_user(&root(), bob.id).await.expect("delete");
    assert_eq!(
        store.token_holder(bob.id, jti).await,
        Err(StoreError::NotFound(Entity::User)),
        "a deleted user is gone at once"
    );
}
