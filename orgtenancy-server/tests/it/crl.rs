//! Revocation lists as an independent tool reads them: `openssl crl` checks the signature
//! against the CA, and lists every revoked serial with its reason, the CRL number and the
//! next update (SPEC §10). The public file names of a CA, and the RFC 5280 reason names.

use crate::support::openssl;

use chrono::{Duration, TimeZone, Utc};
use orgtenancy_server::pki::{
    crl::{CrlPeriod, RevocationReason, RevokedEntry, sign_crl, slug},
    x509::{self, CaRequest, IssuerMaterial, KeyAlgorithm, LeafKind, LeafRequest, Subject},
};

fn subject(cn: &str) -> Subject {
    Subject {
        common_name: cn.to_owned(),
        ..Subject::default()
    }
}

#[test]
fn a_crl_lists_every_revoked_serial_and_verifies_against_its_ca() {
    for key in [
        KeyAlgorithm::Rsa(2048),
        KeyAlgorithm::parse("ec", None).unwrap(),
    ] {
        let ca = x509::issue_root(&CaRequest {
            subject: subject("CRL Test Root"),
            key,
            valid_days: 30,
            path_length: None,
            published: None,
        })
        .unwrap();
        let issuer = IssuerMaterial {
            certificate_pem: &ca.certificate_pem,
            private_key_pem: &ca.private_key_pem,
        };
        let leaf = |cn: &str| {
            x509::issue_leaf(
                &issuer,
                &LeafRequest {
                    subject: subject(cn),
                    kind: LeafKind::Client,
                    dns_names: vec![],
                    ip_addresses: vec![],
                    email_addresses: vec![],
                    key: KeyAlgorithm::parse("ec", None).unwrap(),
                    valid_days: 10,
                    published: None,
                },
            )
            .unwrap()
        };
        let (one, two, kept) = (leaf("one"), leaf("two"), leaf("kept"));
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let revoked = [
            RevokedEntry {
                serial_number: one.serial_number.clone(),
                revoked_at: at,
                reason: RevocationReason::KeyCompromise,
            },
            RevokedEntry {
                serial_number: two.serial_number.clone(),
                revoked_at: at + Duration::hours(1),
                reason: RevocationReason::Superseded,
            },
        ];
        let period = CrlPeriod {
            number: 7,
            this_update: at + Duration::hours(2),
            next_update: at + Duration::days(7),
        };
        let crl = sign_crl(&issuer, period, &revoked).unwrap();
        assert!(
            crl.pem.starts_with("-----BEGIN X509 CRL-----"),
            "{}",
            crl.pem
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), &ca.certificate_pem).unwrap();
        std::fs::write(dir.path().join("crl.der"), &crl.der).unwrap();
        std::fs::write(dir.path().join("crl.pem"), &crl.pem).unwrap();
        let (ok, text) = openssl(
            dir.path(),
            &[
                "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-noout", "-text",
            ],
        );
        assert!(ok && text.contains("verify OK"), "{text}");
        let upper = |serial: &str| serial.to_uppercase();
        assert!(text.contains(&upper(&one.serial_number)), "{text}");
        assert!(text.contains(&upper(&two.serial_number)), "{text}");
        assert!(!text.contains(&upper(&kept.serial_number)), "{text}");
        assert!(
            text.contains("Key Compromise") && text.contains("Superseded"),
            "{text}"
        );
        assert!(
            text.contains("X509v3 CRL Number") && text.contains("\n                7\n"),
            "{text}"
        );
        assert!(
            text.contains("Next Update: Dec  8 12:00:00 2026 GMT"),
            "{text}"
        );
        assert!(
            text.contains("Last Update: Dec  1 14:00:00 2026 GMT"),
            "{text}"
        );
        // The PEM form is the same CRL.
        let (ok, pem_text) = openssl(
            dir.path(),
            &[
                "crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-text",
            ],
        );
        assert!(ok && pem_text == text, "{pem_text}");

        // Signed by another CA, it does not verify against this one.
        let other = x509::issue_root(&CaRequest {
            subject: subject("Other Root"),
            key: KeyAlgorithm::parse("ec", None).unwrap(),
            valid_days: 30,
            path_length: None,
            published: None,
        })
        .unwrap();
        std::fs::write(dir.path().join("other.pem"), &other.certificate_pem).unwrap();
        let (_, text) = openssl(
            dir.path(),
            &["crl", "-in", "crl.pem", "-CAfile", "other.pem", "-noout"],
        );
        assert!(!text.contains("verify OK"), "{text}");
    }
}

#[test]
fn a_crl_needs_its_next_update_after_this_update() {
    let ca = x509::issue_root(&CaRequest {
        subject: subject("Root"),
        key: KeyAlgorithm::parse("ec", None).unwrap(),
        valid_days: 30,
        path_length: None,
        published: None,
    })
    .unwrap();
    let issuer = IssuerMaterial {
        certificate_pem: &ca.certificate_pem,
        private_key_pem: &ca.private_key_pem,
    };
    let now = Utc::now();
    let period = CrlPeriod {
        number: 1,
        this_update: now,
        next_update: now,
    };
    assert!(sign_crl(&issuer, period, &[]).is_err());
}

#[test]
fn reasons_parse_by_their_rfc_5280_names() {
    let rows = [
        ("keyCompromise", RevocationReason::KeyCompromise, 1),
        ("key_compromise", RevocationReason::KeyCompromise, 1),
        ("Key Compromise", RevocationReason::KeyCompromise, 1),
        ("cACompromise", RevocationReason::CaCompromise, 2),
        ("ca_compromise", RevocationReason::CaCompromise, 2),
        ("superseded", RevocationReason::Superseded, 4),
        ("removeFromCRL", RevocationReason::RemoveFromCrl, 8),
        ("aa_compromise", RevocationReason::AaCompromise, 10),
        ("unspecified", RevocationReason::Unspecified, 0),
    ];
    for (name, reason, code) in rows {
        assert_eq!(RevocationReason::parse(name), Ok(reason), "{name}");
        assert_eq!(reason.code(), code, "{name}");
    }
    for reason in RevocationReason::ALL {
        assert_eq!(RevocationReason::parse(reason.as_str()), Ok(reason));
    }
    for bad in ["", "compromised", "7", "keyCompromised", "lost it"] {
        let error = RevocationReason::parse(bad).unwrap_err().to_string();
        assert!(
            error.starts_with("invalid reason: expected an RFC 5280 reason"),
            "{error}"
        );
    }
}

#[test]
fn public_file_names_follow_the_spec() {
    let rows = [
        ("Issuing A", 4, "issuing-a-4"),
        ("Acme Root CA", 1, "acme-root-ca-1"),
        ("  spaced   out  ", 2, "spaced-out-2"),
        ("under_score__name", 3, "under-score-name-3"),
        ("Dots.and/slashes!", 5, "dotsandslashes-5"),
        ("already-dashed", 6, "already-dashed-6"),
        ("???", 7, "7"),
    ];
    for (name, id, expected) in rows {
        assert_eq!(slug(name, id), expected, "{name:?}");
    }
}
