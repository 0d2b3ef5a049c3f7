//! The SPEC §3 resource matrix at the HTTP level, as data: one row per action and resource
//! situation, one expected status per caller, one checker.
//!
//! Columns (callers): the superuser (no organization); admin of A; admin of B; a user of A
//! holding exactly the flag the row's action names (`+flag`); a user of A holding every flag
//! *except* that one (`-flag`); a user of B holding all five flags; a user in no organization
//! holding all five flags; an admin in no organization; and the "mover", a flagless user who
//! created resources while in A and was then moved to B.
//!
//! Resource situations: `a` (in A, created by admin A), `none` (organization-less, created by
//! the superuser before adoption), `mover` (in A, created by the mover). `{fresh_*}` targets are
//! created anew for each request, so state-changing rows can be sent by every caller.
//!
//! The same table runs under the documented policy and under `Policy::STRICT`, where the
//! mover's creator access ends with its move (its whole column becomes 403).

use orgtenancy_core::Policy;
use orgtenancy_server::ServerConfig;
use poem::http::Method;
use serde_json::{Value, json};

use crate::support::{Backend, Harness, MISSING, config, flag_names};

/// The callers, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Superuser,
    AdminA,
    AdminB,
    UserAFlag,
    UserANoFlag,
    UserBAll,
    LonerAll,
    AdminNone,
    Mover,
}

const COLS: [Col; 9] = [
    Col::Superuser,
    Col::AdminA,
    Col::AdminB,
    Col::UserAFlag,
    Col::UserANoFlag,
    Col::UserBAll,
    Col::LonerAll,
    Col::AdminNone,
    Col::Mover,
];

struct Row {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    /// The capability the action needs (`None` for reads).
    flag: Option<&'static str>,
    /// su, adA, adB, uA+flag, uA-flag, uB all, loner all, admin none, mover.
    expect: [u16; 9],
}

