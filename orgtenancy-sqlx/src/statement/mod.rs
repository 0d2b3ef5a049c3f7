//! Backend-neutral statements: the SQL layer the store is written in, public so that an
//! application writes its own tables the same way.
//!
//! A [`Sql`] value is static SQL text and typed bind values, not yet tied to a backend. Only
//! when it runs is it rendered through sqlx's `QueryBuilder` for the database at hand (`?`
//! placeholders on SQLite, `$N` on PostgreSQL), so one statement serves both. Text can only be
//! appended as `&'static str`, so no input can ever become SQL; every value goes through
//! [`Sql::bind`]. [`Sql::for_update`] is ` FOR UPDATE` on PostgreSQL and nothing on SQLite
//! (whose write transactions hold the database's write lock from their first statement), and
//! [`Sql::scope`] appends the engine's [`Scope`] as a predicate, as [`push_scope`] does.
//!
//! Statements run on three handles, each with the same `fetch_one`, `fetch_optional`,
//! `fetch_all` (and, for writes, `execute`):
//!
//! * [`Reader`] ([`SqlStore::read`]): a pooled connection for reads; each statement is its
//!   own snapshot.
//! * [`AuditedTx`] ([`SqlStore::begin`]): a write transaction whose changes are audited;
//!   it commits only with an audit entry, which joins the store's hash chain.
//! * [`UnauditedTx`] ([`SqlStore::begin_unaudited`]): a write transaction for rows whose
//!   changes are not events of the audit log (counters, caches — as the store's own refresh
//!   tokens and revoked token ids are not).
//!
//! Rows are decoded into any type that derives `sqlx::FromRow` for every compiled backend
//! ([`Row`]); tuples of `i64`, `String`, `bool`, `Vec<u8>`, `DateTime<Utc>` and their
//! `Option`s work as they are. Every error is mapped to a [`StoreError`] by the store's one
//! mapping (see [`StoreError::from_sqlx`]); a statement that can break a foreign key says what
//! that means with [`Sql::on_foreign_key`].
//!
//! ```
//! use orgtenancy_core::{OrgId, Scope};
//! use orgtenancy_sqlx::{SqlStore, StoreError, statement::Sql};
//!
//! # async fn demo() -> Result<(), StoreError> {
//! let store = SqlStore::connect("sqlite::memory:").await?;
//! let mut sql = Sql::new("SELECT id, name FROM organizations WHERE ");
//! sql.scope(Scope::Organization(OrgId(7)), "id", None)
//!     .push(" AND name <> ")
//!     .bind("archive")
//!     .push(" ORDER BY id LIMIT ")
//!     .bind(100_i64);
//! let rows: Vec<(i64, String)> = store.read().await?.fetch_all(sql).await?;
//! assert!(rows.is_empty());
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! [`push_scope`]: crate::push_scope
//! [`SqlStore`]: crate::SqlStore
//! [`SqlStore::read`]: crate::SqlStore::read
//! [`SqlStore::begin`]: crate::SqlStore::begin
//! [`SqlStore::begin_unaudited`]: crate::SqlStore::begin_unaudited
//! [`AuditedTx`]: crate::AuditedTx

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use orgtenancy_core::Scope;
#[cfg(feature = "postgres")]
use sqlx::postgres::PgRow;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::SqliteRow;
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use crate::{
    Backend, Conflict, StoreError,
    scope::{SqlSink, write_scope},
};

mod handles;

pub use handles::{Reader, UnauditedTx};
pub(crate) use handles::{execute, fetch_all, fetch_one, fetch_optional};

/// The current time as the store writes it: UTC, truncated to microseconds (PostgreSQL's
/// precision), so a value reads back exactly as it was written on both backends.
pub fn now() -> DateTime<Utc> {
    crate::sql_store::now()
}

/// A value bound to a statement: an `i64`, a `String` (or `&str`), a `bool`, a
/// `DateTime<Utc>`, a `Vec<u8>`, or an `Option` of an `i64`, a `String` or a `Vec<u8>`.
#[derive(Debug, Clone)]
pub struct Arg(Value);

