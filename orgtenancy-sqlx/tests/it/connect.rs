//! Opening stores from URLs, the SQLite defaults, migrations, unavailable databases.

use orgtenancy_core::UserId;
use orgtenancy_sqlx::{Backend, SqlStore, Store, StoreError, statement::Sql};
use sqlx::Row;

use crate::support::{drop_schema, org, postgres_schema, unique, user};

on_both_backends!(only_the_tenancy_tables);

/// A database the store opens gets the tenancy tables and nothing of the reference server's
/// (no CA, certificate or login-throttle table: SPEC §12), and the tenancy migrations.
async fn only_the_tenancy_tables(store: &SqlStore) {
    let tables = match store.backend() {
        Backend::Sqlite => Sql::new(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ),
        _ => Sql::new(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name",
        ),
    };
    let mut reader = store.read().await.expect("a reader");
    let tables: Vec<(String,)> = reader.fetch_all(tables).await.expect("the tables");
    let names: Vec<&str> = tables.iter().map(|(name,)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "_sqlx_migrations",
            "audit_chain_head",
            "audit_log",
            "organizations",
            "refresh_tokens",
            "revoked_access_tokens",
            "secrets",
            "users",
        ]
    );
    let versions = Sql::new("SELECT version FROM _sqlx_migrations ORDER BY version");
    let versions: Vec<(i64,)> = reader.fetch_all(versions).await.expect("the migrations");
    assert_eq!(
        versions,
        [(20250601000000,), (20250603000000,), (20250606000000,)]
    );
}

#[tokio::test]
async fn sqlite_url_forms() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("a.db");
    let forms = [
        format!("sqlite://{}", file.display()),
        format!("sqlite:{}", file.display()),
        format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display()),
        "sqlite::memory:".to_owned(),
    ];
    for url in forms {
        let store = orgtenancy_sqlx::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        // Reopening the same file runs the (already applied) migrations again, harmlessly.
        store.has_no_users().await.expect("migrated");
    }
    assert!(file.exists(), "the file is created if missing");
    // The data persists across stores on the same file.
    let url = format!("sqlite://{}", file.display());
    let first = SqlStore::connect(&url).await.expect("open");
    org(&first, "persisted").await;
    first.close().await;
    let second = SqlStore::connect(&url).await.expect("reopen");
    assert_eq!(second.backend(), Backend::Sqlite);
    let orgs = second
        .list_organizations(
            orgtenancy_core::Scope::All,
            orgtenancy_sqlx::Page::default(),
        )
        .await
        .expect("list");
    assert_eq!(orgs.len(), 1);
}

#[tokio::test]
async fn memory_databases_are_separate_and_live() {
    let one = SqlStore::connect("sqlite::memory:").await.expect("open");
    let two = SqlStore::connect("sqlite::memory:").await.expect("open");
    let bob = user(&one, "bob", None).await;
    // Many statements later the single connection (and the database) is still there.
    for _ in 0..20 {
        assert_eq!(one.get_user(bob.id).await.as_ref(), Ok(&bob));
    }
    assert_eq!(two.has_no_users().await, Ok(true));
}

#[tokio::test]
async fn sqlite_defaults() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqlStore::connect(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .expect("open");
    let pool = store.sqlite_pool().expect("a SQLite store");
    let pragma = async |name: &str| -> String {
        let row = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(pool)
            .await
            .expect("pragma");
        row.try_get_unchecked::<String, _>(0).expect("a value")
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("busy_timeout").await, "10000");
    assert_eq!(pragma("synchronous").await, "1", "NORMAL");
}

#[tokio::test]
async fn rejected_urls() {
    for url in ["mysql://localhost/db", "", "file.db", "postgres://[::1"] {
        match orgtenancy_sqlx::connect(url).await {
            Err(StoreError::Invalid {
                field: "database url",
                ..
            }) => {}
            Err(other) => panic!("{url:?}: {other:?}"),
            Ok(_) => panic!("{url:?} opened"),
        }
    }
}

#[tokio::test]
async fn unopenable_sqlite_file_is_unavailable() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/missing-dir/x.db", dir.path().display());
    assert_eq!(
        orgtenancy_sqlx::connect(&url).await.err(),
        Some(StoreError::Unavailable)
    );
}

#[tokio::test]
async fn closed_store_is_unavailable() {
    let store = SqlStore::connect("sqlite::memory:").await.expect("open");
    store.close().await;
    assert_eq!(
        store.get_user(UserId(1)).await,
        Err(StoreError::Unavailable)
    );
    assert_eq!(store.has_no_users().await, Err(StoreError::Unavailable));
}

#[tokio::test]
async fn postgres_url_with_search_path() {
    let Some((url, schema, _)) = postgres_schema().await else {
        eprintln!("ORGTENANCY_TEST_POSTGRES_URL is not set: PostgreSQL run skipped");
        return;
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    for _ in 0..2 {
        let store = SqlStore::connect(&scoped).await.expect("connect by URL");
        assert_eq!(store.backend(), Backend::Postgres);
        store.has_no_users().await.expect("migrated");
        store.close().await;
    }
    let store = orgtenancy_sqlx::connect(&scoped)
        .await
        .expect("connect as a trait object");
    let name = format!("o{}", unique());
    store
        .create_organization(
            &crate::support::root(),
            orgtenancy_sqlx::NewOrganization {
                name,
                description: None,
            },
        )
        .await
        .expect("write");
    drop(store);
    drop_schema(&url, &schema).await;
}
