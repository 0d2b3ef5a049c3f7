//! Real X.509 for the reference server's resources: root and intermediate CAs and leaf
//! certificates, issued with rcgen. Pure functions of their inputs (plus randomness for keys
//! and serial numbers); nothing here touches storage.

use chrono::{DateTime, Utc};
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use zeroize::Zeroizing;

pub use super::keys::KeyAlgorithm;
pub use super::leaf::{LeafKind, LeafRequest};
pub use super::subject::Subject;

/// Why a certificate could not be issued. Messages are for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    /// A request field is invalid.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The issuing CA cannot issue this (path length, leaf policy, expired).
    #[error("{0}")]
    IssuerRefuses(String),
    /// Stored material could not be read back (corrupt row, wrong key).
    #[error("stored certificate material is unreadable")]
    Corrupt,
}

pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> PkiError {
    PkiError::Invalid {
        field,
        message: message.into(),
    }
}

/// What to put in a new CA certificate.
#[derive(Debug, Clone)]
pub struct CaRequest {
    /// The CA's subject.
    pub subject: Subject,
    /// Its key.
    pub key: KeyAlgorithm,
    /// Days of validity (1–36500), cut at the issuer's own expiry.
    pub valid_days: u32,
    /// How many CAs may follow it in a chain (`None`: unlimited).
    pub path_length: Option<u8>,
    /// Where the parent's CRL and certificate are published (intermediates only).
    pub published: Option<super::published::PublishedAt>,
}

/// A CA that signs: its certificate and its private key, both PEM.
pub struct IssuerMaterial<'a> {
    /// The CA certificate.
    pub certificate_pem: &'a str,
    /// The CA's private key (decrypted for the duration of the signing only).
    pub private_key_pem: &'a str,
}

/// A freshly issued certificate.
#[derive(Debug)]
pub struct Issued {
    /// The certificate.
    pub certificate_pem: String,
    /// Its private key (PKCS#8 PEM); seal it before storing.
    pub private_key_pem: Zeroizing<String>,
    /// The serial number, lowercase hex.
    pub serial_number: String,
    /// The subject as a string.
    pub subject_dn: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
}

/// Facts read back from an issuer certificate.
struct IssuerFacts {
    not_after: DateTime<Utc>,
    /// `None`: no CA basic constraint; `Some(None)`: CA, unlimited; `Some(Some(n))`: CA, n.
    path_length: Option<Option<u32>>,
}

fn issuer_facts(pem: &str) -> Result<IssuerFacts, PkiError> {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|_| PkiError::Corrupt)?;
    let cert = pem.parse_x509().map_err(|_| PkiError::Corrupt)?;
    let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or(PkiError::Corrupt)?;
    let path_length = match cert.basic_constraints() {
        Ok(Some(ext)) if ext.value.ca => Some(ext.value.path_len_constraint),
        Ok(_) => None,
        Err(_) => return Err(PkiError::Corrupt),
    };
    Ok(IssuerFacts {
        not_after,
        path_length,
    })
}

/// Issues a self-signed root CA.
pub fn issue_root(request: &CaRequest) -> Result<Issued, PkiError> {
    let (params, key) = ca_params(request, None)?;
    let cert = params.self_signed(&key).map_err(|_| PkiError::Corrupt)?;
    finish(cert.pem(), &key, &params, request.subject.to_dn_string())
}

