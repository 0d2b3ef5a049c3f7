//! [`SqlStore`]: the [`Store`] on SQLite or PostgreSQL, one implementation for both.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use orgtenancy_core::{OrgId, Principal, Scope, UserId};

use crate::{
    Actor, AuditEntry, AuditFilter, Conflict, Entity, Logout, NewAuditEntry, NewOrganization,
    NewUser, Organization, OrganizationPatch, Page, Store, StoreError, StoreResult, User,
    UserPatch,
    db::{Backend, Conn, Pool, Sql, Tx},
    error::{db, from_sqlx},
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

/// An audit entry written by the store itself, inside the change's transaction.
pub(crate) struct Audit<'a> {
    pub(crate) action: &'static str,
    pub(crate) actor: &'a Actor,
    pub(crate) organization_id: Option<OrgId>,
    pub(crate) resource_type: &'static str,
    pub(crate) resource_id: String,
    pub(crate) detail: Option<String>,
}

/// Appends an entry (§6) on `conn`, which is inside the transaction of the change it records;
/// the entry joins the tamper-evident chain (see `chain_sql`).
async fn insert_audit(conn: &mut Conn<'_>, entry: NewAuditEntry) -> StoreResult<AuditEntry> {
    crate::chain_sql::append(conn, entry).await
}

