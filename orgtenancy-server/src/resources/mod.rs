//! What the CA and certificate operations share: their JSON shapes (FastPKI's field names),
//! here; the engine's facts about a row, loading a row under a decision, the read-decide-write
//! loop and running the CPU-heavy X.509 work off the async runtime, in [`decide`].

mod decide;
mod signing;

use chrono::{DateTime, Utc};
use orgtenancy_server_store::{Certificate, CertificateAuthority, KeySource};
use poem_openapi::{Enum, Object};

pub(crate) use self::decide::{
    blocking, ca_key_context, ca_resource, cert_key_context, cert_resource, decided,
};
pub use self::signing::{CsrSign, Renew};
use crate::text::Text;

/// A certificate authority. Carries its private key only in the answers of `POST /cas/` (the
/// key the server made for the creator) and `GET /cas/{id}/private-key`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CertificateAuthority")]
pub struct CaOut {
    /// Assigned by the server, never reused.
    pub id: i64,
    /// A name for people.
    pub name: String,
    /// Optional description.
    #[oai(nullable)]
    pub description: Option<String>,
    /// The subject, e.g. `CN=Acme Root,O=Acme,C=US`.
    pub subject_dn: String,
    /// `rsa` or `ec`.
    pub key_type: String,
    /// Key size in bits.
    pub key_size: i64,
    /// Requested validity in days (the certificate is cut at its issuer's expiry).
    pub valid_days: i64,
    /// Whether it is a self-signed root.
    pub is_root: bool,
    /// The CA that signed it (intermediates).
    #[oai(nullable)]
    pub parent_ca_id: Option<i64>,
    /// Basic-constraints path length (`null`: unlimited).
    #[oai(nullable)]
    pub path_length: Option<i64>,
    /// Whether it issues leaf certificates.
    pub allow_leaf_certs: bool,
    /// Serial number, lowercase hex.
    pub serial_number: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// The owning organization (`null`: organization-less, superuser-only).
    #[oai(nullable)]
    pub organization_id: Option<i64>,
    /// Who created it.
    #[oai(nullable)]
    pub created_by_user_id: Option<i64>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Where its CRL and certificate are published for what it issues (`null`: under the
    /// server's `--public-base-url`).
    #[oai(nullable)]
    pub crl_base_url: Option<String>,
    /// The certificate, PEM.
    pub certificate: String,
    /// PEM certificates from this CA's parent up to the root (`GET /cas/{id}` only).
    #[oai(skip_serializing_if_is_none)]
    pub chain: Option<Vec<String>>,
    /// The private key, PKCS#8 PEM (`POST /cas/` and `GET /cas/{id}/private-key` only).
    #[oai(skip_serializing_if_is_none)]
    pub private_key: Option<String>,
}

impl From<CertificateAuthority> for CaOut {
    fn from(ca: CertificateAuthority) -> CaOut {
        CaOut {
            id: ca.id,
            name: ca.name,
            description: ca.description,
            subject_dn: ca.subject_dn,
            key_type: ca.key_type,
            key_size: ca.key_size,
            valid_days: ca.valid_days,
            is_root: ca.is_root,
            parent_ca_id: ca.parent_ca_id,
            path_length: ca.path_length,
            allow_leaf_certs: ca.allow_leaf_certs,
            serial_number: ca.serial_number,
            not_before: ca.not_before,
            not_after: ca.not_after,
            organization_id: ca.organization_id.map(|id| id.0),
            created_by_user_id: ca.created_by_user_id.map(|id| id.0),
            created_at: ca.created_at,
            updated_at: ca.updated_at,
            crl_base_url: ca.crl_base_url,
            certificate: ca.certificate_pem,
            chain: None,
            private_key: None,
        }
    }
}

/// A key algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "KeyType", rename_all = "lowercase")]
pub enum KeyTypeName {
    /// RSA (2048, 3072 or 4096 bits; default 2048).
    Rsa,
    /// ECDSA on P-256 or P-384 (default 256).
    Ec,
}

impl KeyTypeName {
    /// The name the X.509 layer parses.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyTypeName::Rsa => "rsa",
            KeyTypeName::Ec => "ec",
        }
    }
}

fn default_key_type() -> KeyTypeName {
    KeyTypeName::Rsa
}

fn default_ca_days() -> u32 {
    3650
}

