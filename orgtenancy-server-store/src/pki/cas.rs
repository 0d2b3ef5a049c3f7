//! The writes of certificate authorities: create, export the key, delete, move a tree.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, Resource};
use orgtenancy_sqlx::{
    Actor, AuditedTx, Conflict, NewAuditEntry, SqlStore, StoreError, StoreResult,
    statement::{Sql, now},
    validate,
};

use super::{
    Adoption, CertificateAuthority, NewCertificateAuthority,
    rows::{CA_COLUMNS, CaRow, KeyTable, lock_ca, sealed_key, select_ca, with_tree},
};
use crate::{CERTIFICATE_AUTHORITY, MAX_CRL_BASE_URL};

/// FastPKI's resource type for CAs (SPEC §10); entries written before the change keep
/// `certificate_authority`, as the audit log is append-only.
const RESOURCE_TYPE: &str = "ca";

/// The audit entry of `action` on `ca`, attributed to the CA's organization.
fn ca_audit(action: &str, actor: &Actor, ca: &CertificateAuthority) -> NewAuditEntry {
    NewAuditEntry {
        action: action.to_owned(),
        actor: actor.clone(),
        organization_id: ca.organization_id,
        resource_type: Some(RESOURCE_TYPE.to_owned()),
        resource_id: Some(ca.id.to_string()),
        detail: Some(ca.name.clone()),
    }
}

fn missing() -> StoreError {
    StoreError::NotFound(CERTIFICATE_AUTHORITY)
}

/// The INSERT of `new` (named `name`, validated) at `at`, returning the stored row.
fn insert(name: String, new: NewCertificateAuthority, at: DateTime<Utc>) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO certificate_authorities (name, description, subject_dn, key_type, \
         key_size, valid_days, is_root, parent_ca_id, path_length, allow_leaf_certs, \
         serial_number, certificate_pem, encrypted_private_key, not_before, not_after, \
         organization_id, created_by_user_id, created_at, updated_at, crl_base_url) VALUES (",
    );
    sql.bind(name).push(", ").bind(new.description).push(", ");
    sql.bind(new.subject_dn)
        .push(", ")
        .bind(new.key_type)
        .push(", ");
    sql.bind(new.key_size)
        .push(", ")
        .bind(new.valid_days)
        .push(", ");
    sql.bind(new.parent_ca_id.is_none()).push(", ");
    sql.bind(new.parent_ca_id)
        .push(", ")
        .bind(new.path_length)
        .push(", ");
    sql.bind(new.allow_leaf_certs).push(", ");
    sql.bind(new.serial_number)
        .push(", ")
        .bind(new.certificate_pem)
        .push(", ");
    sql.bind(new.encrypted_private_key).push(", ");
    sql.bind(new.not_before)
        .push(", ")
        .bind(new.not_after)
        .push(", ");
    sql.bind(new.organization_id.map(|id| id.0)).push(", ");
    sql.bind(new.created_by_user_id.map(|id| id.0)).push(", ");
    sql.bind(at).push(", ").bind(at).push(", ");
    sql.bind(new.crl_base_url)
        .push(") RETURNING ")
        .push(CA_COLUMNS);
    sql
}

fn crl_base_url(url: Option<&str>) -> StoreResult<()> {
    let Some(url) = url else { return Ok(()) };
    validate::text("crl_base_url", url)?;
    let length = url.chars().count();
    if length == 0 || length > MAX_CRL_BASE_URL {
        return Err(StoreError::Invalid {
            field: "crl_base_url",
            message: format!("1 to {MAX_CRL_BASE_URL} characters"),
        });
    }
    Ok(())
}

