//! `GET /cas/{id}/chain` and `GET /cas/{id}/children` (SPEC §10): a CA and its issuers up to
//! the root, and the CAs it signed, each as far as the caller may read them.

use serde_json::{Value, json};

use crate::{
    pki_matrix::create_ca,
    support::{Backend, Harness, MISSING},
};

fn ids(reply: &Value) -> Vec<i64> {
    reply
        .as_array()
        .map(|items| items.iter().filter_map(|ca| ca["id"].as_i64()).collect())
        .unwrap_or_default()
}

async fn intermediate(h: &Harness, token: &str, parent: i64, name: &str) -> i64 {
    let body = json!({
        "name": name, "subject_dn": format!("CN={name}"), "key_type": "ec",
        "valid_days": 100, "parent_ca_id": parent,
    });
    h.post("/cas/", Some(token), body).await.expect(201).id()
}

/// Root → issuing → leaf CA in tenant A; then the issuing CA moves to B without cascade.
async fn chains_and_children_stop_where_reading_stops(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let (a, b) = (
        h.create_org(&root, "acme").await,
        h.create_org(&root, "globex").await,
    );
    h.create_user(Some(&root), "adm_a", "admin", Some(a)).await;
    h.create_user(Some(&root), "adm_b", "admin", Some(b)).await;
    h.create_user(Some(&root), "user_a", "user", Some(a)).await;
    let (adm_a, adm_b) = (h.login("adm_a").await, h.login("adm_b").await);
    let user_a = h.login("user_a").await;
    let top = create_ca(&h, &adm_a, "Top").await;
    let issuing = intermediate(&h, &adm_a, top, "Issuing").await;
    let leafish = intermediate(&h, &adm_a, issuing, "Lower").await;
    let sibling = intermediate(&h, &adm_a, top, "Sibling").await;

    let chain = |token: String, id: i64| {
        let h = &h;
        async move { h.get(&format!("/cas/{id}/chain"), Some(&token)).await }
    };
    let children = |token: String, id: i64| {
        let h = &h;
        async move { h.get(&format!("/cas/{id}/children"), Some(&token)).await }
    };
    // Inside the tenant: the whole chain, CA first; the children in id order.
    let got = chain(user_a.clone(), leafish).await;
    assert_eq!(ids(&got.expect(200).json), vec![leafish, issuing, top]);
    assert_eq!(
        got.json[0]["certificate"],
        h.get(&format!("/cas/{leafish}"), Some(&user_a)).await.json["certificate"]
    );
    let got = children(user_a.clone(), top).await;
    assert_eq!(ids(&got.expect(200).json), vec![issuing, sibling]);
    let got = children(adm_a.clone(), leafish).await;
    assert_eq!(ids(&got.expect(200).json), Vec::<i64>::new());
    let got = h
        .get(&format!("/cas/{top}/children?limit=1&skip=1"), Some(&adm_a))
        .await;
    assert_eq!(ids(&got.expect(200).json), vec![sibling]);
    // Another tenant's CA: 403, the same as for a missing id; a superuser gets 404 for that.
    for path in [format!("/cas/{top}/chain"), format!("/cas/{top}/children")] {
        h.get(&path, Some(&adm_b)).await.expect(403);
    }
    for path in [
        format!("/cas/{MISSING}/chain"),
        format!("/cas/{MISSING}/children"),
    ] {
        h.get(&path, Some(&adm_b)).await.expect(403);
        h.get(&path, Some(&root)).await.expect(404);
    }
    h.get(&format!("/cas/{top}/chain"), None).await.expect(401);

    // The issuing CA moves to B alone: B's admin sees it without its A parent, and A's
    // members no longer see it among the root's children (a superuser does, and so does its
    // creator, under the documented policy's creator rule).
    h.patch(
        &format!("/cas/{issuing}"),
        Some(&root),
        json!({"organization_id": b, "cascade": false}),
    )
    .await
    .expect(200);
    let got = chain(adm_b.clone(), issuing).await;
    assert_eq!(ids(&got.expect(200).json), vec![issuing]);
    let got = chain(user_a.clone(), leafish).await;
    assert_eq!(ids(&got.expect(200).json), vec![leafish]);
    let got = children(user_a.clone(), top).await;
    assert_eq!(ids(&got.expect(200).json), vec![sibling]);
    let got = children(adm_a.clone(), top).await;
    assert_eq!(ids(&got.expect(200).json), vec![issuing, sibling]);
    let got = children(root.clone(), top).await;
    assert_eq!(ids(&got.expect(200).json), vec![issuing, sibling]);
    let got = children(adm_b.clone(), issuing).await;
    assert_eq!(ids(&got.expect(200).json), Vec::<i64>::new());
    let got = chain(root.clone(), leafish).await;
    assert_eq!(ids(&got.expect(200).json), vec![leafish, issuing, top]);
    h.get(&format!("/cas/{top}/children?limit=0"), Some(&root))
        .await
        .expect(422);
}

on_both_backends!(chains_and_children_stop_where_reading_stops);

/// The public key in `certificate` and the one of `private_key`, as openssl prints them.
fn public_keys(certificate: &str, private_key: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), certificate).unwrap();
    std::fs::write(dir.path().join("k.pem"), private_key).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("run openssl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    (
        run(&["x509", "-in", "c.pem", "-noout", "-pubkey"]),
        run(&["pkey", "-in", "k.pem", "-pubout"]),
    )
}

/// SPEC §10: `POST /cas/` and `POST /certificates/` answer with the key the server made (the
/// certificate's unless `include_private_key` is false); reads never carry it.
async fn create_answers_carry_the_new_key(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let body =
        json!({"name": "Keyed", "subject_dn": "CN=Keyed", "key_size": 2048, "valid_days": 30});
    let ca = h.post("/cas/", Some(&root), body).await;
    let ca = ca.expect(201).json.clone();
    let key = ca["private_key"].as_str().unwrap_or_default();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{ca}");
    let (in_cert, of_key) = public_keys(ca["certificate"].as_str().unwrap_or_default(), key);
    assert!(in_cert.contains("BEGIN PUBLIC KEY") && in_cert == of_key);
    let id = ca["id"].as_i64().unwrap_or_default();
    let read = h.get(&format!("/cas/{id}"), Some(&root)).await;
    assert!(
        read.expect(200).json.get("private_key").is_none(),
        "{}",
        read.json
    );

    let leaf = json!({"common_name": "svc.example.com", "certificate_type": "server",
                      "key_type": "ec", "valid_days": 10, "san_dns_names": ["svc.example.com"]});
    let cert = h
        .post(
            &format!("/certificates/?ca_id={id}"),
            Some(&root),
            leaf.clone(),
        )
        .await;
    let cert = cert.expect(201).json.clone();
    let key = cert["private_key"].as_str().unwrap_or_default();
    let (in_cert, of_key) = public_keys(cert["certificate"].as_str().unwrap_or_default(), key);
    assert!(
        in_cert.contains("BEGIN PUBLIC KEY") && in_cert == of_key,
        "{cert}"
    );
    let mut without = leaf;
    without["include_private_key"] = json!(false);
    let cert = h
        .post(&format!("/certificates/?ca_id={id}"), Some(&root), without)
        .await;
    assert!(
        cert.expect(201).json.get("private_key").is_none(),
        "{}",
        cert.json
    );
    let cert_id = cert.json["id"].as_i64().unwrap_or_default();
    let read = h
        .get(&format!("/certificates/{cert_id}"), Some(&root))
        .await;
    assert!(read.expect(200).json.get("private_key").is_none());
}

on_both_backends!(create_answers_carry_the_new_key);
