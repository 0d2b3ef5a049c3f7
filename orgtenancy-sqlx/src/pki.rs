//! The reference server's resources: certificate authorities and certificates ([`PkiStore`]).
//!
//! Both tables carry the two facts the engine needs about a resource, `organization_id` and
//! `created_by_user_id`, and lists take the engine's [`Scope`] rendered by [`crate::push_scope`]
//! over exactly those columns. Private keys arrive and leave **encrypted**: the server seals
//! them (AES-256-GCM) before calling the store, so neither the store nor a database dump ever
//! holds a plaintext key. Every change writes its §6 audit entry (`ca_create`, `ca_delete`,
//! `ca_export_private_key`, `ca_assign_org`, `cert_create`, `cert_revoke`,
//! `cert_export_private_key`) in the same transaction, attributed to the resource's
//! organization.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, Scope, UserId};

use crate::{
    Actor, Conflict, Entity, Page, SqlStore, StoreError, StoreResult,
    db::Sql,
    error::{db, from_sqlx},
    sql_store::{Audit, audit, conflict, not_found, now},
    validate,
};

/// A certificate authority as stored (without its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    /// Assigned by the database, never reused.
    pub id: i64,
    /// A name for people.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// The subject, e.g. `CN=Acme Root,O=Acme,C=US`.
    pub subject_dn: String,
    /// `rsa` or `ec`.
    pub key_type: String,
    /// Key size in bits.
    pub key_size: i64,
    /// Requested validity in days.
    pub valid_days: i64,
    /// Whether it is self-signed (no parent).
    pub is_root: bool,
    /// The CA that signed it (intermediates).
    pub parent_ca_id: Option<i64>,
    /// Basic-constraints path length (`None`: unlimited).
    pub path_length: Option<i64>,
    /// Whether it may issue leaf certificates.
    pub allow_leaf_certs: bool,
    /// Serial number, lowercase hex; unique among the CAs of one issuer.
    pub serial_number: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// The owning organization (the creator's at creation time); `None`: superuser-only.
    pub organization_id: Option<OrgId>,
    /// Who created it (not a foreign key: the user may since have been deleted).
    pub created_by_user_id: Option<UserId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new certificate authority: its certificate, its sealed key, and the engine's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCertificateAuthority {
    /// A name for people (1–255 characters).
    pub name: String,
    /// Optional description (at most 4096 characters).
    pub description: Option<String>,
    /// The subject.
    pub subject_dn: String,
    /// `rsa` or `ec`.
    pub key_type: String,
    /// Key size in bits.
    pub key_size: i64,
    /// Requested validity in days.
    pub valid_days: i64,
    /// The signing CA (`None`: a root).
    pub parent_ca_id: Option<i64>,
    /// Basic-constraints path length.
    pub path_length: Option<i64>,
    /// Whether it may issue leaf certificates.
    pub allow_leaf_certs: bool,
    /// Serial number, lowercase hex.
    pub serial_number: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The private key, encrypted by the caller (never plaintext).
    pub encrypted_private_key: Vec<u8>,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// The creator's organization.
    pub organization_id: Option<OrgId>,
    /// The creator.
    pub created_by_user_id: Option<UserId>,
}

/// A certificate's revocation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateStatus {
    /// Not revoked.
    Valid,
    /// Revoked.
    Revoked,
}

impl CertificateStatus {
    /// `valid` or `revoked`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::Revoked => "revoked",
        }
    }

    /// Parses [`CertificateStatus::as_str`].
    pub fn parse(s: &str) -> Option<CertificateStatus> {
        match s {
            "valid" => Some(CertificateStatus::Valid),
            "revoked" => Some(CertificateStatus::Revoked),
            _ => None,
        }
    }
}