pub(super) async fn create(
    store: &SqlStore,
    actor: &Actor,
    new: NewCertificateAuthority,
    parent_expected: Option<Resource>,
) -> StoreResult<CertificateAuthority> {
    let name = validate::name(&new.name)?;
    validate::description(new.description.as_deref())?;
    crl_base_url(new.crl_base_url.as_deref())?;
    let mut tx = store.begin().await?;
    if let Some(parent) = new.parent_ca_id {
        let Some(expected) = parent_expected else {
            return Err(StoreError::Invalid {
                field: "parent_ca_id",
                message: "a parent needs the facts its use was decided on".to_owned(),
            });
        };
        lock_ca(&mut tx, parent, expected).await?;
    }
    let sql = insert(name, new, now());
    // A serial number used twice under one issuer, or an organization deleted meanwhile:
    // `Conflict::Other` (the default meaning of a constraint of this statement).
    let ca: CertificateAuthority = tx.fetch_one::<CaRow>(sql).await?.into();
    tx.audit(ca_audit("ca_create", actor, &ca)).await?;
    tx.commit().await?;
    Ok(ca)
}

pub(super) async fn export_key(
    store: &SqlStore,
    actor: &Actor,
    id: i64,
    expected: Resource,
) -> StoreResult<(CertificateAuthority, Vec<u8>)> {
    let mut tx = store.begin().await?;
    let ca = lock_ca(&mut tx, id, expected).await?;
    let key = sealed_key(&mut tx, KeyTable::Cas, id).await?;
    tx.audit(ca_audit("ca_export_private_key", actor, &ca))
        .await?;
    tx.commit().await?;
    Ok((ca, key))
}

pub(super) async fn delete(
    store: &SqlStore,
    actor: &Actor,
    id: i64,
    expected: Resource,
) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    let ca = lock_ca(&mut tx, id, expected).await?;
    let mut sql = Sql::new("DELETE FROM certificate_authorities WHERE id = ");
    // Child CAs and certificates reference the row with ON DELETE RESTRICT.
    sql.bind(id)
        .on_foreign_key(StoreError::Conflict(Conflict::HasDependents));
    if tx.execute(sql).await? == 0 {
        return Err(missing());
    }
    tx.audit(ca_audit("ca_delete", actor, &ca)).await?;
    tx.commit().await
}

/// The organizations of the rows a move takes along, read before it.
struct Moving {
    cas: Vec<Option<i64>>,
    certificates: Vec<Option<i64>>,
}

impl Moving {
    /// Every organization a moved row belonged to (`None`: organization-less rows).
    fn from(&self) -> BTreeSet<Option<i64>> {
        self.cas.iter().chain(&self.certificates).copied().collect()
    }
}

/// Locks the CAs that move, in id order (a parent's id is below its children's, so two moves
/// of nested trees lock in the same order), and reads their and their certificates'
/// organizations. While they are locked no certificate can be issued under them (issuing
/// locks its CA), so the certificates read are the ones that move.
async fn moving(
    tx: &mut AuditedTx,
    id: i64,
    cascade: bool,
    before: &CertificateAuthority,
) -> StoreResult<Moving> {
    if !cascade {
        let cas = vec![before.organization_id.map(|org| org.0)];
        return Ok(Moving {
            cas,
            certificates: Vec::new(),
        });
    }
    let mut sql = with_tree(id);
    sql.push(
        "SELECT organization_id FROM certificate_authorities \
         WHERE id IN (SELECT id FROM tree) ORDER BY id",
    )
    .for_update();
    let cas: Vec<(Option<i64>,)> = tx.fetch_all(sql).await?;
    let mut sql = with_tree(id);
    sql.push("SELECT organization_id FROM certificates WHERE ca_id IN (SELECT id FROM tree)");
    let certificates: Vec<(Option<i64>,)> = tx.fetch_all(sql).await?;
    Ok(Moving {
        cas: cas.into_iter().map(|(org,)| org).collect(),
        certificates: certificates.into_iter().map(|(org,)| org).collect(),
    })
}

