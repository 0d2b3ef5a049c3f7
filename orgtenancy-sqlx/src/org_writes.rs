//! The writes of organizations and their membership, each with its audit entry in the same
//! transaction (the [`Store`](crate::Store) methods of [`SqlStore`] delegate here).

use orgtenancy_core::{OrgId, Principal, UserId};

use crate::{
    Actor, Conflict, Entity, NewOrganization, Organization, OrganizationPatch, SqlStore,
    StoreResult, User,
    chain_sql::{Audit, audit},
    db::Sql,
    error::{db, from_sqlx},
    rows::{ORG_COLUMNS, OrgRow, USER_COLUMNS, UserRow},
    sql_store::{conflict, lock_user, not_found, now, user_or_not_found},
    validate,
};

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

/// `UPDATE organizations … RETURNING <organization columns>` of the fields that change.
fn update_sql(id: OrgId, name: Option<String>, description: Option<Option<String>>) -> Sql {
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
    sql
}

impl SqlStore {
    pub(crate) async fn insert_organization(
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

    pub(crate) async fn change_organization(
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
        let sql = update_sql(id, name, description);
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

    pub(crate) async fn remove_organization(&self, actor: &Actor, id: OrgId) -> StoreResult<()> {
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

    /// `add_member`, optionally only while the user still has the facts `seen`.
    pub(crate) async fn put_member(
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
    pub(crate) async fn take_member(
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
}
