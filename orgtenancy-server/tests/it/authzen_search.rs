//! The §11 searches over HTTP (`/access/v1/search/{subject,resource,action}`) agree with the
//! evaluations: on the AuthZEN world of [`crate::authzen`] (every role in two organizations,
//! a loner, an inactive user, a creator who moved, flags, CAs and certificates in both
//! organizations and in none), under both creator policies, every search is followed page by
//! page with a small limit and the union of its pages compared with the candidates that
//! `POST /access/v1/evaluations` allows, for several callers and every subject, action and
//! resource; a search the caller may not make (its subject or resource hidden) is refused
//! where every evaluation of it is a deny. Plus the 422s of bad input.

use std::collections::{BTreeSet, HashMap};

use orgtenancy_core::Policy;
use serde_json::{Value, json};

use crate::{
    authzen::{P, World},
    pki_matrix::{create_ca, issue},
    support::{Backend, flag_names},
};

const PEOPLE: [P; 9] = [
    P::Root,
    P::AdminA,
    P::AdminB,
    P::FlagA,
    P::PlainA,
    P::AllB,
    P::Loner,
    P::InactiveA,
    P::Mover,
];
const CALLERS: [P; 5] = [P::Root, P::AdminA, P::FlagA, P::AllB, P::Loner];
const ORG_ACTIONS: [&str; 6] = [
    "read",
    "update",
    "delete",
    "list_members",
    "manage_members",
    "read_audit_log",
];

/// A row: its type and id.
type Row = (&'static str, i64);

fn actions(kind: &str) -> Vec<&'static str> {
    if kind == "organization" {
        return ORG_ACTIONS.to_vec();
    }
    std::iter::once("read").chain(flag_names()).collect()
}

/// The world with a CA and a certificate of organization B besides, and every row.
async fn world(backend: &Backend, policy: Policy) -> (World, Vec<Row>) {
    let w = World::new(backend, policy).await;
    let admin_b = w.token(P::AdminB).to_owned();
    let ca_b = create_ca(&w.h, &admin_b, "ca-b").await;
    let cert_b = issue(&w.h, &admin_b, ca_b, "b.example.com").await;
    let mut rows: Vec<Row> = vec![("organization", w.org_a), ("organization", w.org_b)];
    for kind in ["ca", "certificate"] {
        let root = w.token(P::Root);
        let list = w.h.get(&format!("/{kind}s?limit=100"), Some(root)).await;
        list.expect(200);
        let items = list.json.as_array().cloned().unwrap_or_default();
        for item in items {
            rows.push((kind, item["id"].as_i64().expect("an id")));
        }
    }
    assert!(rows.contains(&("ca", ca_b)) && rows.contains(&("certificate", cert_b)));
    assert_eq!(rows.len(), 2 + 4 + 4, "{rows:?}");
    (w, rows)
}

/// What `caller`'s evaluations allow: `(subject, action, row)`.
async fn allowed(w: &World, caller: P, rows: &[Row]) -> BTreeSet<(i64, String, Row)> {
    let mut allowed = BTreeSet::new();
    for subject in PEOPLE {
        let mut items = Vec::new();
        for &(kind, id) in rows {
            for action in actions(kind) {
                items.push((
                    (action, (kind, id)),
                    json!({
                        "action": { "name": action },
                        "resource": { "type": kind, "id": id.to_string() },
                    }),
                ));
            }
        }
        let body = json!({
            "subject": w.subject(subject),
            "evaluations": items.iter().map(|(_, item)| item.clone()).collect::<Vec<_>>(),
        });
        let reply = w.ask(Some(caller), "/evaluations", body).await;
        reply.expect(200);
        let answers = reply.json["evaluations"].as_array().expect("answers");
        assert_eq!(answers.len(), items.len());
        for (((action, row), _), answer) in items.iter().zip(answers) {
            if answer["decision"] == json!(true) {
                allowed.insert((w.ids[&subject], (*action).to_owned(), *row));
            }
        }
    }
    allowed
}

