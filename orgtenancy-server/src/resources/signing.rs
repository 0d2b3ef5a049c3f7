//! The request bodies of signing a CSR and renewing a certificate (SPEC §10, FastPKI's
//! `cert sign-csr` and `cert renew`).

use poem_openapi::Object;

use super::{CertificateTypeName, default_cert_days};
use crate::text::Text;

/// `POST /certificates/sign-csr`: a certificate for the key of a PKCS#10 request.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CertificateSignCsr",
    deny_unknown_fields,
    example,
    skip_serializing_if_is_none,
    skip_serializing_if_is_empty
)]
pub struct CsrSign {
    /// The CSR, PEM (`BEGIN CERTIFICATE REQUEST`); its signature must verify. Its key must
    /// be RSA of 2048 to 8192 bits or EC on P-256 or P-384.
    #[oai(validator(min_length = 1, max_length = 65536))]
    pub csr: Text,
    /// The issuing CA, by id (or give `ca_name`).
    pub ca_id: Option<i64>,
    /// The issuing CA, by its exact name among the CAs the caller may read; a name that
    /// matches several is 409 (give `ca_id`).
    #[oai(validator(min_length = 1, max_length = 255))]
    pub ca_name: Option<Text>,
    /// `server`, `client`, `dual_purpose` or `ca`.
    pub certificate_type: CertificateTypeName,
    /// Days of validity, 1–3650 (default 365), cut at the CA's expiry.
    #[oai(default = "default_cert_days")]
    pub valid_days: u32,
    /// Replaces the CSR's common name.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub common_name: Option<Text>,
    /// Replaces the CSR's subject (`CN` defaults to `common_name`, then the CSR's).
    #[oai(validator(max_length = 1024))]
    pub subject_dn: Option<Text>,
    /// DNS subject alternative names; when no SAN is given here, the CSR's are used.
    #[oai(default)]
    pub san_dns_names: Vec<Text>,
    /// IP subject alternative names (as `san_dns_names`).
    #[oai(default)]
    pub san_ip_addresses: Vec<Text>,
    /// Email subject alternative names (as `san_dns_names`).
    #[oai(default)]
    pub san_email_addresses: Vec<Text>,
}

/// `POST /certificates/{id}/renew`.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CertificateRenew",
    deny_unknown_fields,
    example,
    skip_serializing_if_is_none
)]
pub struct Renew {
    /// A CSR for the new certificate's key (required when the requester holds the old one's:
    /// it was made from a CSR); without it the server makes a new key and returns it.
    #[oai(validator(min_length = 1, max_length = 65536))]
    pub csr: Option<Text>,
}