/// Sets `organization` on CA `id` (with `cascade`, on its tree and the tree's certificates).
async fn move_rows(
    tx: &mut AuditedTx,
    id: i64,
    organization: OrgId,
    cascade: bool,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let set = |sql: &mut Sql, update: &'static str| {
        sql.push(update)
            .bind(organization.0)
            .push(", updated_at = ")
            .bind(at);
    };
    const CA_UPDATE: &str = "UPDATE certificate_authorities SET organization_id = ";
    let statements: Vec<Sql> = if cascade {
        let tables = [
            (CA_UPDATE, " WHERE id IN (SELECT id FROM tree)"),
            (
                "UPDATE certificates SET organization_id = ",
                " WHERE ca_id IN (SELECT id FROM tree)",
            ),
        ];
        let statement = |(update, rows)| {
            let mut sql = with_tree(id);
            set(&mut sql, update);
            sql.push(rows);
            sql
        };
        tables.into_iter().map(statement).collect()
    } else {
        let mut sql = Sql::default();
        set(&mut sql, CA_UPDATE);
        sql.push(" WHERE id = ").bind(id);
        vec![sql]
    };
    for mut sql in statements {
        // The organization's foreign key refuses a missing (or concurrently deleted) one.
        sql.on_foreign_key(StoreError::Conflict(Conflict::MissingOrganization));
        tx.execute(sql).await?;
    }
    Ok(())
}

pub(super) async fn assign_organization(
    store: &SqlStore,
    actor: &Actor,
    id: i64,
    organization: OrgId,
    cascade: bool,
) -> StoreResult<(CertificateAuthority, Adoption)> {
    let at = now();
    let mut tx = store.begin().await?;
    let mut lock = select_ca(id);
    lock.for_update();
    let row: Option<CaRow> = tx.fetch_optional(lock).await?;
    let before: CertificateAuthority = row.ok_or_else(missing)?.into();
    let moving = moving(&mut tx, id, cascade, &before).await?;
    move_rows(&mut tx, id, organization, cascade, at).await?;
    let row: Option<CaRow> = tx.fetch_optional(select_ca(id)).await?;
    let ca: CertificateAuthority = row.ok_or_else(missing)?.into();
    let adoption = Adoption {
        cas: u64::try_from(moving.cas.len()).unwrap_or(u64::MAX),
        certificates: u64::try_from(moving.certificates.len()).unwrap_or(u64::MAX),
    };
    let moved = Moved {
        to: organization,
        cascade,
        adoption,
    };
    audit_move(&mut tx, actor, &ca, &moving, moved).await?;
    tx.commit().await?;
    Ok((ca, adoption))
}

/// What a move did, for its audit entries.
struct Moved {
    to: OrgId,
    cascade: bool,
    adoption: Adoption,
}

/// One `ca_assign_org` entry for the target organization and one for every other organization
/// a moved row belonged to: the audit log is read by organization, and each of them must be
/// able to read that its resources moved.
async fn audit_move(
    tx: &mut AuditedTx,
    actor: &Actor,
    ca: &CertificateAuthority,
    moving: &Moving,
    moved: Moved,
) -> StoreResult<()> {
    let from = moving.from();
    let names: Vec<String> = from
        .iter()
        .map(|org| org.map_or_else(|| "none".to_owned(), |org| org.to_string()))
        .collect();
    let detail = format!(
        "from organization {} to {}; cascade: {}; moved {} CAs and {} certificates",
        names.join(", "),
        moved.to,
        moved.cascade,
        moved.adoption.cas,
        moved.adoption.certificates,
    );
    // The target first, then the organizations the rows left, by id (`from` is sorted).
    let left = from.into_iter().flatten().filter(|org| *org != moved.to.0);
    for organization in std::iter::once(moved.to).chain(left.map(OrgId)) {
        let entry = NewAuditEntry {
            organization_id: Some(organization),
            detail: Some(detail.clone()),
            ..ca_audit("ca_assign_org", actor, ca)
        };
        tx.audit(entry).await?;
    }
    Ok(())
}
