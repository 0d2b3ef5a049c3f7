//! The session writes of [`SqlStore`]: refresh tokens, revoked access tokens, logout and
//! sign-out everywhere (the last two audited in their transaction).

use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, UserId};

use crate::{
    Actor, Entity, Logout, StoreResult, TokenHolder, User,
    chain_sql::{Audit, audit},
    db::{Sql, Tx},
    error::{db, from_sqlx},
    rows::{USER_COLUMNS, UserRow},
    sql_store::{SqlStore, micros, not_found, now},
    validate,
};

/// Records the access token id `jti` as revoked until it expires.
pub(crate) async fn revoke_jti(
    tx: &mut Tx,
    jti: &str,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    // Housekeeping: an expired token is rejected for its expiry; its entry can go.
    let mut sql = Sql::new("DELETE FROM revoked_access_tokens WHERE expires_at <= ");
    sql.bind(now());
    tx.conn().execute(sql).await.map_err(db)?;
    let mut sql = Sql::new("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (");
    sql.bind(jti)
        .push(", ")
        .bind(micros(expires_at))
        .push(") ON CONFLICT (jti) DO NOTHING");
    tx.conn().execute(sql).await.map_err(db)?;
    Ok(())
}

/// The user and the token's revocation in one row (the statement of
/// [`SqlStore::read_token_holder`]).
#[derive(Debug, Clone, sqlx::FromRow)]
struct TokenHolderRow {
    #[sqlx(flatten)]
    user: UserRow,
    token_revoked: bool,
}

#[cfg(feature = "sqlite")]
impl crate::inline::InlineRow for TokenHolderRow {
    fn from_inline(row: &rusqlite::Row<'_>) -> Option<TokenHolderRow> {
        Some(TokenHolderRow {
            user: UserRow::from_inline(row)?,
            token_revoked: crate::inline::boolean(row, UserRow::COLUMNS)?,
        })
    }
}

impl SqlStore {
    /// [`Store::is_access_token_revoked`](crate::Store::is_access_token_revoked).
    pub(crate) async fn token_revoked(&self, jti: &str) -> StoreResult<bool> {
        let mut sql = Sql::new("SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ");
        sql.bind(jti).push(")");
        let row: Option<(bool,)> = self.read_optional(sql).await?;
        Ok(row.is_some_and(|(revoked,)| revoked))
    }

