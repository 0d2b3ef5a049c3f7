//! The reads every request makes, where the store can answer them on the calling thread
//! ([`crate::inline`]): the store's methods for the token holder, an organization by id and
//! a page of members call these instead of [`SqlStore::read_optional`] and
//! [`SqlStore::read_all`]. On a SQLite file an answer is kept until the next
//! commit to the database by anyone (`inline::answers`).

use crate::{SqlStore, StoreResult, db::Sql};

impl SqlStore {
    /// [`SqlStore::read_optional`] for a statement every request runs: on the calling thread
    /// where the store can (see [`crate::inline`]), else through sqlx.
    #[cfg(feature = "sqlite")]
    pub(crate) async fn read_optional_hot<R>(&self, sql: Sql) -> StoreResult<Option<R>>
    where
        R: crate::db::Row + crate::inline::InlineRow + Clone + Sync + 'static,
    {
        if let Some(row) = self
            .pool
            .inline()
            .and_then(|inline| inline.fetch_optional(&sql))
        {
            return Ok(row);
        }
        self.read_optional(sql).await
    }

    /// [`SqlStore::read_all`] for a statement every request runs (as
    /// [`SqlStore::read_optional_hot`]).
    #[cfg(feature = "sqlite")]
    pub(crate) async fn read_all_hot<R>(&self, sql: Sql) -> StoreResult<Vec<R>>
    where
        R: crate::db::Row + crate::inline::InlineRow + Clone + Sync + 'static,
    {
        if let Some(rows) = self.pool.inline().and_then(|inline| inline.fetch_all(&sql)) {
            return Ok(rows);
        }
        self.read_all(sql).await
    }

    #[cfg(not(feature = "sqlite"))]
    pub(crate) async fn read_optional_hot<R: crate::db::Row>(
        &self,
        sql: Sql,
    ) -> StoreResult<Option<R>> {
        self.read_optional(sql).await
    }

    #[cfg(not(feature = "sqlite"))]
    pub(crate) async fn read_all_hot<R: crate::db::Row>(&self, sql: Sql) -> StoreResult<Vec<R>> {
        self.read_all(sql).await
    }
}