/// Issues an intermediate CA signed by `parent`. Refused when the parent's path length
/// does not allow another CA below it.
pub fn issue_intermediate(
    parent: &IssuerMaterial<'_>,
    request: &CaRequest,
) -> Result<Issued, PkiError> {
    let facts = issuer_facts(parent.certificate_pem)?;
    let child_path_length = match facts.path_length {
        None => return Err(PkiError::IssuerRefuses("the parent is not a CA".into())),
        Some(Some(0)) => {
            return Err(PkiError::IssuerRefuses(
                "the parent's path length forbids sub-CAs".into(),
            ));
        }
        Some(Some(n)) => {
            let max = u8::try_from(n.saturating_sub(1)).unwrap_or(u8::MAX);
            match request.path_length {
                Some(requested) if requested > max => {
                    return Err(invalid(
                        "path_length",
                        format!("must be at most {max} under this parent"),
                    ));
                }
                Some(requested) => Some(requested),
                None => Some(max),
            }
        }
        Some(None) => request.path_length,
    };
    let request = CaRequest {
        path_length: child_path_length,
        ..request.clone()
    };
    let (mut params, key) = ca_params(&request, Some(facts.not_after))?;
    super::crl::name_published(&mut params, request.published.as_ref())?;
    let issuer = load_issuer(parent)?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|_| PkiError::Corrupt)?;
    finish(cert.pem(), &key, &params, request.subject.to_dn_string())
}

/// Issues a leaf certificate signed by the CA `ca`, with a new key.
pub fn issue_leaf(ca: &IssuerMaterial<'_>, request: &LeafRequest) -> Result<Issued, PkiError> {
    let params = leaf_params(ca, request)?;
    let key = request.key.generate()?;
    let issuer = load_issuer(ca)?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|_| PkiError::Corrupt)?;
    finish(cert.pem(), &key, &params, request.subject.to_dn_string())
}

/// The certificate `request` asks `ca` for, checked against the request's rules and the CA.
pub(super) fn leaf_params(
    ca: &IssuerMaterial<'_>,
    request: &LeafRequest,
) -> Result<CertificateParams, PkiError> {
    request.subject.validate()?;
    if !(1..=3650).contains(&request.valid_days) {
        return Err(invalid("valid_days", "must be 1 to 3650"));
    }
    let facts = issuer_facts(ca.certificate_pem)?;
    match facts.path_length {
        None => return Err(PkiError::IssuerRefuses("the issuer is not a CA".into())),
        Some(Some(0)) if request.kind == LeafKind::Ca => {
            return Err(PkiError::IssuerRefuses(
                "the issuer's path length forbids CA certificates under it".into(),
            ));
        }
        Some(_) => {}
    }
    let request = &request.clone().named_by_common_name()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = request.subject.distinguished_name();
    params.subject_alt_names = subject_alt_names(request)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    if request.kind == LeafKind::Ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    }
    params.extended_key_usages = match request.kind {
        LeafKind::Ca => vec![],
        LeafKind::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
        LeafKind::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
        LeafKind::ServerClient => {
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ]
        }
    };
    params.use_authority_key_identifier_extension = true;
    super::crl::name_published(&mut params, request.published.as_ref())?;
    set_validity_and_serial(&mut params, request.valid_days, Some(facts.not_after))?;
    Ok(params)
}

fn subject_alt_names(request: &LeafRequest) -> Result<Vec<SanType>, PkiError> {
    let mut sans = Vec::with_capacity(request.dns_names.len() + request.ip_addresses.len());
    for name in &request.dns_names {
        let name = super::san::dns_name(name)?;
        let ia5 = name
            .as_str()
            .try_into()
            .map_err(|_| invalid(super::san::DNS_FIELD, format!("`{name}` is not ASCII")))?;
        sans.push(SanType::DnsName(ia5));
    }
    sans.extend(request.ip_addresses.iter().copied().map(SanType::IpAddress));
    if !request.email_addresses.is_empty() && matches!(request.kind, LeafKind::Server) {
        return Err(invalid(
            super::san::EMAIL_FIELD,
            "email names are for client and dual_purpose certificates",
        ));
    }
    for address in &request.email_addresses {
        let address = super::san::email(address)?;
        let ia5 = address
            .as_str()
            .try_into()
            .map_err(|_| invalid(super::san::EMAIL_FIELD, format!("`{address}` is not ASCII")))?;
        sans.push(SanType::Rfc822Name(ia5));
    }
    if matches!(request.kind, LeafKind::Server | LeafKind::ServerClient) && sans.is_empty() {
        return Err(invalid(
            super::san::DNS_FIELD,
            "a server certificate needs at least one DNS name or IP address",
        ));
    }
    Ok(sans)
}

