//! [`SqlStore`]: the [`Store`] on SQLite or PostgreSQL, one implementation for both.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use orgtenancy_core::{OrgId, Principal, PrincipalSet, Scope, UserId};

use crate::{
    Actor, AuditEntry, AuditFilter, Conflict, Entity, KeysetPage, Logout, NewAuditEntry,
    NewOrganization, NewUser, Organization, OrganizationPatch, Page, Store, StoreError,
    StoreResult, User, UserPatch,
    db::{Backend, Pool, Sql, Tx},
    error::db,
    rows::{AUDIT_COLUMNS, AuditRow, ORG_COLUMNS, OrgRow, USER_COLUMNS, UserRow},
    validate,
};

/// The store on SQLite or PostgreSQL, chosen by the URL given to [`SqlStore::connect`].
///
/// Cloning is cheap (the pool is shared). See the [crate documentation](crate) for the
/// backends' settings, the transaction rule and the error mapping.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) pool: Pool,
}

/// The current time as the store writes it: UTC, truncated to microseconds (PostgreSQL's
/// precision), so a value reads back exactly as it was written on both backends.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}

pub(crate) fn not_found(entity: Entity) -> StoreError {
    StoreError::NotFound(entity)
}

pub(crate) fn conflict(conflict: Conflict) -> StoreError {
    StoreError::Conflict(conflict)
}

/// `SELECT <user columns> FROM users WHERE id = ?`.
fn select_user(id: UserId) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(USER_COLUMNS)
        .push(" FROM users WHERE id = ")
        .bind(id.0);
    sql
}

pub(crate) fn user_or_not_found(row: Option<UserRow>) -> StoreResult<User> {
    row.ok_or(not_found(Entity::User))?.into_user()
}

/// Locks the user's row for the rest of `tx` (PostgreSQL `FOR UPDATE`; SQLite writers are
/// serialized already) and checks it still has the `expected` facts, so the write that
/// follows acts on exactly what the caller decided on.
pub(crate) async fn lock_user(
    tx: &mut Tx,
    id: UserId,
    expected: Option<&Principal>,
) -> StoreResult<User> {
    let mut sql = Sql::new("SELECT ");
    sql.push(USER_COLUMNS)
        .push(" FROM users WHERE id = ")
        .bind(id.0)
        .for_update();
    let row: Option<UserRow> = tx.conn().fetch_optional(sql).await.map_err(db)?;
    let user = user_or_not_found(row)?;
    match expected {
        Some(facts) if user.principal() != *facts => Err(conflict(Conflict::Changed)),
        _ => Ok(user),
    }
}

