//! The AuthZEN 1.0 decision API (`/access/v1`): every §3 rule on CAs and certificates and the
//! organization acts as data (decision and deciding rule per row), the batch semantics,
//! visibility of subjects and resources, bad input, the PDP metadata, and agreement with
//! what the REST endpoints really do.

use std::collections::HashMap;

use orgtenancy_core::Policy;
use orgtenancy_server::ServerConfig;
use poem::http::Method;
use serde_json::{Value, json};

use crate::{
    pki_matrix::{create_ca, issue},
    support::{Backend, Body, Harness, MISSING, Reply, config, flag_names},
};

/// The people of the AuthZEN world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum P {
    Root,
    AdminA,
    AdminB,
    /// A user of A holding `can_delete_ca` and `can_revoke_cert`.
    FlagA,
    /// A user of A holding no flag.
    PlainA,
    /// A user of B holding every flag.
    AllB,
    /// A user in no organization holding every flag.
    Loner,
    /// A deactivated user of A, holding every flag.
    InactiveA,
    /// A flagless user who created a CA and a certificate in A, then moved to B.
    Mover,
}

/// The resources of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum R {
    CaA,
    CertA,
    CaNone,
    CertNone,
    CaMover,
    CertMover,
    CaMissing,
    OrgA,
    OrgB,
    OrgMissing,
}

pub(crate) struct World {
    pub(crate) h: Harness,
    pub(crate) ids: HashMap<P, i64>,
    tokens: HashMap<P, String>,
    pub(crate) org_a: i64,
    pub(crate) org_b: i64,
    ca_a: i64,
    cert_a: i64,
    ca_none: i64,
    cert_none: i64,
    ca_mover: i64,
    cert_mover: i64,
}

async fn set_flags(h: &Harness, root: &str, user: i64, on: &[&str]) {
    let body: serde_json::Map<String, Value> = flag_names()
        .iter()
        .map(|flag| ((*flag).to_owned(), json!(on.contains(flag))))
        .collect();
    h.patch(&format!("/users/{user}"), Some(root), Value::Object(body))
        .await
        .expect(200);
}

impl World {
    pub(crate) async fn new(backend: &Backend, policy: Policy) -> World {
        let h = Harness::with_config(backend, ServerConfig { policy, ..config() }).await;
        let root_id = h.create_user(None, "root", "superuser", None).await;
        let root = h.login("root").await;
        let org_a = h.create_org(&root, "acme").await;
        let org_b = h.create_org(&root, "globex").await;
        let mut ids = HashMap::from([(P::Root, root_id)]);
        let mut tokens = HashMap::from([(P::Root, root.clone())]);
        let people = [
            (P::AdminA, "admin_a", "admin", Some(org_a), &[][..]),
            (P::AdminB, "admin_b", "admin", Some(org_b), &[]),
            (
                P::FlagA,
                "flag_a",
                "user",
                Some(org_a),
                &["can_delete_ca", "can_revoke_cert"],
            ),
            (P::PlainA, "plain_a", "user", Some(org_a), &[]),
            (P::AllB, "all_b", "user", Some(org_b), &flag_names()[..]),
            (P::Loner, "loner", "user", None, &flag_names()[..]),
            (
                P::InactiveA,
                "inactive_a",
                "user",
                Some(org_a),
                &flag_names()[..],
            ),
            (
                P::Mover,
                "mover",
                "user",
                Some(org_a),
                &["can_create_ca", "can_create_cert"],
            ),
        ];
        for (who, name, role, org, flags) in people {
            let id = h.create_user(Some(&root), name, role, org).await;
            set_flags(&h, &root, id, flags).await;
            ids.insert(who, id);
            tokens.insert(who, h.login(name).await);
        }
        let admin_a = tokens[&P::AdminA].clone();
        let mover_token = tokens[&P::Mover].clone();
        let ca_a = create_ca(&h, &admin_a, "ca-a").await;
        let cert_a = issue(&h, &admin_a, ca_a, "a.example.com").await;
        let ca_none = create_ca(&h, &root, "ca-none").await;
        let cert_none = issue(&h, &root, ca_none, "none.example.com").await;
        let ca_mover = create_ca(&h, &mover_token, "ca-mover").await;
        let cert_mover = issue(&h, &mover_token, ca_mover, "mover.example.com").await;
        let mover = ids[&P::Mover];
        h.patch(
            &format!("/users/{mover}"),
            Some(&root),
            json!({ "organization_id": org_b }),
        )
        .await
        .expect(200);
        set_flags(&h, &root, mover, &[]).await;
        let inactive = ids[&P::InactiveA];
        h.patch(
            &format!("/users/{inactive}"),
            Some(&root),
            json!({ "is_active": false }),
        )
        .await
        .expect(200);
        World {
            h,
            ids,
            tokens,
            org_a,
            org_b,
            ca_a,
            cert_a,
            ca_none,
            cert_none,
            ca_mover,
            cert_mover,
        }
    }

