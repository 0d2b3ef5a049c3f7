//! The reference server's resources: certificate authorities and certificates ([`PkiStore`]).
//!
//! Both tables carry the two facts the engine needs about a resource, `organization_id` and
//! `created_by_user_id`, and lists take the engine's [`Scope`] rendered by [`Sql::scope`]
//! over exactly those columns. Private keys arrive and leave **encrypted**: the server seals
//! them (AES-256-GCM) before calling the store, so neither the store nor a database dump ever
//! holds a plaintext key. Every change writes its §6 audit entry (`ca_create`, `ca_delete`,
//! `ca_export_private_key`, `ca_assign_org`, `cert_create`, `cert_revoke`,
//! `cert_export_private_key`) in the same transaction, attributed to the resource's
//! organization.
//!
//! **A write acts on the row its caller decided on.** The server reads a row, asks the engine,
//! and passes the facts it decided on (`expected`, the row's [`Resource`]) to the write. The
//! write locks the row in its transaction (PostgreSQL `FOR UPDATE`; SQLite writers are
//! serialized by `BEGIN IMMEDIATE`) and proceeds only while the row still has those facts;
//! else it writes nothing and fails with [`Conflict::Changed`], and the caller reads and
//! decides again. A key export reads the key in that same transaction, with its audit entry,
//! so the key returned is the key of the row decided on.
//!
//! Moving a CA tree ([`PkiStore::assign_ca_organization`]) writes one `ca_assign_org` entry
//! for the target organization and one for every other organization a moved row belonged to,
//! so each organization's admins can read that its resources left.

//!
//! Everything here is written with `orgtenancy-sqlx`'s public statement layer: reads on
//! [`SqlStore::read`](orgtenancy_sqlx::SqlStore::read), each write in one
//! [`AuditedTx`](orgtenancy_sqlx::AuditedTx) whose entry is its last statement.
//!
//! [`Sql::scope`]: orgtenancy_sqlx::statement::Sql::scope
//! [`Conflict::Changed`]: orgtenancy_sqlx::Conflict::Changed

mod cas;
mod certificates;
mod reads;
mod rows;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, Resource, Scope, UserId};
use orgtenancy_sqlx::{Actor, Page, StoreResult};

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

/// Storage of certificate authorities and certificates; implemented for
/// [`SqlStore`](orgtenancy_sqlx::SqlStore) once [`crate::migrate`] has created the tables, and
/// part of [`crate::ServerStore`].
///
/// No method decides a permission: the server asks `orgtenancy-core` with the row's
/// `organization_id` and `created_by_user_id`, and passes list methods the engine's [`Scope`].
#[async_trait]
pub trait PkiStore: Send + Sync + 'static {
    /// Stores a new CA (`ca_create`). An intermediate's parent is locked and must still have
    /// `parent_expected`, the facts the caller decided on (`Conflict::Changed` otherwise; a
    /// parent given without them is `Invalid`). An organization deleted meanwhile, or a serial
    /// number already used under the same issuer: `Conflict::Other`.
    async fn create_ca(
        &self,
        actor: &Actor,
        new: NewCertificateAuthority,
        parent_expected: Option<Resource>,
    ) -> StoreResult<CertificateAuthority>;

    /// One CA; `NotFound(`[`CERTIFICATE_AUTHORITY`](crate::CERTIFICATE_AUTHORITY)`)`.
    async fn get_ca(&self, id: i64) -> StoreResult<CertificateAuthority>;

    /// The CA's sealed private key, to sign with (not audited: nothing leaves the server).
    async fn ca_signing_key(&self, id: i64) -> StoreResult<Vec<u8>>;

    /// The CA and its sealed private key, for an export (`ca_export_private_key`, audited in
    /// the same transaction that locks the row, checks it still has `expected` and reads the
    /// key; `Conflict::Changed` otherwise, with nothing read and nothing audited).
    async fn export_ca_key(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
    ) -> StoreResult<(CertificateAuthority, Vec<u8>)>;

    /// The CAs in `scope` (over `organization_id` and `created_by_user_id`), by id.
    async fn list_cas(&self, scope: Scope, page: Page) -> StoreResult<Vec<CertificateAuthority>>;

    /// The CAs signed by `parent` that are in `scope`, by id (over the parent index).
    async fn list_child_cas(
        &self,
        parent: i64,
        scope: Scope,
        page: Page,
    ) -> StoreResult<Vec<CertificateAuthority>>;

    /// Deletes a CA (`ca_delete`) while it still has `expected` (`Conflict::Changed`
    /// otherwise). `Conflict::HasDependents` while child CAs or certificates reference it
    /// (ON DELETE RESTRICT, also against a concurrent issue).
    async fn delete_ca(&self, actor: &Actor, id: i64, expected: Resource) -> StoreResult<()>;

    /// Moves a CA into `organization`; with `cascade`, also every descendant CA and every
    /// certificate issued by the moved CAs, in one transaction. Audited `ca_assign_org` once
    /// for `organization` and once for every other organization a moved row belonged to. A
    /// missing organization: `Conflict::MissingOrganization`.
    async fn assign_ca_organization(
        &self,
        actor: &Actor,
        id: i64,
        organization: OrgId,
        cascade: bool,
    ) -> StoreResult<(CertificateAuthority, Adoption)>;

    /// Stores a new certificate (`cert_create`) while its issuing CA still has
    /// `issuer_expected` (`Conflict::Changed` otherwise; a deleted CA is `NotFound`). A serial
    /// already used by the CA: `Conflict::Other`.
    async fn create_certificate(
        &self,
        actor: &Actor,
        new: NewCertificate,
        issuer_expected: Resource,
    ) -> StoreResult<Certificate>;

    /// One certificate; `NotFound(`[`CERTIFICATE`](crate::CERTIFICATE)`)`.
    async fn get_certificate(&self, id: i64) -> StoreResult<Certificate>;

    /// The certificates in `scope`, narrowed by `filter`, by id.
    async fn list_certificates(
        &self,
        scope: Scope,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Vec<Certificate>>;

    /// Revokes a certificate (`cert_revoke`) while it still has `expected`
    /// (`Conflict::Changed` otherwise); [`ALREADY_REVOKED`](crate::ALREADY_REVOKED) the second
    /// time.
    async fn revoke_certificate(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
        reason: Option<String>,
    ) -> StoreResult<Certificate>;

    /// The certificate and its sealed private key (`cert_export_private_key`, audited), read
    /// while it still has `expected` (as [`PkiStore::export_ca_key`]).
    async fn export_certificate_key(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
    ) -> StoreResult<(Certificate, Vec<u8>)>;
}
