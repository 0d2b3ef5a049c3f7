//! Opening a store for an operator: a bounded wait and the driver's own words on failure.
//!
//! [`connect`](crate::connect) returns typed errors only, as every store method does; a
//! process starting up needs more: *why* the database cannot be opened ("connection refused",
//! "password authentication failed", "unable to open database file"), and an answer within
//! seconds, not after the pool's 30 s acquire timeout. [`SqlStore::open_within`] and
//! [`SqlStore::open_read_only`] first make one plain connection within the given time, and
//! report its failure as an [`OpenError`] carrying the driver's text. That text is meant for
//! the operator's terminal and logs, never for an HTTP client.

use std::{str::FromStr, time::Duration};

use sqlx::ConnectOptions;
#[cfg(feature = "postgres")]
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
#[cfg(feature = "sqlite")]
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};

#[cfg(not(all(feature = "sqlite", feature = "postgres")))]
use crate::connect::not_compiled;
#[cfg(feature = "sqlite")]
use crate::connect::sqlite_options;
#[cfg(feature = "sqlite")]
use crate::write_queue::WriteQueue;
use crate::{
    SqlStore, StoreError,
    connect::{ACQUIRE_TIMEOUT, is_memory},
    db::{Pool, Sql},
};

/// Why a database could not be opened: the store's typed error and, for the operator, the
/// cause in the driver's (or the check's) own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct OpenError {
    /// The typed error ([`StoreError::Unavailable`], [`StoreError::Invalid`], ...).
    pub error: StoreError,
    /// What went wrong, for a person running the server.
    pub cause: String,
}

impl OpenError {
    fn new(error: StoreError, cause: impl Into<String>) -> OpenError {
        OpenError {
            error,
            cause: cause.into(),
        }
    }
}

impl From<StoreError> for OpenError {
    fn from(error: StoreError) -> OpenError {
        let cause = error.to_string();
        OpenError { error, cause }
    }
}

/// The tables a database the store has migrated always has; `verify-audit` needs both.
const AUDIT_TABLES: [&str; 2] = ["audit_log", "audit_chain_head"];

/// Runs `connect` within `timeout`; a failure or a timeout is an [`OpenError`].
async fn first_connection<F, C>(connect: F, timeout: Duration) -> Result<C, OpenError>
where
    F: std::future::Future<Output = Result<C, sqlx::Error>>,
{
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(error)) => Err(OpenError::new(StoreError::Unavailable, error.to_string())),
        Err(_) => Err(OpenError::new(
            StoreError::Unavailable,
            format!("no answer within {} s", timeout.as_secs()),
        )),
    }
}

