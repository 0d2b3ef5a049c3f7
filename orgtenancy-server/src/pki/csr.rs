//! Certificate signing requests (PKCS#10): parsed, their signature verified, and signed by a
//! CA with the request's public key — the requester keeps its private key (SPEC §10).

use std::net::IpAddr;

use rcgen::{CertificateSigningRequestParams, PublicKeyData};
use x509_parser::{
    certification_request::X509CertificationRequest,
    extensions::{GeneralName, ParsedExtension},
    prelude::FromDer,
    public_key::PublicKey,
    x509::{AttributeTypeAndValue, SubjectPublicKeyInfo, X509Name},
};

use super::subject::Subject;

use super::x509::{
    IssuerMaterial, LeafRequest, PkiError, Signed, invalid, leaf_params, load_issuer, signed,
};

/// A CSR whose signature verified: it proves its requester holds the private key of the
/// public key it carries.
#[derive(Debug, Clone)]
pub struct VerifiedCsr {
    request: CertificateSigningRequestParams,
    facts: CsrFacts,
}

/// What a CSR asks for, read with x509-parser: its subject, the SANs of its extension
/// request, and its key's algorithm and size (as the store records them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsrFacts {
    /// The requested subject.
    pub subject: Subject,
    /// Requested DNS names.
    pub dns_names: Vec<String>,
    /// Requested IP addresses, as text.
    pub ip_addresses: Vec<String>,
    /// Requested email addresses.
    pub email_addresses: Vec<String>,
    /// `rsa` or `ec`.
    pub key_type: &'static str,
    /// Bits: RSA 2048 to 8192; EC 256 or 384.
    pub key_size: u32,
}

impl VerifiedCsr {
    /// Parses a PEM CSR and verifies its signature; 422 (`csr`) for anything else.
    pub fn parse(pem: &str) -> Result<VerifiedCsr, PkiError> {
        match CertificateSigningRequestParams::from_pem(pem) {
            Ok(request) => Ok(VerifiedCsr {
                request,
                facts: facts_of(pem)?,
            }),
            Err(rcgen::Error::InvalidCertificationRequestSignature) => {
                Err(invalid("csr", "its signature does not verify"))
            }
            Err(rcgen::Error::UnsupportedExtension) => Err(invalid(
                "csr",
                "it requests an extension this CA does not sign",
            )),
            Err(rcgen::Error::UnsupportedSignatureAlgorithm) => {
                Err(invalid("csr", "its signature algorithm is not supported"))
            }
            Err(_) => Err(invalid(
                "csr",
                "not a PEM certificate signing request (BEGIN CERTIFICATE REQUEST)",
            )),
        }
    }

    /// The request's public key, DER (SubjectPublicKeyInfo contents).
    pub fn public_key_der(&self) -> &[u8] {
        self.request.public_key.der_bytes()
    }

    /// What the CSR asks for.
    pub fn facts(&self) -> &CsrFacts {
        &self.facts
    }
}

fn unreadable() -> PkiError {
    invalid(
        "csr",
        "not a PEM certificate signing request (BEGIN CERTIFICATE REQUEST)",
    )
}

/// The facts of a CSR whose signature rcgen has verified.
fn facts_of(pem: &str) -> Result<CsrFacts, PkiError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|_| unreadable())?;
    let (_, csr) = X509CertificationRequest::from_der(&pem.contents).map_err(|_| unreadable())?;
    let info = &csr.certification_request_info;
    let (key_type, key_size) = key_of(&info.subject_pki)?;
    let mut facts = CsrFacts {
        subject: subject_of(&info.subject)?,
        key_type,
        key_size,
        ..CsrFacts::default()
    };
    let requested = csr.requested_extensions().into_iter().flatten();
    for extension in requested {
        if let ParsedExtension::SubjectAlternativeName(names) = extension {
            for name in &names.general_names {
                add_name(&mut facts, name)?;
            }
        }
    }
    Ok(facts)
}

fn add_name(facts: &mut CsrFacts, name: &GeneralName<'_>) -> Result<(), PkiError> {
    match name {
        GeneralName::DNSName(dns) => facts.dns_names.push((*dns).to_owned()),
        GeneralName::RFC822Name(email) => facts.email_addresses.push((*email).to_owned()),
        GeneralName::IPAddress(bytes) => {
            let ip = match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes).map(IpAddr::from).ok(),
                16 => <[u8; 16]>::try_from(*bytes).map(IpAddr::from).ok(),
                _ => None,
            };
            let ip = ip.ok_or_else(|| invalid("csr", "it requests a malformed IP address"))?;
            facts.ip_addresses.push(ip.to_string());
        }
        _ => {
            return Err(invalid(
                "csr",
                "it requests a kind of subject alternative name this CA does not sign \
                 (DNS names, IP and email addresses only)",
            ));
        }
    }
    Ok(())
}

fn key_of(spki: &SubjectPublicKeyInfo<'_>) -> Result<(&'static str, u32), PkiError> {
    let key = spki.parsed().map_err(|_| unreadable())?;
    let bits = u32::try_from(key.key_size()).unwrap_or(0);
    match key {
        PublicKey::RSA(_) if (2048..=8192).contains(&bits) => Ok(("rsa", bits)),
        PublicKey::EC(_) if bits == 256 || bits == 384 => Ok(("ec", bits)),
        _ => Err(invalid(
            "csr",
            "its key must be RSA of 2048 to 8192 bits or EC on P-256 or P-384",
        )),
    }
}

fn subject_of(name: &X509Name<'_>) -> Result<Subject, PkiError> {
    Ok(Subject {
        common_name: first(name.iter_common_name()).unwrap_or_default(),
        organization: first(name.iter_organization()),
        organizational_unit: first(name.iter_organizational_unit()),
        country: first(name.iter_country()),
        state: first(name.iter_state_or_province()),
        locality: first(name.iter_locality()),
    })
}

/// The first value of one attribute of a name, if it is a string.
fn first<'a>(mut values: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>) -> Option<String> {
    values
        .next()
        .and_then(|value| value.as_str().ok())
        .map(str::to_owned)
}

/// Signs, by `ca`, the certificate `request` describes for the public key of `csr`. The
/// subject, SANs, purpose and validity are the request's (checked as for a new key); of the
/// CSR only its key is taken.
pub fn issue_for_csr(
    ca: &IssuerMaterial<'_>,
    csr: &VerifiedCsr,
    request: &LeafRequest,
) -> Result<Signed, PkiError> {
    let params = leaf_params(ca, request)?;
    let issuer = load_issuer(ca)?;
    let to_sign = CertificateSigningRequestParams {
        params,
        public_key: csr.request.public_key.clone(),
    };
    let cert = to_sign.signed_by(&issuer).map_err(|_| PkiError::Corrupt)?;
    signed(cert.pem(), &to_sign.params, request.subject.to_dn_string())
}