#[derive(Debug, Clone)]
enum Value {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    Time(DateTime<Utc>),
    Bytes(Vec<u8>),
    OptBytes(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(value: i64) -> Arg {
        Arg(Value::I64(value))
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Arg {
        Arg(Value::OptI64(value))
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Arg {
        Arg(Value::Text(value))
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Arg {
        Arg(Value::Text(value.to_owned()))
    }
}

impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Arg {
        Arg(Value::OptText(value))
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Arg {
        Arg(Value::Bool(value))
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(value: DateTime<Utc>) -> Arg {
        Arg(Value::Time(value))
    }
}

impl From<Vec<u8>> for Arg {
    fn from(value: Vec<u8>) -> Arg {
        Arg(Value::Bytes(value))
    }
}

impl From<Option<Vec<u8>>> for Arg {
    fn from(value: Option<Vec<u8>>) -> Arg {
        Arg(Value::OptBytes(value))
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

/// A statement: SQL text and bind values, not yet tied to a backend (see the
/// [module documentation](self)).
///
/// Text can only be appended as `&'static str` (or a constant column name inside a scope), so
/// no input can ever become SQL; every value goes through [`Sql::bind`].
#[derive(Debug, Clone, Default)]
pub struct Sql {
    parts: Vec<Part>,
    on_foreign_key: Option<StoreError>,
}

impl Sql {
    /// A statement that begins with `sql`.
    pub fn new(sql: &'static str) -> Sql {
        Sql {
            parts: vec![Part::Text(Cow::Borrowed(sql))],
            on_foreign_key: None,
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &'static str) -> &mut Sql {
        self.parts.push(Part::Text(Cow::Borrowed(sql)));
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Sql {
        self.parts.push(Part::Arg(value.into()));
        self
    }

    /// Appends ` FOR UPDATE` on PostgreSQL (nothing on SQLite): a row read in a write
    /// transaction stays as read until the commit.
    pub fn for_update(&mut self) -> &mut Sql {
        self.parts.push(Part::ForUpdate);
        self
    }

    /// Appends the predicate for `scope` over `org_column` and (optionally) `creator_column`,
    /// with every id bound: the rendering of [`push_scope`](crate::push_scope).
    pub fn scope(
        &mut self,
        scope: Scope,
        org_column: &'static str,
        creator_column: Option<&'static str>,
    ) -> &mut Sql {
        write_scope(self, scope, org_column, creator_column);
        self
    }

    /// What a foreign-key violation of this statement means (the caller knows what it
    /// references, e.g. `StoreError::Conflict(Conflict::MissingOrganization)` for a row that
    /// names an organization). Without it, a foreign-key violation is `Conflict::Other`.
    pub fn on_foreign_key(&mut self, error: StoreError) -> &mut Sql {
        self.on_foreign_key = Some(error);
        self
    }

    /// What a foreign-key violation of this statement is reported as.
    pub(crate) fn foreign_key_meaning(&self) -> StoreError {
        self.on_foreign_key
            .clone()
            .unwrap_or(StoreError::Conflict(Conflict::Other))
    }

    pub(crate) fn render<DB>(self, backend: Backend) -> QueryBuilder<'static, DB>
    where
        DB: Database,
        i64: Encode<'static, DB> + Type<DB>,
        Option<i64>: Encode<'static, DB> + Type<DB>,
        String: Encode<'static, DB> + Type<DB>,
        Option<String>: Encode<'static, DB> + Type<DB>,
        bool: Encode<'static, DB> + Type<DB>,
        DateTime<Utc>: Encode<'static, DB> + Type<DB>,
        Vec<u8>: Encode<'static, DB> + Type<DB>,
        Option<Vec<u8>>: Encode<'static, DB> + Type<DB>,
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
                Part::Arg(Arg(value)) => {
                    match value {
                        Value::I64(v) => qb.push_bind(v),
                        Value::OptI64(v) => qb.push_bind(v),
                        Value::Text(v) => qb.push_bind(v),
                        Value::OptText(v) => qb.push_bind(v),
                        Value::Bool(v) => qb.push_bind(v),
                        Value::Time(v) => qb.push_bind(v),
                        Value::Bytes(v) => qb.push_bind(v),
                        Value::OptBytes(v) => qb.push_bind(v),
                    };
                }
            }
        }
        qb
    }
}

#[cfg(feature = "sqlite")]
impl Sql {
    /// The statement as SQLite text with `?` placeholders, and its values as rusqlite binds
    /// them, encoded as sqlx encodes them for SQLite (a time as RFC 3339 text, a boolean as an
    /// integer), for the reads of [`crate::inline`].
    pub(crate) fn render_inline(&self) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value as V;
        let mut text = String::new();
        let mut values = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(sql) => text.push_str(sql),
                Part::ForUpdate => {}
                Part::Arg(Arg(value)) => {
                    text.push('?');
                    values.push(match value {
                        Value::I64(v) => V::Integer(*v),
                        Value::OptI64(v) => v.map_or(V::Null, V::Integer),
                        Value::Text(v) => V::Text(v.clone()),
                        Value::OptText(v) => v.clone().map_or(V::Null, V::Text),
                        Value::Bool(v) => V::Integer(i64::from(*v)),
                        Value::Time(v) => {
                            V::Text(v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
                        }
                        Value::Bytes(v) => V::Blob(v.clone()),
                        Value::OptBytes(v) => v.clone().map_or(V::Null, V::Blob),
                    });
                }
            }
        }
        (text, values)
    }
}

impl SqlSink for Sql {
    fn sql(&mut self, sql: &str) {
        self.parts.push(Part::Text(Cow::Owned(sql.to_owned())));
    }

    fn id(&mut self, id: i64) {
        self.parts.push(Part::Arg(Arg(Value::I64(id))));
    }
}

/// A row type that every compiled backend can decode (derive `sqlx::FromRow`; tuples work).
#[cfg(all(feature = "sqlite", feature = "postgres"))]
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

#[cfg(all(feature = "sqlite", feature = "postgres"))]
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A row type that every compiled backend can decode (derive `sqlx::FromRow`; tuples work).
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
pub trait Row: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

/// A row type that every compiled backend can decode (derive `sqlx::FromRow`; tuples work).
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
pub trait Row: for<'r> FromRow<'r, PgRow> + Send + Unpin {}

#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
impl<T> Row for T where T: for<'r> FromRow<'r, PgRow> + Send + Unpin {}
