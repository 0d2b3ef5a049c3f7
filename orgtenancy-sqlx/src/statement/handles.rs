//! The handles statements run on: the pooled [`Reader`], the [`UnauditedTx`], and the shared
//! functions behind them and [`AuditedTx`](crate::AuditedTx)'s.

use super::{Row, Sql};
use crate::{
    Backend, SqlStore, StoreResult,
    db::{Conn, Pooled, Tx},
    error::{db, from_sqlx},
};

/// Runs `sql` on `conn`; the number of rows it changed.
pub(crate) async fn execute(conn: &mut Conn<'_>, sql: Sql) -> StoreResult<u64> {
    let on_foreign_key = sql.foreign_key_meaning();
    conn.execute(sql)
        .await
        .map_err(|error| from_sqlx(error, on_foreign_key))
}

/// Exactly one row (none is `StoreError::Internal`: use [`fetch_optional`] where none may be).
pub(crate) async fn fetch_one<R: Row>(conn: &mut Conn<'_>, sql: Sql) -> StoreResult<R> {
    let on_foreign_key = sql.foreign_key_meaning();
    conn.fetch_one(sql)
        .await
        .map_err(|error| from_sqlx(error, on_foreign_key))
}

/// At most one row.
pub(crate) async fn fetch_optional<R: Row>(
    conn: &mut Conn<'_>,
    sql: Sql,
) -> StoreResult<Option<R>> {
    let on_foreign_key = sql.foreign_key_meaning();
    conn.fetch_optional(sql)
        .await
        .map_err(|error| from_sqlx(error, on_foreign_key))
}

/// Every row.
pub(crate) async fn fetch_all<R: Row>(conn: &mut Conn<'_>, sql: Sql) -> StoreResult<Vec<R>> {
    let on_foreign_key = sql.foreign_key_meaning();
    conn.fetch_all(sql)
        .await
        .map_err(|error| from_sqlx(error, on_foreign_key))
}

/// A connection borrowed from the store's pool for reads ([`SqlStore::read`]); each
/// statement is its own snapshot. Returned to the pool when dropped: hold it only for the
/// statements at hand (an in-memory SQLite store has a single connection, which every other
/// call waits for meanwhile).
pub struct Reader {
    pooled: Pooled,
}

impl Reader {
    /// Which database the connection is to.
    pub fn backend(&self) -> Backend {
        self.pooled.backend()
    }

    /// Exactly one row; no row is [`StoreError::Internal`](crate::StoreError::Internal) (a
    /// statement that may find none uses [`Reader::fetch_optional`]).
    pub async fn fetch_one<R: Row>(&mut self, sql: Sql) -> StoreResult<R> {
        fetch_one(&mut self.pooled.conn().map_err(db)?, sql).await
    }

    /// At most one row.
    pub async fn fetch_optional<R: Row>(&mut self, sql: Sql) -> StoreResult<Option<R>> {
        fetch_optional(&mut self.pooled.conn().map_err(db)?, sql).await
    }

    /// Every row.
    pub async fn fetch_all<R: Row>(&mut self, sql: Sql) -> StoreResult<Vec<R>> {
        fetch_all(&mut self.pooled.conn().map_err(db)?, sql).await
    }
}

/// A write transaction for rows whose changes are not audit-log events
/// ([`SqlStore::begin_unaudited`]): counters and caches. A change a person would ask "who did
/// this?" about belongs in an [`AuditedTx`](crate::AuditedTx) instead. Dropping it without
/// [`UnauditedTx::commit`] rolls it back.
pub struct UnauditedTx {
    tx: Tx,
}

impl UnauditedTx {
    /// Which database the transaction runs on.
    pub fn backend(&mut self) -> Backend {
        self.tx.conn().backend()
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&mut self, sql: Sql) -> StoreResult<u64> {
        execute(&mut self.tx.conn(), sql).await
    }

    /// Exactly one row (as [`Reader::fetch_one`]).
    pub async fn fetch_one<R: Row>(&mut self, sql: Sql) -> StoreResult<R> {
        fetch_one(&mut self.tx.conn(), sql).await
    }

    /// At most one row.
    pub async fn fetch_optional<R: Row>(&mut self, sql: Sql) -> StoreResult<Option<R>> {
        fetch_optional(&mut self.tx.conn(), sql).await
    }

    /// Every row.
    pub async fn fetch_all<R: Row>(&mut self, sql: Sql) -> StoreResult<Vec<R>> {
        fetch_all(&mut self.tx.conn(), sql).await
    }

    /// Commits.
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.map_err(db)
    }

    /// Rolls back (as dropping it does).
    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await.map_err(db)
    }
}

impl SqlStore {
    /// A pooled connection for reads with [`Sql`] statements (an application's own tables, or
    /// the store's, which it must not write other than through the [`Store`](crate::Store)
    /// methods).
    pub async fn read(&self) -> StoreResult<Reader> {
        Ok(Reader {
            pooled: self.pool.read().await.map_err(db)?,
        })
    }

    /// Begins an [`UnauditedTx`] (on SQLite `BEGIN IMMEDIATE`, as every write of the store).
    pub async fn begin_unaudited(&self) -> StoreResult<UnauditedTx> {
        Ok(UnauditedTx {
            tx: self.write().await?,
        })
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{Conflict, StoreError};

    #[tokio::test]
    async fn foreign_keys_mean_what_the_statement_says() {
        let store = SqlStore::connect("sqlite::memory:").await.unwrap();
        let insert = || {
            let mut sql = Sql::new(
                "INSERT INTO users (username, email, password_hash, role, \
                 is_active, organization_id, capabilities, tokens_valid_after, created_at, \
                 updated_at) VALUES ('u', 'u@example.com', 'h', 'user', TRUE, ",
            );
            sql.bind(999_i64)
                .push(", 0, ")
                .bind(Utc::now())
                .push(", ")
                .bind(Utc::now())
                .push(", ")
                .bind(Utc::now())
                .push(")");
            sql
        };
        let mut tx = store.begin_unaudited().await.unwrap();
        assert_eq!(
            tx.execute(insert()).await,
            Err(StoreError::Conflict(Conflict::Other))
        );
        let missing = StoreError::Conflict(Conflict::MissingOrganization);
        let mut sql = insert();
        sql.on_foreign_key(missing.clone());
        assert_eq!(tx.execute(sql).await, Err(missing));
        tx.rollback().await.unwrap();
        let mut reader = store.read().await.unwrap();
        assert_eq!(reader.backend(), Backend::Sqlite);
        let none: Option<(i64,)> = reader
            .fetch_optional(Sql::new("SELECT id FROM users"))
            .await
            .unwrap();
        assert_eq!(none, None);
    }
}
