//! Subject alternative names (RFC 5280 §4.2.1.6), checked before anything is signed.
//!
//! * DNS names (`san_dns_names`): labels of 1–63 letters, digits and hyphens, no hyphen at
//!   either end, at most 253 characters in all (RFC 1035 §2.3.4, RFC 5280 §4.2.1.6); a
//!   wildcard only as the whole leftmost label (`*.example.com`), never directly under a
//!   public suffix (`*.com`, `*.co.uk`: the Public Suffix List, through the `psl` crate, with
//!   its implicit `*` rule for unlisted top-level labels); never an IP address.
//! * IP addresses (`san_ip_addresses`): IPv4 or IPv6 as `std::net::IpAddr` parses them.
//! * Email addresses (`san_email_addresses`, rfc822Name, for client and dual-purpose
//!   certificates): an ASCII dot-atom local part of 1–64 characters (RFC 5321 §4.1.2), `@`,
//!   and a DNS name as above without a wildcard; at most 254 characters in all.
//!
//! Each refusal names the field and the value, e.g. ``invalid san_dns_names: `*.com` …``.

use std::net::IpAddr;

use super::x509::PkiError;

/// The request field of DNS names.
pub const DNS_FIELD: &str = "san_dns_names";
/// The request field of IP addresses.
pub const IP_FIELD: &str = "san_ip_addresses";
/// The request field of email addresses.
pub const EMAIL_FIELD: &str = "san_email_addresses";
const MAX_EMAIL: usize = 254;
const MAX_LOCAL: usize = 64;

const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;
/// How much of a refused value a message repeats.
const SHOWN: usize = 80;

/// `value` for a message, in backticks, cut short when long.
fn shown(value: &str) -> String {
    if value.chars().count() <= SHOWN {
        format!("`{value}`")
    } else {
        let head: String = value.chars().take(SHOWN).collect();
        format!("`{head}…`")
    }
}

fn refuse(field: &'static str, value: &str, why: &str) -> PkiError {
    PkiError::Invalid {
        field,
        message: format!("{} {why}", shown(value)),
    }
}

/// Whether `label` is a DNS label: 1–63 letters, digits or hyphens, no hyphen at either end.
fn is_label(label: &str) -> bool {
    (1..=MAX_LABEL).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Whether `name` is itself a public suffix (`com`, `co.uk`, an unlisted top-level label).
fn is_public_suffix(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    psl::suffix_str(&lower).is_none_or(|suffix| suffix == lower)
}

/// Checks one DNS name; returns it trimmed.
pub fn dns_name(raw: &str) -> Result<String, PkiError> {
    let name = raw.trim();
    let no = |why: &str| refuse(DNS_FIELD, raw, why);
    if name.is_empty() {
        return Err(no("is empty"));
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err(no(&format!("is an IP address; give it in {IP_FIELD}")));
    }
    if name.len() > MAX_NAME {
        return Err(no("is longer than 253 characters"));
    }
    let (wildcard, base) = match name.split_once('.') {
        Some(("*", base)) => (true, base),
        _ if name == "*" => return Err(no("is a wildcard without a domain")),
        _ => (false, name),
    };
    if base.contains('*') {
        return Err(no("has a wildcard other than as the whole leftmost label"));
    }
    if !base.split('.').all(is_label) {
        return Err(no(
            "is not a DNS name (labels of 1 to 63 letters, digits and hyphens, \
             no hyphen at either end)",
        ));
    }
    if wildcard && is_public_suffix(base) {
        return Err(no(&format!(
            "is a wildcard directly under the public suffix `{base}`"
        )));
    }
    Ok(name.to_owned())
}

/// Checks one IP address.
pub fn ip_address(raw: &str) -> Result<IpAddr, PkiError> {
    raw.trim()
        .parse()
        .map_err(|_| refuse(IP_FIELD, raw, "is not an IPv4 or IPv6 address"))
}

/// Whether `local` is an RFC 5321 dot-atom: atoms of letters, digits and ``!#$%&'*+/=?^_`{|}~-``
/// joined by single dots.
fn is_dot_atom(local: &str) -> bool {
    let atom_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
    (1..=MAX_LOCAL).contains(&local.len())
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(atom_char))
}