/// Follows a search's pages with `limit`; `None` when the first page is refused (403, 404).
async fn follow(w: &World, caller: P, path: &str, body: Value, limit: i64) -> Option<Vec<Value>> {
    let mut results = Vec::new();
    let mut token = String::new();
    for _ in 0..100 {
        let mut request = body.clone();
        request["page"] = json!({ "token": token, "limit": limit });
        let reply = w.ask(Some(caller), path, request).await;
        if results.is_empty() && token.is_empty() && matches!(reply.code(), 403 | 404) {
            return None;
        }
        reply.expect(200);
        let page = reply.json["results"].as_array().expect("results");
        assert!(page.len() <= usize::try_from(limit).unwrap());
        results.extend(page.iter().cloned());
        token = reply.json["page"]["next_token"]
            .as_str()
            .expect("token")
            .to_owned();
        if token.is_empty() {
            return Some(results);
        }
    }
    panic!("{path}: more than 100 pages");
}

fn ids(results: &[Value], kind: &str) -> Vec<i64> {
    results
        .iter()
        .map(|r| {
            assert_eq!(r["type"], json!(kind), "{r}");
            r["id"].as_str().expect("id").parse().expect("digits")
        })
        .collect()
}

/// Every id once, in increasing order, as a set.
fn once(ids: Vec<i64>) -> BTreeSet<i64> {
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not in id order: {ids:?}"
    );
    ids.into_iter().collect()
}

async fn resource_searches(
    w: &World,
    caller: P,
    rows: &[Row],
    allowed: &BTreeSet<(i64, String, Row)>,
) {
    for (n, subject) in PEOPLE.into_iter().enumerate() {
        let sid = w.ids[&subject];
        for kind in ["ca", "certificate", "organization"] {
            for action in actions(kind) {
                let body = json!({
                    "subject": w.subject(subject),
                    "action": { "name": action },
                    "resource": { "type": kind },
                });
                let limit = 2 + i64::try_from(n % 2).unwrap();
                let expected: BTreeSet<i64> = rows
                    .iter()
                    .filter(|row| {
                        row.0 == kind && allowed.contains(&(sid, action.to_owned(), **row))
                    })
                    .map(|row| row.1)
                    .collect();
                match follow(w, caller, "/search/resource", body, limit).await {
                    Some(found) => {
                        let found = once(ids(&found, kind));
                        assert_eq!(
                            found, expected,
                            "{caller:?} asks what {subject:?} may {action} ({kind})"
                        );
                    }
                    None => assert!(expected.is_empty(), "{caller:?} refused about {subject:?}"),
                }
            }
        }
    }
}

async fn subject_searches(
    w: &World,
    caller: P,
    rows: &[Row],
    allowed: &BTreeSet<(i64, String, Row)>,
) {
    for (n, &(kind, id)) in rows.iter().enumerate() {
        for action in actions(kind) {
            let body = json!({
                "subject": { "type": "user" },
                "action": { "name": action },
                "resource": { "type": kind, "id": id.to_string() },
            });
            let expected: BTreeSet<i64> = PEOPLE
                .iter()
                .map(|p| w.ids[p])
                .filter(|sid| allowed.contains(&(*sid, action.to_owned(), (kind, id))))
                .collect();
            let limit = 2 + i64::try_from(n % 2).unwrap();
            match follow(w, caller, "/search/subject", body, limit).await {
                Some(found) => {
                    let found = once(ids(&found, "user"));
                    assert_eq!(
                        found, expected,
                        "{caller:?} asks who may {action} {kind} {id}"
                    );
                }
                None => assert!(expected.is_empty(), "{caller:?} refused on {kind} {id}"),
            }
        }
    }
}

async fn action_searches(
    w: &World,
    caller: P,
    rows: &[Row],
    allowed: &BTreeSet<(i64, String, Row)>,
) {
    for subject in PEOPLE {
        let sid = w.ids[&subject];
        for &(kind, id) in rows {
            let body = json!({
                "subject": w.subject(subject),
                "resource": { "type": kind, "id": id.to_string() },
            });
            let expected: Vec<String> = actions(kind)
                .into_iter()
                .filter(|a| allowed.contains(&(sid, (*a).to_owned(), (kind, id))))
                .map(str::to_owned)
                .collect();
            match follow(w, caller, "/search/action", body, 2).await {
                Some(found) => {
                    let names: Vec<String> = found
                        .iter()
                        .map(|r| r["name"].as_str().expect("name").to_owned())
                        .collect();
                    assert_eq!(
                        names, expected,
                        "{caller:?} asks what {subject:?} may do to {kind} {id}"
                    );
                }
                None => assert!(
                    expected.is_empty(),
                    "{caller:?} refused on {subject:?}, {kind} {id}"
                ),
            }
        }
    }
}

