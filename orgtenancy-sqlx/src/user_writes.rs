//! The user writes whose decision rests on rows another request may change: a patch and a
//! deletion. Each locks the row it decided on and re-checks it, writes only what really
//! changes, and never takes away the last active superuser.

use orgtenancy_core::{OrgId, Role, UserId};

use crate::{
    Actor, Conflict, Entity, NewUser, StoreResult, User, UserPatch,
    chain_sql::{Audit, audit},
    db::{Backend, Sql, Tx},
    error::{db, from_sqlx},
    rows::{USER_COLUMNS, UserRow},
    sql_store::{SqlStore, conflict, lock_user, not_found, now, user_or_not_found},
    validate,
};

/// The advisory lock that serializes, on PostgreSQL, every write that can take away a
/// superuser (SQLite's `BEGIN IMMEDIATE` serializes all writers already).
const SUPERUSERS_LOCK: i64 = 7_468_123_061_520_389_474;

/// Takes [`SUPERUSERS_LOCK`] until the end of `tx`. Call it first in the transaction, before
/// any row lock, so it cannot deadlock with writers that lock rows only.
async fn lock_superusers(tx: &mut Tx) -> StoreResult<()> {
    if tx.conn().backend() == Backend::Postgres {
        let mut sql = Sql::new("SELECT pg_advisory_xact_lock(");
        sql.bind(SUPERUSERS_LOCK).push(")");
        tx.conn().execute(sql).await.map_err(db)?;
    }
    Ok(())
}

/// `Conflict::LastSuperuser` when `user` is an active superuser and no other one exists.
/// Runs under [`lock_superusers`], so two superusers demoting each other cannot both pass.
async fn keep_a_superuser(tx: &mut Tx, user: &User) -> StoreResult<()> {
    if user.role != Role::Superuser || !user.is_active {
        return Ok(());
    }
    let mut sql = other_superusers(user.id);
    sql.push(")");
    let (others,): (bool,) = tx.conn().fetch_one(sql).await.map_err(db)?;
    if others {
        Ok(())
    } else {
        Err(conflict(Conflict::LastSuperuser))
    }
}

/// `SELECT EXISTS (… an active superuser other than `except` …` (without the closing paren).
pub(crate) fn other_superusers(except: UserId) -> Sql {
    let mut sql = Sql::new("SELECT EXISTS (SELECT 1 FROM users WHERE role = ");
    sql.bind(Role::Superuser.as_str())
        .push(" AND is_active = ")
        .bind(true)
        .push(" AND id <> ")
        .bind(except.0);
    sql
}

/// The part of `patch` that really changes `user` (a field set to its value is no change;
/// a new password hash always is).
fn real_changes(patch: UserPatch, user: &User) -> UserPatch {
    UserPatch {
        email: patch.email.filter(|email| *email != user.email),
        password_hash: patch.password_hash,
        capabilities: patch
            .capabilities
            .filter(|flags| *flags != user.capabilities),
        role: patch.role.filter(|role| *role != user.role),
        is_active: patch.is_active.filter(|active| *active != user.is_active),
        organization_id: patch
            .organization_id
            .filter(|org| *org != user.organization_id),
        expected: None,
    }
}