    /// [`Store::token_holder`](crate::Store::token_holder): the user's row with the
    /// revocation as one more column, so one statement on one pooled connection (one
    /// snapshot) answers both questions authentication asks.
    pub(crate) async fn read_token_holder(
        &self,
        id: UserId,
        jti: &str,
    ) -> StoreResult<TokenHolder> {
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS)
            .push(", EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ")
            .bind(jti)
            .push(") AS token_revoked FROM users WHERE id = ")
            .bind(id.0);
        let row: Option<TokenHolderRow> = self.read_optional_hot(sql).await?;
        let row = row.ok_or(not_found(Entity::User))?;
        Ok(TokenHolder::new(row.user.into_user()?, row.token_revoked))
    }

    /// [`Store::insert_refresh_token`](crate::Store::insert_refresh_token).
    pub(crate) async fn store_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        validate::not_empty("token_hash", token_hash)?;
        let at = now();
        let mut tx = self.write().await?;
        // Housekeeping: this user's expired tokens (the index on (user_id, expires_at)).
        let mut sql = Sql::new("DELETE FROM refresh_tokens WHERE user_id = ");
        sql.bind(user.0).push(" AND expires_at <= ").bind(at);
        tx.conn().execute(sql).await.map_err(db)?;
        let mut sql = Sql::new(
            "INSERT INTO refresh_tokens (user_id, token_hash, expires_at, created_at) VALUES (",
        );
        sql.bind(user.0)
            .push(", ")
            .bind(token_hash)
            .push(", ")
            .bind(micros(expires_at))
            .push(", ")
            .bind(at)
            .push(")");
        tx.conn()
            .execute(sql)
            .await
            .map_err(|error| from_sqlx(error, not_found(Entity::User)))?;
        tx.commit().await.map_err(db)
    }

    /// [`Store::invalidate_tokens`](crate::Store::invalidate_tokens).
    pub(crate) async fn sign_out_everywhere(
        &self,
        actor: &Actor,
        user: UserId,
    ) -> StoreResult<DateTime<Utc>> {
        let at = now();
        let mut tx = self.write().await?;
        let mut sql = Sql::new("UPDATE users SET tokens_valid_after = ");
        sql.bind(at)
            .push(" WHERE id = ")
            .bind(user.0)
            .push(" RETURNING organization_id");
        let row: Option<(Option<i64>,)> = tx.conn().fetch_optional(sql).await.map_err(db)?;
        let (organization,) = row.ok_or(not_found(Entity::User))?;
        let mut sql = Sql::new("DELETE FROM refresh_tokens WHERE user_id = ");
        sql.bind(user.0);
        tx.conn().execute(sql).await.map_err(db)?;
        let entry = Audit {
            action: "token_invalidate",
            actor,
            organization_id: organization.map(OrgId),
            resource_type: "user",
            resource_id: user.to_string(),
            detail: Some("every session ended".to_owned()),
        };
        audit(&mut tx.conn(), entry).await?;
        tx.commit().await.map_err(db)?;
        Ok(at)
    }

    /// [`Store::logout`](crate::Store::logout).
    pub(crate) async fn end_session(
        &self,
        actor: &Actor,
        user: &User,
        logout: Logout<'_>,
    ) -> StoreResult<()> {
        validate::not_empty("jti", logout.jti)?;
        let mut tx = self.write().await?;
        revoke_jti(&mut tx, logout.jti, logout.expires_at).await?;
        let mut detail = "access token revoked";
        if let Some(hash) = logout.refresh_token_hash {
            let mut sql = Sql::new("DELETE FROM refresh_tokens WHERE user_id = ");
            sql.bind(user.id.0).push(" AND token_hash = ").bind(hash);
            if tx.conn().execute(sql).await.map_err(db)? > 0 {
                detail = "access and refresh token revoked";
            }
        }
        let entry = Audit {
            action: "logout",
            actor,
            organization_id: user.organization_id,
            resource_type: "user",
            resource_id: user.id.to_string(),
            detail: Some(detail.to_owned()),
        };
        audit(&mut tx.conn(), entry).await?;
        tx.commit().await.map_err(db)
    }

    /// [`Store::rotate_refresh_token`](crate::Store::rotate_refresh_token).
    pub(crate) async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<UserId> {
        validate::not_empty("token_hash", new_hash)?;
        let at = now();
        let mut tx = self.write().await?;
        let mut sql = Sql::new("DELETE FROM refresh_tokens WHERE token_hash = ");
        sql.bind(old_hash).push(" RETURNING user_id, expires_at");
        let consumed: Option<(i64, DateTime<Utc>)> =
            tx.conn().fetch_optional(sql).await.map_err(db)?;
        let Some((user, old_expiry)) = consumed else {
            return Err(not_found(Entity::RefreshToken));
        };
        if old_expiry <= at {
            // Expired: it is consumed all the same, and no new token is issued.
            tx.commit().await.map_err(db)?;
            return Err(not_found(Entity::RefreshToken));
        }
        let mut sql = Sql::new(
            "INSERT INTO refresh_tokens (user_id, token_hash, expires_at, created_at) VALUES (",
        );
        sql.bind(user)
            .push(", ")
            .bind(new_hash)
            .push(", ")
            .bind(micros(expires_at))
            .push(", ")
            .bind(at)
            .push(")");
        tx.conn().execute(sql).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(UserId(user))
    }
}
