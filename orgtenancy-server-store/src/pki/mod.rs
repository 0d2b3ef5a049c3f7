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
mod crls;
mod reads;
mod rows;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, Resource, Scope, UserId};
use orgtenancy_sqlx::{Actor, KeysetPage, Page, StoreResult};

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
    /// Where its CRL and certificate are published (`None`: the server's public base URL).
    pub crl_base_url: Option<String>,
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
    /// Where its CRL and certificate are published (at most 2048 characters).
    pub crl_base_url: Option<String>,
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
    /// Email (rfc822Name) subject alternative names.
    pub san_email_addresses: Vec<String>,
    /// Who holds its private key.
    pub key_source: KeySource,
    /// The certificate this one renewed.
    pub renewed_from_id: Option<i64>,
}

/// Who holds a certificate's private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// The server made it and keeps it sealed (it can be exported).
    Server,
    /// The server made it, handed it out once and kept nothing (`include_private_key: false`
    /// keeps nothing either).
    NotKept,
    /// The requester made it and sent a CSR; the server never saw it.
    Requester,
}

impl KeySource {
    /// `server`, `none` or `csr`, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeySource::Server => "server",
            KeySource::NotKept => "none",
            KeySource::Requester => "csr",
        }
    }

    /// Parses [`KeySource::as_str`].
    pub fn parse(s: &str) -> Option<KeySource> {
        [KeySource::Server, KeySource::NotKept, KeySource::Requester]
            .into_iter()
            .find(|source| source.as_str() == s)
    }
}

/// The private key of a new certificate, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewCertificateKey {
    /// Sealed by the caller (never plaintext).
    Sealed(Vec<u8>),
    /// None is kept.
    NotKept,
    /// The requester holds it (a CSR).
    HeldByRequester,
}

impl NewCertificateKey {
    fn source(&self) -> KeySource {
        match self {
            NewCertificateKey::Sealed(_) => KeySource::Server,
            NewCertificateKey::NotKept => KeySource::NotKept,
            NewCertificateKey::HeldByRequester => KeySource::Requester,
        }
    }
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
    /// `server`, `client`, `dual_purpose` or `ca`.
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
    /// Email subject alternative names.
    pub san_email_addresses: Vec<String>,
    /// The private key, sealed by the caller, or why none is kept.
    pub key: NewCertificateKey,
    /// The creator's organization.
    pub organization_id: Option<OrgId>,
    /// The creator.
    pub created_by_user_id: Option<UserId>,
    /// The certificate this one renews (audited `cert_renew` instead of `cert_create`).
    pub renewed_from_id: Option<i64>,
}

/// A revoked certificate, as a CRL lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedCertificate {
    /// Serial number, lowercase hex.
    pub serial_number: String,
    /// When it was revoked.
    pub revoked_at: DateTime<Utc>,
    /// RFC 5280's reason name, as stored.
    pub reason: Option<String>,
}

/// A CRL as signed and kept for its CA: served until a revocation or its age calls for a new
/// one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCrl {
    /// The CRL number (RFC 5280 §5.2.3); each new CRL of a CA has a greater one.
    pub number: i64,
    /// How many revoked certificates it lists (revocations are never undone, so the same
    /// count is the same list).
    pub revoked_count: i64,
    /// Its `thisUpdate`.
    pub this_update: DateTime<Utc>,
    /// Its `nextUpdate`.
    pub next_update: DateTime<Utc>,
    /// The signed CRL, DER.
    pub der: Vec<u8>,
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

    /// The CAs in both `scope` and `within`, by id, a keyset page at a time: the resource
    /// search of SPEC §11 (the subject's scope for an action, and the caller's read scope).
    /// A limit outside 1–1000: `Invalid` (field `limit`).
    async fn search_cas(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
    ) -> StoreResult<Vec<CertificateAuthority>>;

    /// The CAs named exactly `name` that are in `scope`, by id; at most two (enough to tell
    /// one from several).
    async fn find_cas_by_name(
        &self,
        name: &str,
        scope: Scope,
    ) -> StoreResult<Vec<CertificateAuthority>>;

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

    /// The certificates in both `scope` and `within`, by id, a keyset page at a time (see
    /// [`PkiStore::search_cas`]).
    async fn search_certificates(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
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

    /// Every certificate CA `ca_id` issued that is revoked, by id (for its CRL).
    async fn revoked_certificates(&self, ca_id: i64) -> StoreResult<Vec<RevokedCertificate>>;

    /// The CRL last published for CA `ca_id`, if any.
    async fn published_crl(&self, ca_id: i64) -> StoreResult<Option<PublishedCrl>>;

    /// Keeps `crl` as CA `ca_id`'s CRL when its number is greater than the kept one's (not
    /// audited: a CRL is derived from audited revocations); returns the CRL kept afterwards —
    /// `crl`, or a newer one another request published first. A missing CA is `NotFound`.
    async fn publish_crl(&self, ca_id: i64, crl: PublishedCrl) -> StoreResult<PublishedCrl>;
}
