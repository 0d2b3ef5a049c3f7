//! The thin layer between the store's logic and the two drivers.
//!
//! The store writes each statement once, as a backend-neutral [`Sql`] value: static SQL text
//! and typed bind values. Only when it runs is it rendered through sqlx's `QueryBuilder` for
//! the backend at hand, which writes `?` placeholders for SQLite and `$N` for PostgreSQL. The
//! few real differences between the backends (how a write transaction begins, `FOR UPDATE`,
//! the bootstrap lock) are decided here or by asking [`Conn::backend`].

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use orgtenancy_core::Scope;
use sqlx::{Database, Encode, FromRow, QueryBuilder, Transaction, Type, pool::PoolConnection};
#[cfg(feature = "postgres")]
use sqlx::{PgConnection, PgPool, Postgres, postgres::PgRow};
#[cfg(feature = "sqlite")]
use sqlx::{Sqlite, SqliteConnection, SqlitePool, sqlite::SqliteRow};

use crate::scope::{SqlSink, write_scope};

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, for several server processes sharing one database.
    Postgres,
}

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    Time(DateTime<Utc>),
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(value: i64) -> Arg {
        Arg::I64(value)
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Arg {
        Arg::OptI64(value)
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Arg {
        Arg::Text(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Arg {
        Arg::Text(value.to_owned())
    }
}

impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Arg {
        Arg::OptText(value)
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Arg {
        Arg::Bool(value)
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(value: DateTime<Utc>) -> Arg {
        Arg::Time(value)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(value: Vec<u8>) -> Arg {
        Arg::Bytes(value)
    }
}

#[derive(Debug, Clone)]
enum Part {
    Text(Cow<'static, str>),
    Arg(Arg),
    /// ` FOR UPDATE` on PostgreSQL; nothing on SQLite, whose write transactions already hold
    /// the database's write lock from their first statement (`BEGIN IMMEDIATE`).
    ForUpdate,
}

/// A statement: SQL text and bind values, not yet tied to a backend.
///
/// Text can only be appended as `&'static str` (or a constant column name inside a scope), so
/// no input can ever become SQL; every value goes through [`Sql::bind`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    parts: Vec<Part>,
}

impl Sql {
    pub(crate) fn new(sql: &'static str) -> Sql {
        Sql {
            parts: vec![Part::Text(Cow::Borrowed(sql))],
        }
    }

    pub(crate) fn push(&mut self, sql: &'static str) -> &mut Sql {
        self.parts.push(Part::Text(Cow::Borrowed(sql)));
        self
    }

    pub(crate) fn bind(&mut self, value: impl Into<Arg>) -> &mut Sql {
        self.parts.push(Part::Arg(value.into()));
        self
    }

    pub(crate) fn for_update(&mut self) -> &mut Sql {
        self.parts.push(Part::ForUpdate);
        self
    }

    /// Appends the predicate for `scope` (see [`crate::push_scope`]).
    pub(crate) fn scope(
        &mut self,
        scope: Scope,
        org_column: &'static str,
        creator_column: Option<&'static str>,
    ) -> &mut Sql {
        write_scope(self, scope, org_column, creator_column);
        self
    }

    fn render<DB>(self, backend: Backend) -> QueryBuilder<'static, DB>
    where
        DB: Database,
        i64: Encode<'static, DB> + Type<DB>,
        Option<i64>: Encode<'static, DB> + Type<DB>,
        String: Encode<'static, DB> + Type<DB>,
        Option<String>: Encode<'static, DB> + Type<DB>,
        bool: Encode<'static, DB> + Type<DB>,
        DateTime<Utc>: Encode<'static, DB> + Type<DB>,
        Vec<u8>: Encode<'static, DB> + Type<DB>,
    {
        let mut qb = QueryBuilder::new("");
        for part in self.parts {
            match part {
                Part::Text(text) => {
                    qb.push(text);
                }
                Part::ForUpdate => {
                    if backend == Backend::Postgres {
                        qb.push(" FOR UPDATE");
                    }
                }
                Part::Arg(arg) => {
                    match arg {
                        Arg::I64(v) => qb.push_bind(v),
                        Arg::OptI64(v) => qb.push_bind(v),
                        Arg::Text(v) => qb.push_bind(v),
                        Arg::OptText(v) => qb.push_bind(v),
                        Arg::Bool(v) => qb.push_bind(v),
                        Arg::Time(v) => qb.push_bind(v),
                        Arg::Bytes(v) => qb.push_bind(v),
                    };
                }
            }
        }
        qb
    }
}

impl SqlSink for Sql {
    fn sql(&mut self, sql: &str) {
        self.parts.push(Part::Text(Cow::Owned(sql.to_owned())));
    }

    fn id(&mut self, id: i64) {
        self.parts.push(Part::Arg(Arg::I64(id)));
    }
}

/// A row type that every compiled backend can decode.
#[cfg(all(feature = "sqlite", feature = "postgres"))]
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

#[cfg(all(feature = "sqlite", feature = "postgres"))]
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A row type that every compiled backend can decode.
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
pub(crate) trait Row: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

/// A row type that every compiled backend can decode.
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
pub(crate) trait Row: for<'r> FromRow<'r, PgRow> + Send + Unpin {}

#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
impl<T> Row for T where T: for<'r> FromRow<'r, PgRow> + Send + Unpin {}

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
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// A connection borrowed from the pool for reads.
pub(crate) enum Pooled {
    #[cfg(feature = "sqlite")]
    Sqlite(PoolConnection<Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            #[cfg(feature = "sqlite")]
            Pooled::Sqlite(conn) => Conn::Sqlite(conn),
            #[cfg(feature = "postgres")]
            Pooled::Postgres(conn) => Conn::Postgres(conn),
        }
    }
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) enum Tx {
    #[cfg(feature = "sqlite")]
    Sqlite(Transaction<'static, Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite(&mut self) -> Option<&mut SqliteConnection> {
        match self {
            Tx::Sqlite(tx) => Some(tx),
            #[cfg(feature = "postgres")]
            Tx::Postgres(_) => None,
        }
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(&mut self) -> Option<&mut PgConnection> {
        match self {
            Tx::Postgres(tx) => Some(tx),
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(_) => None,
        }
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => tx.rollback().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Pool {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A connection for reads (each statement is its own snapshot).
    pub(crate) async fn read(&self) -> Result<Pooled, sqlx::Error> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
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
    pub(crate) async fn write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}
