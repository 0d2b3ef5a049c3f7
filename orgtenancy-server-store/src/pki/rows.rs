//! The rows of the two resource tables, the statements that read them, and the re-check that
//! a write makes of the row its caller decided on.

use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, Resource, UserId};
use orgtenancy_sqlx::{AuditedTx, Conflict, StoreError, StoreResult, statement::Sql};

use super::{Certificate, CertificateAuthority, CertificateStatus, KeySource};
use crate::{CERTIFICATE, CERTIFICATE_AUTHORITY, NO_PRIVATE_KEY};

pub(super) const CA_COLUMNS: &str = "id, name, description, subject_dn, key_type, key_size, valid_days, \
     is_root, parent_ca_id, path_length, allow_leaf_certs, serial_number, certificate_pem, \
     not_before, not_after, organization_id, created_by_user_id, created_at, updated_at, \
     crl_base_url";

pub(super) const CERT_COLUMNS: &str = "id, ca_id, common_name, subject_dn, certificate_type, status, \
     serial_number, key_type, key_size, valid_days, not_before, not_after, revoked_at, \
     revocation_reason, san_dns_names, san_ip_addresses, certificate_pem, organization_id, \
     created_by_user_id, created_at, updated_at, san_email_addresses, key_source, renewed_from_id";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct CaRow {
    id: i64,
    name: String,
    description: Option<String>,
    subject_dn: String,
    key_type: String,
    key_size: i64,
    valid_days: i64,
    is_root: bool,
    parent_ca_id: Option<i64>,
    path_length: Option<i64>,
    allow_leaf_certs: bool,
    serial_number: String,
    certificate_pem: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    organization_id: Option<i64>,
    created_by_user_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    crl_base_url: Option<String>,
}