/// Checks one email address for an rfc822Name SAN; returns it trimmed.
pub fn email(raw: &str) -> Result<String, PkiError> {
    let value = raw.trim();
    if value.len() > MAX_EMAIL {
        return Err(refuse(EMAIL_FIELD, raw, "is longer than 254 characters"));
    }
    let Some((local, domain)) = value.split_once('@') else {
        return Err(refuse(EMAIL_FIELD, raw, "is not an email address (no `@`)"));
    };
    if !is_dot_atom(local) {
        return Err(refuse(
            EMAIL_FIELD,
            raw,
            "has a local part that is not 1 to 64 letters, digits or RFC 5321 symbols",
        ));
    }
    if domain.contains('*') || dns_name(domain).is_err() {
        return Err(refuse(
            EMAIL_FIELD,
            raw,
            "has a domain that is not a DNS name",
        ));
    }
    Ok(value.to_owned())
}

/// Checks every email address (the first refusal wins).
pub fn email_addresses<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, PkiError> {
    values.into_iter().map(email).collect()
}

/// Checks every DNS name (the first refusal wins).
pub fn dns_names<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, PkiError> {
    values.into_iter().map(dns_name).collect()
}

/// Checks every IP address (the first refusal wins).
pub fn ip_addresses<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<IpAddr>, PkiError> {
    values.into_iter().map(ip_address).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (value, accepted): the rules above, one row each.
    const DNS_ROWS: &[(&str, bool)] = &[
        ("example.com", true),
        ("www.example.com", true),
        ("*.example.com", true),
        ("*.example.co.uk", true),
        ("localhost", true),
        ("a-b.example", true),
        ("  host.example.com  ", true),
        ("*", false),
        ("*.com", false),
        ("*.co.uk", false),
        ("*.test", false),
        ("*a.b.com", false),
        ("a.*.com", false),
        ("**.x.com", false),
        ("*.*.x.com", false),
        ("10.0.0.1", false),
        ("::1", false),
        ("", false),
        ("-a.example.com", false),
        ("a-.example.com", false),
        ("a..example.com", false),
        ("example.com.", false),
        ("a_b.example.com", false),
        ("exämple.com", false),
    ];

    #[test]
    fn dns_name_rows() {
        for (value, accepted) in DNS_ROWS {
            assert_eq!(dns_name(value).is_ok(), *accepted, "{value:?}");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        assert!(dns_name(&long_label).is_err());
        let long_name = format!("{}com", "abcdefghi.".repeat(26));
        assert!(long_name.len() > 253 && dns_name(&long_name).is_err());
    }

    #[test]
    fn refusals_name_the_field_and_value() {
        let Err(error) = dns_name("*.com") else {
            panic!("accepted *.com")
        };
        assert_eq!(
            error.to_string(),
            "invalid san_dns_names: `*.com` is a wildcard directly under the public suffix `com`"
        );
        let Err(error) = ip_address("300.1.1.1") else {
            panic!("accepted 300.1.1.1")
        };
        assert!(
            error
                .to_string()
                .starts_with("invalid san_ip_addresses: `300.1.1.1`")
        );
    }

    #[test]
    fn email_rows() {
        for (value, accepted) in [
            ("alice@example.com", true),
            ("first.last+tag@mail.example.co.uk", true),
            ("  bob@example.com ", true),
            ("o'neil@example.com", true),
            ("alice", false),
            ("@example.com", false),
            ("alice@", false),
            ("a@b@example.com", false),
            (".alice@example.com", false),
            ("alice.@example.com", false),
            ("al..ice@example.com", false),
            ("al ice@example.com", false),
            ("älice@example.com", false),
            ("alice@*.example.com", false),
            ("alice@exa_mple.com", false),
            ("alice@10.0.0.1", false),
        ] {
            assert_eq!(email(value).is_ok(), accepted, "{value:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(email(&long_local).is_err());
        assert!(
            email("nobody")
                .unwrap_err()
                .to_string()
                .starts_with("invalid san_email_addresses: `nobody`")
        );
    }

    #[test]
    fn ip_rows() {
        for (value, accepted) in [
            ("10.0.0.1", true),
            ("::1", true),
            ("2001:db8::1", true),
            ("300.1.1.1", false),
            ("example.com", false),
            ("fe80::1%eth0", false),
            ("", false),
        ] {
            assert_eq!(ip_address(value).is_ok(), accepted, "{value:?}");
        }
    }
}
