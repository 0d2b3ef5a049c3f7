//! The public PKI files of SPEC §10 as relying parties fetch them, without a token: a CA's
//! certificate (DER and PEM) and its CRL (DER and PEM), checked by `openssl` (signature,
//! revoked serials and reasons, CRL numbers); the CRL distribution point and AIA caIssuers
//! URLs of issued certificates name exactly these files, under the CA's own `crl_base_url`
//! or the server's public base URL; any other name is a JSON 404.

use orgtenancy_server::ServerConfig;
use serde_json::json;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};

use crate::{
    pki_matrix::{create_ca, issue},
    support::openssl,
    support::{Backend, Harness, MISSING, Reply, config},
};

const BASE: &str = "http://pki.test";

/// A harness whose server says it is reachable at [`BASE`].
async fn published_harness(backend: &Backend) -> (Harness, String) {
    let config = ServerConfig {
        public_base_url: Some(BASE.to_owned()),
        ..config()
    };
    let h = Harness::with_config(backend, config).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    (h, root)
}

/// `GET path` without a token, as a relying party; the body as bytes too.
async fn fetch(h: &Harness, path: &str) -> (Reply, Vec<u8>) {
    let response = h.client.get(path).send().await.0;
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().into_vec().await.unwrap();
    let reply = Reply {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    };
    (reply, bytes)
}

/// `GET path` without a token: 200 with `content_type`; the body.
async fn file(h: &Harness, path: &str, content_type: &str) -> Vec<u8> {
    let (reply, bytes) = fetch(h, path).await;
    reply.expect(200);
    let got = reply.headers.get("content-type").unwrap().to_str().unwrap();
    assert_eq!(got, content_type, "{path}");
    let cache = reply.headers["cache-control"].to_str().unwrap();
    assert!(cache.starts_with("public, max-age="), "{path}: {cache}");
    bytes
}

/// The CRL of the CA `slug` (DER), verified by `openssl crl` against `ca_pem`: its number
/// and its (serial, reason) entries, serials in lowercase hex.
async fn crl(h: &Harness, slug: &str, ca_pem: &str) -> (u64, Vec<(String, String)>) {
    let der = file(h, &format!("/crl/{slug}"), "application/pkix-crl").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("crl.der"), &der).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    let args = [
        "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-noout",
    ];
    let (ok, text) = openssl(dir.path(), &args);
    assert!(ok && text.contains("verify OK"), "{text}");
    let (ok, text) = openssl(dir.path(), &[&args[..], &["-text"]].concat());
    assert!(ok && text.contains("Next Update: "), "{text}");
    // The PEM form is the same CRL.
    let pem = file(h, &format!("/crl/{slug}.pem"), "application/x-pem-file").await;
    std::fs::write(dir.path().join("crl.pem"), &pem).unwrap();
    let pem_args = [
        "crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-text",
    ];
    assert_eq!(openssl(dir.path(), &pem_args), (true, text.clone()));
    crl_facts(&text)
}

/// The CRL number and the (serial, reason) entries of `openssl crl -text` output.
fn crl_facts(text: &str) -> (u64, Vec<(String, String)>) {
    let mut lines = text.lines().map(str::trim);
    let (mut number, mut entries) = (None, vec![]);
    while let Some(line) = lines.next() {
        if line == "X509v3 CRL Number:" {
            number = lines.next().map(|n| n.parse::<u64>().unwrap());
        } else if let Some(serial) = line.strip_prefix("Serial Number: ") {
            entries.push((serial.to_lowercase(), String::new()));
        } else if line == "X509v3 CRL Reason Code:" {
            let reason = lines.next().unwrap().to_owned();
            entries.last_mut().unwrap().1 = reason;
        }
    }
    (number.expect("a CRL number"), entries)
}

