//! SPEC §10's issuing surface beyond `POST /certificates/`: CSRs signed for the requester's
//! key (by CA id and by name), renewals that keep subject and SANs, FastPKI's `ca`
//! certificate type, and certificates whose key the server does not keep — each checked with
//! `openssl`, and each bad body a 422 naming the field.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Backend, Harness};

/// Runs `openssl args…` in `dir`; its stdout, or a panic with its stderr.
fn openssl(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh RSA key and a CSR for it (`subject`, extensions `addext`) in `dir`: `req.pem`,
/// `key.pem`; returns the CSR's PEM.
fn make_csr(dir: &std::path::Path, subject: &str, addext: Option<&str>) -> String {
    let mut args = vec![
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "req.pem",
        "-subj", subject,
    ];
    if let Some(ext) = addext {
        args.extend(["-addext", ext]);
    }
    openssl(dir, &args);
    std::fs::read_to_string(dir.join("req.pem")).unwrap()
}

/// The public key of a PEM certificate, and of a PEM key, as PEM.
fn public_keys(dir: &std::path::Path, cert: &str) -> (String, String) {
    std::fs::write(dir.join("cert.pem"), cert).unwrap();
    let of_cert = openssl(dir, &["x509", "-in", "cert.pem", "-noout", "-pubkey"]);
    let of_key = openssl(dir, &["pkey", "-in", "key.pem", "-pubout"]);
    (of_cert, of_key)
}

struct Pki {
    h: Harness,
    admin: String,
    root_ca: Value,
    issuing: Value,
}

async fn pki(backend: &Backend) -> Pki {
    let h = Harness::new(backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let org = h.create_org(&root, "acme").await;
    h.create_user(Some(&root), "adm", "admin", Some(org)).await;
    let admin = h.login("adm").await;
    let root_ca = h
        .post("/cas/", Some(&admin), json!({"name": "Acme Root", "subject_dn": "CN=Acme Root", "key_type": "ec", "path_length": 1}))
        .await
        .expect(201)
        .json
        .clone();
    let issuing = json!({"name": "Issuing A", "subject_dn": "CN=Issuing A", "key_type": "ec",
                          "parent_ca_id": root_ca["id"], "path_length": 0});
    let issuing = h
        .post("/cas/", Some(&admin), issuing)
        .await
        .expect(201)
        .json
        .clone();
    Pki {
        h,
        admin,
        root_ca,
        issuing,
    }
}

fn pem(value: &Value) -> &str {
    value["certificate"].as_str().unwrap()
}

/// The certificate verifies up the chain root → issuing (openssl), for `purpose`.
fn verifies(dir: &std::path::Path, p: &Pki, cert: &str, purpose: &str) {
    std::fs::write(dir.join("root.pem"), pem(&p.root_ca)).unwrap();
    std::fs::write(dir.join("issuing.pem"), pem(&p.issuing)).unwrap();
    std::fs::write(dir.join("leaf.pem"), cert).unwrap();
    let args = [
        "verify",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "issuing.pem",
        "-purpose",
        purpose,
        "leaf.pem",
    ];
    openssl(dir, &args);
}

async fn csrs_are_signed_for_their_key(backend: Backend) {
    let p = pki(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let csr = make_csr(
        dir.path(),
        "/CN=app.acme.example/O=Acme",
        Some("subjectAltName=DNS:app.acme.example,DNS:api.acme.example,IP:10.1.2.3"),
    );
    let body = json!({"csr": csr, "ca_id": p.issuing["id"], "certificate_type": "server"});
    let cert =
        p.h.post("/certificates/sign-csr", Some(&p.admin), body)
            .await
            .expect(201)
            .json
            .clone();
    assert_eq!(cert["common_name"], "app.acme.example");
    assert_eq!(cert["subject_dn"], "CN=app.acme.example,O=Acme");
    assert_eq!(
        cert["san_dns_names"],
        json!(["app.acme.example", "api.acme.example"])
    );
    assert_eq!(cert["san_ip_addresses"], json!(["10.1.2.3"]));
    assert_eq!(
        (cert["key_type"].as_str(), cert["key_size"].as_i64()),
        (Some("rsa"), Some(2048))
    );
    assert!(
        cert.get("private_key").is_none(),
        "the requester holds the key"
    );
    assert_eq!(cert["private_key_kept"], false);
    verifies(dir.path(), &p, pem(&cert), "sslserver");
    let (of_cert, of_key) = public_keys(dir.path(), pem(&cert));
    assert_eq!(of_cert, of_key, "the certificate certifies the CSR's key");
    // The server has no key to export.
    let export =
        p.h.get(
            &format!("/certificates/{}/private-key", cert["id"]),
            Some(&p.admin),
        )
        .await;
    export.expect(409).assert_error_shape();
    // By the CA's name, with the body's own subject and SANs instead of the CSR's.
    let body = json!({"csr": csr, "ca_name": "Issuing A", "certificate_type": "client",
                      "common_name": "svc", "san_email_addresses": ["svc@acme.example"]});
    let cert =
        p.h.post("/certificates/sign-csr", Some(&p.admin), body)
            .await
            .expect(201)
            .json
            .clone();
    assert_eq!(
        (cert["common_name"].as_str(), cert["issuer_id"].as_i64()),
        (Some("svc"), p.issuing["id"].as_i64())
    );
    assert_eq!(cert["san_dns_names"], json!([]));
    assert_eq!(cert["san_email_addresses"], json!(["svc@acme.example"]));
    verifies(dir.path(), &p, pem(&cert), "sslclient");
}

async fn bad_csr_bodies_are_422(backend: Backend) {
    let p = pki(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let csr = make_csr(dir.path(), "/CN=app.acme.example", None);
    // A flipped byte inside the base64 body breaks the signature (or the structure).
    let mut tampered: Vec<char> = csr.chars().collect();
    let at = csr.len() - 80;
    tampered[at] = if tampered[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    openssl(dir.path(), &["genrsa", "-out", "weak.pem", "1024"]);
    let weak = openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-key",
            "weak.pem",
            "-subj",
            "/CN=weak.example",
        ],
    );
    let id = p.issuing["id"].clone();
    let cases = [
        (
            json!({"csr": tampered, "ca_id": id, "certificate_type": "server"}),
            422,
            "csr",
        ),
        (
            json!({"csr": "not a CSR", "ca_id": id, "certificate_type": "server"}),
            422,
            "csr",
        ),
        (
            json!({"csr": pem(&p.root_ca), "ca_id": id, "certificate_type": "server"}),
            422,
            "csr",
        ),
        (
            json!({"csr": weak, "ca_id": id, "certificate_type": "server"}),
            422,
            "csr",
        ),
        (
            json!({"csr": csr, "certificate_type": "server"}),
            422,
            "ca_id",
        ),
        (
            json!({"csr": csr, "ca_id": id, "ca_name": "Issuing A", "certificate_type": "server"}),
            422,
            "ca_name",
        ),
        (
            json!({"csr": csr, "ca_id": id, "certificate_type": "server", "san_dns_names": ["bad name"]}),
            422,
            "san_dns_names",
        ),
        (
            json!({"csr": csr, "ca_id": id, "certificate_type": "bogus"}),
            422,
            "certificate_type",
        ),
        (
            json!({"csr": csr, "ca_id": id, "certificate_type": "server", "valid_days": 0}),
            422,
            "valid_days",
        ),
    ];
    for (body, status, field) in cases {
        let reply =
            p.h.post("/certificates/sign-csr", Some(&p.admin), body.clone())
                .await;
        reply.expect(status).assert_error_shape();
        let detail = reply.json["detail"].as_str().unwrap();
        assert!(detail.contains(field), "{body}: {detail}");
    }
    // Two readable CAs of one name: 409, never 500.
    let twin = json!({"name": "Issuing A", "subject_dn": "CN=Twin", "key_type": "ec"});
    p.h.post("/cas/", Some(&p.admin), twin).await.expect(201);
    let body = json!({"csr": csr, "ca_name": "Issuing A", "certificate_type": "server"});
    let reply =
        p.h.post("/certificates/sign-csr", Some(&p.admin), body)
            .await;
    reply.expect(409).assert_error_shape();
    assert!(reply.json["detail"].as_str().unwrap().contains("ca_name"));
}

async fn renewals_keep_subject_and_sans(backend: Backend) {
    let p = pki(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let body = json!({"common_name": "ops", "subject_dn": "CN=ops,O=Acme,C=US", "certificate_type": "dual_purpose",
                      "key_type": "rsa", "key_size": 3072, "valid_days": 30,
                      "san_dns_names": ["ops.acme.example"], "san_ip_addresses": ["192.0.2.7"],
                      "san_email_addresses": ["ops@acme.example"]});
    let path = format!("/certificates/?ca_id={}", p.issuing["id"]);
    let old =
        p.h.post(&path, Some(&p.admin), body)
            .await
            .expect(201)
            .json
            .clone();
    let renewed =
        p.h.post(
            &format!("/certificates/{}/renew", old["id"]),
            Some(&p.admin),
            json!({}),
        )
        .await;
    let new = renewed.expect(201).json.clone();
    for field in [
        "common_name",
        "subject_dn",
        "certificate_type",
        "key_type",
        "key_size",
        "valid_days",
        "san_dns_names",
        "san_ip_addresses",
        "san_email_addresses",
        "issuer_id",
    ] {
        assert_eq!(new[field], old[field], "{field}");
    }
    assert_eq!(new["renewed_from_id"], old["id"]);
    assert_ne!(new["serial_number"], old["serial_number"]);
    assert_ne!(new["id"], old["id"]);
    // A fresh key, returned and kept; the old certificate is unchanged.
    let key = new["private_key"].as_str().unwrap();
    assert_ne!(Some(key), old["private_key"].as_str());
    std::fs::write(dir.path().join("key.pem"), key).unwrap();
    let (of_cert, of_key) = public_keys(dir.path(), pem(&new));
    assert_eq!(of_cert, of_key);
    verifies(dir.path(), &p, pem(&new), "sslclient");
    let again =
        p.h.get(&format!("/certificates/{}", old["id"]), Some(&p.admin))
            .await
            .expect(200)
            .json
            .clone();
    assert_eq!(
        (again["status"].as_str(), again["updated_at"].clone()),
        (Some("valid"), old["updated_at"].clone())
    );
    let audit =
        p.h.get("/audit-logs/?action=cert_renew", Some(&p.admin))
            .await
            .expect(200)
            .json
            .clone();
    let entries = audit.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["resource_id"], new["id"]);
    assert_eq!(entries[0]["resource_type"], "certificate");
}

async fn csr_certificates_renew_with_a_csr(backend: Backend) {
    let p = pki(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let csr = make_csr(dir.path(), "/CN=app.acme.example", None);
    let body = json!({"csr": csr, "ca_id": p.issuing["id"], "certificate_type": "server"});
    let old =
        p.h.post("/certificates/sign-csr", Some(&p.admin), body)
            .await
            .expect(201)
            .json
            .clone();
    let renew = format!("/certificates/{}/renew", old["id"]);
    // The requester holds the key: without a CSR there is nothing to certify.
    let reply = p.h.post(&renew, Some(&p.admin), json!({})).await;
    reply.expect(422).assert_error_shape();
    assert!(reply.json["detail"].as_str().unwrap().contains("csr"));
    let fresh = make_csr(dir.path(), "/CN=ignored.example", None);
    let new =
        p.h.post(&renew, Some(&p.admin), json!({"csr": fresh}))
            .await
            .expect(201)
            .json
            .clone();
    assert_eq!(
        (new["subject_dn"].clone(), new["san_dns_names"].clone()),
        (old["subject_dn"].clone(), old["san_dns_names"].clone())
    );
    assert!(new.get("private_key").is_none());
    let (of_cert, of_key) = public_keys(dir.path(), pem(&new));
    assert_eq!(of_cert, of_key, "the renewal certifies the new CSR's key");
    let bad =
        p.h.post(&renew, Some(&p.admin), json!({"csr": "garbage"}))
            .await;
    bad.expect(422).assert_error_shape();
}

async fn ca_type_and_keys_not_kept(backend: Backend) {
    let p = pki(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let body = json!({"common_name": "Sub Signer", "certificate_type": "ca", "key_type": "ec"});
    let root_path = format!("/certificates/?ca_id={}", p.root_ca["id"]);
    let ca_cert =
        p.h.post(&root_path, Some(&p.admin), body.clone())
            .await
            .expect(201)
            .json
            .clone();
    assert_eq!(ca_cert["certificate_type"], "ca");
    std::fs::write(dir.path().join("ca.pem"), pem(&ca_cert)).unwrap();
    let text = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-text"]);
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
    assert!(text.contains("Certificate Sign"), "{text}");
    // Under a CA whose path length is 0 there is no room for another CA: 409.
    let issuing_path = format!("/certificates/?ca_id={}", p.issuing["id"]);
    p.h.post(&issuing_path, Some(&p.admin), body)
        .await
        .expect(409)
        .assert_error_shape();
    // include_private_key false: no key in the answer, none kept, none to export.
    let body = json!({"common_name": "nokey.acme.example", "certificate_type": "server", "key_type": "ec",
                      "include_private_key": false});
    let cert =
        p.h.post(&issuing_path, Some(&p.admin), body)
            .await
            .expect(201)
            .json
            .clone();
    assert!(cert.get("private_key").is_none());
    assert_eq!(cert["private_key_kept"], false);
    let export = format!("/certificates/{}/private-key", cert["id"]);
    p.h.get(&export, Some(&p.admin))
        .await
        .expect(409)
        .assert_error_shape();
    let download = format!("/export/certificate/{}/private-key", cert["id"]);
    p.h.get(&download, Some(&p.admin))
        .await
        .expect(409)
        .assert_error_shape();
    // Renewing it makes (and keeps) a new key.
    let renewed =
        p.h.post(
            &format!("/certificates/{}/renew", cert["id"]),
            Some(&p.admin),
            json!({}),
        )
        .await;
    let renewed = renewed.expect(201).json.clone();
    assert!(renewed["private_key"].as_str().is_some());
    assert_eq!(renewed["private_key_kept"], true);
}

on_both_backends!(
    csrs_are_signed_for_their_key,
    bad_csr_bodies_are_422,
    renewals_keep_subject_and_sans,
    csr_certificates_renew_with_a_csr,
    ca_type_and_keys_not_kept,
);