/// Writes a change's audit entry. Call it last, right before the commit: on PostgreSQL it locks
/// the audit chain's head until the transaction ends, so every statement after it would
/// lengthen the time all other writers wait (and one that waits for a row lock could deadlock).
pub(crate) async fn audit(conn: &mut Conn<'_>, audit: Audit<'_>) -> StoreResult<()> {
    insert_audit(
        conn,
        NewAuditEntry {
            action: audit.action.to_owned(),
            actor: audit.actor.clone(),
            organization_id: audit.organization_id,
            resource_type: Some(audit.resource_type.to_owned()),
            resource_id: Some(audit.resource_id),
            detail: audit.detail,
        },
    )
    .await
    .map(drop)
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

/// The end of a membership change: the updated user (or not found), its audit entry, the
/// commit.
async fn membership_changed(
    mut tx: crate::db::Tx,
    actor: &Actor,
    org: OrgId,
    row: Option<UserRow>,
    action: &'static str,
) -> StoreResult<User> {
    let updated = user_or_not_found(row)?;
    audit(
        &mut tx.conn(),
        Audit {
            action,
            actor,
            organization_id: Some(org),
            resource_type: "user",
            resource_id: updated.id.to_string(),
            detail: Some(updated.username.clone()),
        },
    )
    .await?;
    tx.commit().await.map_err(db)?;
    Ok(updated)
}

impl SqlStore {
    /// `add_member`, optionally only while the user still has the facts `seen`.
    async fn put_member(
        &self,
        actor: &Actor,
        org: OrgId,
        user: UserId,
        seen: Option<&Principal>,
    ) -> StoreResult<User> {
        let mut tx = self.write().await?;
        if let Some(seen) = seen {
            lock_user(&mut tx, user, Some(seen)).await?;
        }
        let mut sql = Sql::new("UPDATE users SET organization_id = ");
        sql.bind(org.0)
            .push(", updated_at = ")
            .bind(now())
            .push(" WHERE id = ")
            .bind(user.0)
            .push(" RETURNING ")
            .push(USER_COLUMNS);
        // The foreign key makes a missing (or concurrently deleted) organization fail here.
        let row: Option<UserRow> = tx
            .conn()
            .fetch_optional(sql)
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::MissingOrganization)))?;
        membership_changed(tx, actor, org, row, "org_add_user").await
    }

    /// `remove_member`, optionally only while the user still has the facts `seen`.
    async fn take_member(
        &self,
        actor: &Actor,
        org: OrgId,
        user: UserId,
        seen: Option<&Principal>,
    ) -> StoreResult<User> {
        let mut tx = self.write().await?;
        if let Some(seen) = seen {
            lock_user(&mut tx, user, Some(seen)).await?;
        }
        let mut sql = Sql::new("UPDATE users SET organization_id = NULL, updated_at = ");
        sql.bind(now())
            .push(" WHERE id = ")
            .bind(user.0)
            .push(" AND organization_id = ")
            .bind(org.0)
            .push(" RETURNING ")
            .push(USER_COLUMNS);
        let row: Option<UserRow> = tx.conn().fetch_optional(sql).await.map_err(db)?;
        membership_changed(tx, actor, org, row, "org_remove_user").await
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// The SQLite pool, for an application's own tables in the same database (reads, and
    /// writes that need no audit entry; audited writes go through [`SqlStore::begin`]).
    #[cfg(feature = "sqlite")]
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
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
            Pool::Sqlite(_) => None,
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => pool.close().await,
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
        let name = validate::organization_name(&new.name)?;
        validate::description(new.description.as_deref())?;
        let at = now();
        let mut tx = self.write().await?;
        let mut sql = Sql::new(
            "INSERT INTO organizations (name, description, created_at, updated_at) VALUES (",
        );
        sql.bind(name)
            .push(", ")
            .bind(new.description)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(") RETURNING ")
            .push(ORG_COLUMNS);
        let org: Organization = tx.conn().fetch_one::<OrgRow>(sql).await.map_err(db)?.into();
        audit(
            &mut tx.conn(),
            Audit {
                action: "org_create",
                actor,
                organization_id: Some(org.id),
                resource_type: "organization",
                resource_id: org.id.to_string(),
                detail: Some(org.name.clone()),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(org)
    }

    async fn get_organization(&self, id: OrgId) -> StoreResult<Organization> {
        let mut sql = Sql::new("SELECT ");
        sql.push(ORG_COLUMNS)
            .push(" FROM organizations WHERE id = ")
            .bind(id.0);
        let row: Option<OrgRow> = self.read_optional(sql).await?;
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

    async fn update_organization(
        &self,
        actor: &Actor,
        id: OrgId,
        patch: OrganizationPatch,
    ) -> StoreResult<Organization> {
        let name = patch
            .name
            .as_deref()
            .map(validate::organization_name)
            .transpose()?;
        if let Some(description) = &patch.description {
            validate::description(description.as_deref())?;
        }
        let mut tx = self.write().await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(ORG_COLUMNS)
            .push(" FROM organizations WHERE id = ")
            .bind(id.0)
            .for_update();
        let row: Option<OrgRow> = tx.conn().fetch_optional(sql).await.map_err(db)?;
        let before: Organization = row.ok_or(not_found(Entity::Organization))?.into();
        // Only real changes are written (and audited); a no-op keeps `updated_at`.
        let name = name.filter(|name| *name != before.name);
        let description = patch
            .description
            .filter(|description| *description != before.description);
        if name.is_none() && description.is_none() {
            return Ok(before);
        }
        let mut sql = Sql::new("UPDATE organizations SET updated_at = ");
        sql.bind(now());
        if let Some(name) = name {
            sql.push(", name = ").bind(name);
        }
        if let Some(description) = description {
            sql.push(", description = ").bind(description);
        }
        sql.push(" WHERE id = ")
            .bind(id.0)
            .push(" RETURNING ")
            .push(ORG_COLUMNS);
        let row: Option<OrgRow> = tx.conn().fetch_optional(sql).await.map_err(db)?;
        let org: Organization = row.ok_or(not_found(Entity::Organization))?.into();
        audit(
            &mut tx.conn(),
            Audit {
                action: "org_update",
                actor,
                organization_id: Some(org.id),
                resource_type: "organization",
                resource_id: org.id.to_string(),
                detail: Some(org.name.clone()),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(org)
    }

    async fn delete_organization(&self, actor: &Actor, id: OrgId) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let mut sql = Sql::new("DELETE FROM organizations WHERE id = ");
        sql.bind(id.0).push(" RETURNING name");
        // Members (and an application's resources) reference the row with ON DELETE RESTRICT:
        // the database refuses the delete, also against a concurrent add.
        let deleted: Option<(String,)> = tx
            .conn()
            .fetch_optional(sql)
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::OrganizationNotEmpty)))?;
        let (name,) = deleted.ok_or(not_found(Entity::Organization))?;
        audit(
            &mut tx.conn(),
            Audit {
                action: "org_delete",
                actor,
                organization_id: Some(id),
                resource_type: "organization",
                resource_id: id.to_string(),
                detail: Some(name),
            },
        )
        .await?;
        tx.commit().await.map_err(db)
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
        let rows: Vec<UserRow> = self.read_all(sql).await?;
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
        validate::identifier("username", &new.username)?;
        validate::identifier("email", &new.email)?;
        validate::password_hash(&new.password_hash)?;
        let at = now();
        let mut tx = self.write().await?;
        if only_if_first && tx.conn().backend() == Backend::Postgres {
            // Read committed would let two bootstrap requests both see an empty table; this
            // lock (released at commit) serializes them. SQLite's BEGIN IMMEDIATE already does.
            let lock = Sql::new("SELECT pg_advisory_xact_lock(7468123061520389473)");
            tx.conn().execute(lock).await.map_err(db)?;
        }
        let mut sql = Sql::new(
            "INSERT INTO users (username, email, password_hash, role, is_active, \
             organization_id, capabilities, tokens_valid_after, created_at, updated_at) SELECT ",
        );
        sql.bind(new.username)
            .push(", ")
            .bind(new.email)
            .push(", ")
            .bind(new.password_hash)
            .push(", ")
            .bind(new.role.as_str())
            .push(", ")
            .bind(new.is_active)
            .push(", ")
            .bind(new.organization_id.map(|id| id.0))
            .push(", ")
            .bind(i64::from(new.capabilities.bits()))
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at);
        if only_if_first {
            sql.push(" WHERE NOT EXISTS (SELECT 1 FROM users)");
        }
        sql.push(" RETURNING ").push(USER_COLUMNS);
        let row: Option<UserRow> = tx
            .conn()
            .fetch_optional(sql)
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::MissingOrganization)))?;
        let user = row.ok_or(conflict(Conflict::NotFirstUser))?.into_user()?;
        audit(
            &mut tx.conn(),
            Audit {
                action: "user_create",
                actor,
                organization_id: user.organization_id,
                resource_type: "user",
                resource_id: user.id.to_string(),
                detail: Some(user.username.clone()),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(user)
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
        let mut sql = Sql::new("SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ");
        sql.bind(jti).push(")");
        let row: Option<(bool,)> = self.read_optional(sql).await?;
        Ok(row.is_some_and(|(revoked,)| revoked))
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
        let entry = insert_audit(&mut tx.conn(), entry).await?;
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