fn ca_params(
    request: &CaRequest,
    issuer_not_after: Option<DateTime<Utc>>,
) -> Result<(CertificateParams, KeyPair), PkiError> {
    request.subject.validate()?;
    if !(1..=36500).contains(&request.valid_days) {
        return Err(invalid("valid_days", "must be 1 to 36500"));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = request.subject.distinguished_name();
    params.is_ca = IsCa::Ca(match request.path_length {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.use_authority_key_identifier_extension = issuer_not_after.is_some();
    set_validity_and_serial(&mut params, request.valid_days, issuer_not_after)?;
    let key = request.key.generate()?;
    Ok((params, key))
}

fn set_validity_and_serial(
    params: &mut CertificateParams,
    valid_days: u32,
    issuer_not_after: Option<DateTime<Utc>>,
) -> Result<(), PkiError> {
    let now = Utc::now();
    let mut not_after = now + chrono::Duration::days(i64::from(valid_days));
    if let Some(limit) = issuer_not_after {
        if limit <= now {
            return Err(PkiError::IssuerRefuses("the issuing CA has expired".into()));
        }
        not_after = not_after.min(limit);
    }
    params.not_before = to_time(now)?;
    params.not_after = to_time(not_after)?;
    // 16 random bytes with the top bit clear: positive, unique per CA with overwhelming
    // probability (storage also enforces uniqueness per CA).
    let mut serial = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut serial);
    if let Some(first) = serial.first_mut() {
        *first &= 0x7f;
        *first |= 0x01;
    }
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(())
}

fn to_time(at: DateTime<Utc>) -> Result<time::OffsetDateTime, PkiError> {
    time::OffsetDateTime::from_unix_timestamp(at.timestamp())
        .map_err(|_| invalid("valid_days", "out of range"))
}

pub(super) fn load_issuer<'a>(
    material: &IssuerMaterial<'_>,
) -> Result<Issuer<'a, KeyPair>, PkiError> {
    let key = KeyPair::from_pem(material.private_key_pem).map_err(|_| PkiError::Corrupt)?;
    Issuer::from_ca_cert_pem(material.certificate_pem, key).map_err(|_| PkiError::Corrupt)
}

fn finish(
    certificate_pem: String,
    key: &KeyPair,
    params: &CertificateParams,
    subject_dn: String,
) -> Result<Issued, PkiError> {
    let signed = signed(certificate_pem, params, subject_dn)?;
    Ok(Issued {
        certificate_pem: signed.certificate_pem,
        private_key_pem: Zeroizing::new(key.serialize_pem()),
        serial_number: signed.serial_number,
        subject_dn: signed.subject_dn,
        not_before: signed.not_before,
        not_after: signed.not_after,
    })
}

/// A certificate signed for a key the server does not hold (a CSR's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The certificate.
    pub certificate_pem: String,
    /// The serial number, lowercase hex.
    pub serial_number: String,
    /// The subject as a string.
    pub subject_dn: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
}

pub(super) fn signed(
    certificate_pem: String,
    params: &CertificateParams,
    subject_dn: String,
) -> Result<Signed, PkiError> {
    let serial_number = params
        .serial_number
        .as_ref()
        .map(|s| {
            s.to_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        })
        .unwrap_or_default();
    let from = |t: time::OffsetDateTime| {
        DateTime::from_timestamp(t.unix_timestamp(), 0).ok_or(PkiError::Corrupt)
    };
    Ok(Signed {
        certificate_pem,
        serial_number,
        subject_dn,
        not_before: from(params.not_before)?,
        not_after: from(params.not_after)?,
    })
}

/// The basic-constraints path length of a CA certificate (`None`: unlimited).
pub fn path_length_of(certificate_pem: &str) -> Result<Option<u32>, PkiError> {
    match issuer_facts(certificate_pem)?.path_length {
        Some(length) => Ok(length),
        None => Err(PkiError::Corrupt),
    }
}
