//! The subject of a certificate: parsed from an RFC 4514-style string or given in parts,
//! checked, and written as a distinguished name.

use rcgen::{DistinguishedName, DnType};

use super::x509::{PkiError, invalid};

/// The subject of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    /// CN (required).
    pub common_name: String,
    /// O.
    pub organization: Option<String>,
    /// OU.
    pub organizational_unit: Option<String>,
    /// C (two letters).
    pub country: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// L.
    pub locality: Option<String>,
}

impl Subject {
    /// Parses an RFC 4514-style string of `CN`, `O`, `OU`, `C`, `ST`, `L` attributes separated by
    /// commas (no escaped commas), e.g. `CN=Acme Root,O=Acme,C=US`.
    pub fn parse_dn(dn: &str) -> Result<Subject, PkiError> {
        let mut subject = Subject::default();
        for part in dn.split(',') {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                invalid("subject_dn", "expected KEY=value pairs separated by commas")
            })?;
            let value = value.trim().to_owned();
            let slot = match key.trim().to_ascii_uppercase().as_str() {
                "CN" => {
                    subject.common_name = value;
                    continue;
                }
                "O" => &mut subject.organization,
                "OU" => &mut subject.organizational_unit,
                "C" => &mut subject.country,
                "ST" => &mut subject.state,
                "L" => &mut subject.locality,
                other => {
                    return Err(invalid(
                        "subject_dn",
                        format!("unsupported attribute `{other}`"),
                    ));
                }
            };
            *slot = Some(value);
        }
        subject.validate()?;
        Ok(subject)
    }

    /// Checks lengths and required fields.
    pub fn validate(&self) -> Result<(), PkiError> {
        let cn = self.common_name.trim();
        if cn.is_empty() || cn.chars().count() > 64 {
            return Err(invalid("common_name", "must be 1 to 64 characters"));
        }
        if let Some(c) = &self.country
            && (c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()))
        {
            return Err(invalid("country", "must be a two-letter code"));
        }
        for value in [
            &self.organization,
            &self.organizational_unit,
            &self.state,
            &self.locality,
        ]
        .into_iter()
        .flatten()
        {
            if value.trim().is_empty() || value.chars().count() > 128 {
                return Err(invalid(
                    "subject_dn",
                    "attributes must be 1 to 128 characters",
                ));
            }
        }
        Ok(())
    }

    /// The subject as a string, e.g. `CN=Acme Root,O=Acme,C=US`.
    pub fn to_dn_string(&self) -> String {
        let mut parts = vec![format!("CN={}", self.common_name.trim())];
        let optional = [
            ("O", &self.organization),
            ("OU", &self.organizational_unit),
            ("L", &self.locality),
            ("ST", &self.state),
            ("C", &self.country),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                parts.push(format!("{key}={}", value.trim()));
            }
        }
        parts.join(",")
    }

    pub(super) fn distinguished_name(&self) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, self.common_name.trim());
        let optional = [
            (DnType::OrganizationName, &self.organization),
            (DnType::OrganizationalUnitName, &self.organizational_unit),
            (DnType::LocalityName, &self.locality),
            (DnType::StateOrProvinceName, &self.state),
            (DnType::CountryName, &self.country),
        ];
        for (kind, value) in optional {
            if let Some(value) = value {
                dn.push(kind, value.trim());
            }
        }
        dn
    }
}
