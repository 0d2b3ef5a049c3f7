//! Opening a store from a database URL: pool settings, SQLite defaults, migrations.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::migrate::Migrator;
#[cfg(feature = "postgres")]
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
#[cfg(feature = "sqlite")]
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

#[cfg(feature = "sqlite")]
use crate::write_queue::WriteQueue;
use crate::{SqlStore, Store, StoreError, StoreResult, db::Pool};

/// How long a SQLite connection waits for another writer's lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a caller waits for a free pooled connection before the store is `Unavailable`.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in a file-backed SQLite pool (readers run in parallel under WAL; writers queue
/// on the database's write lock).
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_MAX_CONNECTIONS: u32 = 8;

/// Read-only connections a SQLite file keeps beside the pool, for reads (see
/// [`crate::readers`]). A GET holds one for all its reads, so this many GETs read at once.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_READERS: usize = 8;

/// Connections in a PostgreSQL pool.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// Opens the store at `url` and runs the tenancy migrations.
///
/// Same as [`SqlStore::connect`], as a trait object. (The reference server opens its store
/// with `orgtenancy_server_store::connect`, which also migrates its own tables.)
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

/// The error for a URL whose driver this build does not include (see the crate's features).
#[cfg(not(all(feature = "sqlite", feature = "postgres")))]
pub(crate) fn not_compiled(driver: &str) -> StoreError {
    StoreError::Invalid {
        field: "database url",
        message: format!("this build has no {driver} support (cargo feature `{driver}`)"),
    }
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
#[cfg(feature = "sqlite")]
pub fn sqlite_options(url: &str) -> StoreResult<SqliteConnectOptions> {
    sqlite_options_with(url, true)
}

/// [`sqlite_options`], creating a missing file only when `create` (and the URL sets no mode).
#[cfg(feature = "sqlite")]
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
            open_sqlite(url, create).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            open_postgres(url).await
        } else {
            Err(invalid_url("expected a sqlite: or postgres:// URL"))
        }
    }

    /// A store over an existing SQLite pool (for tests and applications that configure their
    /// own); runs the migrations. The pool's connections should enable foreign keys (sqlx's
    /// default) and have a busy timeout; see [`sqlite_options`].
    #[cfg(feature = "sqlite")]
    pub async fn from_sqlite_pool(pool: SqlitePool) -> StoreResult<SqlStore> {
        let store = SqlStore::unmigrated(Pool::Sqlite(pool, None, WriteQueue::new()));
        store.migrate_own().await?;
        Ok(store)
    }

    /// A store over an existing PostgreSQL pool (for tests and applications that configure
    /// their own); runs the migrations in the connections' current schema.
    #[cfg(feature = "postgres")]
    pub async fn from_postgres_pool(pool: PgPool) -> StoreResult<SqlStore> {
        let store = SqlStore::unmigrated(Pool::Postgres(pool));
        store.migrate_own().await?;
        Ok(store)
    }

    /// The store over `pool`, without running any migration.
    pub(crate) fn unmigrated(pool: Pool) -> SqlStore {
        SqlStore { pool }
    }

    /// Runs the tenancy migrations of the store's backend.
    pub(crate) async fn migrate_own(&self) -> StoreResult<()> {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(..) => self.migrate(sqlx::migrate!("./migrations/sqlite")).await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => self.migrate(sqlx::migrate!("./migrations/postgres")).await,
        }
    }

    /// Runs an application's own `migrator` on the store's database, next to the store's
    /// migrations in the same `_sqlx_migrations` table (each set ignores the other's
    /// versions; keep the version numbers of the two sets distinct). The migrator must be
    /// written for [`SqlStore::backend`]; run it after opening the store, so the tenancy
    /// tables its rows reference exist.
    pub async fn migrate(&self, migrator: Migrator) -> StoreResult<()> {
        let mut migrator = migrator;
        // The other set's applied versions are not ours, so they are not "missing".
        migrator.set_ignore_missing(true);
        let ran = match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool, ..) => migrator.run(pool).await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => migrator.run(pool).await,
        };
        ran.map_err(migration_error)
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(url: &str, create: bool) -> StoreResult<SqlStore> {
    let options = sqlite_options_with(url, create)?;
    let readers = sqlite_readers(url, &options);
    let pool = sqlite_pool_options(url).connect_with(options).await;
    let store = SqlStore::unmigrated(Pool::Sqlite(
        pool.map_err(crate::error::db)?,
        readers,
        WriteQueue::new(),
    ));
    store.migrate_own().await?;
    Ok(store)
}

/// The connections a SQLite file keeps for reads beside the pool (see [`crate::readers`]); an
/// in-memory database has none.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_readers(
    url: &str,
    options: &SqliteConnectOptions,
) -> Option<std::sync::Arc<crate::readers::Readers>> {
    (!is_memory(url)).then(|| crate::readers::Readers::new(options.clone(), SQLITE_READERS))
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> StoreResult<SqlStore> {
    let options =
        PgConnectOptions::from_str(url).map_err(|_| invalid_url("not a valid PostgreSQL URL"))?;
    let pool = PgPoolOptions::new()
        .max_connections(POSTGRES_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(crate::error::db)?;
    SqlStore::from_postgres_pool(pool).await
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_: &str, _: bool) -> StoreResult<SqlStore> {
    Err(not_compiled("sqlite"))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_: &str) -> StoreResult<SqlStore> {
    Err(not_compiled("postgres"))
}

#[cfg(feature = "sqlite")]
/// The pool settings for a SQLite URL: one connection kept forever for an in-memory database
/// (each connection would be a database of its own), else a small pool of writers and readers.
///
/// No ping before each acquire (sqlx's default pings): a SQLite connection is a handle in
/// this process that no peer can close, so sqlx's ping — one more round trip to the
/// connection's worker thread for every statement the store runs — checks nothing the
/// statement itself would not report. It was a third of the time of a primary-key read
/// (`cargo bench -p orgtenancy-sqlx --bench driver`).
pub(crate) fn sqlite_pool_options(url: &str) -> SqlitePoolOptions {
    let options = SqlitePoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false);
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
