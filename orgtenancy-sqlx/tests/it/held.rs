//! `one_connection`: a task's reads share one pooled connection, still see every change
//! committed before they start, and a write inside never waits for a second connection
//! while the task holds one.

use orgtenancy_core::UserId;
use orgtenancy_sqlx::{SqlStore, Store, UserPatch, one_connection, statement::Sql};

use crate::support::{root, user};

on_both_backends!(held_reads_see_changes_committed_elsewhere);

/// Reads in a scope, a change committed by another task (outside any scope) in between:
/// the next read in the scope sees it — the held connection keeps no snapshot.
async fn held_reads_see_changes_committed_elsewhere(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let id = bob.id;
    let before = one_connection(async {
        let first = store.token_holder(id, "jti").await.expect("holder");
        assert!(first.user.is_active);
        let other = store.clone();
        tokio::spawn(async move {
            let patch = UserPatch {
                is_active: Some(false),
                ..UserPatch::default()
            };
            other
                .update_user(&root(), id, patch)
                .await
                .expect("deactivate");
        })
        .await
        .expect("the other task");
        let second = store.token_holder(id, "jti").await.expect("holder");
        assert!(!second.user.is_active, "the deactivation is seen at once");
        // A write in the scope, then a read: both go through.
        store
            .update_user(
                &root(),
                id,
                UserPatch {
                    is_active: Some(true),
                    ..UserPatch::default()
                },
            )
            .await
            .expect("reactivate");
        store.get_user(id).await.expect("read").is_active
    })
    .await;
    assert!(before, "the write in the scope is seen by its next read");
    assert!(
        store.get_user(UserId(i64::MAX)).await.is_err(),
        "reads outside a scope still work"
    );
}

/// On a pool of one connection (an in-memory SQLite store) the scope holds the only
/// connection between reads: a write in the scope must give it back first, or it would wait
/// for itself until the acquire timeout (and fail).
#[tokio::test]
async fn a_write_in_a_scope_gives_the_held_connection_back() {
    let store = SqlStore::connect("sqlite::memory:")
        .await
        .expect("in-memory store");
    let done = one_connection(async {
        assert!(store.has_no_users().await.expect("read"));
        let made = user(&store, "alice", None).await;
        let reread = store.get_user(made.id).await.expect("read after the write");
        let mut reader = store.read().await.expect("a reader");
        let (count,): (i64,) = reader
            .fetch_one(Sql::new("SELECT count(*) FROM users"))
            .await
            .expect("count");
        drop(reader);
        let again = user(&store, "bob", None).await;
        (reread == made, count, again.username)
    })
    .await;
    assert_eq!(done, (true, 1, "bob".to_owned()));
}

/// On PostgreSQL the reads of a scope run on one server backend.
#[tokio::test]
async fn reads_in_a_scope_share_one_connection() {
    let Some(db) = crate::support::postgres().await else {
        return;
    };
    let store = &db.store;
    let pids = one_connection(async {
        let mut pids = Vec::new();
        for _ in 0..3 {
            let (pid,): (i32,) = store
                .read()
                .await
                .expect("reader")
                .fetch_one(Sql::new("SELECT pg_backend_pid()"))
                .await
                .expect("pid");
            pids.push(pid);
        }
        pids
    })
    .await;
    assert!(pids.windows(2).all(|w| w.first() == w.last()), "{pids:?}");
    db.finish().await;
}
