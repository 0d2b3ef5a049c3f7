//! `/export/...` (SPEC §10, FastPKI's `export` commands): PEM attachments of CA and
//! certificate files, the chain of a certificate checked by `openssl verify`, key downloads
//! that match their certificates and are audited, and the engine's answers for other callers.

use serde_json::json;

use crate::{
    pki_matrix::create_ca,
    support::openssl,
    support::{Backend, Harness, MISSING},
};

/// Downloads `path` as `token`: the body, after checking the PEM attachment headers.
async fn pem(h: &Harness, token: &str, path: &str, filename: &str) -> String {
    let reply = h.get(path, Some(token)).await;
    reply.expect(200);
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        header("content-type").starts_with("application/x-pem-file"),
        "{path}"
    );
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"{filename}\""),
        "{path}"
    );
    reply.text.clone()
}

async fn downloads_are_pem_files_with_the_engines_answers(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let (a, b) = (
        h.create_org(&root, "acme").await,
        h.create_org(&root, "globex").await,
    );
    h.create_user(Some(&root), "adm", "admin", Some(a)).await;
    h.create_user(Some(&root), "reader", "user", Some(a)).await;
    h.create_user(Some(&root), "other", "admin", Some(b)).await;
    let (adm, reader, other) = (
        h.login("adm").await,
        h.login("reader").await,
        h.login("other").await,
    );
    let top = create_ca(&h, &adm, "Root A").await;
    let body = json!({"name": "Issuing A", "subject_dn": "CN=Issuing A", "key_type": "ec",
                      "valid_days": 100, "parent_ca_id": top});
    let issuing = h.post("/cas/", Some(&adm), body).await.expect(201).id();
    let leaf = json!({"common_name": "svc.example.com", "certificate_type": "server",
                      "key_type": "ec", "valid_days": 10});
    let cert = h
        .post(&format!("/certificates/?ca_id={issuing}"), Some(&adm), leaf)
        .await
        .expect(201)
        .id();

    let root_pem = pem(
        &h,
        &reader,
        &format!("/export/ca/{top}/certificate"),
        &format!("root-a-{top}.pem"),
    )
    .await;
    let issuing_pem = pem(
        &h,
        &reader,
        &format!("/export/ca/{issuing}/certificate"),
        &format!("issuing-a-{issuing}.pem"),
    )
    .await;
    let leaf_pem = pem(
        &h,
        &reader,
        &format!("/export/certificate/{cert}"),
        &format!("certificate-{cert}.pem"),
    )
    .await;
    let chain = pem(
        &h,
        &reader,
        &format!("/export/certificate/{cert}/chain"),
        &format!("certificate-{cert}-chain.pem"),
    )
    .await;
    assert_eq!(chain, format!("{leaf_pem}{issuing_pem}{root_pem}"));
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("root.pem", &root_pem);
    write("chain.pem", &chain);
    write("leaf.pem", &leaf_pem);
    let (ok, text) = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
            "leaf.pem",
        ],
    );
    assert!(ok, "{text}");

    // Keys: the export capability, audited, and the key of the certificate.
    for (path, name, of) in [
        (
            format!("/export/ca/{issuing}/private-key"),
            format!("issuing-a-{issuing}-key.pem"),
            issuing_pem.clone(),
        ),
        (
            format!("/export/certificate/{cert}/private-key"),
            format!("certificate-{cert}-key.pem"),
            leaf_pem.clone(),
        ),
    ] {
        h.get(&path, Some(&reader)).await.expect(403);
        let key = pem(&h, &adm, &path, &name).await;
        write("k.pem", &key);
        write("c.pem", &of);
        let (_, from_key) = openssl(dir.path(), &["pkey", "-in", "k.pem", "-pubout"]);
        let (_, from_cert) = openssl(dir.path(), &["x509", "-in", "c.pem", "-noout", "-pubkey"]);
        assert!(
            from_key.contains("BEGIN PUBLIC KEY") && from_key == from_cert,
            "{path}"
        );
    }
    for action in ["ca_export_private_key", "cert_export_private_key"] {
        let audit = h
            .get(&format!("/audit-logs/?action={action}"), Some(&root))
            .await;
        assert_eq!(
            audit.expect(200).json.as_array().map(Vec::len),
            Some(1),
            "{action}"
        );
    }

    // Another tenant: 403 for every download, as for a missing id; a superuser gets 404.
    for path in [
        format!("/export/ca/{top}/certificate"),
        format!("/export/ca/{top}/private-key"),
        format!("/export/certificate/{cert}"),
        format!("/export/certificate/{cert}/private-key"),
        format!("/export/certificate/{cert}/chain"),
    ] {
        h.get(&path, Some(&other)).await.expect(403);
        h.get(&path, None).await.expect(401);
        let missing = path
            .replace(&format!("/{top}/"), &format!("/{MISSING}/"))
            .replace(&format!("/{cert}"), &format!("/{MISSING}"));
        h.get(&missing, Some(&other)).await.expect(403);
        h.get(&missing, Some(&root)).await.expect(404);
    }
}

on_both_backends!(downloads_are_pem_files_with_the_engines_answers);