/// A leaf certificate as stored (without its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Assigned by the database, never reused.
    pub id: i64,
    /// The issuing CA.
    pub ca_id: i64,
    /// The subject's common name.
    pub common_name: String,
    /// The subject.
    pub subject_dn: String,
    /// `server`, `client` or `dual_purpose`.
    pub certificate_type: String,
    /// Valid or revoked.
    pub status: CertificateStatus,
    /// Serial number, lowercase hex; unique per CA.
    pub serial_number: String,
    /// `rsa` or `ec`.
    pub key_type: String,
    /// Key size in bits.
    pub key_size: i64,
    /// Requested validity in days.
    pub valid_days: i64,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// DNS subject alternative names.
    pub san_dns_names: Vec<String>,
    /// IP subject alternative names.
    pub san_ip_addresses: Vec<String>,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The owning organization; `None`: superuser-only.
    pub organization_id: Option<OrgId>,
    /// Who issued it.
    pub created_by_user_id: Option<UserId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCertificate {
    /// The issuing CA.
    pub ca_id: i64,
    /// The subject's common name.
    pub common_name: String,
    /// The subject.
    pub subject_dn: String,
    /// `server`, `client` or `dual_purpose`.
    pub certificate_type: String,
    /// Serial number, lowercase hex.
    pub serial_number: String,
    /// `rsa` or `ec`.
    pub key_type: String,
    /// Key size in bits.
    pub key_size: i64,
    /// Requested validity in days.
    pub valid_days: i64,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// DNS subject alternative names (no line breaks).
    pub san_dns_names: Vec<String>,
    /// IP subject alternative names.
    pub san_ip_addresses: Vec<String>,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The private key, encrypted by the caller.
    pub encrypted_private_key: Vec<u8>,
    /// The creator's organization.
    pub organization_id: Option<OrgId>,
    /// The creator.
    pub created_by_user_id: Option<UserId>,
}

/// Narrows a certificate list (inside the caller's scope, never wider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertificateFilter {
    /// Only certificates issued by this CA.
    pub ca_id: Option<i64>,
    /// Only certificates in this state.
    pub status: Option<CertificateStatus>,
}

/// What an adoption moved (`PATCH /cas/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adoption {
    /// CAs moved (1 without cascade).
    pub cas: u64,
    /// Certificates moved (0 without cascade).
    pub certificates: u64,
}

/// Storage of certificate authorities and certificates; a supertrait of [`crate::Store`], so
/// the store the server connects to has it.
///
/// No method decides a permission: the server asks `orgtenancy-core` with the row's
/// `organization_id` and `created_by_user_id`, and passes list methods the engine's [`Scope`].
#[async_trait]
pub trait PkiStore: Send + Sync + 'static {
    /// Stores a new CA (`ca_create`). A parent or organization deleted meanwhile, or a serial
    /// number already used under the same issuer: `Conflict::Other`.
    async fn create_ca(
        &self,
        actor: &Actor,
        new: NewCertificateAuthority,
    ) -> StoreResult<CertificateAuthority>;

    /// One CA; `NotFound(CertificateAuthority)`.
    async fn get_ca(&self, id: i64) -> StoreResult<CertificateAuthority>;

    /// The CA's sealed private key, to sign with (not audited: nothing leaves the server).
    async fn ca_signing_key(&self, id: i64) -> StoreResult<Vec<u8>>;

    /// The CA and its sealed private key, for an export (`ca_export_private_key`, audited in
    /// the same transaction that reads the key).
    async fn export_ca_key(
        &self,
        actor: &Actor,
        id: i64,
    ) -> StoreResult<(CertificateAuthority, Vec<u8>)>;

    /// The CAs in `scope` (over `organization_id` and `created_by_user_id`), by id.
    async fn list_cas(&self, scope: Scope, page: Page) -> StoreResult<Vec<CertificateAuthority>>;

    /// Deletes a CA (`ca_delete`). `Conflict::HasDependents` while child CAs or certificates
    /// reference it (ON DELETE RESTRICT, also against a concurrent issue).
    async fn delete_ca(&self, actor: &Actor, id: i64) -> StoreResult<()>;

    /// Moves a CA into `organization` (`ca_assign_org`); with `cascade`, also every descendant
    /// CA and every certificate issued by the moved CAs, in one transaction. A missing
    /// organization: `Conflict::MissingOrganization`.
    async fn assign_ca_organization(
        &self,
        actor: &Actor,
        id: i64,
        organization: OrgId,
        cascade: bool,
    ) -> StoreResult<(CertificateAuthority, Adoption)>;

    /// Stores a new certificate (`cert_create`). A serial already used by the CA, or a CA
    /// deleted meanwhile: `Conflict::Other`.
    async fn create_certificate(
        &self,
        actor: &Actor,
        new: NewCertificate,
    ) -> StoreResult<Certificate>;

    /// One certificate; `NotFound(Certificate)`.
    async fn get_certificate(&self, id: i64) -> StoreResult<Certificate>;

    /// The certificates in `scope`, narrowed by `filter`, by id.
    async fn list_certificates(
        &self,
        scope: Scope,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Vec<Certificate>>;

    /// Revokes a certificate (`cert_revoke`); `Conflict::AlreadyRevoked` the second time.
    async fn revoke_certificate(
        &self,
        actor: &Actor,
        id: i64,
        reason: Option<String>,
    ) -> StoreResult<Certificate>;

    /// The certificate and its sealed private key (`cert_export_private_key`, audited).
    async fn export_certificate_key(
        &self,
        actor: &Actor,
        id: i64,
    ) -> StoreResult<(Certificate, Vec<u8>)>;
}