pub(crate) fn default_cert_days() -> u32 {
    365
}

fn default_true() -> bool {
    true
}

/// A new certificate authority: a root, or an intermediate when `parent_ca_id` is given.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CertificateAuthorityCreate",
    deny_unknown_fields,
    example,
    skip_serializing_if_is_none
)]
pub struct CaCreate {
    /// A name for people (1–255 characters).
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: Text,
    /// The subject, `KEY=value` pairs of `CN`, `O`, `OU`, `L`, `ST`, `C`, e.g.
    /// `CN=Acme Root,O=Acme,C=US`. Or give `common_name` (and the other parts) instead.
    #[oai(validator(max_length = 1024))]
    pub subject_dn: Option<Text>,
    /// The subject's common name, when `subject_dn` is not given (at most 128 characters).
    #[oai(validator(max_length = 128))]
    pub common_name: Option<Text>,
    /// The subject's organization (O), when `subject_dn` is not given (at most 128
    /// characters).
    #[oai(validator(max_length = 128))]
    pub organization: Option<Text>,
    /// The subject's country (C), when `subject_dn` is not given.
    pub country: Option<Text>,
    /// At most 4096 characters.
    #[oai(validator(max_length = 4096))]
    pub description: Option<Text>,
    /// `rsa` (default) or `ec`.
    #[oai(default = "default_key_type")]
    pub key_type: KeyTypeName,
    /// Bits: RSA 2048 (default), 3072, 4096; EC 256 (default), 384.
    pub key_size: Option<u32>,
    /// Days of validity, 1–36500 (default 3650), cut at the parent's expiry.
    #[oai(default = "default_ca_days")]
    pub valid_days: u32,
    /// The signing CA (an intermediate); it must be readable by the caller and in the
    /// caller's organization.
    pub parent_ca_id: Option<i64>,
    /// Basic-constraints path length (`null`: unlimited, or one less than the parent's).
    pub path_length: Option<u8>,
    /// Whether it issues leaf certificates (default true).
    #[oai(default = "default_true")]
    pub allow_leaf_certs: bool,
    /// The absolute `http(s)://` base URL under which this CA's CRL and certificate are
    /// published (`{base}/crl/{slug}`, `{base}/ca/{slug}.crt`), named by what it issues as
    /// CRL distribution point and AIA caIssuers; default: the server's `--public-base-url`.
    #[oai(validator(max_length = 2048))]
    pub crl_base_url: Option<Text>,
}

/// `PATCH /cas/{id}`: move a CA (and with `cascade` its descendants and their certificates)
/// into an organization.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CertificateAuthorityAssign", deny_unknown_fields, example)]
pub struct CaAssign {
    /// The organization to move into; it must exist.
    pub organization_id: i64,
    /// Also move every descendant CA and every certificate the moved CAs issued.
    #[oai(default)]
    pub cascade: bool,
}

/// The purpose of a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "CertificateType", rename_all = "snake_case")]
pub enum CertificateTypeName {
    /// TLS server authentication (needs a DNS name or IP address).
    Server,
    /// TLS client authentication.
    Client,
    /// Both.
    DualPurpose,
    /// A CA certificate (CA:TRUE, path length 0), kept as a certificate: the server does not
    /// issue from it.
    Ca,
}

impl CertificateTypeName {
    /// The name the X.509 layer parses.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateTypeName::Server => "server",
            CertificateTypeName::Client => "client",
            CertificateTypeName::DualPurpose => "dual_purpose",
            CertificateTypeName::Ca => "ca",
        }
    }
}

/// A certificate's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "CertificateStatus", rename_all = "lowercase")]
pub enum StatusName {
    /// Not revoked.
    Valid,
    /// Revoked.
    Revoked,
}

