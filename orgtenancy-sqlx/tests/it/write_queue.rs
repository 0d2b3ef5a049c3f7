//! SQLite: the store's writers take turns in arrival order, queued in the process instead of
//! sleeping in SQLite's busy handler (`write_queue.rs`), and a reader is never held up by
//! them.

use std::time::Duration;

use orgtenancy_core::Scope;
use orgtenancy_sqlx::{Page, Store, statement::Sql};

use crate::support::{org, sqlite};

/// Six writers arrive one after another while a transaction holds the write lock; they
/// commit in the order they arrived. SQLite's busy handler retries each waiter on its own
/// back-off schedule (the longest waiter sleeps longest), so without the queue the order is
/// the schedules', not the arrivals'.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_commit_in_the_order_they_arrive() {
    let db = sqlite().await;
    let store = db.store.clone();
    let mut holder = store.begin_unaudited().await.expect("the first writer");
    holder
        .execute(Sql::new("UPDATE organizations SET name = name WHERE 0"))
        .await
        .expect("a write in the first transaction");
    let mut writers = Vec::new();
    for k in 0..6 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            org(&store, &format!("arrived-{k}")).await
        }));
        // Let it reach the queue (or the lock) before the next one arrives.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    // A read goes through while every writer waits.
    assert!(store.get_user(orgtenancy_core::UserId(1)).await.is_err());
    holder.commit().await.expect("commit the first writer");
    for writer in writers {
        writer.await.expect("a writer");
    }
    let names: Vec<String> = store
        .list_organizations(
            Scope::All,
            Page {
                skip: 0,
                limit: 100,
            },
        )
        .await
        .expect("list")
        .into_iter()
        .map(|organization| organization.name)
        .collect();
    let arrived: Vec<String> = (0..6).map(|k| format!("arrived-{k}")).collect();
    assert_eq!(names, arrived, "ids in commit order");
}
