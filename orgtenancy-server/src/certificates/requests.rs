//! What to sign, from each way of asking: a new certificate's body, a CSR and its body, or
//! the certificate a renewal replaces. Every field is checked here (422 naming it) before
//! anything is signed; SANs by [`crate::pki::san`].

use orgtenancy_server_store::Certificate;

use crate::{
    error::ApiError,
    pki::{
        csr::VerifiedCsr,
        san,
        x509::{KeyAlgorithm, LeafKind, LeafRequest, Subject},
    },
    resources::{CertCreate, CsrSign},
    text::Text,
};

/// The subject of `dn` (if given), its `CN` defaulting to `cn`.
fn subject_with(dn: Option<&Text>, cn: &str) -> Result<Subject, ApiError> {
    let Some(dn) = dn else {
        let subject = Subject {
            common_name: cn.to_owned(),
            ..Subject::default()
        };
        subject.validate()?;
        return Ok(subject);
    };
    let has_cn = dn
        .as_str()
        .split(',')
        .any(|part| part.trim().to_ascii_uppercase().starts_with("CN="));
    let dn = if has_cn {
        dn.as_str().to_owned()
    } else {
        format!("CN={cn},{}", dn.as_str())
    };
    Ok(Subject::parse_dn(&dn)?)
}

fn texts(values: &[Text]) -> impl Iterator<Item = &str> {
    values.iter().map(Text::as_str)
}

fn strs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

/// The leaf a `POST /certificates/` body asks for (a key the server makes).
pub(super) fn for_new_key(body: &CertCreate) -> Result<LeafRequest, ApiError> {
    let request = LeafRequest {
        subject: subject_with(body.subject_dn.as_ref(), body.common_name.as_str())?,
        kind: LeafKind::parse(body.certificate_type.as_str())?,
        dns_names: san::dns_names(texts(&body.san_dns_names))?,
        ip_addresses: san::ip_addresses(texts(&body.san_ip_addresses))?,
        email_addresses: san::email_addresses(texts(&body.san_email_addresses))?,
        key: KeyAlgorithm::parse(body.key_type.as_str(), body.key_size)?,
        valid_days: body.valid_days,
        published: None,
    };
    // Here, so that the stored SANs are the certificate's.
    Ok(request.named_by_common_name()?)
}

/// The leaf a `sign-csr` body asks for: the body's subject and SANs where it gives them, the
/// CSR's otherwise (its common name replaced by the body's `common_name`).
pub(super) fn for_csr(body: &CsrSign, csr: &VerifiedCsr) -> Result<LeafRequest, ApiError> {
    let facts = csr.facts();
    let cn = body
        .common_name
        .as_ref()
        .map_or(facts.subject.common_name.as_str(), Text::as_str);
    let subject = match &body.subject_dn {
        Some(dn) => subject_with(Some(dn), cn)?,
        None => Subject {
            common_name: cn.to_owned(),
            ..facts.subject.clone()
        },
    };
    subject.validate()?;
    let own_sans = !(body.san_dns_names.is_empty()
        && body.san_ip_addresses.is_empty()
        && body.san_email_addresses.is_empty());
    let (dns, ips, emails): (Vec<&str>, Vec<&str>, Vec<&str>) = if own_sans {
        (
            texts(&body.san_dns_names).collect(),
            texts(&body.san_ip_addresses).collect(),
            texts(&body.san_email_addresses).collect(),
        )
    } else {
        (
            strs(&facts.dns_names),
            strs(&facts.ip_addresses),
            strs(&facts.email_addresses),
        )
    };
    let request = LeafRequest {
        subject,
        kind: LeafKind::parse(body.certificate_type.as_str())?,
        dns_names: san::dns_names(dns)?,
        ip_addresses: san::ip_addresses(ips)?,
        email_addresses: san::email_addresses(emails)?,
        // Not used: the CSR's key is certified.
        key: KeyAlgorithm::parse(facts.key_type, None)?,
        valid_days: body.valid_days,
        published: None,
    };
    Ok(request.named_by_common_name()?)
}

/// The leaf a renewal of `old` asks for: the same subject, purpose, SANs, key algorithm and
/// validity period.
pub(super) fn for_renewal(old: &Certificate) -> Result<LeafRequest, ApiError> {
    let key_size = u32::try_from(old.key_size).ok();
    Ok(LeafRequest {
        subject: Subject::parse_dn(&old.subject_dn)?,
        kind: LeafKind::parse(&old.certificate_type)?,
        dns_names: san::dns_names(strs(&old.san_dns_names))?,
        ip_addresses: san::ip_addresses(strs(&old.san_ip_addresses))?,
        email_addresses: san::email_addresses(strs(&old.san_email_addresses))?,
        key: KeyAlgorithm::parse(&old.key_type, key_size)?,
        valid_days: u32::try_from(old.valid_days).unwrap_or(365),
        published: None,
    })
}