const CA_COLUMNS: &str = "id, name, description, subject_dn, key_type, key_size, valid_days, \
     is_root, parent_ca_id, path_length, allow_leaf_certs, serial_number, certificate_pem, \
     not_before, not_after, organization_id, created_by_user_id, created_at, updated_at";

const CERT_COLUMNS: &str = "id, ca_id, common_name, subject_dn, certificate_type, status, \
     serial_number, key_type, key_size, valid_days, not_before, not_after, revoked_at, \
     revocation_reason, san_dns_names, san_ip_addresses, certificate_pem, organization_id, \
     created_by_user_id, created_at, updated_at";

#[derive(Debug, sqlx::FromRow)]
struct CaRow {
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
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct CertRow {
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
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

impl CertRow {
    fn into_certificate(self) -> StoreResult<Certificate> {
        let Some(status) = CertificateStatus::parse(&self.status) else {
            tracing::error!(certificate = self.id, "corrupt row: unknown status");
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
        })
    }
}

fn joined(values: &[String], field: &'static str) -> StoreResult<String> {
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

fn select_ca(id: i64) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(CA_COLUMNS)
        .push(" FROM certificate_authorities WHERE id = ")
        .bind(id);
    sql
}

fn select_cert(id: i64) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(CERT_COLUMNS)
        .push(" FROM certificates WHERE id = ")
        .bind(id);
    sql
}

/// The ids of CA `id` and all its descendants, as a recursive CTE named `tree`.
fn with_tree(id: i64) -> Sql {
    let mut sql =
        Sql::new("WITH RECURSIVE tree (id) AS (SELECT id FROM certificate_authorities WHERE id = ");
    sql.bind(id).push(
        " UNION ALL SELECT c.id FROM certificate_authorities c \
         JOIN tree t ON c.parent_ca_id = t.id) ",
    );
    sql
}

