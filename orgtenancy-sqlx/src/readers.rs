//! Connections of a SQLite file kept for reads, beside sqlx's pool: [`Readers`].
//!
//! On SQLite, sqlx's pool cost more than the read itself: borrowing a connection and giving it
//! back (sqlx pings every connection it takes back, a round trip to the connection's worker
//! thread from a task it spawns) took about 47 µs of a 55 µs primary-key read, where the read
//! alone on a held connection takes 7.5 µs (`cargo bench -p orgtenancy-sqlx --bench driver`).
//! So a file database's reads go to connections of their own: a stack of idle connections
//! under a mutex and a semaphore bounding how many exist. A connection is handed out and taken
//! back without a round trip.
//!
//! Not pinging loses nothing: a SQLite connection is a handle in this process that no peer
//! can close, and its worker thread runs one command after another, resetting a statement as
//! soon as its rows are no longer wanted, so a read cancelled midway leaves nothing open for
//! the next borrower. The connections refuse writes (`PRAGMA query_only`) and never begin a
//! transaction (writes take sqlx's pool, `BEGIN IMMEDIATE`): each statement is its own
//! snapshot of what was committed before it started, by this process or any other.
//!
//! An in-memory database keeps everything on its single pooled connection (every connection
//! would be a database of its own), and a store over an application's own pool
//! ([`SqlStore::from_sqlite_pool`](crate::SqlStore::from_sqlite_pool)) reads through that pool,
//! as the application configured it.

use std::sync::{Arc, Mutex};

use sqlx::{ConnectOptions, Connection, SqliteConnection, sqlite::SqliteConnectOptions};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{connect::ACQUIRE_TIMEOUT, inline::InlineReaders};

/// Query-only connections to one SQLite file, at most a fixed number of them.
pub(crate) struct Readers {
    /// The same file's connections for the reads of every request, on the calling thread.
    inline: InlineReaders,
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// A reader borrowed from [`Readers`]; back on their stack when dropped.
pub(crate) struct ReadConn {
    conn: Option<SqliteConnection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
}

impl Readers {
    /// Up to `size` query-only connections with `options` (the pool's), opened when first
    /// needed.
    pub(crate) fn new(options: SqliteConnectOptions, size: usize) -> Arc<Readers> {
        Arc::new(Readers {
            inline: InlineReaders::new(options.get_filename().to_path_buf()),
            options: options.pragma("query_only", "ON"),
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Arc::new(Semaphore::new(size)),
        })
    }

    /// An idle connection, or a new one while fewer than the limit exist; else waits for one
    /// to come back, up to the pool's acquire timeout.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<ReadConn, sqlx::Error> {
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.options.connect().await?,
        };
        Ok(ReadConn {
            conn: Some(conn),
            readers: Arc::clone(self),
            _permit: permit,
        })
    }

    /// The connections for reads on the calling thread.
    pub(crate) fn inline(&self) -> &InlineReaders {
        &self.inline
    }

    /// Refuses new borrowers and closes the idle connections (borrowed ones close when they
    /// come back).
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = match self.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => Vec::new(),
        };
        for conn in idle {
            // Closing only flushes and releases this connection's handle; a failure leaves
            // nothing to undo.
            let _ = conn.close().await;
        }
    }
}

impl ReadConn {
    pub(crate) fn conn(&mut self) -> Option<&mut SqliteConnection> {
        self.conn.as_mut()
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.readers.permits.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.readers.idle.lock() {
            idle.push(conn);
        }
    }
}
