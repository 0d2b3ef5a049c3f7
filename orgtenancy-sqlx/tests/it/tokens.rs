//! Refresh tokens, revoked access tokens, invalidation and secrets.

use chrono::{Duration, Utc};
use orgtenancy_core::UserId;
use orgtenancy_sqlx::{Conflict, Entity, SqlStore, Store, StoreError};

use crate::support::user;

on_both_backends!(
    refresh_token_rotation,
    expired_refresh_token,
    refresh_token_errors,
    invalidate_everywhere,
    access_token_revocation,
    secrets,
);

async fn refresh_token_rotation(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let later = Utc::now() + Duration::hours(24);
    store
        .insert_refresh_token(bob.id, "h1", later)
        .await
        .expect("insert");
    assert_eq!(
        store.rotate_refresh_token("h1", "h2", later).await,
        Ok(bob.id)
    );
    assert_eq!(
        store.rotate_refresh_token("h1", "h3", later).await,
        Err(StoreError::NotFound(Entity::RefreshToken)),
        "a token is used once"
    );
    assert_eq!(
        store.rotate_refresh_token("h2", "h3", later).await,
        Ok(bob.id)
    );
    store
        .revoke_refresh_token(bob.id, "h3")
        .await
        .expect("revoke");
    store
        .revoke_refresh_token(bob.id, "h3")
        .await
        .expect("revoking twice is fine");
    assert_eq!(
        store.rotate_refresh_token("h3", "h4", later).await,
        Err(StoreError::NotFound(Entity::RefreshToken))
    );
    // Another user cannot revoke bob's token.
    let eve = user(store, "eve", None).await;
    store
        .insert_refresh_token(bob.id, "b1", later)
        .await
        .expect("insert");
    store
        .revoke_refresh_token(eve.id, "b1")
        .await
        .expect("no error");
    assert_eq!(
        store.rotate_refresh_token("b1", "b2", later).await,
        Ok(bob.id)
    );
}

async fn expired_refresh_token(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let past = Utc::now() - Duration::seconds(1);
    let later = Utc::now() + Duration::hours(1);
    store
        .insert_refresh_token(bob.id, "old", past)
        .await
        .expect("insert expired");
    assert_eq!(
        store.rotate_refresh_token("old", "new", later).await,
        Err(StoreError::NotFound(Entity::RefreshToken))
    );
    assert_eq!(
        store.rotate_refresh_token("new", "newer", later).await,
        Err(StoreError::NotFound(Entity::RefreshToken)),
        "no token was issued for the expired one"
    );
    // The expired token was consumed: its hash can be stored again.
    store
        .insert_refresh_token(bob.id, "old", later)
        .await
        .expect("hash free again");
}

async fn refresh_token_errors(store: &SqlStore) {
    let later = Utc::now() + Duration::hours(1);
    assert_eq!(
        store.insert_refresh_token(UserId(404), "x", later).await,
        Err(StoreError::NotFound(Entity::User))
    );
    let bob = user(store, "bob", None).await;
    store
        .insert_refresh_token(bob.id, "dup", later)
        .await
        .expect("insert");
    assert_eq!(
        store.insert_refresh_token(bob.id, "dup", later).await,
        Err(StoreError::Conflict(Conflict::Other))
    );
    assert!(matches!(
        store.insert_refresh_token(bob.id, "", later).await,
        Err(StoreError::Invalid {
            field: "token_hash",
            ..
        })
    ));
    store
        .insert_refresh_token(bob.id, "a", later)
        .await
        .expect("insert");
    assert_eq!(
        store.rotate_refresh_token("a", "dup", later).await,
        Err(StoreError::Conflict(Conflict::Other)),
        "the new hash collides"
    );
    assert_eq!(
        store.rotate_refresh_token("a", "b", later).await,
        Ok(bob.id),
        "the failed rotation changed nothing"
    );
}

async fn invalidate_everywhere(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let later = Utc::now() + Duration::hours(1);
    store
        .insert_refresh_token(bob.id, "t1", later)
        .await
        .expect("insert");
    store
        .insert_refresh_token(bob.id, "t2", later)
        .await
        .expect("insert");
    let cut = store
        .invalidate_tokens(&crate::support::root(), bob.id)
        .await
        .expect("invalidate");
    assert!(cut >= bob.tokens_valid_after);
    let reread = store.get_user(bob.id).await.expect("get");
    assert_eq!(reread.tokens_valid_after, cut);
    assert_eq!(
        reread.updated_at, bob.updated_at,
        "not a change of the account"
    );
    for token in ["t1", "t2"] {
        assert_eq!(
            store.rotate_refresh_token(token, "n", later).await,
            Err(StoreError::NotFound(Entity::RefreshToken))
        );
    }
}

async fn access_token_revocation(store: &SqlStore) {
    let later = Utc::now() + Duration::minutes(15);
    assert_eq!(store.is_access_token_revoked("jti-1").await, Ok(false));
    store
        .revoke_access_token("jti-1", later)
        .await
        .expect("revoke");
    store
        .revoke_access_token("jti-1", later)
        .await
        .expect("twice");
    assert_eq!(store.is_access_token_revoked("jti-1").await, Ok(true));
    assert_eq!(store.is_access_token_revoked("jti-2").await, Ok(false));
    // An expired entry is cleaned up by the next revocation (the token is dead anyway).
    store
        .revoke_access_token("old", Utc::now() - Duration::seconds(1))
        .await
        .expect("revoke");
    store
        .revoke_access_token("jti-3", later)
        .await
        .expect("revoke");
    assert_eq!(store.is_access_token_revoked("old").await, Ok(false));
    assert_eq!(store.is_access_token_revoked("jti-1").await, Ok(true));
    assert!(matches!(
        store.revoke_access_token("", later).await,
        Err(StoreError::Invalid { field: "jti", .. })
    ));
}

async fn secrets(store: &SqlStore) {
    let key = store
        .get_or_create_secret("jwt", vec![1, 2, 3, 0, 255])
        .await
        .expect("create");
    assert_eq!(key, vec![1, 2, 3, 0, 255]);
    let again = store
        .get_or_create_secret("jwt", vec![9])
        .await
        .expect("get");
    assert_eq!(again, key, "the first value wins");
    let other = store
        .get_or_create_secret("other", vec![])
        .await
        .expect("empty value");
    assert_eq!(other, Vec::<u8>::new());
    assert!(matches!(
        store.get_or_create_secret("", vec![1]).await,
        Err(StoreError::Invalid { field: "name", .. })
    ));
}