async fn searches_agree_with_evaluations(backend: Backend) {
    for policy in [Policy::DOCUMENTED, Policy::STRICT] {
        let (w, rows) = world(&backend, policy).await;
        let mut counts = HashMap::new();
        for caller in CALLERS {
            let allowed = allowed(&w, caller, &rows).await;
            counts.insert(caller, allowed.len());
            resource_searches(&w, caller, &rows, &allowed).await;
            subject_searches(&w, caller, &rows, &allowed).await;
            action_searches(&w, caller, &rows, &allowed).await;
        }
        // The world is not trivial: the root sees most, and the loner little.
        assert!(counts[&P::Root] > counts[&P::AdminA] && counts[&P::AdminA] > counts[&P::Loner]);
    }
}

async fn bad_searches_are_422(backend: Backend) {
    let (w, rows) = world(&backend, Policy::DOCUMENTED).await;
    let ca = rows
        .iter()
        .find(|row| row.0 == "ca")
        .expect("a CA")
        .1
        .to_string();
    let me = w.subject(P::AdminA);
    let bad = [
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "read"}, "resource": {"type": "document"}}),
        ),
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "launch"}, "resource": {"type": "ca"}}),
        ),
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "update"}, "resource": {"type": "ca"}}),
        ),
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "read"}, "resource": {"type": "ca", "id": ca}}),
        ),
        (
            "/search/resource",
            json!({"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "ca"}}),
        ),
        (
            "/search/resource",
            json!({"subject": {"type": "group", "id": "1"}, "action": {"name": "read"}, "resource": {"type": "ca"}}),
        ),
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "read"}, "resource": {"type": "ca"}, "page": {"limit": 0}}),
        ),
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "read"}, "resource": {"type": "ca"}, "page": {"limit": 1001}}),
        ),
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "read"}, "resource": {"type": "ca"}, "page": {"token": "not a token"}}),
        ),
        (
            "/search/resource",
            json!({"subject": me, "action": {"name": "read"}, "resource": {"type": "ca"}, "page": {"token": "eDo0Mg"}}),
        ),
        (
            "/search/subject",
            json!({"subject": me, "action": {"name": "read"}, "resource": {"type": "ca", "id": ca}}),
        ),
        (
            "/search/subject",
            json!({"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "ca"}}),
        ),
        (
            "/search/subject",
            json!({"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "ca", "id": "x"}}),
        ),
        (
            "/search/subject",
            json!({"subject": {"type": "user"}, "action": {"name": "delete"}, "resource": {"type": "certificate", "id": ca}}),
        ),
        (
            "/search/subject",
            json!({"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "ca", "id": ca}, "page": {"limit": -3}}),
        ),
        (
            "/search/action",
            json!({"subject": {"type": "user"}, "resource": {"type": "ca", "id": ca}}),
        ),
        (
            "/search/action",
            json!({"subject": me, "resource": {"type": "ca"}}),
        ),
        (
            "/search/action",
            json!({"subject": me, "resource": {"type": "user", "id": "1"}}),
        ),
        (
            "/search/action",
            json!({"subject": me, "resource": {"type": "ca", "id": ca}, "page": {"token": "djE6bGF1bmNo"}}),
        ),
        (
            "/search/action",
            json!({"subject": me, "resource": {"type": "ca", "id": ca}, "page": {"limit": 100000}}),
        ),
    ];
    for (path, body) in bad {
        let reply = w.ask(Some(P::AdminA), path, body.clone()).await;
        assert_eq!(reply.code(), 422, "{path} {body}: {}", reply.text);
        reply.assert_error_shape();
    }
    // Anonymous callers are refused; a full page leads on, the last one does not.
    let body = json!({"subject": w.subject(P::Root), "action": {"name": "read"}, "resource": {"type": "ca"}});
    assert_eq!(
        w.ask(None, "/search/resource", body.clone()).await.code(),
        401
    );
    let mut first = body.clone();
    first["page"] = json!({"limit": 1000});
    let reply = w.ask(Some(P::Root), "/search/resource", first).await;
    reply.expect(200);
    assert_eq!(reply.json["page"]["next_token"], json!(""));
    assert_eq!(reply.json["results"].as_array().map(Vec::len), Some(4));
}

on_both_backends!(searches_agree_with_evaluations, bad_searches_are_422);
