//! A superuser's move of a CA tree out of an organization is visible to both organizations'
//! admins (issue 11 item 4): `PATCH /cas/{id}` writes one `ca_assign_org` entry for the target
//! organization and one for every organization a moved row belonged to, in the move's
//! transaction, and nothing else.

use serde_json::{Value, json};

use crate::{
    pki_matrix::{create_ca, issue},
    support::{Backend, Harness},
};

on_both_backends!(a_move_is_visible_to_both_organizations);

/// An entry's resource id (a number, or the digits of a string).
fn resource_id(entry: &Value) -> Option<i64> {
    let id = &entry["resource_id"];
    id.as_i64()
        .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
}

/// (action, organization, resource) of every entry `token` reads, after entry `since`.
async fn entries(h: &Harness, token: &str, since: i64) -> Vec<(String, Option<i64>, Option<i64>)> {
    let log = h.get("/audit-logs/?limit=1000", Some(token)).await;
    let log = log.expect(200).json.as_array().cloned().unwrap_or_default();
    log.iter()
        .filter(|e| e["id"].as_i64().is_some_and(|id| id > since))
        .map(|e| {
            let action = e["action"].as_str().unwrap_or_default().to_owned();
            (action, e["organization_id"].as_i64(), resource_id(e))
        })
        .collect()
}

async fn a_move_is_visible_to_both_organizations(backend: Backend) {
    let h = Harness::new(&backend).await;
    h.create_user(None, "root", "superuser", None).await;
    let root = h.login("root").await;
    let a = h.create_org(&root, "acme").await;
    let b = h.create_org(&root, "globex").await;
    h.create_user(Some(&root), "admin_a", "admin", Some(a))
        .await;
    h.create_user(Some(&root), "admin_b", "admin", Some(b))
        .await;
    let admin_a = h.login("admin_a").await;
    let admin_b = h.login("admin_b").await;
    let tree = create_ca(&h, &admin_a, "tree").await;
    let body = json!({"name": "child", "subject_dn": "CN=child", "key_type": "ec",
                      "valid_days": 100, "parent_ca_id": tree});
    let child = h.post("/cas/", Some(&admin_a), body).await.expect(201).id();
    issue(&h, &admin_a, tree, "leaf.example.com").await;
    let log = h.get("/audit-logs/?limit=1000", Some(&root)).await;
    let since = log.expect(200).json.as_array().map_or(0, |log| {
        log.iter()
            .filter_map(|e| e["id"].as_i64())
            .max()
            .unwrap_or(0)
    });
    // Without cascade: the child alone leaves A. With cascade: the rest of the tree (the
    // root CA and its certificate, A's; the child, already B's).
    let moves = [(child, false), (tree, true)];
    for (ca, cascade) in moves {
        let body = json!({"organization_id": b, "cascade": cascade});
        h.patch(&format!("/cas/{ca}"), Some(&root), body)
            .await
            .expect(200);
    }
    let assign = |org: i64, ca: i64| ("ca_assign_org".to_owned(), Some(org), Some(ca));
    assert_eq!(
        entries(&h, &root, since).await,
        [
            assign(b, child),
            assign(a, child),
            assign(b, tree),
            assign(a, tree)
        ],
        "the log holds exactly the moves' entries"
    );
    assert_eq!(
        entries(&h, &admin_a, since).await,
        [assign(a, child), assign(a, tree)],
        "A's admin reads that its CAs left"
    );
    assert_eq!(
        entries(&h, &admin_b, since).await,
        [assign(b, child), assign(b, tree)],
        "B's admin reads that the CAs arrived"
    );
    // The entry says where the rows went.
    let seen = h
        .get("/audit-logs/?action=ca_assign_org", Some(&admin_a))
        .await;
    let detail = seen.expect(200).json[1]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(detail.contains(&format!("to {b}")), "{detail}");
}
