//! The thin layer between the store's logic and the two drivers.
//!
//! The store writes each statement once, as a backend-neutral [`Sql`] value (the public
//! [`crate::statement`] module): static SQL text and typed bind values. Only when it runs is
//! it rendered through sqlx's `QueryBuilder` for the backend at hand, which writes `?`
//! placeholders for SQLite and `$N` for PostgreSQL. The few real differences between the
//! backends (how a write transaction begins, `FOR UPDATE`, the bootstrap lock) are decided
//! here or by asking [`Conn::backend`].

#[cfg(feature = "postgres")]
use sqlx::{PgConnection, PgPool, Postgres};
#[cfg(feature = "sqlite")]
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use std::sync::Arc;

use sqlx::{Transaction, pool::PoolConnection};

#[cfg(feature = "sqlite")]
use crate::{
    readers::{ReadConn, Readers},
    write_queue::{WriteQueue, WriteTurn},
};

pub(crate) use crate::statement::{Row, Sql};

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, for several server processes sharing one database.
    Postgres,
}

/// A connection of either backend: a pooled one or the one inside a transaction.
pub(crate) enum Conn<'c> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'c mut SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(conn) => {
                let mut qb = sql.render::<Sqlite>(Backend::Sqlite);
                qb.build().execute(&mut **conn).await?.rows_affected()
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => {
                let mut qb = sql.render::<Postgres>(Backend::Postgres);
                qb.build().execute(&mut **conn).await?.rows_affected()
            }
        })
    }

    /// At most one row.
    pub(crate) async fn fetch_optional<R: Row>(
        &mut self,
        sql: Sql,
    ) -> Result<Option<R>, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(conn) => {
                let mut qb = sql.render::<Sqlite>(Backend::Sqlite);
                qb.build_query_as::<R>().fetch_optional(&mut **conn).await
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => {
                let mut qb = sql.render::<Postgres>(Backend::Postgres);
                qb.build_query_as::<R>().fetch_optional(&mut **conn).await
            }
        }
    }

    /// Exactly one row.
    pub(crate) async fn fetch_one<R: Row>(&mut self, sql: Sql) -> Result<R, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(conn) => {
                let mut qb = sql.render::<Sqlite>(Backend::Sqlite);
                qb.build_query_as::<R>().fetch_one(&mut **conn).await
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => {
                let mut qb = sql.render::<Postgres>(Backend::Postgres);
                qb.build_query_as::<R>().fetch_one(&mut **conn).await
            }
        }
    }

    /// Every row.
    pub(crate) async fn fetch_all<R: Row>(&mut self, sql: Sql) -> Result<Vec<R>, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(conn) => {
                let mut qb = sql.render::<Sqlite>(Backend::Sqlite);
                qb.build_query_as::<R>().fetch_all(&mut **conn).await
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => {
                let mut qb = sql.render::<Postgres>(Backend::Postgres);
                qb.build_query_as::<R>().fetch_all(&mut **conn).await
            }
        }
    }
}

/// The pool of either backend.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    /// sqlx's pool, the connections a file database keeps for reads, and the queue of the
    /// store's write transactions.
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool, Option<Arc<Readers>>, WriteQueue),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// A connection of the pool, of either backend.
pub(crate) enum PooledConn {
    #[cfg(feature = "sqlite")]
    Sqlite(PoolConnection<Sqlite>),
    #[cfg(feature = "sqlite")]
    SqliteReader(ReadConn),
    #[cfg(feature = "postgres")]
    Postgres(PoolConnection<Postgres>),
}

/// A connection borrowed for reads: from the pool, or the one the task holds inside
/// [`one_connection`](crate::one_connection), to which it returns when dropped.
pub(crate) struct Pooled {
    backend: Backend,
    /// `Some` until dropped.
    conn: Option<PooledConn>,
    /// The pool's key when the task holds its connection between reads.
    keep_for: Option<usize>,
}