    pub(crate) fn token(&self, who: P) -> &str {
        &self.tokens[&who]
    }

    pub(crate) fn subject(&self, who: P) -> Value {
        json!({ "type": "user", "id": self.ids[&who].to_string() })
    }

    fn resource(&self, r: R) -> Value {
        let (kind, id) = match r {
            R::CaA => ("ca", self.ca_a),
            R::CertA => ("certificate", self.cert_a),
            R::CaNone => ("ca", self.ca_none),
            R::CertNone => ("certificate", self.cert_none),
            R::CaMover => ("ca", self.ca_mover),
            R::CertMover => ("certificate", self.cert_mover),
            R::CaMissing => ("ca", MISSING),
            R::OrgA => ("organization", self.org_a),
            R::OrgB => ("organization", self.org_b),
            R::OrgMissing => ("organization", MISSING),
        };
        json!({ "type": kind, "id": id.to_string() })
    }

    fn question(&self, subject: P, action: &str, resource: R) -> Value {
        json!({
            "subject": self.subject(subject),
            "action": { "name": action },
            "resource": self.resource(resource),
        })
    }

    /// `POST /access/v1{path}` as `caller` (`None`: anonymously).
    pub(crate) async fn ask(&self, caller: Option<P>, path: &str, body: Value) -> Reply {
        let token = caller.map(|who| self.token(who));
        self.h
            .send(
                Method::POST,
                &format!("/access/v1{path}"),
                token,
                Body::Json(body),
            )
            .await
    }

    /// The single decision on one question, asked by `caller`.
    async fn evaluate(&self, caller: P, subject: P, action: &str, resource: R) -> Value {
        let reply = self
            .ask(
                Some(caller),
                "/evaluation",
                self.question(subject, action, resource),
            )
            .await;
        reply.expect(200);
        reply.json
    }
}

/// A row: `subject` asks to `action` on `resource`; the decision, the engine's reason, the
/// §3 rule it stands for.
struct Row(P, &'static str, R, bool, &'static str, Option<u64>);

#[rustfmt::skip]
fn resource_rows() -> Vec<Row> {
    vec![
        Row(P::InactiveA, "read", R::CaA, false, "inactive", Some(0)),
        Row(P::InactiveA, "can_delete_ca", R::CaA, false, "inactive", Some(0)),
        Row(P::Root, "can_delete_ca", R::CaNone, true, "superuser", Some(1)),
        Row(P::Root, "can_export_private_key", R::CertA, true, "superuser", Some(1)),
        Row(P::Mover, "read", R::CaMover, true, "creator", Some(2)),
        Row(P::Mover, "can_delete_ca", R::CaMover, true, "creator", Some(2)),
        Row(P::Mover, "can_revoke_cert", R::CertMover, true, "creator", Some(2)),
        Row(P::AdminA, "read", R::CaNone, false, "no_organization", Some(3)),
        Row(P::Loner, "can_export_private_key", R::CertNone, false, "no_organization", Some(3)),
        Row(P::AdminB, "read", R::CaA, false, "other_organization", Some(4)),
        Row(P::AllB, "can_delete_ca", R::CaA, false, "other_organization", Some(4)),
        Row(P::Loner, "read", R::CertA, false, "other_organization", Some(4)),
        Row(P::Mover, "read", R::CaA, false, "other_organization", Some(4)),
        Row(P::AdminA, "can_delete_ca", R::CaA, true, "creator", Some(2)),
        Row(P::AdminA, "can_delete_ca", R::CaMover, true, "organization_admin", Some(5)),
        Row(P::AdminA, "can_export_private_key", R::CertMover, true, "organization_admin", Some(5)),
        Row(P::AdminA, "can_revoke_cert", R::CertMover, true, "organization_admin", Some(5)),
        Row(P::PlainA, "read", R::CaA, true, "member_read", Some(6)),
        Row(P::PlainA, "read", R::CertMover, true, "member_read", Some(6)),
        Row(P::FlagA, "can_delete_ca", R::CaA, true, "capability", Some(7)),
        Row(P::FlagA, "can_revoke_cert", R::CertA, true, "capability", Some(7)),
        Row(P::FlagA, "can_export_private_key", R::CertA, false, "capability", Some(7)),
        Row(P::FlagA, "can_create_cert", R::CaA, false, "capability", Some(7)),
        Row(P::PlainA, "can_delete_ca", R::CaA, false, "capability", Some(7)),
        Row(P::PlainA, "can_create_ca", R::CaA, false, "capability", Some(7)),
    ]
}