impl SqlStore {
    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// The SQLite pool, for an application's own tables in the same database (reads, and
    /// writes that need no audit entry; audited writes go through [`SqlStore::begin`]).
    #[cfg(feature = "sqlite")]
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool, ..) => Some(pool),
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for an application's own tables in the same database (as
    /// [`SqlStore::sqlite_pool`]).
    #[cfg(feature = "postgres")]
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(..) => None,
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool, readers, _) => {
                if let Some(readers) = readers {
                    readers.close().await;
                }
                pool.close().await;
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    pub(crate) async fn read_optional<R: crate::db::Row>(
        &self,
        sql: Sql,
    ) -> StoreResult<Option<R>> {
        self.read().await?.fetch_optional(sql).await
    }

    pub(crate) async fn read_all<R: crate::db::Row>(&self, sql: Sql) -> StoreResult<Vec<R>> {
        self.read().await?.fetch_all(sql).await
    }

    pub(crate) async fn write(&self) -> StoreResult<crate::db::Tx> {
        self.pool.write().await.map_err(db)
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn create_organization(
        &self,
        actor: &Actor,
        new: NewOrganization,
    ) -> StoreResult<Organization> {
        self.insert_organization(actor, new).await
    }

    async fn get_organization(&self, id: OrgId) -> StoreResult<Organization> {
        let mut sql = Sql::new("SELECT ");
        sql.push(ORG_COLUMNS)
            .push(" FROM organizations WHERE id = ")
            .bind(id.0);
        let row: Option<OrgRow> = self.read_optional_hot(sql).await?;
        row.map(Organization::from)
            .ok_or(not_found(Entity::Organization))
    }

    async fn list_organizations(&self, scope: Scope, page: Page) -> StoreResult<Vec<Organization>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(ORG_COLUMNS)
            .push(" FROM organizations WHERE ")
            .scope(scope, "id", None)
            .push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<OrgRow> = self.read_all(sql).await?;
        Ok(rows.into_iter().map(Organization::from).collect())
    }

    async fn search_organizations(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
    ) -> StoreResult<Vec<Organization>> {
        let page = validate::keyset_page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(ORG_COLUMNS)
            .push(" FROM organizations WHERE ")
            .scope(scope, "id", None)
            .push(" AND ")
            .scope(within, "id", None)
            .keyset("id", page);
        let rows: Vec<OrgRow> = self.read_all(sql).await?;
        Ok(rows.into_iter().map(Organization::from).collect())
    }

    async fn update_organization(
        &self,
        actor: &Actor,
        id: OrgId,
        patch: OrganizationPatch,
    ) -> StoreResult<Organization> {
        self.change_organization(actor, id, patch).await
    }

    async fn delete_organization(&self, actor: &Actor, id: OrgId) -> StoreResult<()> {
        self.remove_organization(actor, id).await
    }

    async fn add_member(&self, actor: &Actor, org: OrgId, user: UserId) -> StoreResult<User> {
        self.put_member(actor, org, user, None).await
    }

    async fn add_member_if(
        &self,
        actor: &Actor,
        org: OrgId,
        seen: &Principal,
    ) -> StoreResult<User> {
        self.put_member(actor, org, seen.id, Some(seen)).await
    }

    async fn remove_member(&self, actor: &Actor, org: OrgId, user: UserId) -> StoreResult<User> {
        self.take_member(actor, org, user, None).await
    }

    async fn remove_member_if(
        &self,
        actor: &Actor,
        org: OrgId,
        seen: &Principal,
    ) -> StoreResult<User> {
        self.take_member(actor, org, seen.id, Some(seen)).await
    }

    async fn list_members(&self, org: OrgId, page: Page) -> StoreResult<Vec<User>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS)
            .push(" FROM users WHERE organization_id = ")
            .bind(org.0)
            .push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<UserRow> = self.read_all_hot(sql).await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    async fn has_no_users(&self) -> StoreResult<bool> {
        let sql = Sql::new("SELECT NOT EXISTS (SELECT 1 FROM users)");
        let row: Option<(bool,)> = self.read_optional(sql).await?;
        Ok(row.is_some_and(|(empty,)| empty))
    }

    async fn create_user(
        &self,
        actor: &Actor,
        new: NewUser,
        only_if_first: bool,
    ) -> StoreResult<User> {
        self.insert_user(actor, new, only_if_first).await
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        user_or_not_found(self.read_optional(select_user(id)).await?)
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<User> {
        if validate::text("username", username).is_err() {
            // No stored username holds a NUL (creation refuses it), and PostgreSQL would
            // refuse to compare one.
            return Err(not_found(Entity::User));
        }
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS)
            .push(" FROM users WHERE username = ")
            .bind(username);
        user_or_not_found(self.read_optional(sql).await?)
    }

    async fn list_users(&self, page: Page) -> StoreResult<Vec<User>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS)
            .push(" FROM users ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<UserRow> = self.read_all(sql).await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    async fn list_users_allowed(
        &self,
        allowed: PrincipalSet,
        page: KeysetPage,
    ) -> StoreResult<Vec<User>> {
        self.users_allowed(allowed, page).await
    }

    async fn update_user(&self, actor: &Actor, id: UserId, patch: UserPatch) -> StoreResult<User> {
        self.patch_user(actor, id, patch).await
    }

    async fn delete_user(&self, actor: &Actor, id: UserId) -> StoreResult<()> {
        self.remove_user(actor, id, None).await
    }

    async fn delete_user_if(&self, actor: &Actor, seen: &Principal) -> StoreResult<()> {
        self.remove_user(actor, seen.id, Some(seen)).await
    }

    async fn has_other_active_superuser(&self, except: UserId) -> StoreResult<bool> {
        let mut sql = crate::user_writes::other_superusers(except);
        sql.push(")");
        let row: Option<(bool,)> = self.read_optional(sql).await?;
        Ok(row.is_some_and(|(others,)| others))
    }

    async fn invalidate_tokens(&self, actor: &Actor, user: UserId) -> StoreResult<DateTime<Utc>> {
        self.sign_out_everywhere(actor, user).await
    }

    async fn logout(&self, actor: &Actor, user: &User, logout: Logout<'_>) -> StoreResult<()> {
        self.end_session(actor, user, logout).await
    }

    async fn insert_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.store_refresh_token(user, token_hash, expires_at).await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<UserId> {
        self.rotate_refresh(old_hash, new_hash, expires_at).await
    }

    async fn revoke_refresh_token(&self, user: UserId, token_hash: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let mut sql = Sql::new("DELETE FROM refresh_tokens WHERE user_id = ");
        sql.bind(user.0).push(" AND token_hash = ").bind(token_hash);
        tx.conn().execute(sql).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        validate::not_empty("jti", jti)?;
        let mut tx = self.write().await?;
        crate::tokens_sql::revoke_jti(&mut tx, jti, expires_at).await?;
        tx.commit().await.map_err(db)
    }

    async fn is_access_token_revoked(&self, jti: &str) -> StoreResult<bool> {
        self.token_revoked(jti).await
    }

    async fn token_holder(&self, id: UserId, jti: &str) -> StoreResult<crate::TokenHolder> {
        self.read_token_holder(id, jti).await
    }

    async fn get_or_create_secret(&self, name: &str, candidate: Vec<u8>) -> StoreResult<Vec<u8>> {
        validate::not_empty("name", name)?;
        let mut tx = self.write().await?;
        let mut sql = Sql::new("INSERT INTO secrets (name, value, created_at) VALUES (");
        sql.bind(name)
            .push(", ")
            .bind(candidate)
            .push(", ")
            .bind(now())
            .push(") ON CONFLICT (name) DO NOTHING");
        tx.conn().execute(sql).await.map_err(db)?;
        let mut sql = Sql::new("SELECT value FROM secrets WHERE name = ");
        sql.bind(name);
        let (value,): (Vec<u8>,) = tx.conn().fetch_one(sql).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(value)
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> StoreResult<AuditEntry> {
        validate::audit_entry(&entry)?;
        let mut tx = self.write().await?;
        let entry = crate::chain_sql::append(&mut tx.conn(), entry).await?;
        tx.commit().await.map_err(db)?;
        Ok(entry)
    }

    async fn list_audit(
        &self,
        scope: Scope,
        filter: AuditFilter,
        page: Page,
    ) -> StoreResult<Vec<AuditEntry>> {
        let (limit, offset) = validate::page(page)?;
        validate::audit_filter(&filter)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(AUDIT_COLUMNS)
            .push(" FROM audit_log WHERE ")
            .scope(scope, "organization_id", None);
        if let Some(action) = filter.action {
            sql.push(" AND action = ").bind(action);
        }
        if let Some(user) = filter.user_id {
            sql.push(" AND user_id = ").bind(user.0);
        }
        if let Some(resource_type) = filter.resource_type {
            sql.push(" AND resource_type = ").bind(resource_type);
        }
        if let Some(resource_id) = filter.resource_id {
            sql.push(" AND resource_id = ").bind(resource_id);
        }
        if let Some(since) = filter.since {
            sql.push(" AND created_at >= ").bind(since);
        }
        if let Some(until) = filter.until {
            sql.push(" AND created_at <= ").bind(until);
        }
        sql.push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<AuditRow> = self.read_all(sql).await?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    async fn verify_audit_chain(&self) -> StoreResult<crate::AuditChainReport> {
        self.verify_chain().await
    }
}
