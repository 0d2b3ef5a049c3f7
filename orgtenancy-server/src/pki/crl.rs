//! Certificate revocation lists (RFC 5280 §5), signed by their CA; the public file names
//! under which a CA's certificate and CRL are published (SPEC §10); and the extensions that
//! name them in what the CA issues (a CRL distribution point, AIA caIssuers). Pure functions,
//! like [`super::x509`].

use chrono::{DateTime, Utc};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, CustomExtension,
    KeyIdMethod, RevokedCertParams, SerialNumber,
};

use super::published::PublishedAt;
use super::x509::{IssuerMaterial, PkiError, invalid, load_issuer};

/// `id-pe-authorityInfoAccess` (RFC 5280 §4.2.2.1).
const AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
/// `id-ad-caIssuers`: where the issuer's certificate is.
const CA_ISSUERS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 2];

/// Why a certificate was revoked: the reason codes of RFC 5280 §5.3.1 (7 is unused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    /// `unspecified` (0).
    Unspecified,
    /// `keyCompromise` (1).
    KeyCompromise,
    /// `cACompromise` (2).
    CaCompromise,
    /// `affiliationChanged` (3).
    AffiliationChanged,
    /// `superseded` (4).
    Superseded,
    /// `cessationOfOperation` (5).
    CessationOfOperation,
    /// `certificateHold` (6).
    CertificateHold,
    /// `removeFromCRL` (8).
    RemoveFromCrl,
    /// `privilegeWithdrawn` (9).
    PrivilegeWithdrawn,
    /// `aACompromise` (10).
    AaCompromise,
}

impl RevocationReason {
    /// Every reason, by code.
    pub const ALL: [RevocationReason; 10] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::RemoveFromCrl,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];

    /// The name RFC 5280 gives the reason (its ASN.1 identifier).
    pub const fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::CertificateHold => "certificateHold",
            RevocationReason::RemoveFromCrl => "removeFromCRL",
            RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
            RevocationReason::AaCompromise => "aACompromise",
        }
    }

    /// The CRL reason code.
    pub const fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::CertificateHold => 6,
            RevocationReason::RemoveFromCrl => 8,
            RevocationReason::PrivilegeWithdrawn => 9,
            RevocationReason::AaCompromise => 10,
        }
    }

    /// Parses a reason by its RFC 5280 name, in any case and with or without `_`, `-` or
    /// spaces between the words (`keyCompromise`, `key_compromise`, `Key Compromise`).
    pub fn parse(name: &str) -> Result<RevocationReason, PkiError> {
        let folded = fold(name);
        RevocationReason::ALL
            .into_iter()
            .find(|reason| fold(reason.as_str()) == folded)
            .ok_or_else(|| {
                let names: Vec<&str> = RevocationReason::ALL.iter().map(|r| r.as_str()).collect();
                invalid(
                    "reason",
                    format!("expected an RFC 5280 reason: {}", names.join(", ")),
                )
            })
    }

    fn rcgen(self) -> rcgen::RevocationReason {
        match self {
            RevocationReason::Unspecified => rcgen::RevocationReason::Unspecified,
            RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
            RevocationReason::CaCompromise => rcgen::RevocationReason::CaCompromise,
            RevocationReason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
            RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
            RevocationReason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
            RevocationReason::CertificateHold => rcgen::RevocationReason::CertificateHold,
            RevocationReason::RemoveFromCrl => rcgen::RevocationReason::RemoveFromCrl,
            RevocationReason::PrivilegeWithdrawn => rcgen::RevocationReason::PrivilegeWithdrawn,
            RevocationReason::AaCompromise => rcgen::RevocationReason::AaCompromise,
        }
    }
}

fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// One revoked certificate, as its CA's CRL lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The serial number, hex (as stored).
    pub serial_number: String,
    /// When the CA revoked it.
    pub revoked_at: DateTime<Utc>,
    /// Why.
    pub reason: RevocationReason,
}

/// What a CRL says besides its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlPeriod {
    /// The CRL's number: it grows with every CRL the CA issues.
    pub number: u64,
    /// `thisUpdate`.
    pub this_update: DateTime<Utc>,
    /// `nextUpdate`, after `this_update`.
    pub next_update: DateTime<Utc>,
}

/// A signed CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCrl {
    /// DER, for `application/pkix-crl`.
    pub der: Vec<u8>,
    /// PEM (`X509 CRL`).
    pub pem: String,
}