#[rustfmt::skip]
fn organization_rows() -> Vec<Row> {
    vec![
        Row(P::InactiveA, "read", R::OrgA, false, "inactive", Some(0)),
        Row(P::Root, "delete", R::OrgA, true, "superuser", Some(1)),
        Row(P::Root, "read_audit_log", R::OrgB, true, "superuser", Some(1)),
        Row(P::PlainA, "read", R::OrgA, true, "member_read", Some(6)),
        Row(P::AdminB, "read", R::OrgA, false, "not_member", None),
        Row(P::Loner, "read", R::OrgA, false, "not_member", None),
        Row(P::AdminA, "update", R::OrgA, true, "organization_admin", Some(5)),
        Row(P::PlainA, "update", R::OrgA, false, "role_required", None),
        Row(P::AdminB, "update", R::OrgA, false, "not_member", None),
        Row(P::AdminA, "delete", R::OrgA, false, "role_required", None),
        Row(P::AdminA, "list_members", R::OrgA, true, "member_read", Some(6)),
        Row(P::Mover, "list_members", R::OrgA, false, "not_member", None),
        Row(P::Mover, "list_members", R::OrgB, true, "member_read", Some(6)),
        Row(P::AdminA, "manage_members", R::OrgA, true, "organization_admin", Some(5)),
        Row(P::PlainA, "manage_members", R::OrgA, false, "role_required", None),
        Row(P::AdminB, "manage_members", R::OrgA, false, "not_member", None),
        Row(P::AdminA, "read_audit_log", R::OrgA, true, "organization_admin", Some(5)),
        Row(P::AdminB, "read_audit_log", R::OrgA, false, "not_member", None),
        Row(P::PlainA, "read_audit_log", R::OrgA, false, "role_required", None),
    ]
}

/// Asks every row as the superuser (who may see every subject and resource) and checks the
/// decision, the reason and the rule.
async fn check_rows(w: &World, rows: Vec<Row>, policy: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for Row(subject, action, resource, decision, reason, rule) in rows {
        let answer = w.evaluate(P::Root, subject, action, resource).await;
        let context = &answer["context"];
        let got = (
            answer["decision"].as_bool(),
            context["reason"].as_str(),
            context["rule"].as_u64(),
            context["policy"].as_str(),
        );
        if got != (Some(decision), Some(reason), rule, Some(policy)) {
            failures.push(format!(
                "{subject:?} {action} {resource:?}: expected {decision} {reason} {rule:?}, got {answer}"
            ));
        }
    }
    failures
}

