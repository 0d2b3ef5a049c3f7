//! Opening a store from a database URL: pool settings, SQLite defaults, migrations.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{SqlStore, Store, StoreError, StoreResult, db::Pool};

/// How long a SQLite connection waits for another writer's lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a caller waits for a free pooled connection before the store is `Unavailable`.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in a file-backed SQLite pool (readers run in parallel under WAL; writers queue
/// on the database's write lock).
pub(crate) const SQLITE_MAX_CONNECTIONS: u32 = 8;

/// Connections in a PostgreSQL pool.
pub(crate) const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// Opens the store at `url` and runs the migrations; the server's entry point.
///
/// Same as [`SqlStore::connect`], as a trait object.
///
/// ```
/// # async fn demo() -> Result<(), orgtenancy_sqlx::StoreError> {
/// let store = orgtenancy_sqlx::connect("sqlite::memory:").await?;
/// assert!(store.has_no_users().await?);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::connect(url).await?))
}

/// As [`connect`], but a SQLite file that does not exist is an error instead of being created
/// (for tools that inspect a database, such as `orgtenancy-server verify-audit`).
pub async fn connect_existing(url: &str) -> StoreResult<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(url, false).await?))
}

fn invalid_url(message: &str) -> StoreError {
    StoreError::Invalid {
        field: "database url",
        message: message.to_owned(),
    }
}

/// The SQLite connection options for `url`, with the store's defaults applied: the file is
/// created if missing (unless the URL sets `mode=`), WAL journal, foreign keys on, a 10 s busy
/// timeout, `synchronous = NORMAL`. Accepts `sqlite://path`, `sqlite:path` and
/// `sqlite::memory:`, with sqlx's query parameters.
pub fn sqlite_options(url: &str) -> StoreResult<SqliteConnectOptions> {
    sqlite_options_with(url, true)
}

/// [`sqlite_options`], creating a missing file only when `create` (and the URL sets no mode).
fn sqlite_options_with(url: &str, create: bool) -> StoreResult<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|_| invalid_url("not a valid SQLite URL (sqlite://path or sqlite::memory:)"))?;
    let explicit_mode = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("mode=")));
    let options = options
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .synchronous(SqliteSynchronous::Normal);
    let options = if explicit_mode || !create {
        options
    } else {
        options.create_if_missing(true)
    };
    Ok(if is_memory(url) {
        options
    } else {
        options.journal_mode(SqliteJournalMode::Wal)
    })
}

pub(crate) fn is_memory(url: &str) -> bool {
    url.starts_with("sqlite::memory:") || url.contains("mode=memory")
}

fn migrator(migrator: Migrator) -> Migrator {
    let mut migrator = migrator;
    // An embedding application may keep its own migrations in the same `_sqlx_migrations`
    // table; they are not ours, so they are not "missing".
    migrator.set_ignore_missing(true);
    migrator
}

fn migration_error(error: sqlx::migrate::MigrateError) -> StoreError {
    match error {
        sqlx::migrate::MigrateError::Execute(error) => crate::error::db(error),
        other => {
            tracing::error!(error = %other, "database migration failed");
            StoreError::Internal
        }
    }
}

impl SqlStore {
    /// Opens the store at `url` and runs the migrations.
    ///
    /// * `sqlite://path`, `sqlite:path`, `sqlite::memory:` — SQLite with the defaults of
    ///   [`sqlite_options`]. An in-memory database lives in one connection that the pool keeps
    ///   open for the store's lifetime.
    /// * `postgres://…` or `postgresql://…` — PostgreSQL (sqlx's URL syntax, including
    ///   `options=-c search_path=…`).
    ///
    /// Errors: [`StoreError::Invalid`] (field `database url`) for a URL of neither kind,
    /// [`StoreError::Unavailable`] when the database cannot be reached, and
    /// [`StoreError::Internal`] when a migration fails; causes are logged with `tracing`.
    pub async fn connect(url: &str) -> StoreResult<SqlStore> {
        SqlStore::open(url, true).await
    }

    /// [`SqlStore::connect`], creating a missing SQLite file only when `create`.
    async fn open(url: &str, create: bool) -> StoreResult<SqlStore> {
        if url.starts_with("sqlite:") {
            let options = sqlite_options_with(url, create)?;
            let pool = sqlite_pool_options(url).connect_with(options).await;
            SqlStore::from_sqlite_pool(pool.map_err(crate::error::db)?).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|_| invalid_url("not a valid PostgreSQL URL"))?;
            let pool = PgPoolOptions::new()
                .max_connections(POSTGRES_MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(crate::error::db)?;
            SqlStore::from_postgres_pool(pool).await
        } else {
            Err(invalid_url("expected a sqlite: or postgres:// URL"))
        }
    }

    /// A store over an existing SQLite pool (for tests and applications that configure their
    /// own); runs the migrations. The pool's connections should enable foreign keys (sqlx's
    /// default) and have a busy timeout; see [`sqlite_options`].
    pub async fn from_sqlite_pool(pool: SqlitePool) -> StoreResult<SqlStore> {
        migrator(sqlx::migrate!("./migrations/sqlite"))
            .run(&pool)
            .await
            .map_err(migration_error)?;
        Ok(SqlStore {
            pool: Pool::Sqlite(pool),
        })
    }

    /// A store over an existing PostgreSQL pool (for tests and applications that configure
    /// their own); runs the migrations in the connections' current schema.
    pub async fn from_postgres_pool(pool: PgPool) -> StoreResult<SqlStore> {
        migrator(sqlx::migrate!("./migrations/postgres"))
            .run(&pool)
            .await
            .map_err(migration_error)?;
        Ok(SqlStore {
            pool: Pool::Postgres(pool),
        })
    }
}

/// The pool settings for a SQLite URL: one connection kept forever for an in-memory database
/// (each connection would be a database of its own), else a small pool of writers and readers.
pub(crate) fn sqlite_pool_options(url: &str) -> SqlitePoolOptions {
    let options = SqlitePoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
    if is_memory(url) {
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        options.max_connections(SQLITE_MAX_CONNECTIONS)
    }
}