/// The CRL of `ca` listing `revoked`, signed with the CA's key.
pub fn sign_crl(
    ca: &IssuerMaterial<'_>,
    period: CrlPeriod,
    revoked: &[RevokedEntry],
) -> Result<SignedCrl, PkiError> {
    let revoked_certs = revoked
        .iter()
        .map(|entry| {
            Ok(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&serial_bytes(&entry.serial_number)?),
                revocation_time: time_of(entry.revoked_at)?,
                reason_code: Some(entry.reason.rcgen()),
                invalidity_date: None,
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let params = CertificateRevocationListParams {
        this_update: time_of(period.this_update)?,
        next_update: time_of(period.next_update)?,
        crl_number: SerialNumber::from_slice(&period.number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let issuer = load_issuer(ca)?;
    let crl = params
        .signed_by(&issuer)
        .map_err(|_| PkiError::IssuerRefuses("the CA cannot sign a CRL".into()))?;
    let pem = crl.pem().map_err(|_| PkiError::Corrupt)?;
    Ok(SignedCrl {
        der: crl.der().to_vec(),
        pem,
    })
}

/// A time as rcgen wants it (times here come from the clock and the store, not from a client).
fn time_of(at: DateTime<Utc>) -> Result<time::OffsetDateTime, PkiError> {
    time::OffsetDateTime::from_unix_timestamp(at.timestamp()).map_err(|_| PkiError::Corrupt)
}

/// A stored hex serial number as bytes (an odd length gets a leading zero nibble).
fn serial_bytes(hex: &str) -> Result<Vec<u8>, PkiError> {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    (0..padded.len())
        .step_by(2)
        .map(|at| {
            padded
                .get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or(PkiError::Corrupt)
        })
        .collect()
}

/// The public name of a CA's files (`/crl/{slug}`, `/ca/{slug}.pem`): the name lower-cased,
/// without characters other than letters, digits, spaces, `-` and `_`, runs of spaces and `_`
/// turned into one `-`, then `-{id}` ("Issuing A", 4 → `issuing-a-4`).
pub fn slug(name: &str, id: i64) -> String {
    let mut slug = String::new();
    let mut pending_dash = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c == ' ' || c == '_' {
            pending_dash = !slug.is_empty();
        } else if c.is_alphanumeric() || c == '-' {
            if pending_dash {
                slug.push('-');
                pending_dash = false;
            }
            slug.push(c);
        }
    }
    if slug.is_empty() {
        format!("{id}")
    } else {
        format!("{slug}-{id}")
    }
}

/// Names in `params` where its issuer publishes (SPEC §10): a CRL distribution point with the
/// URI `crl_url`, and a non-critical Authority Information Access extension with one
/// caIssuers access description naming `issuer_url`. Nothing when `published` is `None`.
///
/// A URI is an IA5String (ASCII), so a URL with other characters (a slug of a CA named
/// "Zürich") is percent-encoded as UTF-8 (RFC 3986); the server decodes it back.
pub(super) fn name_published(
    params: &mut CertificateParams,
    published: Option<&PublishedAt>,
) -> Result<(), PkiError> {
    let Some(at) = published else {
        return Ok(());
    };
    params.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![ascii_uri(&at.crl_url)?],
    }];
    let issuer_url = ascii_uri(&at.issuer_url)?;
    let content = yasna::construct_der(|writer| {
        // AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription
        writer.write_sequence(|writer| {
            // AccessDescription ::= SEQUENCE { accessMethod, accessLocation GeneralName }
            writer.next().write_sequence(|writer| {
                let method = yasna::models::ObjectIdentifier::from_slice(CA_ISSUERS);
                writer.next().write_oid(&method);
                // uniformResourceIdentifier [6] IMPLICIT IA5String
                writer
                    .next()
                    .write_tagged_implicit(yasna::Tag::context(6), |writer| {
                        writer.write_ia5_string(&issuer_url);
                    });
            });
        });
    });
    let mut aia = CustomExtension::from_oid_content(AUTHORITY_INFO_ACCESS, content);
    aia.set_criticality(false);
    params.custom_extensions.push(aia);
    Ok(())
}

/// `url` with every byte outside printable ASCII percent-encoded; never empty.
fn ascii_uri(url: &str) -> Result<String, PkiError> {
    let encoded = percent_encoding::utf8_percent_encode(url, percent_encoding::CONTROLS)
        .to_string()
        .replace(' ', "%20");
    if encoded.is_empty() || !encoded.is_ascii() {
        return Err(PkiError::Corrupt);
    }
    Ok(encoded)
}

#[cfg(test)]
mod tests;
