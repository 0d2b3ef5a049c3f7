//! Fresh databases for tests: a SQLite file in a temporary directory, or — when
//! `ORGTENANCY_TEST_POSTGRES_URL` is set — a fresh schema in that PostgreSQL database. The
//! store has the tenancy tables and this crate's.

use std::{
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use orgtenancy_sqlx::{Actor, NewOrganization, Organization, SqlStore, Store};
use sqlx::{
    Connection, Executor, PgConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tempfile::TempDir;

/// The environment variable that switches the PostgreSQL runs on.
pub const POSTGRES_URL_VAR: &str = "ORGTENANCY_TEST_POSTGRES_URL";

/// A store on a database that exists only for one test.
pub struct TestDb {
    /// The store under test.
    pub store: SqlStore,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(
        #[expect(
            dead_code,
            reason = "kept only so the directory lives as long as the store"
        )]
        TempDir,
    ),
    Postgres {
        url: String,
        schema: String,
    },
}

/// A unique suffix for names of test databases.
pub fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Runs this crate's migrations, or fails the test.
pub async fn migrated(store: SqlStore) -> SqlStore {
    orgtenancy_server_store::migrate(&store)
        .await
        .expect("the server store's migrations run");
    store
}

/// A store on a new SQLite file, opened through the public URL entry point.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = SqlStore::connect(&url).await.expect("SQLite store opens");
    TestDb {
        store: migrated(store).await,
        cleanup: Cleanup::Sqlite(dir),
    }
}

/// The PostgreSQL URL, if the PostgreSQL runs are switched on.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// A new schema in the test database and the connect options that use it. Panics (fails the
/// test) when the variable is set but the server is unreachable.
pub async fn postgres_schema() -> Option<(String, String, PgConnectOptions)> {
    let url = postgres_url()?;
    let schema = format!("test_{}", unique());
    let mut admin = PgConnection::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("{POSTGRES_URL_VAR} is set but unreachable: {error}"));
    admin
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("create a test schema");
    admin.close().await.expect("close the admin connection");
    let options = PgConnectOptions::from_str(&url)
        .expect("a valid PostgreSQL URL")
        .options([("search_path", schema.as_str())]);
    Some((url, schema, options))
}

/// A store in a fresh PostgreSQL schema, or `None` when the PostgreSQL runs are off. Panics
/// (fails the test) when the variable is set but the server is unreachable.
pub async fn postgres() -> Option<TestDb> {
    let (url, schema, options) = postgres_schema().await?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .expect("connect to the test schema");
    let store = SqlStore::from_postgres_pool(pool)
        .await
        .expect("PostgreSQL store opens");
    Some(TestDb {
        store: migrated(store).await,
        cleanup: Cleanup::Postgres { url, schema },
    })
}

/// Drops a test schema.
pub async fn drop_schema(url: &str, schema: &str) {
    let mut admin = PgConnection::connect(url)
        .await
        .expect("reconnect to drop the schema");
    admin
        .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
        .await
        .expect("drop the test schema");
    admin.close().await.expect("close the admin connection");
}

impl TestDb {
    /// Closes the store and removes the database.
    pub async fn finish(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Sqlite(_) => {}
            Cleanup::Postgres { url, schema } => drop_schema(&url, &schema).await,
        }
    }
}

/// Runs one test body on SQLite.
pub async fn on_sqlite<F>(test: F)
where
    F: AsyncFnOnce(&SqlStore),
{
    let db = sqlite().await;
    test(&db.store).await;
    db.finish().await;
}

/// Runs one test body on PostgreSQL, when switched on.
pub async fn on_postgres<F>(test: F)
where
    F: AsyncFnOnce(&SqlStore),
{
    let Some(db) = postgres().await else {
        eprintln!("{POSTGRES_URL_VAR} is not set: PostgreSQL run skipped");
        return;
    };
    test(&db.store).await;
    db.finish().await;
}

/// A superuser acting.
pub fn root() -> Actor {
    Actor {
        user_id: None,
        username: Some("root".into()),
    }
}

/// Creates an organization or fails the test.
pub async fn org(store: &SqlStore, name: &str) -> Organization {
    store
        .create_organization(
            &root(),
            NewOrganization {
                name: name.into(),
                description: None,
            },
        )
        .await
        .expect("create organization")
}
