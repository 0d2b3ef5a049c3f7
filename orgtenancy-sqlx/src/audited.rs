//! The audited transaction: an application's own writes and their audit entry, committed
//! together, the entry a link of the store's hash chain.
//!
//! ```
//! use orgtenancy_sqlx::{Actor, NewAuditEntry, SqlStore, Store, StoreError};
//!
//! # async fn demo() -> Result<(), StoreError> {
//! let store = SqlStore::connect("sqlite::memory:").await?;
//! let mut tx = store.begin().await?;
//! // The application's own statement, with sqlx, on the transaction's connection.
//! if let Some(conn) = tx.sqlite() {
//!     sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
//!         .execute(&mut *conn)
//!         .await
//!         .map_err(StoreError::from_sqlx)?;
//! }
//! tx.audit(NewAuditEntry {
//!     action: "notes_enable".into(),
//!     actor: Actor::default(),
//!     organization_id: None,
//!     resource_type: Some("note".into()),
//!     resource_id: None,
//!     detail: None,
//! })
//! .await?;
//! tx.commit().await?;
//! assert!(store.verify_audit_chain().await?.ok);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

use crate::{
    AuditEntry, Backend, NewAuditEntry, SqlStore, StoreError, StoreResult, chain_sql,
    db::Tx,
    error::db,
    statement::{self, Row, Sql},
    validate,
};

/// A write transaction of the store's database, for an application's own rows and their
/// audit entries (§6): the rows and the entries commit together or not at all, and each entry
/// joins the one hash chain that [`Store::verify_audit_chain`](crate::Store::verify_audit_chain)
/// checks and that admins read through their audit scope.
///
/// Dropping it without [`AuditedTx::commit`] rolls everything back. The crate's rule —
/// nothing happens unaudited — holds here too: `commit` refuses a transaction that appended
/// no entry ([`StoreError::Unaudited`]).
pub struct AuditedTx {
    tx: Tx,
    entries: usize,
}

impl SqlStore {
    /// Begins an [`AuditedTx`]. On SQLite it is `BEGIN IMMEDIATE`, as the store's own writes:
    /// it holds the database's write lock from the start, so writers queue instead of failing.
    pub async fn begin(&self) -> StoreResult<AuditedTx> {
        Ok(AuditedTx {
            tx: self.write().await?,
            entries: 0,
        })
    }
}

impl AuditedTx {
    /// Which database the transaction runs on.
    pub fn backend(&mut self) -> Backend {
        self.tx.conn().backend()
    }

    /// Runs a backend-neutral [`Sql`] statement in the transaction (see
    /// [`crate::statement`]); the number of rows it changed.
    pub async fn execute(&mut self, sql: Sql) -> StoreResult<u64> {
        statement::execute(&mut self.tx.conn(), sql).await
    }

    /// Exactly one row of `sql`; no row is [`StoreError::Internal`] (a statement that may
    /// find none uses [`AuditedTx::fetch_optional`]).
    pub async fn fetch_one<R: Row>(&mut self, sql: Sql) -> StoreResult<R> {
        statement::fetch_one(&mut self.tx.conn(), sql).await
    }

    /// At most one row of `sql`.
    pub async fn fetch_optional<R: Row>(&mut self, sql: Sql) -> StoreResult<Option<R>> {
        statement::fetch_optional(&mut self.tx.conn(), sql).await
    }

    /// Every row of `sql`.
    pub async fn fetch_all<R: Row>(&mut self, sql: Sql) -> StoreResult<Vec<R>> {
        statement::fetch_all(&mut self.tx.conn(), sql).await
    }

    /// The transaction's SQLite connection, for the application's own statements with sqlx;
    /// `None` on PostgreSQL.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        self.tx.sqlite()
    }

    /// The transaction's PostgreSQL connection, for the application's own statements with
    /// sqlx; `None` on SQLite.
    #[cfg(feature = "postgres")]
    pub fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        self.tx.postgres()
    }

    /// Appends `entry` to the audit log inside this transaction, as the store's own writes do
    /// (the same validation, the same chain). Append last, right before
    /// [`AuditedTx::commit`]: on PostgreSQL it locks the chain's head until the transaction
    /// ends, so every later statement makes all other writers wait longer.
    pub async fn audit(&mut self, entry: NewAuditEntry) -> StoreResult<AuditEntry> {
        validate::audit_entry(&entry)?;
        let written = chain_sql::append(&mut self.tx.conn(), entry).await?;
        self.entries += 1;
        Ok(written)
    }

    /// Commits the rows and their entries; [`StoreError::Unaudited`] (and a rollback) when no
    /// entry was appended.
    pub async fn commit(self) -> StoreResult<()> {
        if self.entries == 0 {
            tracing::error!("an audited transaction was committed without an audit entry");
            return Err(StoreError::Unaudited);
        }
        self.tx.commit().await.map_err(db)
    }

    /// Rolls back everything the transaction wrote (as dropping it does).
    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await.map_err(db)
    }
}

impl StoreError {
    /// Maps an error of an application's own sqlx statement the way the store maps its own:
    /// unique violations of the tenancy tables to their [`Conflict`](crate::Conflict), other
    /// constraint violations (a foreign key included) to `Conflict::Other`, values the
    /// database cannot store to `Invalid`, connection trouble to `Unavailable`, anything else
    /// to `Internal`. The driver's text is logged, never returned.
    pub fn from_sqlx(error: sqlx::Error) -> StoreError {
        db(error)
    }

    /// [`StoreError::from_sqlx`], with `on_foreign_key` for a foreign-key violation (the
    /// caller knows what its statement references, e.g. `Conflict::MissingOrganization`).
    pub fn from_sqlx_with(error: sqlx::Error, on_foreign_key: StoreError) -> StoreError {
        crate::error::from_sqlx(error, on_foreign_key)
    }
}
