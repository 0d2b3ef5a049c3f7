//! On a SQLite file the store keeps the answers of its per-request reads (the token holder,
//! an organization by id, a page of members) until the next commit to the database. These tests commit behind
//! the store's back — a connection that is not the store's, and another process with
//! another SQLite library (Python's) — and check that the very next read sees the change.

use std::{path::Path, process::Command};

use orgtenancy_core::{OrgId, UserId};
use orgtenancy_sqlx::{Page, SqlStore, Store, User, UserPatch};
use tempfile::TempDir;

use crate::support::{org, user};

async fn file_store() -> (TempDir, SqlStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("kept.db").display());
    let store = SqlStore::connect(&url).await.expect("SQLite store opens");
    (dir, store)
}

fn database(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("kept.db")
}

/// Runs `sql` in a connection of this process that is not the store's.
fn commit_here(database: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(database).expect("a foreign connection");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    conn.execute_batch(sql).expect("the foreign commit");
}

/// Runs `sql` in another process, through Python's own SQLite library.
fn commit_elsewhere(database: &Path, sql: &str) {
    let script = "import sqlite3, sys\n\
                  db = sqlite3.connect(sys.argv[1], timeout=10)\n\
                  db.executescript(sys.argv[2])\n\
                  db.commit()\n\
                  db.close()\n";
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(database)
        .arg(sql)
        .status()
        .expect("python3 runs (the machine has it)");
    assert!(status.success(), "the other process's commit: {status}");
}

/// A page of the organization's members.
async fn members(store: &SqlStore, org: OrgId) -> Vec<User> {
    let page = Page { skip: 0, limit: 20 };
    store.list_members(org, page).await.expect("members")
}

/// Reads the user, the organization and its members twice (the second time from what was kept), then
/// makes `commit` change both and checks the next reads see it.
async fn every_commit_is_seen(commit: fn(&Path, &str)) {
    let (dir, store) = file_store().await;
    let acme = org(&store, "acme").await;
    let bob = user(&store, "bob", Some(acme.id)).await;
    for _ in 0..2 {
        let holder = store.token_holder(bob.id, "jti-1").await.expect("holder");
        assert!(holder.user.is_active && !holder.token_revoked);
        let read = store.get_organization(acme.id).await.expect("organization");
        assert_eq!(read.name, "acme");
        let page = members(&store, acme.id).await;
        assert!(page.len() == 1 && page[0].is_active);
    }
    let (user_id, org_id) = (bob.id.0, acme.id.0);
    commit(
        &database(&dir),
        &format!("UPDATE users SET is_active = 0 WHERE id = {user_id};"),
    );
    let holder = store.token_holder(bob.id, "jti-1").await.expect("holder");
    assert!(!holder.user.is_active, "the deactivation is seen at once");
    assert!(
        !members(&store, acme.id).await[0].is_active,
        "in the members too"
    );
    commit(
        &database(&dir),
        "INSERT INTO revoked_access_tokens (jti, expires_at) \
         VALUES ('jti-1', '2999-01-01T00:00:00Z');",
    );
    let holder = store.token_holder(bob.id, "jti-1").await.expect("holder");
    assert!(holder.token_revoked, "the revocation is seen at once");
    commit(
        &database(&dir),
        &format!("UPDATE organizations SET name = 'renamed' WHERE id = {org_id};"),
    );
    let read = store.get_organization(acme.id).await.expect("organization");
    assert_eq!(read.name, "renamed", "the rename is seen at once");
    commit(
        &database(&dir),
        &format!("DELETE FROM users WHERE id = {user_id};"),
    );
    assert!(
        store.token_holder(UserId(user_id), "jti-1").await.is_err(),
        "the deletion is seen at once"
    );
    assert!(
        members(&store, acme.id).await.is_empty(),
        "in the members too"
    );
    assert!(store.get_organization(OrgId(org_id + 1)).await.is_err());
    store.close().await;
}

#[tokio::test]
async fn a_commit_by_another_connection_is_seen_by_the_next_read() {
    every_commit_is_seen(commit_here).await;
}

#[tokio::test]
async fn a_commit_by_another_process_is_seen_by_the_next_read() {
    every_commit_is_seen(commit_elsewhere).await;
}

/// A database deleted and made again at the same path is another file, with another WAL
/// index: a store on it must not tell its commits by the first file's index.
#[tokio::test]
async fn a_database_made_again_at_the_same_path_is_read_afresh() {
    let (dir, first) = file_store().await;
    let acme = org(&first, "acme").await;
    assert_eq!(
        first.get_organization(acme.id).await.expect("read").name,
        "acme"
    );
    first.close().await;
    drop(first);
    for suffix in ["", "-wal", "-shm"] {
        let mut path = database(&dir).into_os_string();
        path.push(suffix);
        let _gone = std::fs::remove_file(path);
    }
    let url = format!("sqlite://{}", database(&dir).display());
    let second = SqlStore::connect(&url)
        .await
        .expect("the new database opens");
    let bob = user(&second, "bob", None).await;
    assert!(
        second
            .token_holder(bob.id, "j")
            .await
            .expect("holder")
            .user
            .is_active
    );
    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    second
        .update_user(&crate::support::root(), bob.id, patch)
        .await
        .expect("deactivate");
    let holder = second.token_holder(bob.id, "j").await.expect("holder");
    assert!(!holder.user.is_active, "the new file's commit is seen");
    second.close().await;
}