/// A new leaf certificate.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CertificateCreate",
    deny_unknown_fields,
    example,
    skip_serializing_if_is_none,
    skip_serializing_if_is_empty
)]
pub struct CertCreate {
    /// The issuing CA (or give `?ca_id=` in the query).
    pub ca_id: Option<i64>,
    /// The subject's common name.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub common_name: Text,
    /// The full subject (`CN` defaults to `common_name`; at most 1024 characters).
    #[oai(validator(max_length = 1024))]
    pub subject_dn: Option<Text>,
    /// `server`, `client` or `dual_purpose`.
    pub certificate_type: CertificateTypeName,
    /// `rsa` (default) or `ec`.
    #[oai(default = "default_key_type")]
    pub key_type: KeyTypeName,
    /// Bits (see the CA's `key_size`).
    pub key_size: Option<u32>,
    /// Days of validity, 1–3650 (default 365), cut at the CA's expiry.
    #[oai(default = "default_cert_days")]
    pub valid_days: u32,
    /// DNS subject alternative names.
    #[oai(default)]
    pub san_dns_names: Vec<Text>,
    /// IP subject alternative names.
    #[oai(default)]
    pub san_ip_addresses: Vec<Text>,
    /// Email subject alternative names (rfc822Name): client and dual-purpose certificates.
    #[oai(default)]
    pub san_email_addresses: Vec<Text>,
    /// Whether the answer carries the new private key (default true); the key is also
    /// fetched later with `GET /certificates/{id}/private-key`.
    pub include_private_key: Option<bool>,
}

/// `POST /certificates/{id}/revoke`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CertificateRevoke", deny_unknown_fields, example)]
pub struct RevokeRequest {
    /// Why: an RFC 5280 reason by name (`keyCompromise`, `superseded`, … — any case, with or
    /// without `_`, `-` or spaces between the words).
    #[oai(validator(max_length = 1024))]
    pub reason: Option<Text>,
}

/// A leaf certificate. Carries its private key only in the answers of `POST /certificates/`
/// (unless `include_private_key` is false) and `GET /certificates/{id}/private-key`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Certificate")]
pub struct CertOut {
    /// Assigned by the server, never reused.
    pub id: i64,
    /// The subject's common name.
    pub common_name: String,
    /// The subject.
    pub subject_dn: String,
    /// `server`, `client`, `dual_purpose` or `ca`.
    pub certificate_type: String,
    /// `valid` or `revoked`.
    pub status: String,
    /// Serial number, lowercase hex (unique per CA).
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
    #[oai(nullable)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    #[oai(nullable)]
    pub revocation_reason: Option<String>,
    /// The issuing CA.
    pub issuer_id: i64,
    /// DNS subject alternative names.
    pub san_dns_names: Vec<String>,
    /// IP subject alternative names.
    pub san_ip_addresses: Vec<String>,
    /// Email subject alternative names.
    pub san_email_addresses: Vec<String>,
    /// Whether the server keeps its private key (false: made for a CSR, or none kept on
    /// request), i.e. whether it can be exported.
    pub private_key_kept: bool,
    /// The certificate this one renewed.
    #[oai(nullable)]
    pub renewed_from_id: Option<i64>,
    /// The owning organization.
    #[oai(nullable)]
    pub organization_id: Option<i64>,
    /// Who issued it.
    #[oai(nullable)]
    pub created_by_user_id: Option<i64>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The certificate, PEM.
    pub certificate: String,
    /// The private key, PKCS#8 PEM (`GET /certificates/{id}/private-key` only).
    #[oai(skip_serializing_if_is_none)]
    pub private_key: Option<String>,
}

impl From<Certificate> for CertOut {
    fn from(cert: Certificate) -> CertOut {
        CertOut {
            id: cert.id,
            common_name: cert.common_name,
            subject_dn: cert.subject_dn,
            certificate_type: cert.certificate_type,
            status: cert.status.as_str().to_owned(),
            serial_number: cert.serial_number,
            key_type: cert.key_type,
            key_size: cert.key_size,
            valid_days: cert.valid_days,
            not_before: cert.not_before,
            not_after: cert.not_after,
            revoked_at: cert.revoked_at,
            revocation_reason: cert.revocation_reason,
            issuer_id: cert.ca_id,
            san_dns_names: cert.san_dns_names,
            san_ip_addresses: cert.san_ip_addresses,
            san_email_addresses: cert.san_email_addresses,
            private_key_kept: cert.key_source == KeySource::Server,
            renewed_from_id: cert.renewed_from_id,
            organization_id: cert.organization_id.map(|id| id.0),
            created_by_user_id: cert.created_by_user_id.map(|id| id.0),
            created_at: cert.created_at,
            updated_at: cert.updated_at,
            certificate: cert.certificate_pem,
            private_key: None,
        }
    }
}