#[async_trait]
impl PkiStore for SqlStore {
    async fn create_ca(
        &self,
        actor: &Actor,
        new: NewCertificateAuthority,
    ) -> StoreResult<CertificateAuthority> {
        let name = validate::organization_name(&new.name)?;
        validate::description(new.description.as_deref())?;
        let at = now();
        let mut tx = self.write().await?;
        let mut sql = Sql::new(
            "INSERT INTO certificate_authorities (name, description, subject_dn, key_type, \
             key_size, valid_days, is_root, parent_ca_id, path_length, allow_leaf_certs, \
             serial_number, certificate_pem, encrypted_private_key, not_before, not_after, \
             organization_id, created_by_user_id, created_at, updated_at) VALUES (",
        );
        sql.bind(name)
            .push(", ")
            .bind(new.description)
            .push(", ")
            .bind(new.subject_dn)
            .push(", ")
            .bind(new.key_type)
            .push(", ")
            .bind(new.key_size)
            .push(", ")
            .bind(new.valid_days)
            .push(", ")
            .bind(new.parent_ca_id.is_none())
            .push(", ")
            .bind(new.parent_ca_id)
            .push(", ")
            .bind(new.path_length)
            .push(", ")
            .bind(new.allow_leaf_certs)
            .push(", ")
            .bind(new.serial_number)
            .push(", ")
            .bind(new.certificate_pem)
            .push(", ")
            .bind(new.encrypted_private_key)
            .push(", ")
            .bind(new.not_before)
            .push(", ")
            .bind(new.not_after)
            .push(", ")
            .bind(new.organization_id.map(|id| id.0))
            .push(", ")
            .bind(new.created_by_user_id.map(|id| id.0))
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(") RETURNING ")
            .push(CA_COLUMNS);
        let ca: CertificateAuthority = tx
            .conn()
            .fetch_one::<CaRow>(sql)
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::Other)))?
            .into();
        audit(
            &mut tx.conn(),
            Audit {
                action: "ca_create",
                actor,
                organization_id: ca.organization_id,
                resource_type: "certificate_authority",
                resource_id: ca.id.to_string(),
                detail: Some(ca.name.clone()),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(ca)
    }

    async fn get_ca(&self, id: i64) -> StoreResult<CertificateAuthority> {
        let row: Option<CaRow> = self.read_optional(select_ca(id)).await?;
        row.map(CertificateAuthority::from)
            .ok_or(not_found(Entity::CertificateAuthority))
    }

    async fn ca_signing_key(&self, id: i64) -> StoreResult<Vec<u8>> {
        let mut sql =
            Sql::new("SELECT encrypted_private_key FROM certificate_authorities WHERE id = ");
        sql.bind(id);
        let row: Option<(Vec<u8>,)> = self.read_optional(sql).await?;
        row.map(|(key,)| key)
            .ok_or(not_found(Entity::CertificateAuthority))
    }

    async fn export_ca_key(
        &self,
        actor: &Actor,
        id: i64,
    ) -> StoreResult<(CertificateAuthority, Vec<u8>)> {
        let mut tx = self.write().await?;
        let row: Option<CaRow> = tx.conn().fetch_optional(select_ca(id)).await.map_err(db)?;
        let ca: CertificateAuthority = row.ok_or(not_found(Entity::CertificateAuthority))?.into();
        let mut sql =
            Sql::new("SELECT encrypted_private_key FROM certificate_authorities WHERE id = ");
        sql.bind(id);
        let (key,): (Vec<u8>,) = tx.conn().fetch_one(sql).await.map_err(db)?;
        audit(
            &mut tx.conn(),
            Audit {
                action: "ca_export_private_key",
                actor,
                organization_id: ca.organization_id,
                resource_type: "certificate_authority",
                resource_id: ca.id.to_string(),
                detail: Some(ca.name.clone()),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok((ca, key))
    }

    async fn list_cas(&self, scope: Scope, page: Page) -> StoreResult<Vec<CertificateAuthority>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CA_COLUMNS)
            .push(" FROM certificate_authorities WHERE ")
            .scope(scope, "organization_id", Some("created_by_user_id"))
            .push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<CaRow> = self.read_all(sql).await?;
        Ok(rows.into_iter().map(CertificateAuthority::from).collect())
    }

    async fn delete_ca(&self, actor: &Actor, id: i64) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let mut sql = Sql::new("DELETE FROM certificate_authorities WHERE id = ");
        sql.bind(id).push(" RETURNING name, organization_id");
        // Child CAs and certificates reference the row with ON DELETE RESTRICT.
        let deleted: Option<(String, Option<i64>)> = tx
            .conn()
            .fetch_optional(sql)
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::HasDependents)))?;
        let (name, organization) = deleted.ok_or(not_found(Entity::CertificateAuthority))?;
        audit(
            &mut tx.conn(),
            Audit {
                action: "ca_delete",
                actor,
                organization_id: organization.map(OrgId),
                resource_type: "certificate_authority",
                resource_id: id.to_string(),
                detail: Some(name),
            },
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn assign_ca_organization(
        &self,
        actor: &Actor,
        id: i64,
        organization: OrgId,
        cascade: bool,
    ) -> StoreResult<(CertificateAuthority, Adoption)> {
        let at = now();
        let missing_org = || conflict(Conflict::MissingOrganization);
        let mut tx = self.write().await?;
        let mut lock = select_ca(id);
        lock.for_update();
        let row: Option<CaRow> = tx.conn().fetch_optional(lock).await.map_err(db)?;
        let before: CertificateAuthority =
            row.ok_or(not_found(Entity::CertificateAuthority))?.into();
        let mut moved = if cascade {
            let mut sql = with_tree(id);
            sql.push("UPDATE certificate_authorities SET organization_id = ")
                .bind(organization.0)
                .push(", updated_at = ")
                .bind(at)
                .push(" WHERE id IN (SELECT id FROM tree)");
            tx.conn()
                .execute(sql)
                .await
                .map_err(|error| from_sqlx(error, missing_org()))?
        } else {
            let mut sql = Sql::new("UPDATE certificate_authorities SET organization_id = ");
            sql.bind(organization.0)
                .push(", updated_at = ")
                .bind(at)
                .push(" WHERE id = ")
                .bind(id);
            tx.conn()
                .execute(sql)
                .await
                .map_err(|error| from_sqlx(error, missing_org()))?
        };
        let certificates = if cascade {
            let mut sql = with_tree(id);
            sql.push("UPDATE certificates SET organization_id = ")
                .bind(organization.0)
                .push(", updated_at = ")
                .bind(at)
                .push(" WHERE ca_id IN (SELECT id FROM tree)");
            tx.conn()
                .execute(sql)
                .await
                .map_err(|error| from_sqlx(error, missing_org()))?
        } else {
            0
        };
        moved = moved.max(1);
        let row: Option<CaRow> = tx.conn().fetch_optional(select_ca(id)).await.map_err(db)?;
        let ca: CertificateAuthority = row.ok_or(not_found(Entity::CertificateAuthority))?.into();
        audit(
            &mut tx.conn(),
            Audit {
                action: "ca_assign_org",
                actor,
                organization_id: Some(organization),
                resource_type: "certificate_authority",
                resource_id: id.to_string(),
                detail: Some(format!(
                    "from organization {} to {}; cascade: {cascade}; moved {moved} CAs and \
                     {certificates} certificates",
                    before
                        .organization_id
                        .map_or_else(|| "none".to_owned(), |org| org.to_string()),
                    organization,
                )),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok((
            ca,
            Adoption {
                cas: moved,
                certificates,
            },
        ))
    }

    async fn create_certificate(
        &self,
        actor: &Actor,
        new: NewCertificate,
    ) -> StoreResult<Certificate> {
        let dns = joined(&new.san_dns_names, "san_dns_names")?;
        let ips = joined(&new.san_ip_addresses, "san_ip_addresses")?;
        let at = now();
        let mut tx = self.write().await?;
        let mut sql = Sql::new(
            "INSERT INTO certificates (ca_id, common_name, subject_dn, certificate_type, status, \
             serial_number, key_type, key_size, valid_days, not_before, not_after, \
             san_dns_names, san_ip_addresses, certificate_pem, encrypted_private_key, \
             organization_id, created_by_user_id, created_at, updated_at) VALUES (",
        );
        sql.bind(new.ca_id)
            .push(", ")
            .bind(new.common_name)
            .push(", ")
            .bind(new.subject_dn)
            .push(", ")
            .bind(new.certificate_type)
            .push(", ")
            .bind(CertificateStatus::Valid.as_str())
            .push(", ")
            .bind(new.serial_number)
            .push(", ")
            .bind(new.key_type)
            .push(", ")
            .bind(new.key_size)
            .push(", ")
            .bind(new.valid_days)
            .push(", ")
            .bind(new.not_before)
            .push(", ")
            .bind(new.not_after)
            .push(", ")
            .bind(dns)
            .push(", ")
            .bind(ips)
            .push(", ")
            .bind(new.certificate_pem)
            .push(", ")
            .bind(new.encrypted_private_key)
            .push(", ")
            .bind(new.organization_id.map(|id| id.0))
            .push(", ")
            .bind(new.created_by_user_id.map(|id| id.0))
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(") RETURNING ")
            .push(CERT_COLUMNS);
        let cert = tx
            .conn()
            .fetch_one::<CertRow>(sql)
            .await
            .map_err(|error| from_sqlx(error, conflict(Conflict::Other)))?
            .into_certificate()?;
        audit(
            &mut tx.conn(),
            Audit {
                action: "cert_create",
                actor,
                organization_id: cert.organization_id,
                resource_type: "certificate",
                resource_id: cert.id.to_string(),
                detail: Some(format!("{} (CA {})", cert.common_name, cert.ca_id)),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(cert)
    }

    async fn get_certificate(&self, id: i64) -> StoreResult<Certificate> {
        let row: Option<CertRow> = self.read_optional(select_cert(id)).await?;
        row.ok_or(not_found(Entity::Certificate))?
            .into_certificate()
    }

    async fn list_certificates(
        &self,
        scope: Scope,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Vec<Certificate>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CERT_COLUMNS)
            .push(" FROM certificates WHERE ")
            .scope(scope, "organization_id", Some("created_by_user_id"));
        if let Some(ca) = filter.ca_id {
            sql.push(" AND ca_id = ").bind(ca);
        }
        if let Some(status) = filter.status {
            sql.push(" AND status = ").bind(status.as_str());
        }
        sql.push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<CertRow> = self.read_all(sql).await?;
        rows.into_iter().map(CertRow::into_certificate).collect()
    }

    async fn revoke_certificate(
        &self,
        actor: &Actor,
        id: i64,
        reason: Option<String>,
    ) -> StoreResult<Certificate> {
        if reason.as_ref().is_some_and(|r| r.chars().count() > 1024) {
            return Err(StoreError::Invalid {
                field: "reason",
                message: "at most 1024 characters".to_owned(),
            });
        }
        let at = now();
        let mut tx = self.write().await?;
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
            .push(" AND status = ")
            .bind(CertificateStatus::Valid.as_str())
            .push(" RETURNING ")
            .push(CERT_COLUMNS);
        let row: Option<CertRow> = tx.conn().fetch_optional(sql).await.map_err(db)?;
        let Some(row) = row else {
            let exists: Option<CertRow> = tx
                .conn()
                .fetch_optional(select_cert(id))
                .await
                .map_err(db)?;
            return Err(match exists {
                Some(_) => conflict(Conflict::AlreadyRevoked),
                None => not_found(Entity::Certificate),
            });
        };
        let cert = row.into_certificate()?;
        audit(
            &mut tx.conn(),
            Audit {
                action: "cert_revoke",
                actor,
                organization_id: cert.organization_id,
                resource_type: "certificate",
                resource_id: cert.id.to_string(),
                detail: cert.revocation_reason.clone(),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(cert)
    }

    async fn export_certificate_key(
        &self,
        actor: &Actor,
        id: i64,
    ) -> StoreResult<(Certificate, Vec<u8>)> {
        let mut tx = self.write().await?;
        let row: Option<CertRow> = tx
            .conn()
            .fetch_optional(select_cert(id))
            .await
            .map_err(db)?;
        let cert = row
            .ok_or(not_found(Entity::Certificate))?
            .into_certificate()?;
        let mut sql = Sql::new("SELECT encrypted_private_key FROM certificates WHERE id = ");
        sql.bind(id);
        let (key,): (Vec<u8>,) = tx.conn().fetch_one(sql).await.map_err(db)?;
        audit(
            &mut tx.conn(),
            Audit {
                action: "cert_export_private_key",
                actor,
                organization_id: cert.organization_id,
                resource_type: "certificate",
                resource_id: cert.id.to_string(),
                detail: Some(cert.common_name.clone()),
            },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok((cert, key))
    }
}
