//! The public audited transaction (SPEC §12): an application's own rows and their audit
//! entries commit together, join the one hash chain, and nothing commits unaudited.

use orgtenancy_core::{OrgId, Scope};
use orgtenancy_sqlx::{
    AuditFilter, AuditedTx, Backend, Conflict, NewAuditEntry, Page, SqlStore, Store, StoreError,
};

use crate::support::{org, root};

on_both_backends!(
    own_rows_commit_with_their_entry,
    nothing_commits_unaudited,
    rollback_and_drop_write_nothing,
    a_refused_entry_writes_nothing,
    foreign_keys_are_typed_errors,
    migrations_run_again_cleanly,
);

async fn migrate(store: &SqlStore) {
    let migrator = match store.backend() {
        Backend::Sqlite => sqlx::migrate!("tests/fixtures/app_migrations/sqlite"),
        _ => sqlx::migrate!("tests/fixtures/app_migrations/postgres"),
    };
    store
        .migrate(migrator)
        .await
        .expect("the application's migration runs");
}

/// Inserts a note with the application's own sqlx statement on the transaction.
async fn insert_note(tx: &mut AuditedTx, org: OrgId, body: &str) -> Result<i64, sqlx::Error> {
    if let Some(conn) = tx.sqlite() {
        let sql = "INSERT INTO notes (organization_id, body) VALUES (?, ?) RETURNING id";
        return sqlx::query_scalar(sql)
            .bind(org.0)
            .bind(body)
            .fetch_one(conn)
            .await;
    }
    let conn = tx.postgres().expect("PostgreSQL when not SQLite");
    let sql = "INSERT INTO notes (organization_id, body) VALUES ($1, $2) RETURNING id";
    sqlx::query_scalar(sql)
        .bind(org.0)
        .bind(body)
        .fetch_one(conn)
        .await
}

async fn notes(store: &SqlStore) -> i64 {
    let sql = "SELECT COUNT(*) FROM notes";
    match (store.sqlite_pool(), store.postgres_pool()) {
        (Some(pool), _) => sqlx::query_scalar(sql).fetch_one(pool).await,
        (_, Some(pool)) => sqlx::query_scalar(sql).fetch_one(pool).await,
        _ => panic!("a store has a pool"),
    }
    .expect("count notes")
}

fn entry(org: OrgId, id: i64) -> NewAuditEntry {
    NewAuditEntry {
        action: "note_create".into(),
        actor: root(),
        organization_id: Some(org),
        resource_type: Some("note".into()),
        resource_id: Some(id.to_string()),
        detail: None,
    }
}

async fn audit_len(store: &SqlStore) -> usize {
    let page = Page {
        skip: 0,
        limit: 1000,
    };
    let all = store
        .list_audit(Scope::All, AuditFilter::default(), page)
        .await;
    all.expect("list audit").len()
}

async fn own_rows_commit_with_their_entry(store: &SqlStore) {
    migrate(store).await;
    let (acme, globex) = (org(store, "acme").await.id, org(store, "globex").await.id);
    let mut tx = store.begin().await.expect("begin");
    let id = insert_note(&mut tx, acme, "plan").await.expect("insert");
    let written = tx.audit(entry(acme, id)).await.expect("audit");
    tx.commit().await.expect("commit");
    assert_eq!(notes(store).await, 1);
    let filter = AuditFilter {
        action: Some("note_create".into()),
        ..AuditFilter::default()
    };
    let acme_log = store.list_audit(Scope::Organization(acme), filter.clone(), Page::default());
    assert_eq!(acme_log.await.expect("acme's log"), vec![written.clone()]);
    let globex_log = store.list_audit(Scope::Organization(globex), filter, Page::default());
    assert!(globex_log.await.expect("globex's log").is_empty());
    let report = store.verify_audit_chain().await.expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries_checked, audit_len(store).await as u64);
    assert_eq!(
        report.head_id,
        Some(written.id),
        "the application's entry is the head"
    );
}

async fn nothing_commits_unaudited(store: &SqlStore) {
    migrate(store).await;
    let acme = org(store, "acme").await.id;
    let mut tx = store.begin().await.expect("begin");
    insert_note(&mut tx, acme, "secret").await.expect("insert");
    assert_eq!(tx.commit().await, Err(StoreError::Unaudited));
    assert_eq!(notes(store).await, 0, "the unaudited row was rolled back");
}

async fn rollback_and_drop_write_nothing(store: &SqlStore) {
    migrate(store).await;
    let acme = org(store, "acme").await.id;
    let before = audit_len(store).await;
    let mut tx = store.begin().await.expect("begin");
    let id = insert_note(&mut tx, acme, "draft").await.expect("insert");
    tx.audit(entry(acme, id)).await.expect("audit");
    tx.rollback().await.expect("rollback");
    let mut tx = store.begin().await.expect("begin");
    let id = insert_note(&mut tx, acme, "draft").await.expect("insert");
    tx.audit(entry(acme, id)).await.expect("audit");
    drop(tx);
    assert_eq!((notes(store).await, audit_len(store).await), (0, before));
    assert!(store.verify_audit_chain().await.expect("verify").ok);
}

async fn a_refused_entry_writes_nothing(store: &SqlStore) {
    migrate(store).await;
    let acme = org(store, "acme").await.id;
    let mut tx = store.begin().await.expect("begin");
    let id = insert_note(&mut tx, acme, "x").await.expect("insert");
    let bad = NewAuditEntry {
        action: "note\0create".into(),
        ..entry(acme, id)
    };
    let refused = tx.audit(bad).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid { .. })),
        "{refused:?}"
    );
    assert_eq!(tx.commit().await, Err(StoreError::Unaudited));
    assert_eq!(notes(store).await, 0);
}

async fn foreign_keys_are_typed_errors(store: &SqlStore) {
    migrate(store).await;
    let acme = org(store, "acme").await.id;
    let mut tx = store.begin().await.expect("begin");
    let missing = insert_note(&mut tx, OrgId(999_999), "orphan")
        .await
        .expect_err("no such org");
    let meaning = StoreError::Conflict(Conflict::MissingOrganization);
    assert_eq!(
        StoreError::from_sqlx_with(missing, meaning.clone()),
        meaning
    );
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    let id = insert_note(&mut tx, acme, "keeps acme")
        .await
        .expect("insert");
    tx.audit(entry(acme, id)).await.expect("audit");
    tx.commit().await.expect("commit");
    let refused = store.delete_organization(&root(), acme).await;
    assert_eq!(
        refused,
        Err(StoreError::Conflict(Conflict::OrganizationNotEmpty))
    );
}

async fn migrations_run_again_cleanly(store: &SqlStore) {
    migrate(store).await;
    // Both sets share `_sqlx_migrations`; each ignores the other's versions.
    migrate(store).await;
    // The tenancy migrations run again over a database that has the application's version.
    let again = match (store.sqlite_pool(), store.postgres_pool()) {
        (Some(pool), _) => SqlStore::from_sqlite_pool(pool.clone()).await,
        (_, Some(pool)) => SqlStore::from_postgres_pool(pool.clone()).await,
        _ => panic!("a store has a pool"),
    };
    let again = again.expect("the store opens a database with both sets of migrations");
    assert!(again.verify_audit_chain().await.expect("verify").ok);
    assert_eq!(notes(&again).await, 0);
}
