//! Where a CA's certificate and CRL are published (SPEC §10): under the CA's `crl_base_url`
//! or the server's public base URL, at `/crl/{slug}` and `/ca/{slug}.crt`, `slug` being
//! [`super::crl::slug`] of the CA's name and id. Pure functions, like [`super::x509`].

use super::x509::{PkiError, invalid};

/// The longest base URL accepted (the store keeps `crl_base_url` up to this).
pub const MAX_BASE_URL: usize = 2048;

/// The URLs an issued certificate names: its issuer's CRL (the CRL distribution point) and
/// its issuer's certificate (the AIA caIssuers access location), both DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedAt {
    /// `{base}/crl/{slug}`.
    pub crl_url: String,
    /// `{base}/ca/{slug}.crt`.
    pub issuer_url: String,
}

impl PublishedAt {
    /// The URLs of the CA named `name` with id `id` under `base` (a [`base_url`]).
    pub fn of(base: &str, name: &str, id: i64) -> PublishedAt {
        let slug = super::crl::slug(name, id);
        PublishedAt {
            crl_url: format!("{base}/crl/{slug}"),
            issuer_url: format!("{base}/ca/{slug}.crt"),
        }
    }
}

/// A base URL as certificates may name it: absolute `http://` or `https://` with a host, no
/// query, fragment, user information, whitespace or non-ASCII, at most [`MAX_BASE_URL`]
/// characters; returned without trailing slashes. Relying parties fetch CRLs over plain
/// HTTP as a rule (RFC 5280 §4.2.1.13), so `http` is fine.
pub fn base_url(text: &str) -> Result<String, PkiError> {
    const FIELD: &str = "crl_base_url";
    if text.len() > MAX_BASE_URL {
        return Err(invalid(FIELD, format!("at most {MAX_BASE_URL} characters")));
    }
    if !text.is_ascii()
        || text
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(invalid(
            FIELD,
            "must be ASCII without spaces or control characters",
        ));
    }
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| invalid(FIELD, "must be an absolute http:// or https:// URL"))?;
    if rest.contains(['?', '#', '@', '\\']) {
        return Err(invalid(
            FIELD,
            "must have no query, fragment or user information",
        ));
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid(FIELD, "must name a host"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("http://pki.example.com/").as_deref(),
            Ok("http://pki.example.com")
        );
        assert_eq!(
            base_url("https://example.com:8443/pki//").as_deref(),
            Ok("https://example.com:8443/pki")
        );
        for bad in [
            "",
            "pki.example.com",
            "ftp://example.com",
            "http://",
            "http://:80/x",
            "http://a b",
            "http://example.com/?x=1",
            "http://user@example.com",
            "http://exämple.com",
        ] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
        assert!(base_url(&format!("http://e.com/{}", "a".repeat(MAX_BASE_URL))).is_err());
    }

    #[test]
    fn urls_of_a_ca() {
        let at = PublishedAt::of("http://pki.test", "Issuing A", 4);
        assert_eq!(at.crl_url, "http://pki.test/crl/issuing-a-4");
        assert_eq!(at.issuer_url, "http://pki.test/ca/issuing-a-4.crt");
    }
}
