//! Unit tests of CRL signing, reasons, slugs and the published-URL extensions.

use std::process::Command;

use x509_parser::{
    extensions::{DistributionPointName, GeneralName, ParsedExtension},
    oid_registry::{OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS, OID_PKIX_AUTHORITY_INFO_ACCESS},
};

use super::*;
use crate::pki::x509::{
    self, CaRequest, Issued, KeyAlgorithm, LeafKind, LeafRequest, Subject, issue_leaf,
};

fn ca_request(cn: &str, published: Option<PublishedAt>) -> CaRequest {
    CaRequest {
        subject: Subject {
            common_name: cn.to_owned(),
            ..Subject::default()
        },
        key: KeyAlgorithm::parse("ec", None).unwrap(),
        valid_days: 30,
        path_length: None,
        published,
    }
}

fn leaf(ca: &Issued, published: Option<PublishedAt>) -> Issued {
    let request = LeafRequest {
        subject: Subject {
            common_name: "svc.example.com".to_owned(),
            ..Subject::default()
        },
        kind: LeafKind::Server,
        dns_names: vec![],
        ip_addresses: vec![],
        email_addresses: vec![],
        key: KeyAlgorithm::parse("ec", None).unwrap(),
        valid_days: 10,
        published,
    };
    let issuer = IssuerMaterial {
        certificate_pem: &ca.certificate_pem,
        private_key_pem: &ca.private_key_pem,
    };
    issue_leaf(&issuer, &request).unwrap()
}

/// The CRL distribution point URIs and the AIA (access method, URI) pairs of `pem`, and
/// whether the AIA extension is critical.
fn named(pem: &str) -> (Vec<String>, Vec<(String, String)>, Option<bool>) {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    let (mut crls, mut aia, mut critical) = (vec![], vec![], None);
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    else {
                        panic!("not a full name: {point:?}");
                    };
                    for name in names {
                        let GeneralName::URI(uri) = name else {
                            panic!("not a URI: {name:?}")
                        };
                        crls.push((*uri).to_owned());
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(access) => {
                assert_eq!(ext.oid, OID_PKIX_AUTHORITY_INFO_ACCESS);
                critical = Some(ext.critical);
                for desc in access.iter() {
                    let GeneralName::URI(uri) = &desc.access_location else {
                        panic!("not a URI: {desc:?}")
                    };
                    aia.push((desc.access_method.to_id_string(), (*uri).to_owned()));
                }
            }
            _ => {}
        }
    }
    (crls, aia, critical)
}

fn openssl_text(pem: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), pem).unwrap();
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args(["x509", "-in", "c.pem", "-noout", "-text"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn issued_certificates_name_where_their_issuer_publishes() {
    let at = PublishedAt::of("http://pki.test:8080/base", "Issuing A", 4);
    let ca_issuers = OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS.to_id_string();
    assert_eq!(ca_issuers, "1.3.6.1.5.5.7.48.2");
    // A root names nothing, even when asked to.
    let root = x509::issue_root(&ca_request("Root", Some(at.clone()))).unwrap();
    assert_eq!(named(&root.certificate_pem), (vec![], vec![], None));
    let issuer = IssuerMaterial {
        certificate_pem: &root.certificate_pem,
        private_key_pem: &root.private_key_pem,
    };
    let intermediate =
        x509::issue_intermediate(&issuer, &ca_request("Issuing A", Some(at.clone()))).unwrap();
    let server = leaf(&intermediate, Some(at.clone()));
    for pem in [&intermediate.certificate_pem, &server.certificate_pem] {
        let expected = (
            vec!["http://pki.test:8080/base/crl/issuing-a-4".to_owned()],
            vec![(
                ca_issuers.clone(),
                "http://pki.test:8080/base/ca/issuing-a-4.crt".to_owned(),
            )],
            Some(false),
        );
        assert_eq!(named(pem), expected);
        let text = openssl_text(pem);
        assert!(text.contains("X509v3 CRL Distribution Points"), "{text}");
        assert!(
            text.contains("URI:http://pki.test:8080/base/crl/issuing-a-4"),
            "{text}"
        );
        assert!(text.contains("Authority Information Access"), "{text}");
        assert!(
            text.contains("CA Issuers - URI:http://pki.test:8080/base/ca/issuing-a-4.crt"),
            "{text}"
        );
    }
    // Without a published place, nothing.
    let quiet = leaf(&intermediate, None);
    assert_eq!(named(&quiet.certificate_pem), (vec![], vec![], None));
}