impl From<CaRow> for CertificateAuthority {
    fn from(row: CaRow) -> CertificateAuthority {
        CertificateAuthority {
            id: row.id,
            name: row.name,
            description: row.description,
            subject_dn: row.subject_dn,
            key_type: row.key_type,
            key_size: row.key_size,
            valid_days: row.valid_days,
            is_root: row.is_root,
            parent_ca_id: row.parent_ca_id,
            path_length: row.path_length,
            allow_leaf_certs: row.allow_leaf_certs,
            serial_number: row.serial_number,
            certificate_pem: row.certificate_pem,
            not_before: row.not_before,
            not_after: row.not_after,
            organization_id: row.organization_id.map(OrgId),
            created_by_user_id: row.created_by_user_id.map(UserId),
            created_at: row.created_at,
            updated_at: row.updated_at,
            crl_base_url: row.crl_base_url,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct CertRow {
    id: i64,
    ca_id: i64,
    common_name: String,
    subject_dn: String,
    certificate_type: String,
    status: String,
    serial_number: String,
    key_type: String,
    key_size: i64,
    valid_days: i64,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revocation_reason: Option<String>,
    san_dns_names: String,
    san_ip_addresses: String,
    certificate_pem: String,
    organization_id: Option<i64>,
    created_by_user_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    san_email_addresses: String,
    key_source: String,
    renewed_from_id: Option<i64>,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

impl CertRow {
    pub(super) fn into_certificate(self) -> StoreResult<Certificate> {
        let Some(status) = CertificateStatus::parse(&self.status) else {
            tracing::error!(certificate = self.id, "corrupt row: unknown status");
            return Err(StoreError::Internal);
        };
        let Some(key_source) = KeySource::parse(&self.key_source) else {
            tracing::error!(certificate = self.id, "corrupt row: unknown key source");
            return Err(StoreError::Internal);
        };
        Ok(Certificate {
            id: self.id,
            ca_id: self.ca_id,
            common_name: self.common_name,
            subject_dn: self.subject_dn,
            certificate_type: self.certificate_type,
            status,
            serial_number: self.serial_number,
            key_type: self.key_type,
            key_size: self.key_size,
            valid_days: self.valid_days,
            not_before: self.not_before,
            not_after: self.not_after,
            revoked_at: self.revoked_at,
            revocation_reason: self.revocation_reason,
            san_dns_names: lines(&self.san_dns_names),
            san_ip_addresses: lines(&self.san_ip_addresses),
            certificate_pem: self.certificate_pem,
            organization_id: self.organization_id.map(OrgId),
            created_by_user_id: self.created_by_user_id.map(UserId),
            created_at: self.created_at,
            updated_at: self.updated_at,
            san_email_addresses: lines(&self.san_email_addresses),
            key_source,
            renewed_from_id: self.renewed_from_id,
        })
    }
}

pub(super) fn joined(values: &[String], field: &'static str) -> StoreResult<String> {
    if values
        .iter()
        .any(|value| value.is_empty() || value.contains(['\n', '\r']))
    {
        return Err(StoreError::Invalid {
            field,
            message: "entries must be non-empty single lines".to_owned(),
        });
    }
    Ok(values.join("\n"))
}

pub(super) fn select_ca(id: i64) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(CA_COLUMNS)
        .push(" FROM certificate_authorities WHERE id = ")
        .bind(id);
    sql
}

pub(super) fn select_cert(id: i64) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(CERT_COLUMNS)
        .push(" FROM certificates WHERE id = ")
        .bind(id);
    sql
}

/// The ids of CA `id` and all its descendants, as a recursive CTE named `tree`.
pub(super) fn with_tree(id: i64) -> Sql {
    let mut sql =
        Sql::new("WITH RECURSIVE tree (id) AS (SELECT id FROM certificate_authorities WHERE id = ");
    sql.bind(id).push(
        " UNION ALL SELECT c.id FROM certificate_authorities c \
         JOIN tree t ON c.parent_ca_id = t.id) ",
    );
    sql
}

/// The engine's facts about a row.
fn facts(organization: Option<OrgId>, creator: Option<UserId>) -> Resource {
    Resource::new(organization, creator)
}

/// Proceeds only while the row still has the facts the caller decided on.
fn unchanged(seen: Resource, expected: Resource) -> StoreResult<()> {
    if seen == expected {
        Ok(())
    } else {
        Err(StoreError::Conflict(Conflict::Changed))
    }
}

/// Locks CA `id` for the rest of `tx` (PostgreSQL `FOR UPDATE`; SQLite writers are serialized
/// already) and checks it still has the `expected` facts: missing is `NotFound`, changed is
/// `Conflict::Changed` (the caller reads and decides again).
pub(super) async fn lock_ca(
    tx: &mut AuditedTx,
    id: i64,
    expected: Resource,
) -> StoreResult<CertificateAuthority> {
    let mut sql = select_ca(id);
    sql.for_update();
    let row: Option<CaRow> = tx.fetch_optional(sql).await?;
    let ca: CertificateAuthority = row
        .ok_or(StoreError::NotFound(CERTIFICATE_AUTHORITY))?
        .into();
    unchanged(facts(ca.organization_id, ca.created_by_user_id), expected)?;
    Ok(ca)
}

/// [`lock_ca`] for a certificate.
pub(super) async fn lock_cert(
    tx: &mut AuditedTx,
    id: i64,
    expected: Resource,
) -> StoreResult<Certificate> {
    let mut sql = select_cert(id);
    sql.for_update();
    let row: Option<CertRow> = tx.fetch_optional(sql).await?;
    let cert = row
        .ok_or(StoreError::NotFound(CERTIFICATE))?
        .into_certificate()?;
    unchanged(
        facts(cert.organization_id, cert.created_by_user_id),
        expected,
    )?;
    Ok(cert)
}

/// The sealed private key of the row `id` of `table`, read inside the transaction that
/// locked and checked the row (so the key is the one of the row decided on).
pub(super) async fn sealed_key(
    tx: &mut AuditedTx,
    table: KeyTable,
    id: i64,
) -> StoreResult<Vec<u8>> {
    let mut sql = Sql::new("SELECT encrypted_private_key FROM ");
    sql.push(match table {
        KeyTable::Cas => "certificate_authorities",
        KeyTable::Certificates => "certificates",
    })
    .push(" WHERE id = ")
    .bind(id);
    // Only certificates may lack a key (made for a CSR, or none kept on request).
    let (key,): (Option<Vec<u8>>,) = tx.fetch_one(sql).await?;
    key.ok_or(StoreError::Conflict(NO_PRIVATE_KEY))
}

/// The tables that hold sealed keys.
#[derive(Debug, Clone, Copy)]
pub(super) enum KeyTable {
    Cas,
    Certificates,
}