/// The CRL distribution point URIs and the AIA caIssuers URIs of a PEM certificate.
fn named_urls(pem: &str) -> (Vec<String>, Vec<String>) {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    let (mut crls, mut issuers) = (vec![], vec![]);
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        for name in names {
                            if let GeneralName::URI(uri) = name {
                                crls.push((*uri).to_owned());
                            }
                        }
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(access) => {
                for desc in access.iter() {
                    assert_eq!(desc.access_method.to_id_string(), "1.3.6.1.5.5.7.48.2");
                    if let GeneralName::URI(uri) = &desc.access_location {
                        issuers.push((*uri).to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    (crls, issuers)
}

/// The stored PEM and serial of CA or certificate `path` (`/cas/1`, `/certificates/2`).
async fn pem_and_serial(h: &Harness, token: &str, path: &str) -> (String, String) {
    let reply = h.get(path, Some(token)).await;
    let json = &reply.expect(200).json;
    let pem = json["certificate"].as_str().unwrap().to_owned();
    (
        pem,
        json["serial_number"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn revoke(h: &Harness, token: &str, cert: i64, reason: &str) {
    let path = format!("/certificates/{cert}/revoke");
    h.post(&path, Some(token), json!({ "reason": reason }))
        .await
        .expect(200);
}

async fn public_files_serve_certificates_and_current_crls(backend: Backend) {
    let (h, root) = published_harness(&backend).await;
    let top = create_ca(&h, &root, "Root A").await;
    let body = json!({"name": "Issuing A", "subject_dn": "CN=Issuing A", "key_type": "ec",
                      "valid_days": 100, "parent_ca_id": top});
    let issuing = h.post("/cas/", Some(&root), body).await.expect(201).id();
    let (root_pem, _) = pem_and_serial(&h, &root, &format!("/cas/{top}")).await;
    let (ca_pem, _) = pem_and_serial(&h, &root, &format!("/cas/{issuing}")).await;
    let slug = format!("issuing-a-{issuing}");

    // The CA's certificate, PEM and DER, to anyone.
    let pem = file(&h, &format!("/ca/{slug}.pem"), "application/x-pem-file").await;
    assert_eq!(String::from_utf8(pem).unwrap(), ca_pem);
    let der = file(&h, &format!("/ca/{slug}.crt"), "application/pkix-cert").await;
    let (_, parsed) = x509_parser::pem::parse_x509_pem(ca_pem.as_bytes()).unwrap();
    assert_eq!(der, parsed.contents);

    // No revocation yet: an empty, verifiable CRL, kept while nothing changes.
    assert_eq!(crl(&h, &slug, &ca_pem).await, (1, vec![]));
    assert_eq!(crl(&h, &slug, &ca_pem).await, (1, vec![]));

    let mut certs = vec![];
    for cn in ["one.example.com", "two.example.com", "kept.example.com"] {
        let id = issue(&h, &root, issuing, cn).await;
        certs.push((
            id,
            pem_and_serial(&h, &root, &format!("/certificates/{id}")).await,
        ));
    }
    let [
        (one, (_, one_serial)),
        (two, (_, two_serial)),
        (kept, (kept_pem, _)),
    ] = <[_; 3]>::try_from(certs).unwrap();
    revoke(&h, &root, one, "keyCompromise").await;
    revoke(&h, &root, two, "superseded").await;
    let listed = vec![
        (one_serial.clone(), "Key Compromise".to_owned()),
        (two_serial.clone(), "Superseded".to_owned()),
    ];
    // A revocation is in the very next CRL, under a greater number; then the CRL is kept.
    assert_eq!(crl(&h, &slug, &ca_pem).await, (2, listed.clone()));
    assert_eq!(crl(&h, &slug, &ca_pem).await, (2, listed.clone()));
    revoke(&h, &root, kept, "cessationOfOperation").await;
    let (number, entries) = crl(&h, &slug, &ca_pem).await;
    assert_eq!((number, &entries[..2]), (3, &listed[..]));
    assert_eq!(entries.len(), 3);
    // The root's CRL is its own, signed by the root, listing nothing.
    assert_eq!(
        crl(&h, &format!("root-a-{top}"), &root_pem).await,
        (1, vec![])
    );

    // What an issued certificate names is exactly these files.
    let valid = issue(&h, &root, issuing, "valid.example.com").await;
    let (valid_pem, _) = pem_and_serial(&h, &root, &format!("/certificates/{valid}")).await;
    let (crls, issuers) = named_urls(&valid_pem);
    assert_eq!(crls, [format!("{BASE}/crl/{slug}")]);
    assert_eq!(issuers, [format!("{BASE}/ca/{slug}.crt")]);
    let named_crl = file(&h, &crls[0].replace(BASE, ""), "application/pkix-crl").await;
    let served_crl = file(&h, &format!("/crl/{slug}"), "application/pkix-crl").await;
    assert_eq!(named_crl, served_crl);
    let named_ca = file(&h, &issuers[0].replace(BASE, ""), "application/pkix-cert").await;
    assert_eq!(named_ca, der);
    // The intermediate names its parent's files; the root names none.
    let top_slug = format!("root-a-{top}");
    let expected = (
        vec![format!("{BASE}/crl/{top_slug}")],
        vec![format!("{BASE}/ca/{top_slug}.crt")],
    );
    assert_eq!(named_urls(&ca_pem), expected);
    assert_eq!(named_urls(&root_pem), (vec![], vec![]));

    // The chain still verifies, and with the CRL checked, a revoked leaf does not.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    write("root.pem", root_pem.as_bytes());
    write("ca.pem", ca_pem.as_bytes());
    write("valid.pem", valid_pem.as_bytes());
    write("revoked.pem", kept_pem.as_bytes());
    write("crl.der", &served_crl);
    let (ok, text) = openssl(
        dir.path(),
        &["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"],
    );
    assert!(ok, "{text}");
    let verify = |leaf: &'static str, crl_check: bool| {
        let mut args = vec!["verify", "-CAfile", "root.pem", "-untrusted", "ca.pem"];
        if crl_check {
            args.extend(["-crl_check", "-CRLfile", "crl.pem"]);
        }
        args.push(leaf);
        openssl(dir.path(), &args)
    };
    for crl_check in [false, true] {
        let (ok, text) = verify("valid.pem", crl_check);
        assert!(ok, "{text}");
    }
    let (ok, text) = verify("revoked.pem", true);
    assert!(!ok && text.contains("certificate revoked"), "{text}");
}

async fn a_ca_with_its_own_base_url_names_it(backend: Backend) {
    let (h, root) = published_harness(&backend).await;
    let body = json!({"name": "Own Base", "subject_dn": "CN=Own Base", "key_type": "ec",
                      "crl_base_url": "https://crl.example.org/pki/"});
    let own = h.post("/cas/", Some(&root), body).await;
    own.expect(201);
    assert_eq!(own.json["crl_base_url"], "https://crl.example.org/pki");
    let own = own.id();
    let cert = issue(&h, &root, own, "own.example.com").await;
    let (pem, _) = pem_and_serial(&h, &root, &format!("/certificates/{cert}")).await;
    let slug = format!("own-base-{own}");
    let expected = (
        vec![format!("https://crl.example.org/pki/crl/{slug}")],
        vec![format!("https://crl.example.org/pki/ca/{slug}.crt")],
    );
    assert_eq!(named_urls(&pem), expected);
    // The files are served here all the same (the base may be a mirror or a proxy of them).
    file(&h, &format!("/crl/{slug}"), "application/pkix-crl").await;

    // A name outside ASCII is percent-encoded in the certificate, and the URL works.
    let zurich = create_ca(&h, &root, "Zürich CA").await;
    let cert = issue(&h, &root, zurich, "z.example.com").await;
    let (pem, _) = pem_and_serial(&h, &root, &format!("/certificates/{cert}")).await;
    let (crls, issuers) = named_urls(&pem);
    assert_eq!(crls, [format!("{BASE}/crl/z%C3%BCrich-ca-{zurich}")]);
    file(&h, &crls[0].replace(BASE, ""), "application/pkix-crl").await;
    file(&h, &issuers[0].replace(BASE, ""), "application/pkix-cert").await;

    // A server with no public base URL names nothing for a CA without its own.
    let plain = Harness::new(&backend).await;
    plain.create_user(None, "root", "superuser", None).await;
    let token = plain.login("root").await;
    let ca = create_ca(&plain, &token, "Plain").await;
    let cert = issue(&plain, &token, ca, "plain.example.com").await;
    let (pem, _) = pem_and_serial(&plain, &token, &format!("/certificates/{cert}")).await;
    assert_eq!(named_urls(&pem), (vec![], vec![]));
    file(&plain, &format!("/crl/plain-{ca}"), "application/pkix-crl").await;
}

async fn other_names_are_json_404s(backend: Backend) {
    let (h, root) = published_harness(&backend).await;
    let ca = create_ca(&h, &root, "Issuing A").await;
    let other = create_ca(&h, &root, "Other").await;
    let good = format!("issuing-a-{ca}");
    file(&h, &format!("/crl/{good}"), "application/pkix-crl").await;
    let bad = [
        format!("/crl/issuing-b-{ca}"),
        format!("/crl/other-{ca}"),
        format!("/crl/issuing-a-{other}"),
        format!("/crl/issuing-a-0{ca}"),
        format!("/crl/{ca}"),
        format!("/crl/{good}.der"),
        format!("/crl/{good}.crt"),
        format!("/crl/issuing-a-{MISSING}"),
        "/crl/issuing-a-99999999999999999999".to_owned(),
        "/crl/issuing-a--1".to_owned(),
        "/crl/issuing-a-".to_owned(),
        "/crl/-".to_owned(),
        "/crl/%FF%FE".to_owned(),
        "/crl/%00".to_owned(),
        format!("/ca/{good}"),
        format!("/ca/{good}.der"),
        format!("/ca/ISSUING-A-{ca}.crt"),
        format!("/ca/issuing-a-{other}.pem"),
        "/ca/.crt".to_owned(),
    ];
    for path in &bad {
        let (reply, _) = fetch(&h, path).await;
        reply.expect(404);
        reply.assert_error_shape();
    }

    // A deleted CA's files are gone (after its CRL was published).
    let gone = create_ca(&h, &root, "Gone").await;
    file(&h, &format!("/crl/gone-{gone}"), "application/pkix-crl").await;
    h.delete(&format!("/cas/{gone}"), Some(&root))
        .await
        .expect(204);
    for path in [
        format!("/crl/gone-{gone}"),
        format!("/crl/gone-{gone}.pem"),
        format!("/ca/gone-{gone}.crt"),
        format!("/ca/gone-{gone}.pem"),
    ] {
        let (reply, _) = fetch(&h, &path).await;
        reply.expect(404);
        reply.assert_error_shape();
    }
}

on_both_backends!(
    public_files_serve_certificates_and_current_crls,
    a_ca_with_its_own_base_url_names_it,
    other_names_are_json_404s,
);