impl Pooled {
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn conn(&mut self) -> Result<Conn<'_>, sqlx::Error> {
        match &mut self.conn {
            #[cfg(feature = "sqlite")]
            Some(PooledConn::Sqlite(conn)) => Ok(Conn::Sqlite(conn)),
            #[cfg(feature = "sqlite")]
            Some(PooledConn::SqliteReader(reader)) => reader
                .conn()
                .map(Conn::Sqlite)
                .ok_or(sqlx::Error::PoolClosed),
            #[cfg(feature = "postgres")]
            Some(PooledConn::Postgres(conn)) => Ok(Conn::Postgres(conn)),
            None => Err(sqlx::Error::PoolClosed),
        }
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let (Some(pool), Some(conn)) = (self.keep_for, self.conn.take()) {
            crate::held::keep(pool, conn);
        }
    }
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) enum Tx {
    /// The transaction and its writer's turn (see [`WriteQueue`]), given up when it ends.
    #[cfg(feature = "sqlite")]
    Sqlite(Transaction<'static, Sqlite>, WriteTurn),
    #[cfg(feature = "postgres")]
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx, _) => Conn::Sqlite(tx),
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite(&mut self) -> Option<&mut SqliteConnection> {
        match self {
            Tx::Sqlite(tx, _) => Some(tx),
            #[cfg(feature = "postgres")]
            Tx::Postgres(_) => None,
        }
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(&mut self) -> Option<&mut PgConnection> {
        match self {
            Tx::Postgres(tx) => Some(tx),
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(..) => None,
        }
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx, _turn) => tx.rollback().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx, _turn) => tx.commit().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Pool {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(..) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The connections that read on the calling thread, where the store has them.
    #[cfg(feature = "sqlite")]
    pub(crate) fn inline(&self) -> Option<&crate::inline::InlineReaders> {
        match self {
            Pool::Sqlite(_, Some(readers), _) => Some(readers.inline()),
            _ => None,
        }
    }

    /// What tells this pool's connections from another pool's: the address of its connect
    /// options, which the pool shares with no other.
    fn key(&self) -> usize {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool, ..) => Arc::as_ptr(&pool.connect_options()).addr(),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => Arc::as_ptr(&pool.connect_options()).addr(),
        }
    }

    /// A connection for reads (each statement is its own snapshot): the one the task holds
    /// inside [`one_connection`](crate::one_connection), else one from the pool (kept for
    /// the task's next read when inside one).
    pub(crate) async fn read(&self) -> Result<Pooled, sqlx::Error> {
        let key = self.key();
        let backend = self.backend();
        let keep_for = crate::held::in_scope().then_some(key);
        if let Some(conn) = crate::held::take(key) {
            return Ok(Pooled {
                backend,
                conn: Some(conn),
                keep_for,
            });
        }
        let conn = match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_, Some(readers), _) => PooledConn::SqliteReader(readers.acquire().await?),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool, None, _) => PooledConn::Sqlite(pool.acquire().await?),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => PooledConn::Postgres(pool.acquire().await?),
        };
        Ok(Pooled {
            backend,
            conn: Some(conn),
            keep_for,
        })
    }

    /// Begins a write transaction.
    ///
    /// On SQLite it is `BEGIN IMMEDIATE`: the transaction takes the database's write lock at
    /// once, waiting up to the busy timeout while another writer holds it. A deferred
    /// transaction would start as a reader and could fail (not wait) when it later tries to
    /// write after a concurrent commit; taking the lock up front makes concurrent writers queue
    /// instead of failing or deadlocking. On PostgreSQL it is a plain `BEGIN` (read
    /// committed): row locks and the foreign keys' own locking keep changes consistent.
    ///
    /// A connection the task holds for reads goes back to the pool first, so a task never
    /// holds one connection while it waits for another.
    pub(crate) async fn write(&self) -> Result<Tx, sqlx::Error> {
        drop(crate::held::take(self.key()));
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool, _, queue) => {
                let turn = queue.turn().await?;
                Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}
