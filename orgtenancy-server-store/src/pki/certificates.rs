//! The writes of certificates: issue, revoke, export the key.

use chrono::{DateTime, Utc};
use orgtenancy_core::Resource;
use orgtenancy_sqlx::{
    Actor, NewAuditEntry, SqlStore, StoreError, StoreResult,
    statement::{Sql, now},
};

use super::{
    Certificate, CertificateStatus, NewCertificate, NewCertificateKey,
    rows::{CERT_COLUMNS, CertRow, KeyTable, joined, lock_ca, lock_cert, sealed_key},
};
use crate::ALREADY_REVOKED;

const RESOURCE_TYPE: &str = "certificate";

/// The audit entry of `action` on `cert`, attributed to the certificate's organization.
fn cert_audit(
    action: &str,
    actor: &Actor,
    cert: &Certificate,
    detail: Option<String>,
) -> NewAuditEntry {
    NewAuditEntry {
        action: action.to_owned(),
        actor: actor.clone(),
        organization_id: cert.organization_id,
        resource_type: Some(RESOURCE_TYPE.to_owned()),
        resource_id: Some(cert.id.to_string()),
        detail,
    }
}

/// The SANs of a new certificate, each kind joined one per line.
struct JoinedSans {
    dns: String,
    ips: String,
    emails: String,
}

/// The INSERT of `new` (its SANs joined) at `at`, returning the stored row.
fn insert(new: NewCertificate, sans: JoinedSans, at: DateTime<Utc>) -> Sql {
    let JoinedSans { dns, ips, emails } = sans;
    let mut sql = Sql::new(
        "INSERT INTO certificates (ca_id, common_name, subject_dn, certificate_type, status, \
         serial_number, key_type, key_size, valid_days, not_before, not_after, \
         san_dns_names, san_ip_addresses, certificate_pem, encrypted_private_key, \
         organization_id, created_by_user_id, created_at, updated_at, san_email_addresses, \
         key_source, renewed_from_id) VALUES (",
    );
    sql.bind(new.ca_id)
        .push(", ")
        .bind(new.common_name)
        .push(", ");
    sql.bind(new.subject_dn)
        .push(", ")
        .bind(new.certificate_type)
        .push(", ");
    sql.bind(CertificateStatus::Valid.as_str()).push(", ");
    sql.bind(new.serial_number)
        .push(", ")
        .bind(new.key_type)
        .push(", ");
    sql.bind(new.key_size)
        .push(", ")
        .bind(new.valid_days)
        .push(", ");
    sql.bind(new.not_before)
        .push(", ")
        .bind(new.not_after)
        .push(", ");
    sql.bind(dns).push(", ").bind(ips).push(", ");
    let source = new.key.source();
    let sealed = match new.key {
        NewCertificateKey::Sealed(sealed) => Some(sealed),
        NewCertificateKey::NotKept | NewCertificateKey::HeldByRequester => None,
    };
    sql.bind(new.certificate_pem)
        .push(", ")
        .bind(sealed)
        .push(", ");
    sql.bind(new.organization_id.map(|id| id.0)).push(", ");
    sql.bind(new.created_by_user_id.map(|id| id.0)).push(", ");
    sql.bind(at).push(", ").bind(at).push(", ");
    sql.bind(emails)
        .push(", ")
        .bind(source.as_str())
        .push(", ")
        .bind(new.renewed_from_id)
        .push(") RETURNING ")
        .push(CERT_COLUMNS);
    sql
}

pub(super) async fn create(
    store: &SqlStore,
    actor: &Actor,
    new: NewCertificate,
    issuer_expected: Resource,
) -> StoreResult<Certificate> {
    let sans = JoinedSans {
        dns: joined(&new.san_dns_names, "san_dns_names")?,
        ips: joined(&new.san_ip_addresses, "san_ip_addresses")?,
        emails: joined(&new.san_email_addresses, "san_email_addresses")?,
    };
    let mut tx = store.begin().await?;
    // The issuer's row decided who may issue: it must not have moved meanwhile (and stays
    // put until the commit).
    lock_ca(&mut tx, new.ca_id, issuer_expected).await?;
    let renewal = new.renewed_from_id;
    let sql = insert(new, sans, now());
    // A serial number the CA used already, or an organization deleted meanwhile:
    // `Conflict::Other` (the default meaning of a constraint of this statement). Certificates
    // are never deleted, so a renewal's original is there.
    let cert = tx.fetch_one::<CertRow>(sql).await?.into_certificate()?;
    let (action, detail) = match renewal {
        Some(from) => (
            "cert_renew",
            format!("{} (renews {from})", cert.common_name),
        ),
        None => (
            "cert_create",
            format!("{} (CA {})", cert.common_name, cert.ca_id),
        ),
    };
    tx.audit(cert_audit(action, actor, &cert, Some(detail)))
        .await?;
    tx.commit().await?;
    Ok(cert)
}

pub(super) async fn revoke(
    store: &SqlStore,
    actor: &Actor,
    id: i64,
    expected: Resource,
    reason: Option<String>,
) -> StoreResult<Certificate> {
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1024) {
        return Err(StoreError::Invalid {
            field: "reason",
            message: "at most 1024 characters".to_owned(),
        });
    }
    let at = now();
    let mut tx = store.begin().await?;
    let before = lock_cert(&mut tx, id, expected).await?;
    if before.status == CertificateStatus::Revoked {
        return Err(StoreError::Conflict(ALREADY_REVOKED));
    }
    let mut sql = Sql::new("UPDATE certificates SET status = ");
    sql.bind(CertificateStatus::Revoked.as_str())
        .push(", revoked_at = ")
        .bind(at)
        .push(", revocation_reason = ")
        .bind(reason)
        .push(", updated_at = ")
        .bind(at)
        .push(" WHERE id = ")
        .bind(id)
        .push(" RETURNING ")
        .push(CERT_COLUMNS);
    let cert = tx.fetch_one::<CertRow>(sql).await?.into_certificate()?;
    let detail = cert.revocation_reason.clone();
    tx.audit(cert_audit("cert_revoke", actor, &cert, detail))
        .await?;
    tx.commit().await?;
    Ok(cert)
}

pub(super) async fn export_key(
    store: &SqlStore,
    actor: &Actor,
    id: i64,
    expected: Resource,
) -> StoreResult<(Certificate, Vec<u8>)> {
    let mut tx = store.begin().await?;
    let cert = lock_cert(&mut tx, id, expected).await?;
    let key = sealed_key(&mut tx, KeyTable::Certificates, id).await?;
    let detail = Some(cert.common_name.clone());
    let entry = cert_audit("cert_export_private_key", actor, &cert, detail);
    tx.audit(entry).await?;
    tx.commit().await?;
    Ok((cert, key))
}
