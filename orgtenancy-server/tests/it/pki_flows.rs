//! CAs and certificates end to end: real chains verified by `openssl verify`, revocation,
//! adoption with and without cascade (SPEC §9), keys encrypted at rest, organization deletion
//! blocked by owned resources, and the audit trail of every resource action (§6).

use std::process::Command;

use serde_json::{Value, json};

use crate::{
    pki_matrix::{create_ca, issue},
    support::{Backend, Harness},
};

async fn superuser(h: &Harness) -> String {
    h.create_user(None, "root", "superuser", None).await;
    h.login("root").await
}

fn openssl_verify(root: &str, untrusted: &[&str], leaf: &str, purpose: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.pem"), root).unwrap();
    std::fs::write(dir.path().join("chain.pem"), untrusted.concat()).unwrap();
    std::fs::write(dir.path().join("leaf.pem"), leaf).unwrap();
    let mut args = vec!["verify", "-CAfile", "root.pem"];
    if !untrusted.is_empty() {
        args.extend(["-untrusted", "chain.pem"]);
    }
    args.extend(["-purpose", purpose, "leaf.pem"]);
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args(&args)
        .output()
        .expect("run openssl");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn text(cert: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), cert).unwrap();
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args(["x509", "-in", "c.pem", "-noout", "-text"])
        .output()
        .expect("run openssl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Root (RSA, once) → intermediate (EC) → leaf: the chain verifies, the extensions are right,
/// `GET /cas/{id}` returns the chain, and exported keys are PEM.
async fn chains_verify_with_openssl(backend: Backend) {
    let h = Harness::new(&backend).await;
    let root = superuser(&h).await;
    let org = h.create_org(&root, "acme").await;
    h.create_user(Some(&root), "adm", "admin", Some(org)).await;
    let adm = h.login("adm").await;
    let rsa_root = h
        .post(
            "/cas/",
            Some(&adm),
            json!({"name": "Acme Root", "subject_dn": "CN=Acme Root,O=Acme,C=US",
                   "key_type": "rsa", "key_size": 2048, "valid_days": 3650, "path_length": 1}),
        )
        .await;
    let rsa_root = rsa_root.expect(201).json.clone();
    assert_eq!(rsa_root["key_type"], "rsa");
    assert_eq!(rsa_root["key_size"], 2048);
    assert_eq!(rsa_root["is_root"], true);
    assert_eq!(rsa_root["organization_id"], org);
    // SPEC §10: the creator gets the key the server made (reads never carry it, below).
    assert!(
        rsa_root["private_key"]
            .as_str()
            .is_some_and(|key| key.starts_with("-----BEGIN PRIVATE KEY-----"))
    );
    let root_pem = rsa_root["certificate"].as_str().unwrap().to_owned();
    let root_text = text(&root_pem);
    assert!(root_text.contains("CA:TRUE, pathlen:1"), "{root_text}");
    assert!(root_text.contains("Certificate Sign"), "{root_text}");
    let inter = h
        .post(
            "/cas/",
            Some(&adm),
            json!({"name": "Acme Issuing", "subject_dn": "CN=Acme Issuing,O=Acme",
                   "key_type": "ec", "key_size": 384, "valid_days": 36500,
                   "parent_ca_id": rsa_root["id"]}),
        )
        .await;
    let inter = inter.expect(201).json.clone();
    assert_eq!(inter["is_root"], false);
    assert_eq!(inter["path_length"], 0);
    // Validity is cut at the issuer's expiry.
    assert!(inter["not_after"].as_str() <= rsa_root["not_after"].as_str());
    let inter_pem = inter["certificate"].as_str().unwrap().to_owned();
    // Path length 0: no CA below it.
    h.post(
        "/cas/",
        Some(&adm),
        json!({"name": "Too deep", "subject_dn": "CN=Deep", "key_type": "ec",
               "parent_ca_id": inter["id"]}),
    )
    .await
    .expect(409);
    let id = inter["id"].as_i64().unwrap();
    let read = h.get(&format!("/cas/{id}"), Some(&adm)).await;
    let read = read.expect(200).json.clone();
    assert_eq!(read["chain"], json!([root_pem]));
    assert!(read.get("private_key").is_none());
    for (kind, purpose) in [
        ("server", "sslserver"),
        ("client", "sslclient"),
        ("dual_purpose", "sslserver"),
        ("dual_purpose", "sslclient"),
    ] {
        let leaf = h
            .post(
                &format!("/certificates/?ca_id={id}"),
                Some(&adm),
                json!({"common_name": "www.acme.test", "certificate_type": kind,
                       "key_type": "ec", "san_dns_names": ["www.acme.test", "acme.test"],
                       "san_ip_addresses": ["192.0.2.7"]}),
            )
            .await;
        let leaf = leaf.expect(201).json.clone();
        assert_eq!(leaf["issuer_id"], id);
        assert_eq!(leaf["status"], "valid");
        assert_eq!(leaf["san_dns_names"], json!(["www.acme.test", "acme.test"]));
        assert_eq!(leaf["san_ip_addresses"], json!(["192.0.2.7"]));
        let pem = leaf["certificate"].as_str().unwrap();
        let (ok, output) = openssl_verify(&root_pem, &[&inter_pem], pem, purpose);
        assert!(ok, "{kind}/{purpose}: {output}");
        let leaf_text = text(pem);
        assert!(leaf_text.contains("CA:FALSE"), "{leaf_text}");
        assert!(leaf_text.contains("DNS:www.acme.test"), "{leaf_text}");
        assert!(leaf_text.contains("IP Address:192.0.2.7"), "{leaf_text}");
    }
    // A client certificate is not a server certificate.
    let client = h
        .post(
            "/certificates/",
            Some(&adm),
            json!({"ca_id": id, "common_name": "alice", "certificate_type": "client",
                   "key_type": "ec"}),
        )
        .await;
    let client = client.expect(201).json.clone();
    let (ok, _) = openssl_verify(
        &root_pem,
        &[&inter_pem],
        client["certificate"].as_str().unwrap(),
        "sslserver",
    );
    assert!(!ok, "a client certificate verified as a server certificate");
    // Exports return PEM keys.
    let key = h.get(&format!("/cas/{id}/private-key"), Some(&adm)).await;
    let key = key.expect(200).json["private_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(key.contains("BEGIN PRIVATE KEY"), "{key}");
    let cert_id = client["id"].as_i64().unwrap();
    let key = h
        .get(&format!("/certificates/{cert_id}/private-key"), Some(&adm))
        .await;
    assert!(
        key.expect(200).json["private_key"]
            .as_str()
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );
    // A CA that does not issue leaves, and bad input.
    let no_leaf = h
        .post(
            "/cas/",
            Some(&adm),
            json!({"name": "No leaf", "subject_dn": "CN=No leaf", "key_type": "ec",
                   "allow_leaf_certs": false}),
        )
        .await
        .expect(201)
        .id();
    h.post(
        &format!("/certificates/?ca_id={no_leaf}"),
        Some(&adm),
        json!({"common_name": "x", "certificate_type": "client", "key_type": "ec"}),
    )
    .await
    .expect(409);
    for body in [
        json!({"name": "x", "subject_dn": "CN=x", "key_type": "ec", "key_size": 123}),
        json!({"name": "x", "subject_dn": "XX=x", "key_type": "ec"}),
        json!({"name": "x", "subject_dn": "CN=x", "key_type": "dsa"}),
        json!({"name": "x", "key_type": "ec"}),
    ] {
        h.post("/cas/", Some(&adm), body)
            .await
            .expect(422)
            .assert_error_shape();
    }
    for body in [
        // No SAN, and a common name that is no DNS name to stand for one (SPEC §10).
        json!({"common_name": "not a host", "certificate_type": "server", "key_type": "ec"}),
        json!({"common_name": "x", "certificate_type": "client", "key_type": "ec",
               "san_ip_addresses": ["not-an-ip"]}),
        json!({"common_name": "x", "certificate_type": "tls", "key_type": "ec"}),
    ] {
        h.post(&format!("/certificates/?ca_id={id}"), Some(&adm), body)
            .await
            .expect(422)
            .assert_error_shape();
    }
    h.post(
        "/certificates/",
        Some(&adm),
        json!({"common_name": "x", "certificate_type": "client", "key_type": "ec"}),
    )
    .await
    .expect(422);
}

/// Revocation: status, time and reason shown; twice is 409; audited.
async fn revoked_certificates_show_as_revoked(backend: Backend) {
    let h = Harness::new(&backend).await;
    let root = superuser(&h).await;
    let ca = create_ca(&h, &root, "ca").await;
    let cert = issue(&h, &root, ca, "r.example.com").await;
    // SPEC §10: the reason is one of RFC 5280's, by name; anything else is 422 and revokes
    // nothing.
    let unknown = h
        .post(
            &format!("/certificates/{cert}/revoke"),
            Some(&root),
            json!({"reason": "lost my laptop"}),
        )
        .await;
    unknown.expect(422);
    assert!(
        unknown.json["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("invalid reason"))
    );
    let read = h.get(&format!("/certificates/{cert}"), Some(&root)).await;
    assert_eq!(read.expect(200).json["status"], "valid");
    let revoked = h
        .post(
            &format!("/certificates/{cert}/revoke"),
            Some(&root),
            json!({"reason": "key compromise"}),
        )
        .await;
    let revoked = revoked.expect(200).json.clone();
    assert_eq!(revoked["status"], "revoked");
    // Stored and shown by its RFC 5280 name.
    assert_eq!(revoked["revocation_reason"], "keyCompromise");
    assert!(revoked["revoked_at"].is_string());
    let read = h.get(&format!("/certificates/{cert}"), Some(&root)).await;
    assert_eq!(read.expect(200).json["status"], "revoked");
    h.post(
        &format!("/certificates/{cert}/revoke"),
        Some(&root),
        json!({}),
    )
    .await
    .expect(409)
    .assert_error_shape();
    let audit = h.get("/audit-logs/?action=cert_revoke", Some(&root)).await;
    let audit = audit.expect(200).json.clone();
    assert_eq!(audit.as_array().unwrap().len(), 1);
    assert_eq!(audit[0]["resource_id"], cert);
}

fn org_of(reply: &Value) -> Value {
    reply["organization_id"].clone()
}

/// §9 adoption: without cascade only the CA moves; with cascade every descendant CA and every
/// certificate of the moved CAs moves, in one go; nothing else moves.
async fn adoption_moves_exactly_the_right_rows(backend: Backend) {
    let h = Harness::new(&backend).await;
    let root = superuser(&h).await;
    let org = h.create_org(&root, "acme").await;
    let other = h.create_org(&root, "globex").await;
    // An org-less tree: R → I → G, certificates under R, I and G, and an unrelated CA U.
    let r = create_ca(&h, &root, "R").await;
    let sub = |parent: i64, name: &'static str| {
        json!({"name": name, "subject_dn": format!("CN={name}"), "key_type": "ec",
               "valid_days": 100, "parent_ca_id": parent})
    };
    let i = h
        .post("/cas/", Some(&root), sub(r, "I"))
        .await
        .expect(201)
        .id();
    let g = h
        .post("/cas/", Some(&root), sub(i, "G"))
        .await
        .expect(201)
        .id();
    let u = create_ca(&h, &root, "U").await;
    let cert_r = issue(&h, &root, r, "r.test").await;
    let cert_i = issue(&h, &root, i, "i.test").await;
    let cert_g = issue(&h, &root, g, "g.test").await;
    let cert_u = issue(&h, &root, u, "u.test").await;
    let ca_org = |id: i64| {
        let h = &h;
        let root = root.clone();
        async move { org_of(&h.get(&format!("/cas/{id}"), Some(&root)).await.json) }
    };
    let cert_org = |id: i64| {
        let h = &h;
        let root = root.clone();
        async move {
            org_of(
                &h.get(&format!("/certificates/{id}"), Some(&root))
                    .await
                    .json,
            )
        }
    };
    // Not a superuser: 403, even an admin of the target organization.
    h.create_user(Some(&root), "adm", "admin", Some(org)).await;
    let adm = h.login("adm").await;
    h.patch(
        &format!("/cas/{r}"),
        Some(&adm),
        json!({"organization_id": org}),
    )
    .await
    .expect(403);
    // Without cascade: R only.
    let moved = h
        .patch(
            &format!("/cas/{r}"),
            Some(&root),
            json!({"organization_id": org}),
        )
        .await;
    assert_eq!(org_of(&moved.expect(200).json), json!(org));
    for id in [i, g, u] {
        assert_eq!(ca_org(id).await, Value::Null, "CA {id}");
    }
    for id in [cert_r, cert_i, cert_g, cert_u] {
        assert_eq!(cert_org(id).await, Value::Null, "certificate {id}");
    }
    // With cascade from I: I, G and their certificates; R's certificate and U stay.
    h.patch(
        &format!("/cas/{i}"),
        Some(&root),
        json!({"organization_id": other, "cascade": true}),
    )
    .await
    .expect(200);
    assert_eq!(ca_org(r).await, json!(org));
    assert_eq!(ca_org(i).await, json!(other));
    assert_eq!(ca_org(g).await, json!(other));
    assert_eq!(ca_org(u).await, Value::Null);
    assert_eq!(cert_org(cert_r).await, Value::Null);
    assert_eq!(cert_org(cert_i).await, json!(other));
    assert_eq!(cert_org(cert_g).await, json!(other));
    assert_eq!(cert_org(cert_u).await, Value::Null);
    // The chain of G now crosses tenants (G, I in globex; R in acme): globex's admin gets it
    // up to I and not R's certificate; the superuser gets all of it.
    let pem = |id: i64| {
        let h = &h;
        let root = root.clone();
        async move {
            h.get(&format!("/cas/{id}"), Some(&root)).await.json["certificate"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (pem_i, pem_r) = (pem(i).await, pem(r).await);
    h.create_user(Some(&root), "globex-adm", "admin", Some(other))
        .await;
    let globex_adm = h.login("globex-adm").await;
    let seen = h.get(&format!("/cas/{g}"), Some(&globex_adm)).await;
    assert_eq!(seen.expect(200).json["chain"], json!([pem_i]));
    let seen = h.get(&format!("/cas/{g}"), Some(&root)).await;
    assert_eq!(seen.expect(200).json["chain"], json!([pem_i, pem_r]));
    // Cascade from R: everything under R lands in acme.
    h.patch(
        &format!("/cas/{r}"),
        Some(&root),
        json!({"organization_id": org, "cascade": true}),
    )
    .await
    .expect(200);
    for id in [r, i, g] {
        assert_eq!(ca_org(id).await, json!(org), "CA {id}");
    }
    for id in [cert_r, cert_i, cert_g] {
        assert_eq!(cert_org(id).await, json!(org), "certificate {id}");
    }
    assert_eq!(ca_org(u).await, Value::Null);
    // The admin of acme now sees the adopted tree.
    h.get(&format!("/cas/{g}"), Some(&adm)).await.expect(200);
    // Missing organization, missing CA.
    h.patch(
        &format!("/cas/{u}"),
        Some(&root),
        json!({"organization_id": 987_654_321}),
    )
    .await
    .expect(404);
    h.patch(
        "/cas/987654321",
        Some(&root),
        json!({"organization_id": org}),
    )
    .await
    .expect(404);
    let audit = h
        .get("/audit-logs/?action=ca_assign_org", Some(&root))
        .await;
    let audit = audit.expect(200).json.clone();
    // Three moves; the last one takes I and G out of globex, so globex gets its own entry
    // (issue 11 item 4: was 3, with nothing for globex to read).
    assert_eq!(audit.as_array().unwrap().len(), 4, "{audit}");
    assert_eq!(audit[0]["organization_id"], org);
}

/// No key column holds a plaintext PEM key, read straight from the database.
async fn keys_are_encrypted_at_rest(backend: Backend) {
    let h = Harness::new(&backend).await;
    let root = superuser(&h).await;
    let ca = create_ca(&h, &root, "ca").await;
    issue(&h, &root, ca, "k.example.com").await;
    let queries = [
        "SELECT encrypted_private_key FROM certificate_authorities",
        "SELECT encrypted_private_key FROM certificates",
    ];
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    for query in queries {
        if h._db.url.starts_with("sqlite:") {
            use sqlx::Connection as _;
            let mut conn = sqlx::SqliteConnection::connect(&h._db.url).await.unwrap();
            let rows: Vec<(Vec<u8>,)> = sqlx::query_as(query).fetch_all(&mut conn).await.unwrap();
            blobs.extend(rows.into_iter().map(|(b,)| b));
        } else {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&h._db.url).await.unwrap();
            let rows: Vec<(Vec<u8>,)> = sqlx::query_as(query).fetch_all(&mut conn).await.unwrap();
            blobs.extend(rows.into_iter().map(|(b,)| b));
        }
    }
    assert_eq!(blobs.len(), 2);
    for blob in blobs {
        assert!(blob.len() > 100, "too short to hold a key");
        for needle in [&b"BEGIN"[..], b"PRIVATE", b"-----"] {
            assert!(
                !blob.windows(needle.len()).any(|w| w == needle),
                "plaintext key material in the database"
            );
        }
    }
}

/// An organization that owns CAs or certificates cannot be deleted (409); once they are gone
/// (or moved) it can. Every resource action is audited under the resource's organization.
async fn organizations_owning_resources_are_not_deleted(backend: Backend) {
    let h = Harness::new(&backend).await;
    let root = superuser(&h).await;
    let org = h.create_org(&root, "acme").await;
    let adm_id = h.create_user(Some(&root), "adm", "admin", Some(org)).await;
    let adm = h.login("adm").await;
    let ca = create_ca(&h, &adm, "ca").await;
    let cert = issue(&h, &adm, ca, "d.example.com").await;
    h.delete(&format!("/organizations/{org}/users/{adm_id}"), Some(&root))
        .await
        .expect(200);
    let refused = h
        .delete(&format!("/organizations/{org}"), Some(&root))
        .await;
    refused.expect(409).assert_error_shape();
    // Moving the CA with its certificate away frees the organization.
    let elsewhere = h.create_org(&root, "elsewhere").await;
    h.patch(
        &format!("/cas/{ca}"),
        Some(&root),
        json!({"organization_id": elsewhere}),
    )
    .await
    .expect(200);
    // The certificate still belongs to acme.
    h.delete(&format!("/organizations/{org}"), Some(&root))
        .await
        .expect(409);
    h.post(
        &format!("/certificates/{cert}/revoke"),
        Some(&root),
        json!({}),
    )
    .await
    .expect(200);
    h.patch(
        &format!("/cas/{ca}"),
        Some(&root),
        json!({"organization_id": elsewhere, "cascade": true}),
    )
    .await
    .expect(200);
    h.get(&format!("/cas/{ca}/private-key"), Some(&root))
        .await
        .expect(200);
    h.get(&format!("/certificates/{cert}/private-key"), Some(&root))
        .await
        .expect(200);
    // A CA with certificates cannot be deleted either.
    h.delete(&format!("/cas/{ca}"), Some(&root))
        .await
        .expect(409);
    h.delete(&format!("/organizations/{org}"), Some(&root))
        .await
        .expect(204);
    let spare = create_ca(&h, &root, "spare").await;
    h.delete(&format!("/cas/{spare}"), Some(&root))
        .await
        .expect(204);
    let audit = h.get("/audit-logs/?limit=1000", Some(&root)).await;
    let actions: Vec<String> = audit
        .expect(200)
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in [
        "ca_create",
        "ca_delete",
        "ca_export_private_key",
        "ca_assign_org",
        "cert_create",
        "cert_revoke",
        "cert_export_private_key",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "no {action} in {actions:?}"
        );
    }
    // FastPKI's resource types and integer ids (SPEC §10), so `fastpki audit list -t ca`
    // finds the CA entries.
    for (resource_type, prefix) in [("ca", "ca_"), ("certificate", "cert_")] {
        let path = format!("/audit-logs/?resource_type={resource_type}&limit=1000");
        let entries = h.get(&path, Some(&root)).await;
        let entries = entries
            .expect(200)
            .json
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!entries.is_empty(), "{resource_type}");
        for entry in entries {
            assert!(
                entry["action"].as_str().unwrap().starts_with(prefix),
                "{entry}"
            );
            assert!(entry["resource_id"].is_i64(), "{entry}");
        }
    }
}

/// The configured key-encryption key is the one used: another key cannot open the stored keys
/// (500, nothing leaked), and a key of the wrong length refuses to start.
async fn configured_key_encryption_key(backend: Backend) {
    let config = |key: Vec<u8>| orgtenancy_server::ServerConfig {
        key_encryption_key: Some(key),
        ..crate::support::config()
    };
    let h = Harness::with_config(&backend, config(vec![7; 32])).await;
    let root = superuser(&h).await;
    let ca = create_ca(&h, &root, "ca").await;
    h.get(&format!("/cas/{ca}/private-key"), Some(&root))
        .await
        .expect(200);
    let other = orgtenancy_server::app(std::sync::Arc::clone(&h.store), config(vec![8; 32]))
        .await
        .expect("app with another key");
    let other = poem::test::TestClient::new(other);
    let reply = other
        .get(format!("/api/v1/cas/{ca}/private-key"))
        .header("authorization", format!("Bearer {root}"))
        .send()
        .await;
    reply.assert_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = reply.0.into_body().into_string().await.unwrap();
    assert!(!body.contains("BEGIN"), "{body}");
    assert!(
        orgtenancy_server::app(std::sync::Arc::clone(&h.store), config(vec![1; 16]))
            .await
            .is_err()
    );
}

on_both_backends!(
    configured_key_encryption_key,
    chains_verify_with_openssl,
    revoked_certificates_show_as_revoked,
    adoption_moves_exactly_the_right_rows,
    keys_are_encrypted_at_rest,
    organizations_owning_resources_are_not_deleted,
);
