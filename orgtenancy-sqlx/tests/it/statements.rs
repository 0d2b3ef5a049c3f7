//! The public statement layer (`orgtenancy_sqlx::statement`) on an application's own table:
//! one `Sql` for both backends, run in an audited transaction, an unaudited one and on a
//! pooled reader, with errors mapped as the store's own.

use orgtenancy_core::{OrgId, Scope};
use orgtenancy_sqlx::{
    AuditedTx, Backend, Conflict, NewAuditEntry, SqlStore, Store, StoreError, statement::Sql,
};

use crate::support::{org, root};

on_both_backends!(
    audited_writes_and_scoped_reads,
    unaudited_writes_commit_and_roll_back,
);

async fn migrate(store: &SqlStore) {
    let migrator = match store.backend() {
        Backend::Sqlite => sqlx::migrate!("tests/fixtures/app_migrations/sqlite"),
        _ => sqlx::migrate!("tests/fixtures/app_migrations/postgres"),
    };
    store.migrate(migrator).await.expect("the notes migration");
}

fn insert(org: OrgId, body: &str) -> Sql {
    let mut sql = Sql::new("INSERT INTO notes (organization_id, body) VALUES (");
    sql.bind(org.0)
        .push(", ")
        .bind(body)
        .push(") RETURNING id")
        .on_foreign_key(StoreError::Conflict(Conflict::MissingOrganization));
    sql
}

async fn audited_insert(tx: &mut AuditedTx, org: OrgId, body: &str) -> i64 {
    let (id,): (i64,) = tx.fetch_one(insert(org, body)).await.expect("insert");
    let entry = NewAuditEntry {
        action: "note_create".into(),
        actor: root(),
        organization_id: Some(org),
        resource_type: Some("note".into()),
        resource_id: Some(id.to_string()),
        detail: None,
    };
    tx.audit(entry).await.expect("audit");
    id
}

fn bodies_in(scope: Scope) -> Sql {
    let mut sql = Sql::new("SELECT id, body FROM notes WHERE ");
    sql.scope(scope, "organization_id", None)
        .push(" ORDER BY id");
    sql
}

async fn audited_writes_and_scoped_reads(store: &SqlStore) {
    migrate(store).await;
    let (acme, globex) = (org(store, "acme").await.id, org(store, "globex").await.id);
    let mut tx = store.begin().await.expect("begin");
    let missing = tx
        .fetch_one::<(i64,)>(insert(OrgId(999_999), "orphan"))
        .await;
    assert_eq!(
        missing.err(),
        Some(StoreError::Conflict(Conflict::MissingOrganization))
    );
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    let plan = audited_insert(&mut tx, acme, "plan").await;
    tx.commit().await.expect("commit");
    let mut tx = store.begin().await.expect("begin");
    let other = audited_insert(&mut tx, globex, "other").await;
    // A row locked for the rest of the transaction, then changed.
    let mut lock = Sql::new("SELECT body FROM notes WHERE id = ");
    lock.bind(other).for_update();
    let locked: Option<(String,)> = tx.fetch_optional(lock).await.expect("lock");
    assert_eq!(locked, Some(("other".to_owned(),)));
    let mut update = Sql::new("UPDATE notes SET body = ");
    update.bind("changed").push(" WHERE id = ").bind(other);
    assert_eq!(tx.execute(update).await, Ok(1));
    let all: Vec<(i64, String)> = tx.fetch_all(bodies_in(Scope::All)).await.expect("read");
    assert_eq!(all.len(), 2, "the transaction sees its own rows");
    tx.commit().await.expect("commit");
    let mut reader = store.read().await.expect("reader");
    assert_eq!(reader.backend(), store.backend());
    let acme_rows: Vec<(i64, String)> = reader
        .fetch_all(bodies_in(Scope::Organization(acme)))
        .await
        .expect("acme's notes");
    assert_eq!(acme_rows, vec![(plan, "plan".to_owned())]);
    let none: Option<(i64, String)> = reader
        .fetch_optional(bodies_in(Scope::Nothing))
        .await
        .expect("no notes");
    assert_eq!(none, None);
    let (count,): (i64,) = reader
        .fetch_one(Sql::new(
            "SELECT COUNT(*) FROM notes WHERE body = 'changed'",
        ))
        .await
        .expect("count");
    assert_eq!(count, 1);
    assert!(store.verify_audit_chain().await.expect("verify").ok);
}

async fn unaudited_writes_commit_and_roll_back(store: &SqlStore) {
    migrate(store).await;
    let acme = org(store, "acme").await.id;
    let entries = store
        .verify_audit_chain()
        .await
        .expect("verify")
        .entries_checked;
    let mut tx = store.begin_unaudited().await.expect("begin");
    assert_eq!(tx.backend(), store.backend());
    let (kept,): (i64,) = tx.fetch_one(insert(acme, "kept")).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut tx = store.begin_unaudited().await.expect("begin");
    let _: (i64,) = tx
        .fetch_one(insert(acme, "rolled back"))
        .await
        .expect("insert");
    tx.rollback().await.expect("rollback");
    let mut tx = store.begin_unaudited().await.expect("begin");
    let _: (i64,) = tx.fetch_one(insert(acme, "dropped")).await.expect("insert");
    drop(tx);
    let mut reader = store.read().await.expect("reader");
    let rows: Vec<(i64, String)> = reader.fetch_all(bodies_in(Scope::All)).await.expect("read");
    assert_eq!(rows, vec![(kept, "kept".to_owned())]);
    let report = store.verify_audit_chain().await.expect("verify");
    assert!(report.ok);
    assert_eq!(report.entries_checked, entries, "nothing was audited");
}
