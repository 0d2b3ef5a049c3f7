//! Signing certificate requests (SPEC §10): the CSR's signature is verified, the certificate
//! carries the CSR's public key and chains to its CA (`openssl verify`), and a CSR whose
//! signature does not match, or text that is no CSR, is a field error.

use crate::support::openssl;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use orgtenancy_server::pki::{
    csr::{VerifiedCsr, issue_for_csr},
    x509::{
        self, CaRequest, IssuerMaterial, KeyAlgorithm, LeafKind, LeafRequest, PkiError, Subject,
    },
};

/// A CSR made by openssl, and its key, in `dir`.
fn openssl_csr(dir: &std::path::Path, key: &[&str]) -> String {
    let mut args = vec![
        "req", "-new", "-nodes", "-keyout", "key.pem", "-out", "req.csr",
    ];
    args.extend(key);
    args.extend(["-subj", "/CN=csr-subject.example.com"]);
    let (ok, text) = openssl(dir, &args);
    assert!(ok, "{text}");
    std::fs::read_to_string(dir.join("req.csr")).unwrap()
}

fn request() -> LeafRequest {
    LeafRequest {
        subject: Subject {
            common_name: "svc.example.com".to_owned(),
            ..Subject::default()
        },
        kind: LeafKind::Server,
        dns_names: vec!["svc.example.com".to_owned()],
        ip_addresses: vec![],
        email_addresses: vec![],
        key: KeyAlgorithm::parse("ec", None).unwrap(),
        valid_days: 30,
        published: None,
    }
}

#[test]
fn a_csr_is_signed_with_its_own_key_and_chains_to_the_ca() {
    let ca = x509::issue_root(&CaRequest {
        subject: Subject {
            common_name: "CSR Root".to_owned(),
            ..Subject::default()
        },
        key: KeyAlgorithm::Rsa(2048),
        valid_days: 30,
        path_length: None,
        published: None,
    })
    .unwrap();
    let issuer = IssuerMaterial {
        certificate_pem: &ca.certificate_pem,
        private_key_pem: &ca.private_key_pem,
    };
    for key in [
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
        &["-newkey", "rsa:2048"][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let pem = openssl_csr(dir.path(), key);
        let csr = VerifiedCsr::parse(&pem).unwrap();
        let signed = issue_for_csr(&issuer, &csr, &request()).unwrap();
        assert_eq!(signed.subject_dn, "CN=svc.example.com");
        std::fs::write(dir.path().join("ca.pem"), &ca.certificate_pem).unwrap();
        std::fs::write(dir.path().join("leaf.pem"), &signed.certificate_pem).unwrap();
        let (ok, text) = openssl(
            dir.path(),
            &[
                "verify",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "sslserver",
                "leaf.pem",
            ],
        );
        assert!(ok, "{text}");
        // The certificate's public key is the CSR's key's.
        let (_, cert_key) = openssl(
            dir.path(),
            &["x509", "-in", "leaf.pem", "-noout", "-pubkey"],
        );
        let (_, own_key) = openssl(dir.path(), &["pkey", "-in", "key.pem", "-pubout"]);
        assert!(cert_key.contains("BEGIN PUBLIC KEY"), "{cert_key}");
        assert_eq!(cert_key, own_key);
    }
}

#[test]
fn a_csr_with_a_broken_signature_or_no_csr_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pem = openssl_csr(
        dir.path(),
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    // The same request with one letter of its subject changed: the signature no longer fits.
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let mut der = STANDARD.decode(body).unwrap();
    let at = der
        .windows(11)
        .position(|window| window == b"csr-subject")
        .unwrap();
    der[at] = b'k';
    let tampered = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        STANDARD.encode(&der)
    );
    let field = |result: Result<VerifiedCsr, PkiError>| match result {
        Err(PkiError::Invalid { field, message }) => format!("{field}: {message}"),
        other => format!("{other:?}"),
    };
    assert_eq!(
        field(VerifiedCsr::parse(&tampered)),
        "csr: its signature does not verify"
    );
    for junk in [
        "",
        "hello",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    ] {
        assert!(
            field(VerifiedCsr::parse(junk))
                .starts_with("csr: not a PEM certificate signing request"),
            "{junk:?}"
        );
    }
    assert!(VerifiedCsr::parse(&pem).is_ok());
}
