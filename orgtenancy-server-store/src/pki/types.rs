//! The rows of [`super::PkiStore`]: CAs and certificates as stored and as created, and what
//! the store's methods take and return about them.

use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, UserId};

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
    pub(super) fn source(&self) -> KeySource {
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