const fn row(
    expect: [u16; 9],
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    flag: Option<&'static str>,
    name: &'static str,
) -> Row {
    Row {
        name,
        method,
        path,
        body,
        flag,
        expect,
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const DELETE: Method = Method::DELETE;
const PATCH: Method = Method::PATCH;

const CA: Option<&str> = Some("can_create_ca");
const CERT: Option<&str> = Some("can_create_cert");
const REVOKE: Option<&str> = Some("can_revoke_cert");
const EXPORT: Option<&str> = Some("can_export_private_key");
const DEL: Option<&str> = Some("can_delete_ca");

const ROOT_BODY: &str =
    r#"{"name": "root-{n}", "subject_dn": "CN=Root {n},O=T", "key_type": "ec", "valid_days": 365}"#;
const SUB_BODY: &str = r#"{"name": "sub-{n}", "subject_dn": "CN=Sub {n}", "key_type": "ec", "valid_days": 100, "parent_ca_id": {ca}}"#;
const CERT_BODY: &str = r#"{"common_name": "host{n}.example.com", "certificate_type": "server", "key_type": "ec", "valid_days": 30, "san_dns_names": ["host{n}.example.com"]}"#;

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    vec![
        //   su   adA  adB  uA+  uA-  uB*  lon* adNo mover
        row([200, 200, 403, 200, 200, 403, 403, 403, 403], GET, "/cas/{ca_a}", None, None, "view CA in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/cas/{ca_none}", None, None, "view org-less CA"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 200], GET, "/cas/{ca_mover}", None, None, "view CA created by the mover"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/cas/{missing}", None, None, "view a missing CA"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 403], GET, "/cas/{ca_a}/chain", None, None, "chain of the CA in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/cas/{ca_none}/chain", None, None, "chain of the org-less CA"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 200], GET, "/cas/{ca_mover}/chain", None, None, "chain of the mover's CA"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/cas/{missing}/chain", None, None, "chain of a missing CA"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 403], GET, "/cas/{ca_a}/children", None, None, "children of the CA in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/cas/{ca_none}/children", None, None, "children of the org-less CA"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 200], GET, "/cas/{ca_mover}/children", None, None, "children of the mover's CA"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/cas/{missing}/children", None, None, "children of a missing CA"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 403], GET, "/certificates/{cert_a}", None, None, "view certificate in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/certificates/{cert_none}", None, None, "view org-less certificate"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 200], GET, "/certificates/{cert_mover}", None, None, "view certificate issued by the mover"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/certificates/{missing}", None, None, "view a missing certificate"),
        row([201, 201, 201, 201, 403, 201, 403, 403, 403], POST, "/cas/", Some(ROOT_BODY), CA, "create a root CA (own organization)"),
        row([409, 201, 403, 201, 403, 403, 403, 403, 403], POST, "/cas/", Some(SUB_BODY), CA, "create an intermediate under the CA in A"),
        row([201, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/cas/", Some(SUB_BODY), CA, "create an intermediate under the org-less CA"),
        row([201, 201, 403, 201, 403, 403, 403, 403, 403], POST, "/certificates/?ca_id={ca_a}", Some(CERT_BODY), CERT, "issue from the CA in A"),
        row([201, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/?ca_id={ca_none}", Some(CERT_BODY), CERT, "issue from the org-less CA"),
        row([201, 201, 403, 201, 403, 403, 403, 403, 201], POST, "/certificates/?ca_id={ca_mover}", Some(CERT_BODY), CERT, "issue from the mover's CA"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/?ca_id={missing}", Some(CERT_BODY), CERT, "issue from a missing CA"),
        row([204, 204, 403, 204, 403, 403, 403, 403, 403], DELETE, "/cas/{fresh_ca_a}", None, DEL, "delete a CA in A"),
        row([204, 403, 403, 403, 403, 403, 403, 403, 403], DELETE, "/cas/{fresh_ca_none}", None, DEL, "delete an org-less CA"),
        row([204, 204, 403, 204, 403, 403, 403, 403, 204], DELETE, "/cas/{fresh_ca_mover}", None, DEL, "delete a CA created by the mover"),
        row([409, 409, 403, 409, 403, 403, 403, 403, 403], DELETE, "/cas/{ca_a}", None, DEL, "delete a CA in A that has certificates"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], DELETE, "/cas/{missing}", None, DEL, "delete a missing CA"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 403], POST, "/certificates/{fresh_cert_a}/revoke", Some(r#"{"reason": "superseded"}"#), REVOKE, "revoke a certificate in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/{fresh_cert_none}/revoke", Some("{}"), REVOKE, "revoke an org-less certificate"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 200], POST, "/certificates/{fresh_cert_mover}/revoke", Some("{}"), REVOKE, "revoke the mover's certificate"),
        row([409, 409, 403, 409, 403, 403, 403, 403, 403], POST, "/certificates/{revoked_a}/revoke", Some("{}"), REVOKE, "revoke a revoked certificate"),
        row([201, 201, 403, 201, 403, 403, 403, 403, 403], POST, "/certificates/sign-csr", Some(r#"{"csr": {csr}, "certificate_type": "server", "ca_id": {ca_a}}"#), CERT, "sign a CSR by the CA in A"),
        row([201, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/sign-csr", Some(r#"{"csr": {csr}, "certificate_type": "client", "ca_id": {ca_none}}"#), CERT, "sign a CSR by the org-less CA"),
        row([201, 201, 403, 201, 403, 403, 403, 403, 201], POST, "/certificates/sign-csr", Some(r#"{"csr": {csr}, "certificate_type": "server", "ca_id": {ca_mover}}"#), CERT, "sign a CSR by the mover's CA"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/sign-csr", Some(r#"{"csr": {csr}, "certificate_type": "server", "ca_id": {missing}}"#), CERT, "sign a CSR by a missing CA"),
        row([201, 201, 403, 201, 403, 403, 403, 403, 403], POST, "/certificates/sign-csr", Some(r#"{"csr": {csr}, "certificate_type": "server", "ca_name": "ca-a"}"#), CERT, "sign a CSR by the name of the CA in A"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/sign-csr", Some(r#"{"csr": {csr}, "certificate_type": "server", "ca_name": "no such CA"}"#), CERT, "sign a CSR by a name no CA has"),
        row([409, 409, 403, 409, 409, 403, 403, 403, 403], POST, "/certificates/sign-csr", Some(r#"{"csr": {csr}, "certificate_type": "server", "ca_name": "twin"}"#), CERT, "sign a CSR by a name two readable CAs have"),
        row([201, 201, 403, 201, 403, 403, 403, 403, 403], POST, "/certificates/{fresh_cert_a}/renew", Some("{}"), CERT, "renew a certificate in A"),
        row([201, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/{cert_none}/renew", Some("{}"), CERT, "renew an org-less certificate"),
        row([201, 201, 403, 201, 403, 403, 403, 403, 201], POST, "/certificates/{fresh_cert_mover}/renew", Some("{}"), CERT, "renew the mover's certificate"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], POST, "/certificates/{missing}/renew", Some("{}"), CERT, "renew a missing certificate"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 403], GET, "/cas/{ca_a}/private-key", None, EXPORT, "export the key of a CA in A"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 403], GET, "/export/ca/{ca_a}/certificate", None, None, "download the certificate of a CA in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/export/ca/{ca_none}/certificate", None, None, "download the certificate of an org-less CA"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/export/ca/{missing}/certificate", None, None, "download the certificate of a missing CA"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 403], GET, "/export/ca/{ca_a}/private-key", None, EXPORT, "download the key of a CA in A"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 200], GET, "/export/ca/{ca_mover}/private-key", None, EXPORT, "download the key of the mover's CA"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 403], GET, "/export/certificate/{cert_a}", None, None, "download a certificate in A"),
        row([200, 200, 403, 200, 200, 403, 403, 403, 403], GET, "/export/certificate/{cert_a}/chain", None, None, "download the chain of a certificate in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/export/certificate/{cert_none}/chain", None, None, "download the chain of an org-less certificate"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 403], GET, "/export/certificate/{cert_a}/private-key", None, EXPORT, "download the key of a certificate in A"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/export/certificate/{missing}/private-key", None, EXPORT, "download the key of a missing certificate"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/cas/{ca_none}/private-key", None, EXPORT, "export the key of an org-less CA"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 200], GET, "/cas/{ca_mover}/private-key", None, EXPORT, "export the key of the mover's CA"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 403], GET, "/certificates/{cert_a}/private-key", None, EXPORT, "export the key of a certificate in A"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], GET, "/certificates/{cert_none}/private-key", None, EXPORT, "export the key of an org-less certificate"),
        row([200, 200, 403, 200, 403, 403, 403, 403, 200], GET, "/certificates/{cert_mover}/private-key", None, EXPORT, "export the key of the mover's certificate"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], PATCH, "/cas/{fresh_ca_none}", Some(r#"{"organization_id": {org_a}}"#), None, "adopt an org-less CA into A"),
        row([404, 403, 403, 403, 403, 403, 403, 403, 403], PATCH, "/cas/{fresh_ca_none}", Some(r#"{"organization_id": {missing}}"#), None, "adopt into a missing organization"),
        row([200, 403, 403, 403, 403, 403, 403, 403, 403], PATCH, "/cas/{fresh_ca_a}", Some(r#"{"organization_id": {org_b}, "cascade": true}"#), None, "move a CA of A to B"),
    ]
}

/// The populated app of the matrix.
pub struct PkiWorld {
    pub h: Harness,
    pub org_a: i64,
    pub org_b: i64,
    pub root: String,
    pub admin_a: String,
    tokens: Vec<(Col, String)>,
    flag_a: i64,
    noflag_a: i64,
    mover: i64,
    mover_token: String,
    ca_a: i64,
    ca_none: i64,
    ca_mover: i64,
    cert_a: i64,
    cert_none: i64,
    cert_mover: i64,
    revoked_a: i64,
    /// A CSR, as a JSON string.
    csr: String,
    /// Two CAs of A named `twin`.
    twins: [i64; 2],
}

/// A CSR for `csr.example.com`, PEM as a JSON string.
fn csr_json() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["csr.example.com".to_owned()]).unwrap();
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    serde_json::to_string(&pem).unwrap()
}

/// Sets exactly these flags on `user` (as the superuser).
async fn set_flags(h: &Harness, root: &str, user: i64, on: &[&str]) {
    let mut body = serde_json::Map::new();
    for flag in flag_names() {
        body.insert(flag.to_owned(), json!(on.contains(&flag)));
    }
    h.patch(&format!("/users/{user}"), Some(root), Value::Object(body))
        .await
        .expect(200);
}

/// Creates an EC root CA as `token`; returns its id.
pub async fn create_ca(h: &Harness, token: &str, name: &str) -> i64 {
    let body = json!({
        "name": name, "subject_dn": format!("CN={name},O=Test"), "key_type": "ec",
        "valid_days": 365,
    });
    h.post("/cas/", Some(token), body).await.expect(201).id()
}

/// Issues an EC server certificate from `ca` as `token`; returns its id.
pub async fn issue(h: &Harness, token: &str, ca: i64, cn: &str) -> i64 {
    let body = json!({
        "common_name": cn, "certificate_type": "server", "key_type": "ec",
        "valid_days": 30, "san_dns_names": [cn], "san_ip_addresses": ["10.0.0.1"],
    });
    h.post(&format!("/certificates/?ca_id={ca}"), Some(token), body)
        .await
        .expect(201)
        .id()
}

impl PkiWorld {
    pub async fn new(backend: &Backend, config: ServerConfig) -> PkiWorld {
        let h = Harness::with_config(backend, config).await;
        h.create_user(None, "root", "superuser", None).await;
        let root = h.login("root").await;
        let org_a = h.create_org(&root, "acme").await;
        let org_b = h.create_org(&root, "globex").await;
        let people = [
            (Col::AdminA, "admin_a", "admin", Some(org_a)),
            (Col::AdminB, "admin_b", "admin", Some(org_b)),
            (Col::UserAFlag, "flag_a", "user", Some(org_a)),
            (Col::UserANoFlag, "noflag_a", "user", Some(org_a)),
            (Col::UserBAll, "all_b", "user", Some(org_b)),
            (Col::LonerAll, "loner", "user", None),
            (Col::AdminNone, "admin_none", "admin", None),
            (Col::Mover, "mover", "user", Some(org_a)),
        ];
        let mut tokens = vec![(Col::Superuser, root.clone())];
        let mut ids = Vec::new();
        for (col, name, role, org) in people {
            let id = h.create_user(Some(&root), name, role, org).await;
            ids.push((col, id));
            tokens.push((col, h.login(name).await));
        }
        let id = |col: Col| ids.iter().find(|(c, _)| *c == col).unwrap().1;
        let token = |col: Col| tokens.iter().find(|(c, _)| *c == col).unwrap().1.clone();
        set_flags(&h, &root, id(Col::UserBAll), &flag_names()).await;
        set_flags(&h, &root, id(Col::LonerAll), &flag_names()).await;
        // The mover creates a CA and a certificate while in A, then moves to B, flagless.
        let mover = id(Col::Mover);
        let mover_token = token(Col::Mover);
        set_flags(&h, &root, mover, &["can_create_ca", "can_create_cert"]).await;
        let admin_a = token(Col::AdminA);
        let ca_a = create_ca(&h, &admin_a, "ca-a").await;
        let ca_none = create_ca(&h, &root, "ca-none").await;
        let ca_mover = create_ca(&h, &mover_token, "ca-mover").await;
        let cert_a = issue(&h, &admin_a, ca_a, "a.example.com").await;
        let cert_none = issue(&h, &root, ca_none, "none.example.com").await;
        let cert_mover = issue(&h, &mover_token, ca_mover, "mover.example.com").await;
        let revoked_a = issue(&h, &admin_a, ca_a, "revoked.example.com").await;
        // Two CAs of A with one name: `sign-csr` by that name is ambiguous.
        let twins = [
            create_ca(&h, &admin_a, "twin").await,
            create_ca(&h, &admin_a, "twin").await,
        ];
        h.post(
            &format!("/certificates/{revoked_a}/revoke"),
            Some(&admin_a),
            json!({}),
        )
        .await
        .expect(200);
        let world = PkiWorld {
            flag_a: id(Col::UserAFlag),
            noflag_a: id(Col::UserANoFlag),
            mover,
            mover_token,
            h,
            org_a,
            org_b,
            root,
            admin_a,
            tokens,
            ca_a,
            ca_none,
            ca_mover,
            cert_a,
            cert_none,
            cert_mover,
            revoked_a,
            csr: csr_json(),
            twins,
        };
        world.move_mover(org_b).await;
        world
    }

    fn token(&self, col: Col) -> &str {
        &self.tokens.iter().find(|(c, _)| *c == col).unwrap().1
    }

    /// Moves the mover (as the superuser) to `org`, with no flags in B and its creating flags
    /// in A.
    async fn move_mover(&self, org: i64) {
        let flags: &[&str] = if org == self.org_a {
            &["can_create_ca", "can_create_cert"]
        } else {
            &[]
        };
        self.h
            .patch(
                &format!("/users/{}", self.mover),
                Some(&self.root),
                json!({ "organization_id": org }),
            )
            .await
            .expect(200);
        set_flags(&self.h, &self.root, self.mover, flags).await;
    }

    /// Replaces the placeholders of `text`, creating fresh targets for `{fresh_*}`.
    async fn fill(&self, text: &str, n: u64) -> String {
        let mut out = text
            .replace("{n}", &n.to_string())
            .replace("{org_a}", &self.org_a.to_string())
            .replace("{org_b}", &self.org_b.to_string())
            .replace("{missing}", &MISSING.to_string())
            .replace("{ca_a}", &self.ca_a.to_string())
            .replace("{ca_none}", &self.ca_none.to_string())
            .replace("{ca_mover}", &self.ca_mover.to_string())
            .replace("{cert_a}", &self.cert_a.to_string())
            .replace("{cert_none}", &self.cert_none.to_string())
            .replace("{cert_mover}", &self.cert_mover.to_string())
            .replace("{revoked_a}", &self.revoked_a.to_string())
            .replace("{csr}", &self.csr);
        if out.contains("{fresh_ca_a}") {
            let id = create_ca(&self.h, &self.admin_a, &format!("fresh-a-{n}")).await;
            out = out.replace("{fresh_ca_a}", &id.to_string());
        }
        if out.contains("{fresh_ca_none}") {
            let id = create_ca(&self.h, &self.root, &format!("fresh-none-{n}")).await;
            out = out.replace("{fresh_ca_none}", &id.to_string());
        }
        if out.contains("{fresh_ca_mover}") {
            self.move_mover(self.org_a).await;
            let id = create_ca(&self.h, &self.mover_token, &format!("fresh-mover-{n}")).await;
            self.move_mover(self.org_b).await;
            out = out.replace("{fresh_ca_mover}", &id.to_string());
        }
        if out.contains("{fresh_cert_a}") {
            let id = issue(&self.h, &self.admin_a, self.ca_a, &format!("f{n}.a.test")).await;
            out = out.replace("{fresh_cert_a}", &id.to_string());
        }
        if out.contains("{fresh_cert_none}") {
            let id = issue(
                &self.h,
                &self.root,
                self.ca_none,
                &format!("f{n}.none.test"),
            )
            .await;
            out = out.replace("{fresh_cert_none}", &id.to_string());
        }
        if out.contains("{fresh_cert_mover}") {
            self.move_mover(self.org_a).await;
            let id = issue(
                &self.h,
                &self.mover_token,
                self.ca_mover,
                &format!("f{n}.mover.test"),
            )
            .await;
            self.move_mover(self.org_b).await;
            out = out.replace("{fresh_cert_mover}", &id.to_string());
        }
        out
    }
}

async fn check_matrix(backend: Backend, policy: Policy) {
    let strict = policy == Policy::STRICT;
    let w = PkiWorld::new(&backend, ServerConfig { policy, ..config() }).await;
    let mut failures = Vec::new();
    let mut n = 0u64;
    for row in rows() {
        // The flag columns: exactly the row's flag, and every flag but it.
        let (with, without): (Vec<&str>, Vec<&str>) = match row.flag {
            Some(flag) => (
                vec![flag],
                flag_names()
                    .iter()
                    .copied()
                    .filter(|f| *f != flag)
                    .collect(),
            ),
            None => (vec![], flag_names()),
        };
        set_flags(&w.h, &w.root, w.flag_a, &with).await;
        set_flags(&w.h, &w.root, w.noflag_a, &without).await;
        // The intermediate rows name their parent by the row's name.
        let parent = if row.name.contains("org-less CA") {
            w.ca_none
        } else {
            w.ca_a
        };
        for (col, expected) in COLS.iter().zip(row.expect) {
            n += 1;
            let expected = if strict && *col == Col::Mover {
                403
            } else {
                expected
            };
            let path = w.fill(row.path, n).await;
            let body = match row.body {
                Some(body) => {
                    let body = w.fill(&body.replace("{ca}", &parent.to_string()), n).await;
                    Some(serde_json::from_str::<Value>(&body).unwrap())
                }
                None => None,
            };
            let reply =
                w.h.send(
                    row.method.clone(),
                    &crate::support::api(&path),
                    Some(w.token(*col)),
                    body.map_or(crate::support::Body::None, crate::support::Body::Json),
                )
                .await;
            if reply.code() >= 400 {
                reply.assert_error_shape();
            }
            if reply.code() != expected {
                failures.push(format!(
                    "{} as {col:?}: expected {expected}, got {} ({})",
                    row.name,
                    reply.code(),
                    reply.text
                ));
            }
        }
        // Anonymous callers are always 401.
        let path = w.fill(row.path, n).await;
        let reply =
            w.h.send(
                row.method.clone(),
                &crate::support::api(&path),
                None,
                crate::support::Body::None,
            )
            .await;
        if reply.code() != 401 {
            failures.push(format!("{} anonymously: got {}", row.name, reply.code()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cells differ (strict: {strict}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn matrix_documented(backend: Backend) {
    check_matrix(backend, Policy::DOCUMENTED).await;
}

async fn matrix_strict(backend: Backend) {
    check_matrix(backend, Policy::STRICT).await;
}

/// Lists show exactly the rows the engine's scope holds.
async fn lists_are_scoped(backend: Backend) {
    let w = PkiWorld::new(&backend, config()).await;
    let ids = |reply: &crate::support::Reply| -> Vec<i64> {
        let mut ids: Vec<i64> = reply
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    let b_ca = create_ca(&w.h, w.token(Col::AdminB), "ca-b").await;
    let b_cert = issue(&w.h, w.token(Col::AdminB), b_ca, "b.example.com").await;
    let cases: [(Col, Vec<i64>, Vec<i64>); 6] = [
        (
            Col::Superuser,
            vec![w.ca_a, w.ca_none, w.ca_mover, b_ca, w.twins[0], w.twins[1]],
            vec![w.cert_a, w.cert_none, w.cert_mover, w.revoked_a, b_cert],
        ),
        (
            Col::AdminA,
            vec![w.ca_a, w.ca_mover, w.twins[0], w.twins[1]],
            vec![w.cert_a, w.cert_mover, w.revoked_a],
        ),
        (
            Col::UserANoFlag,
            vec![w.ca_a, w.ca_mover, w.twins[0], w.twins[1]],
            vec![w.cert_a, w.cert_mover, w.revoked_a],
        ),
        (Col::AdminB, vec![b_ca], vec![b_cert]),
        // Organization B's own rows plus what it created while in A.
        (
            Col::Mover,
            vec![w.ca_mover, b_ca],
            vec![w.cert_mover, b_cert],
        ),
        (Col::LonerAll, vec![], vec![]),
    ];
    for (col, mut cas, mut certs) in cases {
        cas.sort_unstable();
        certs.sort_unstable();
        let reply = w.h.get("/cas/", Some(w.token(col))).await;
        assert_eq!(ids(reply.expect(200)), cas, "CAs of {col:?}");
        let reply = w.h.get("/certificates", Some(w.token(col))).await;
        assert_eq!(ids(reply.expect(200)), certs, "certificates of {col:?}");
    }
    // Filters narrow the scope, never widen it.
    let path = format!("/certificates/?ca_id={b_ca}");
    let reply = w.h.get(&path, Some(w.token(Col::AdminA))).await;
    assert_eq!(ids(reply.expect(200)), Vec::<i64>::new());
    let path = format!("/certificates/?ca_id={}&status=revoked", w.ca_a);
    let reply = w.h.get(&path, Some(w.token(Col::AdminA))).await;
    assert_eq!(ids(reply.expect(200)), vec![w.revoked_a]);
    let path = format!("/certificates/?ca_id={}&status=valid", w.ca_a);
    let reply = w.h.get(&path, Some(w.token(Col::AdminA))).await;
    assert_eq!(ids(reply.expect(200)), vec![w.cert_a]);
    let reply = w.h.get("/cas/?limit=1&skip=1", Some(&w.root)).await;
    assert_eq!(reply.expect(200).json.as_array().unwrap().len(), 1);
}

on_both_backends!(matrix_documented, matrix_strict, lists_are_scoped);