/// The names of the fields a change sets, for the audit detail (never their values).
fn changed_fields(change: &UserPatch) -> Vec<&'static str> {
    [
        ("email", change.email.is_some()),
        ("password", change.password_hash.is_some()),
        ("capabilities", change.capabilities.is_some()),
        ("role", change.role.is_some()),
        ("is_active", change.is_active.is_some()),
        ("organization_id", change.organization_id.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// The organizations whose admins must see a user's change: the one it is in after the
/// change and, for a move between two, also the one it left.
fn audited_organizations(before: Option<OrgId>, after: Option<OrgId>) -> Vec<Option<OrgId>> {
    match (before, after) {
        (Some(left), Some(joined)) if left != joined => vec![Some(joined), Some(left)],
        _ => vec![after.or(before)],
    }
}

/// The `UPDATE` of `change` on user `id`; a new password or a deactivation also moves
/// `tokens_valid_after` to `at`, which rejects every token issued before.
fn update_sql(id: UserId, change: UserPatch, at: chrono::DateTime<chrono::Utc>) -> Sql {
    let signs_out = change.password_hash.is_some() || change.is_active == Some(false);
    let mut sql = Sql::new("UPDATE users SET updated_at = ");
    sql.bind(at);
    if signs_out {
        sql.push(", tokens_valid_after = ").bind(at);
    }
    if let Some(email) = change.email {
        sql.push(", email = ").bind(email);
    }
    if let Some(hash) = change.password_hash {
        sql.push(", password_hash = ").bind(hash);
    }
    if let Some(capabilities) = change.capabilities {
        sql.push(", capabilities = ")
            .bind(i64::from(capabilities.bits()));
    }
    if let Some(role) = change.role {
        sql.push(", role = ").bind(role.as_str());
    }
    if let Some(active) = change.is_active {
        sql.push(", is_active = ").bind(active);
    }
    if let Some(organization) = change.organization_id {
        sql.push(", organization_id = ")
            .bind(organization.map(|id| id.0));
    }
    sql.push(" WHERE id = ")
        .bind(id.0)
        .push(" RETURNING ")
        .push(USER_COLUMNS);
    sql
}

/// The patch's values both backends can store.
fn check_patch(patch: &UserPatch) -> StoreResult<()> {
    if let Some(email) = &patch.email {
        validate::identifier("email", email)?;
    }
    if let Some(hash) = &patch.password_hash {
        validate::password_hash(hash)?;
    }
    Ok(())
}

/// Deletes every refresh token of the user, inside `tx`.
async fn end_sessions(tx: &mut Tx, id: UserId) -> StoreResult<()> {
    let mut sql = Sql::new("DELETE FROM refresh_tokens WHERE user_id = ");
    sql.bind(id.0);
    tx.conn().execute(sql).await.map_err(db)?;
    Ok(())
}

/// `INSERT INTO users … RETURNING <user columns>`; with `only_if_first`, only into an empty
/// table.
fn insert_user_sql(new: NewUser, at: chrono::DateTime<chrono::Utc>, only_if_first: bool) -> Sql {
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
    sql
}

impl SqlStore {
    /// Inserts a user (`user_create`); with `only_if_first`, only into an empty table.
    pub(crate) async fn insert_user(
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
        let sql = insert_user_sql(new, at, only_if_first);
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

    /// [`Store::update_user`](crate::Store::update_user).
    pub(crate) async fn patch_user(
        &self,
        actor: &Actor,
        id: UserId,
        patch: UserPatch,
    ) -> StoreResult<User> {
        check_patch(&patch)?;
        let at = now();
        let mut tx = self.write().await?;
        let may_demote = patch.role.is_some() || patch.is_active == Some(false);
        if may_demote {
            lock_superusers(&mut tx).await?;
        }
        let before = lock_user(&mut tx, id, patch.expected.as_ref()).await?;
        let change = real_changes(patch, &before);
        let fields = changed_fields(&change);
        if fields.is_empty() {
            // Nothing changes: no write, no audit entry, `updated_at` kept (the rollback on
            // drop releases the lock).
            return Ok(before);
        }
        if change.role.is_some() || change.is_active == Some(false) {
            keep_a_superuser(&mut tx, &before).await?;
        }
        let signs_out = change.password_hash.is_some() || change.is_active == Some(false);
        let row: Option<UserRow> = tx
            .conn()
            .fetch_optional(update_sql(id, change, at))
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::MissingOrganization)))?;
        let user = user_or_not_found(row)?;
        if signs_out {
            // A new password or a deactivation ends every session, in the same transaction.
            end_sessions(&mut tx, id).await?;
        }
        let detail = fields.join(", ");
        for organization_id in audited_organizations(before.organization_id, user.organization_id) {
            let entry = Audit {
                action: "user_update",
                actor,
                organization_id,
                resource_type: "user",
                resource_id: user.id.to_string(),
                detail: Some(detail.clone()),
            };
            audit(&mut tx.conn(), entry).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(user)
    }

    /// [`Store::delete_user_if`](crate::Store::delete_user_if), or unconditionally.
    pub(crate) async fn remove_user(
        &self,
        actor: &Actor,
        id: UserId,
        seen: Option<&orgtenancy_core::Principal>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        lock_superusers(&mut tx).await?;
        let user = lock_user(&mut tx, id, seen).await?;
        keep_a_superuser(&mut tx, &user).await?;
        let mut sql = Sql::new("DELETE FROM users WHERE id = ");
        sql.bind(id.0);
        // Refresh tokens go with the user (ON DELETE CASCADE); an application table that
        // references users with RESTRICT makes this a conflict.
        let deleted = tx
            .conn()
            .execute(sql)
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::HasDependents)))?;
        if deleted == 0 {
            return Err(not_found(Entity::User));
        }
        audit(
            &mut tx.conn(),
            Audit {
                action: "user_delete",
                actor,
                organization_id: user.organization_id,
                resource_type: "user",
                resource_id: id.to_string(),
                detail: Some(user.username),
            },
        )
        .await?;
        tx.commit().await.map_err(db)
    }
}