async fn decision_matrix(backend: Backend) {
    let w = World::new(&backend, Policy::DOCUMENTED).await;
    let mut failures = check_rows(&w, resource_rows(), "documented").await;
    failures.extend(check_rows(&w, organization_rows(), "documented").await);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Under strict isolation the moved creator loses its access (rule 4, not rule 2).
async fn strict_policy(backend: Backend) {
    let w = World::new(&backend, Policy::STRICT).await;
    #[rustfmt::skip]
    let rows = vec![
        Row(P::Mover, "read", R::CaMover, false, "other_organization", Some(4)),
        Row(P::Mover, "can_revoke_cert", R::CertMover, false, "other_organization", Some(4)),
        Row(P::AdminA, "can_delete_ca", R::CaMover, true, "organization_admin", Some(5)),
    ];
    let failures = check_rows(&w, rows, "strict").await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The error of a refused evaluation: (status, message), checking the decision is false.
#[track_caller]
fn refusal(answer: &Value) -> (u64, String) {
    assert_eq!(answer["decision"], json!(false), "{answer}");
    let error = &answer["context"]["error"];
    (
        error["status"].as_u64().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Callers may ask only about subjects they may view and resources they may read; "missing"
/// and "not visible" answer alike, except to a superuser (who may see everything).
async fn visibility(backend: Backend) {
    let w = World::new(&backend, Policy::DOCUMENTED).await;
    // Subjects: an admin sees its members, not another organization's users.
    let own = w.evaluate(P::AdminA, P::PlainA, "read", R::CaA).await;
    assert_eq!(own["decision"], json!(true), "{own}");
    let other = refusal(&w.evaluate(P::AdminA, P::AdminB, "read", R::CaA).await);
    let mut missing_subject = w.question(P::PlainA, "read", R::CaA);
    missing_subject["subject"]["id"] = json!(MISSING.to_string());
    let reply = w
        .ask(Some(P::AdminA), "/evaluation", missing_subject.clone())
        .await;
    let missing = refusal(&reply.expect(200).json);
    assert_eq!(other.0, 403);
    assert_eq!(
        other, missing,
        "a missing subject answers like a hidden one"
    );
    let reply = w.ask(Some(P::Root), "/evaluation", missing_subject).await;
    assert_eq!(
        refusal(&reply.json).0,
        404,
        "the superuser learns it is missing"
    );
    // A plain user may ask only about itself.
    let me = w
        .evaluate(P::PlainA, P::PlainA, "can_delete_ca", R::CaA)
        .await;
    assert_eq!(me["context"]["rule"], json!(7), "{me}");
    assert_eq!(
        refusal(&w.evaluate(P::PlainA, P::FlagA, "read", R::CaA).await),
        other
    );
    // Resources: the caller must be able to read it; missing and hidden look the same.
    let hidden = [
        w.evaluate(P::AdminA, P::AdminA, "read", R::CaNone).await,
        w.evaluate(P::AdminA, P::PlainA, "read", R::CertNone).await,
        w.evaluate(P::AdminA, P::AdminA, "read", R::CaMissing).await,
        w.evaluate(P::AdminA, P::AdminA, "read", R::OrgB).await,
        w.evaluate(P::AdminA, P::AdminA, "read", R::OrgMissing)
            .await,
        w.evaluate(P::AdminB, P::AdminB, "read", R::CaA).await,
    ];
    let first = refusal(&hidden[0]);
    assert_eq!(first.0, 403);
    for answer in &hidden {
        assert_eq!(refusal(answer), first, "{answer}");
    }
    assert_ne!(
        first.1, other.1,
        "subject and resource errors are told apart"
    );
    for missing in [R::CaMissing, R::OrgMissing] {
        let answer = w.evaluate(P::Root, P::AdminA, "read", missing).await;
        assert_eq!(refusal(&answer).0, 404, "{answer}");
    }
    // The mover may read the CA it created, even from another organization.
    let created = w.evaluate(P::Mover, P::Mover, "read", R::CaMover).await;
    assert_eq!(created["context"]["reason"], json!("creator"), "{created}");
    // A subject by username.
    let mut by_name = w.question(P::PlainA, "read", R::CaA);
    by_name["subject"]["id"] = json!("plain_a");
    let reply = w.ask(Some(P::AdminA), "/evaluation", by_name).await;
    assert_eq!(
        reply.expect(200).json["decision"],
        json!(true),
        "{}",
        reply.text
    );
    // Unauthenticated callers: 401 on both endpoints.
    for path in ["/evaluation", "/evaluations"] {
        let body = w.question(P::PlainA, "read", R::CaA);
        let reply = w.ask(None, path, body.clone()).await;
        reply.expect(401).assert_error_shape();
        let reply =
            w.h.send(
                Method::POST,
                &format!("/access/v1{path}"),
                Some("not-a-token"),
                Body::Json(body),
            )
            .await;
        reply.expect(401).assert_error_shape();
    }
    let reply = w
        .ask(
            Some(P::InactiveA),
            "/evaluation",
            w.question(P::InactiveA, "read", R::CaA),
        )
        .await;
    reply.expect(401).assert_error_shape();
}

/// The decisions of a batch, in order.
#[track_caller]
fn decisions(reply: &Reply) -> Vec<bool> {
    reply.expect(200);
    reply.json["evaluations"]
        .as_array()
        .unwrap_or_else(|| panic!("no evaluations: {}", reply.text))
        .iter()
        .map(|answer| answer["decision"].as_bool().unwrap())
        .collect()
}

async fn batch_semantics(backend: Backend) {
    let w = World::new(&backend, Policy::DOCUMENTED).await;
    // plain_a: read CA in A (yes), delete it (no, rule 7), read cert in A (yes), read the
    // org-less CA (no, rule 3); and the same reordered to start with a deny.
    let entries = |order: [(&str, R); 4]| -> Vec<Value> {
        order
            .iter()
            .map(|(action, r)| json!({ "action": { "name": action }, "resource": w.resource(*r) }))
            .collect()
    };
    let starts_with_permit = entries([
        ("read", R::CaA),
        ("can_delete_ca", R::CaA),
        ("read", R::CertA),
        ("read", R::CaNone),
    ]);
    let starts_with_deny = entries([
        ("can_delete_ca", R::CaA),
        ("read", R::CaA),
        ("read", R::CaNone),
        ("read", R::CertA),
    ]);
    let cases = [
        (&starts_with_permit, None, vec![true, false, true, false]),
        (
            &starts_with_permit,
            Some("execute_all"),
            vec![true, false, true, false],
        ),
        (
            &starts_with_permit,
            Some("deny_on_first_deny"),
            vec![true, false],
        ),
        (
            &starts_with_permit,
            Some("permit_on_first_permit"),
            vec![true],
        ),
        (
            &starts_with_deny,
            Some("execute_all"),
            vec![false, true, false, true],
        ),
        (&starts_with_deny, Some("deny_on_first_deny"), vec![false]),
        (
            &starts_with_deny,
            Some("permit_on_first_permit"),
            vec![false, true],
        ),
    ];
    for (entries, semantic, expected) in cases {
        let mut body = json!({ "subject": w.subject(P::PlainA), "evaluations": entries });
        if let Some(semantic) = semantic {
            body["options"] = json!({ "evaluations_semantic": semantic, "unknown": 1 });
        }
        let reply = w.ask(Some(P::Root), "/evaluations", body).await;
        assert_eq!(decisions(&reply), expected, "{semantic:?}: {}", reply.text);
        assert!(reply.json.get("decision").is_none(), "{}", reply.text);
    }
    // Defaults and overrides: the entry's subject and action win; the rules are reported.
    let body = json!({
        "subject": w.subject(P::PlainA),
        "action": { "name": "read" },
        "resource": w.resource(R::CaA),
        "context": { "time": "2026-01-01T00:00:00Z" },
        "evaluations": [
            {},
            { "subject": w.subject(P::AdminA), "action": { "name": "can_delete_ca" } },
            { "action": { "name": "can_delete_ca" } },
            { "resource": w.resource(R::CaMissing) },
            { "resource": w.resource(R::OrgA), "action": { "name": "update" } },
        ],
    });
    let reply = w.ask(Some(P::AdminA), "/evaluations", body).await;
    assert_eq!(decisions(&reply), [true, true, false, false, false]);
    let rules: Vec<Value> = reply.json["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|answer| answer["context"]["rule"].clone())
        .collect();
    // Admin A created the CA: the creator rule (2) decides before the admin rule (5).
    assert_eq!(
        rules,
        [json!(6), json!(2), json!(7), Value::Null, Value::Null]
    );
    let errors = &reply.json["evaluations"];
    assert_eq!(
        errors[3]["context"]["error"]["status"],
        json!(403),
        "{}",
        reply.text
    );
    assert_eq!(
        errors[4]["context"]["reason"],
        json!("role_required"),
        "{}",
        reply.text
    );
    // Without entries (absent or empty), the request is one evaluation with one decision.
    for evaluations in [None, Some(json!([]))] {
        let mut body = w.question(P::FlagA, "can_delete_ca", R::CaA);
        if let Some(evaluations) = evaluations {
            body["evaluations"] = evaluations;
        }
        let reply = w.ask(Some(P::Root), "/evaluations", body).await;
        reply.expect(200);
        assert_eq!(reply.json["decision"], json!(true), "{}", reply.text);
        assert_eq!(reply.json["context"]["rule"], json!(7), "{}", reply.text);
        assert!(reply.json.get("evaluations").is_none(), "{}", reply.text);
    }
    // The request id is echoed.
    let reply =
        w.h.client
            .post("/access/v1/evaluation")
            .header("authorization", format!("Bearer {}", w.token(P::Root)))
            .header("x-request-id", "bfe9eb29-ab87")
            .body_json(&w.question(P::PlainA, "read", R::CaA))
            .send()
            .await;
    reply.assert_status_is_ok();
    reply.assert_header("x-request-id", "bfe9eb29-ab87");
}

async fn bad_input(backend: Backend) {
    let w = World::new(&backend, Policy::DOCUMENTED).await;
    let good = w.question(P::PlainA, "read", R::CaA);
    // `good` with the member at `parent`/`key` set to `value`.
    let with = |path: &str, value: Value| {
        let mut body = good.clone();
        let (parent, key) = path.rsplit_once('/').unwrap();
        let parent = body.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        parent.insert(key.to_owned(), value);
        body
    };
    let too_many: Vec<Value> = (0..101).map(|_| json!({})).collect();
    let mut cases = vec![
        ("/evaluation", with("/subject/type", json!("group")), 422),
        ("/evaluation", with("/subject/id", json!("")), 422),
        ("/evaluation", with("/subject/id", json!(5)), 422),
        (
            "/evaluation",
            with("/resource/type", json!("document")),
            422,
        ),
        ("/evaluation", with("/resource/id", json!("abc")), 422),
        ("/evaluation", with("/resource/id", json!("-1")), 422),
        ("/evaluation", with("/action/name", json!("fly")), 422),
        ("/evaluation", with("/action/name", json!("update")), 422),
        (
            "/evaluation",
            with("/action", json!({ "properties": {} })),
            422,
        ),
        ("/evaluation", with("/action/properties", json!(5)), 422),
        ("/evaluation", with("/context", json!("now")), 422),
        (
            "/evaluation",
            json!({ "subject": w.subject(P::PlainA) }),
            422,
        ),
        ("/evaluation", json!([]), 422),
        (
            "/evaluations",
            json!({ "subject": w.subject(P::PlainA) }),
            422,
        ),
        (
            "/evaluations",
            json!({ "evaluations": [good.clone(), {}] }),
            422,
        ),
        (
            "/evaluations",
            json!({ "evaluations": [with("/action/name", json!("x"))] }),
            422,
        ),
        ("/evaluations", json!({ "evaluations": too_many }), 422),
        (
            "/evaluations",
            json!({ "evaluations": [good.clone()], "options": { "evaluations_semantic": "sometimes" } }),
            422,
        ),
        ("/evaluations", json!({ "evaluations": {} }), 422),
    ];
    // Exactly the limit is fine.
    let limit: Vec<Value> = (0..100).map(|_| good.clone()).collect();
    let reply = w
        .ask(
            Some(P::Root),
            "/evaluations",
            json!({ "evaluations": limit }),
        )
        .await;
    assert_eq!(decisions(&reply).len(), 100);
    for (path, body, status) in cases.drain(..) {
        let reply = w.ask(Some(P::Root), path, body.clone()).await;
        assert_eq!(reply.code(), status, "{path} {body}: {}", reply.text);
        reply.assert_error_shape();
    }
    for (content_type, bytes, status) in [
        (Some("application/json"), &b"{\"subject\": "[..], 400),
        (Some("text/plain"), &b"{}"[..], 415),
    ] {
        let reply =
            w.h.send(
                Method::POST,
                "/access/v1/evaluation",
                Some(w.token(P::Root)),
                Body::Raw(content_type, bytes.to_vec()),
            )
            .await;
        assert_eq!(reply.code(), status, "{}", reply.text);
        reply.assert_error_shape();
    }
}

/// For every subject that can log in and a set of read and export questions, the decision is
/// `true` exactly when that subject, calling the REST endpoint itself, gets 200.
async fn agrees_with_endpoints(backend: Backend) {
    let w = World::new(&backend, Policy::DOCUMENTED).await;
    let questions = [
        ("read", R::CaA, format!("/cas/{}", w.ca_a)),
        ("read", R::CaNone, format!("/cas/{}", w.ca_none)),
        (
            "read",
            R::CertMover,
            format!("/certificates/{}", w.cert_mover),
        ),
        (
            "can_export_private_key",
            R::CaA,
            format!("/cas/{}/private-key", w.ca_a),
        ),
        (
            "can_export_private_key",
            R::CertMover,
            format!("/certificates/{}/private-key", w.cert_mover),
        ),
        ("read", R::OrgA, format!("/organizations/{}", w.org_a)),
        (
            "list_members",
            R::OrgB,
            format!("/organizations/{}/users", w.org_b),
        ),
    ];
    let subjects = [
        P::Root,
        P::AdminA,
        P::AdminB,
        P::FlagA,
        P::PlainA,
        P::AllB,
        P::Loner,
        P::Mover,
    ];
    let mut failures = Vec::new();
    for (action, resource, path) in &questions {
        for subject in subjects {
            let answer = w.evaluate(P::Root, subject, action, *resource).await;
            let real = w.h.get(path, Some(w.token(subject))).await;
            let decided = answer["decision"].as_bool();
            if decided != Some(real.code() == 200) {
                failures.push(format!(
                    "{subject:?} {action} {path}: decision {answer}, endpoint {}",
                    real.code()
                ));
            }
        }
    }
    // Writes, on fresh rows: the subject really deletes, revokes, issues, updates.
    let admin_a = w.token(P::AdminA).to_owned();
    for (n, subject) in subjects.into_iter().enumerate() {
        let token = w.token(subject);
        let ca = create_ca(&w.h, &admin_a, &format!("fresh-{n}")).await;
        let cert = issue(&w.h, &admin_a, w.ca_a, &format!("f{n}.a.test")).await;
        let writes = [
            (
                "can_delete_ca",
                "ca",
                ca,
                Method::DELETE,
                format!("/cas/{ca}"),
                None,
            ),
            (
                "can_revoke_cert",
                "certificate",
                cert,
                Method::POST,
                format!("/certificates/{cert}/revoke"),
                Some(json!({})),
            ),
            (
                "can_create_cert",
                "ca",
                w.ca_mover,
                Method::POST,
                format!("/certificates/?ca_id={}", w.ca_mover),
                Some(json!({
                    "common_name": format!("w{n}.test"), "certificate_type": "server",
                    "key_type": "ec", "valid_days": 30, "san_dns_names": [format!("w{n}.test")],
                })),
            ),
            (
                "update",
                "organization",
                w.org_a,
                Method::PUT,
                format!("/organizations/{}", w.org_a),
                Some(json!({ "description": format!("changed by {subject:?}") })),
            ),
        ];
        for (action, kind, id, method, path, body) in writes {
            let question = json!({
                "subject": w.subject(subject),
                "action": { "name": action },
                "resource": { "type": kind, "id": id.to_string() },
            });
            let answer = w.ask(Some(P::Root), "/evaluation", question).await;
            let body = body.map_or(Body::None, Body::Json);
            let real =
                w.h.send(method, &crate::support::api(&path), Some(token), body)
                    .await;
            let decided = answer.json["decision"].as_bool();
            if decided != Some(real.status.is_success()) {
                failures.push(format!(
                    "{subject:?} {action} {path}: decision {}, endpoint {}",
                    answer.text,
                    real.code()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn metadata_and_openapi(backend: Backend) {
    let h = Harness::new(&backend).await;
    for (host, proto, base) in [
        ("pdp.example.com:8443", None, "http://pdp.example.com:8443"),
        ("pdp.example.com", Some("https"), "https://pdp.example.com"),
        ("127.0.0.1:8000", Some("gopher"), "http://127.0.0.1:8000"),
    ] {
        let mut request = h
            .client
            .get("/.well-known/authzen-configuration")
            .header("host", host);
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        let response = request.send().await;
        response.assert_status_is_ok();
        response
            .assert_json(json!({
                "policy_decision_point": base,
                "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
                "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
                "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
                "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
                "search_action_endpoint": format!("{base}/access/v1/search/action"),
            }))
            .await;
    }
    let response = h
        .client
        .get("/.well-known/authzen-configuration")
        .header("host", "evil.example/path?")
        .send()
        .await;
    response.assert_status(poem::http::StatusCode::BAD_REQUEST);
    let reply = h
        .send(Method::GET, "/access/v1/openapi.json", None, Body::None)
        .await;
    reply.expect(200);
    let paths = reply.json["paths"].as_object().expect("paths");
    for path in [
        "/evaluation",
        "/evaluations",
        "/search/subject",
        "/search/resource",
        "/search/action",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    assert_eq!(reply.json["servers"][0]["url"], json!("/access/v1"));
    // The main API's document is unchanged by the mount.
    let main = h
        .send(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    assert!(
        !main.json["paths"]
            .as_object()
            .unwrap()
            .contains_key("/evaluation")
    );
}

on_both_backends!(
    decision_matrix,
    strict_policy,
    visibility,
    batch_semantics,
    bad_input,
    agrees_with_endpoints,
    metadata_and_openapi,
);
