//! What a leaf certificate is to be: its purpose ([`LeafKind`]) and the checked request
//! ([`LeafRequest`]) that [`super::x509`] signs, for a new key or a CSR's.

use std::net::IpAddr;

use super::{
    keys::KeyAlgorithm,
    subject::Subject,
    x509::{PkiError, invalid},
};

/// The purpose of a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    /// TLS server authentication.
    Server,
    /// TLS client authentication.
    Client,
    /// Both.
    ServerClient,
    /// A CA certificate issued as a certificate (FastPKI's `ca` type): CA:TRUE with path
    /// length 0, for keyCertSign and cRLSign; the server does not sign with it.
    Ca,
}

impl LeafKind {
    /// Parses `server`, `client` or `dual_purpose` (FastPKI's names).
    pub fn parse(s: &str) -> Result<LeafKind, PkiError> {
        match s {
            "server" => Ok(LeafKind::Server),
            "client" => Ok(LeafKind::Client),
            "dual_purpose" => Ok(LeafKind::ServerClient),
            "ca" => Ok(LeafKind::Ca),
            _ => Err(invalid(
                "certificate_type",
                "must be `server`, `client`, `dual_purpose` or `ca`",
            )),
        }
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            LeafKind::Server => "server",
            LeafKind::Client => "client",
            LeafKind::ServerClient => "dual_purpose",
            LeafKind::Ca => "ca",
        }
    }
}

/// What to put in a new leaf certificate.
#[derive(Debug, Clone)]
pub struct LeafRequest {
    /// The subject.
    pub subject: Subject,
    /// Server, client or both.
    pub kind: LeafKind,
    /// DNS names for the subject alternative name extension.
    pub dns_names: Vec<String>,
    /// IP addresses for the subject alternative name extension.
    pub ip_addresses: Vec<IpAddr>,
    /// Email addresses (rfc822Name) for the subject alternative name extension: client and
    /// dual-purpose certificates only.
    pub email_addresses: Vec<String>,
    /// Its key.
    pub key: KeyAlgorithm,
    /// Days of validity (1–3650), cut at the issuer's expiry.
    pub valid_days: u32,
    /// Where the issuing CA's CRL and certificate are published (`None`: nowhere known).
    pub published: Option<super::published::PublishedAt>,
}

impl LeafRequest {
    /// The request with its common name as its DNS SAN when it is for a server and names no
    /// SAN (as FastPKI does); the common name must then be a DNS name (clients match names
    /// against SANs only).
    pub fn named_by_common_name(mut self) -> Result<LeafRequest, PkiError> {
        let server = matches!(self.kind, LeafKind::Server | LeafKind::ServerClient);
        if server && self.dns_names.is_empty() && self.ip_addresses.is_empty() {
            let name = super::san::dns_name(self.subject.common_name.trim()).map_err(|_| {
                invalid(
                    super::san::DNS_FIELD,
                    "a server certificate needs a DNS name or IP address: give san_dns_names, \
                     or a common name that is a DNS name",
                )
            })?;
            self.dns_names.push(name);
        }
        Ok(self)
    }
}