#[cfg(feature = "postgres")]
fn postgres_options(url: &str) -> Result<PgConnectOptions, OpenError> {
    PgConnectOptions::from_str(url).map_err(|error| {
        OpenError::new(
            StoreError::Invalid {
                field: "database url",
                message: "not a valid PostgreSQL URL".to_owned(),
            },
            error.to_string(),
        )
    })
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn unknown_scheme() -> OpenError {
    OpenError::from(StoreError::Invalid {
        field: "database url",
        message: "expected a sqlite: or postgres:// URL".to_owned(),
    })
}

impl SqlStore {
    /// As [`SqlStore::connect`] (creates a missing SQLite file unless the URL sets a `mode`,
    /// runs the migrations), but the first connection must succeed within `timeout`, and a
    /// failure says why ([`OpenError::cause`]). Afterwards the pool waits for connections as
    /// `connect`'s does (30 s).
    pub async fn open_within(url: &str, timeout: Duration) -> Result<SqlStore, OpenError> {
        let store = if url.starts_with("sqlite:") {
            sqlite_within(url, timeout).await?
        } else if is_postgres(url) {
            postgres_within(url, timeout).await?
        } else {
            return Err(unknown_scheme());
        };
        store
            .migrate_own()
            .await
            .map_err(|error| OpenError::new(error, "the migrations failed (see the log)"))?;
        Ok(store)
    }

    /// Opens an existing database to read it, never to write: no file is created, no
    /// migration runs, SQLite is opened read-only (`mode=ro`, whatever the URL says) and
    /// PostgreSQL sessions are `default_transaction_read_only`. A database without the audit
    /// log's tables (an empty file, another application's database) is an [`OpenError`]
    /// ([`StoreError::Invalid`], field `database`). For `verify-audit` and similar tools.
    pub async fn open_read_only(url: &str, timeout: Duration) -> Result<SqlStore, OpenError> {
        let store = if url.starts_with("sqlite:") && is_memory(url) {
            return Err(OpenError::from(StoreError::Invalid {
                field: "database url",
                message: "an in-memory database has nothing to read".to_owned(),
            }));
        } else if url.starts_with("sqlite:") {
            sqlite_read_only(url, timeout).await?
        } else if is_postgres(url) {
            postgres_read_only(url, timeout).await?
        } else {
            return Err(unknown_scheme());
        };
        store.require_audit_tables().await?;
        Ok(store)
    }

    /// An [`OpenError`] unless the database has the audit log's tables.
    async fn require_audit_tables(&self) -> Result<(), OpenError> {
        let mut sql = match self.backend() {
            crate::Backend::Sqlite => {
                Sql::new("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN (")
            }
            crate::Backend::Postgres => Sql::new(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name IN (",
            ),
        };
        sql.bind(AUDIT_TABLES[0])
            .push(", ")
            .bind(AUDIT_TABLES[1])
            .push(")");
        let found: Option<(i64,)> = self.read_optional(sql).await?;
        if found.is_some_and(|(count,)| count == 2) {
            return Ok(());
        }
        Err(OpenError::new(
            StoreError::Invalid {
                field: "database",
                message: "it has no audit log".to_owned(),
            },
            "no `audit_log` and `audit_chain_head` tables: an empty database, or not one \
             orgtenancy-server has ever started on",
        ))
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_within(url: &str, timeout: Duration) -> Result<SqlStore, OpenError> {
    let options = sqlite_options(url)?;
    first_connection(options.connect(), timeout).await?;
    let readers = crate::connect::sqlite_readers(url, &options);
    let pool = crate::connect::sqlite_pool_options(url)
        .connect_with(options)
        .await
        .map_err(|error| OpenError::new(StoreError::Unavailable, error.to_string()))?;
    Ok(SqlStore::unmigrated(Pool::Sqlite(
        pool,
        readers,
        WriteQueue::new(),
    )))
}

#[cfg(feature = "postgres")]
async fn postgres_within(url: &str, timeout: Duration) -> Result<SqlStore, OpenError> {
    let options = postgres_options(url)?;
    first_connection(options.connect(), timeout).await?;
    let pool = PgPoolOptions::new()
        .max_connections(crate::connect::POSTGRES_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options);
    Ok(SqlStore::unmigrated(Pool::Postgres(pool)))
}

#[cfg(feature = "sqlite")]
async fn sqlite_read_only(url: &str, timeout: Duration) -> Result<SqlStore, OpenError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|error| {
            OpenError::new(
                StoreError::Invalid {
                    field: "database url",
                    message: "not a valid SQLite URL".to_owned(),
                },
                error.to_string(),
            )
        })?
        .read_only(true)
        .create_if_missing(false);
    first_connection(options.connect(), timeout).await?;
    let pool: SqlitePool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options);
    Ok(SqlStore::unmigrated(Pool::Sqlite(
        pool,
        None,
        WriteQueue::new(),
    )))
}

#[cfg(feature = "postgres")]
async fn postgres_read_only(url: &str, timeout: Duration) -> Result<SqlStore, OpenError> {
    let options = postgres_options(url)?.options([("default_transaction_read_only", "on")]);
    first_connection(options.connect(), timeout).await?;
    let pool: PgPool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options);
    Ok(SqlStore::unmigrated(Pool::Postgres(pool)))
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite_within(_: &str, _: Duration) -> Result<SqlStore, OpenError> {
    Err(OpenError::from(not_compiled("sqlite")))
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite_read_only(_: &str, _: Duration) -> Result<SqlStore, OpenError> {
    Err(OpenError::from(not_compiled("sqlite")))
}

#[cfg(not(feature = "postgres"))]
async fn postgres_within(_: &str, _: Duration) -> Result<SqlStore, OpenError> {
    Err(OpenError::from(not_compiled("postgres")))
}

#[cfg(not(feature = "postgres"))]
async fn postgres_read_only(_: &str, _: Duration) -> Result<SqlStore, OpenError> {
    Err(OpenError::from(not_compiled("postgres")))
}

impl SqlStore {
    /// Moves every committed transaction from SQLite's write-ahead log into the database file
    /// and empties the log (`PRAGMA wal_checkpoint(TRUNCATE)`), so that the `.db` file alone
    /// is a complete copy; nothing on PostgreSQL or an in-memory database. Call it when no
    /// more writes come, e.g. after the server stopped and before [`SqlStore::close`]. A
    /// reader still busy keeps its part of the log: the checkpoint then reports
    /// [`StoreError::Unavailable`].
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend() != crate::Backend::Sqlite {
            return Ok(());
        }
        let sql = Sql::new("PRAGMA wal_checkpoint(TRUNCATE)");
        // One row: (busy, log frames, checkpointed frames); busy = 1 when it could not finish.
        let row: Option<(i64, i64, i64)> = self.read_optional(sql).await?;
        match row {
            Some((0, _, _)) | None => Ok(()),
            Some(_) => Err(StoreError::Unavailable),
        }
    }
}
