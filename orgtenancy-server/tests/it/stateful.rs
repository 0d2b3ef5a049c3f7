//! Stateful isolation over HTTP: seeded random sequences of API calls by actors in several
//! organizations — create, move, remove and delete users; create and delete organizations;
//! change flags, roles and active states; create, delete and adopt CAs; issue and revoke
//! certificates; and reads of everything — each step checked against an in-memory model
//! ([`model`]) whose oracle is written from SPEC §3–§5, independently of `orgtenancy-core`:
//!
//! - every status equals the model's (allow, 401, 403, 404, 409);
//! - every list equals the caller's visible set in the model, row for row (so it holds no
//!   other tenant's row and misses none), and every row's owner fields equal the model's;
//! - after each sequence, every actor's lists and the audit log are swept: an admin sees
//!   exactly the superuser's entries of its organization, a user gets 403, and the log holds
//!   one entry per committed change and login.
//!
//! Even sequences run under the documented policy, odd ones under strict isolation. CI runs
//! `DEFAULT_CASES` sequences of `DEFAULT_STEPS` steps per backend; `scripts/stateful.sh`
//! runs many more (`ORGTENANCY_STATEFUL_CASES`, `_STEPS`, `_SEED`). A failure names the seed
//! and prints the steps so far, to replay it.

mod model;
mod ops;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orgtenancy_core::Policy;
use orgtenancy_server::ServerConfig;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use self::{
    model::{CaM, CertM, Change, FLAGS, Model, Role, UserM},
    ops::{Gone, Op, next_op},
};
use crate::support::{Backend, Harness, PASSWORD, Reply, config};

const DEFAULT_CASES: u64 = 6;
const DEFAULT_STEPS: u64 = 80;
const DEFAULT_SEED: u64 = 20_261_129;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(default)
}

async fn random_sequences(backend: Backend) {
    let cases = env_number("ORGTENANCY_STATEFUL_CASES", DEFAULT_CASES);
    let steps = env_number("ORGTENANCY_STATEFUL_STEPS", DEFAULT_STEPS);
    let seed = env_number("ORGTENANCY_STATEFUL_SEED", DEFAULT_SEED);
    let mut checked = 0;
    let mut statuses = BTreeMap::<u16, usize>::new();
    for case in 0..cases {
        let seed = seed.wrapping_add(case);
        let mut run = Run::start(&backend, seed, case % 2 == 1).await;
        for _ in 0..steps {
            run.step().await;
        }
        run.sweep().await;
        checked += run.checked;
        for (status, count) in run.statuses {
            *statuses.entry(status).or_default() += count;
        }
    }
    eprintln!(
        "stateful ({backend:?}): {cases} sequences x {steps} steps, {checked} checks; \
         steps by status {statuses:?}"
    );
}

on_both_backends!(random_sequences);

/// One sequence: the app, the model, and what is needed to act and to explain a failure.
struct Run {
    h: Harness,
    model: Model,
    gone: Gone,
    tokens: HashMap<i64, String>,
    rng: StdRng,
    seed: u64,
    trace: Vec<String>,
    root: i64,
    /// Entries the audit log must hold: one per committed change and per login.
    audit_entries: usize,
    /// Statuses and lists compared so far.
    checked: usize,
    /// How many steps answered each status, to show what the sequences covered.
    statuses: BTreeMap<u16, usize>,
    names: u64,
}

impl Run {
    async fn start(backend: &Backend, seed: u64, strict: bool) -> Run {
        let policy = if strict {
            Policy::STRICT
        } else {
            Policy::DOCUMENTED
        };
        let h = Harness::with_config(backend, ServerConfig { policy, ..config() }).await;
        let root = h.create_user(None, "root", "superuser", None).await;
        let mut run = Run {
            h,
            model: Model {
                strict,
                ..Model::default()
            },
            gone: Gone::default(),
            tokens: HashMap::new(),
            rng: StdRng::seed_from_u64(seed),
            seed,
            trace: Vec::new(),
            root,
            audit_entries: 1,
            checked: 0,
            statuses: BTreeMap::new(),
            names: 0,
        };
        run.model
            .users
            .insert(root, user_m("root", Role::Superuser, None, 0));
        run.populate().await;
        run
    }

    /// Three organizations, an admin and two users in the first, an admin and a user in the
    /// second, an admin and a user in none.
    async fn populate(&mut self) {
        for _ in 0..3 {
            self.act(self.root, Op::CreateOrg).await;
        }
        let orgs: Vec<i64> = self.model.orgs.iter().copied().collect();
        let people = [
            (Role::Admin, Some(orgs[0])),
            (Role::User, Some(orgs[0])),
            (Role::User, Some(orgs[0])),
            (Role::Admin, Some(orgs[1])),
            (Role::User, Some(orgs[1])),
            (Role::Admin, None),
            (Role::User, None),
        ];
        for (role, org) in people {
            let flags = self.rng.gen_range(0..32);
            self.act(self.root, Op::CreateUser { role, org, flags })
                .await;
        }
    }

    /// One random act by a random actor: anyone with a token (possibly deleted or
    /// deactivated since), or an active user (who logs in first). Most denials are easy to
    /// reach, so two steps in three retry a few draws for an act the model allows: the
    /// state grows (moved creators, busy organizations, chains) and the rest probes it.
    async fn step(&mut self) {
        let mut candidates: Vec<i64> = self.tokens.keys().copied().collect();
        let active = self.model.users.iter().filter(|(_, user)| user.active);
        candidates.extend(active.map(|(id, _)| *id));
        candidates.sort_unstable();
        candidates.dedup();
        let draws = if self.rng.gen_bool(2.0 / 3.0) { 12 } else { 1 };
        let mut pick = None;
        for _ in 0..draws {
            let actor = candidates[self.rng.gen_range(0..candidates.len())];
            let op = next_op(&mut self.rng, &self.model, &self.gone, actor, self.root);
            let allowed = self.model.caller(actor).is_some() && self.expect(actor, &op).is_ok();
            pick = Some((actor, op));
            if allowed {
                break;
            }
        }
        if let Some((actor, op)) = pick {
            self.act(actor, op).await;
        }
    }

    async fn token(&mut self, actor: i64) -> String {
        if let Some(token) = self.tokens.get(&actor) {
            return token.clone();
        }
        let username = self.model.users[&actor].username.clone();
        let reply = self.h.login_reply(&username, PASSWORD).await;
        self.check(reply.code(), 200, &reply, "login");
        self.audit_entries += 1;
        let token = reply.json["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.tokens.insert(actor, token.clone());
        token
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "stateful sequence (seed {}, strict {}) failed at step {}: {what}\nsteps:\n  {}",
            self.seed,
            self.model.strict,
            self.trace.len(),
            self.trace.join("\n  ")
        );
    }

    fn check(&mut self, actual: u16, expected: u16, reply: &Reply, what: &str) {
        self.checked += 1;
        if actual != expected {
            self.fail(&format!(
                "{what}: status {actual}, model expects {expected}; body {}",
                reply.text
            ));
        }
        if actual >= 400 {
            reply.assert_error_shape();
        }
    }

    fn check_ids(&mut self, rows: &Value, expected: &BTreeSet<i64>, what: &str) {
        self.checked += 1;
        let actual: BTreeSet<i64> = rows
            .as_array()
            .map(|rows| rows.iter().filter_map(|row| row["id"].as_i64()).collect())
            .unwrap_or_default();
        if &actual != expected {
            let leaked: Vec<_> = actual.difference(expected).collect();
            let missing: Vec<_> = expected.difference(&actual).collect();
            self.fail(&format!(
                "{what}: rows not visible in the model {leaked:?}, rows missing {missing:?}"
            ));
        }
    }

    /// Runs `op` as `actor`: the status must be the model's; on success the model follows.
    async fn act(&mut self, actor: i64, op: Op) {
        self.trace.push(format!("user {actor}: {op:?}"));
        // A user picked without a token is active and logs in now.
        let token = self.token(actor).await;
        let expected = if self.model.caller(actor).is_none() {
            Err(401)
        } else {
            self.expect(actor, &op)
        };
        let reply = self.send(&token, &op).await;
        let wanted = match (&op, expected) {
            (_, Err(status)) => status,
            (
                Op::CreateOrg | Op::CreateUser { .. } | Op::CreateCa { .. } | Op::IssueCert { .. },
                Ok(()),
            ) => 201,
            (Op::DeleteOrg(_) | Op::DeleteUser(_) | Op::DeleteCa(_), Ok(())) => 204,
            (_, Ok(())) => 200,
        };
        self.check(reply.code(), wanted, &reply, &format!("{op:?}"));
        *self.statuses.entry(wanted).or_default() += 1;
        if expected.is_ok() {
            self.apply(actor, &op, &reply);
        }
    }

    fn expect(&self, actor: i64, op: &Op) -> Result<(), u16> {
        let m = &self.model;
        match *op {
            Op::CreateOrg => m.create_org(actor),
            Op::UpdateOrg(org) => m.update_org(actor, org),
            Op::DeleteOrg(org) => m.delete_org(actor, org),
            Op::CreateUser { role, org, flags } => m.create_user(actor, role, org, flags),
            Op::UpdateUser { target, change } => m.update_user(actor, target, change),
            Op::DeleteUser(target) => m.delete_user(actor, target),
            Op::AddMember { org, target } => m.add_member(actor, org, target),
            Op::RemoveMember { org, target } => m.remove_member(actor, org, target),
            Op::CreateCa { parent } => m.create_ca(actor, parent),
            Op::IssueCert { ca } => m.on_row(
                actor,
                Some(model::CREATE_CERT),
                m.ca_res(ca),
                m.cas.contains_key(&ca),
            ),
            Op::RevokeCert(cert) => m.revoke_cert(actor, cert),
            Op::DeleteCa(ca) => m.delete_ca(actor, ca),
            Op::AdoptCa { ca, org, .. } => m.adopt_ca(actor, ca, org),
            Op::ListOrgs | Op::ListCas | Op::ListCerts => Ok(()),
            Op::ViewOrg(org) | Op::ListMembers(org) => m.read_org(actor, org),
            Op::ListUsers => m.list_users(actor),
            Op::ViewUser(target) => m.view_user(actor, target),
            Op::ViewCa(ca) => m.on_row(actor, None, m.ca_res(ca), m.cas.contains_key(&ca)),
            Op::ViewCert(cert) => {
                m.on_row(actor, None, m.cert_res(cert), m.certs.contains_key(&cert))
            }
            Op::ListAudit => match m.caller(actor).map(|user| user.role) {
                Some(Role::User) => Err(403),
                _ => Ok(()),
            },
        }
    }

    fn fresh_name(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}-{}", self.names, self.seed)
    }

    async fn send(&mut self, token: &str, op: &Op) -> Reply {
        let t = Some(token);
        let h = &self.h;
        match op {
            Op::CreateOrg => {
                let name = self.fresh_name("org");
                self.h
                    .post("/organizations/", t, json!({ "name": name }))
                    .await
            }
            Op::UpdateOrg(org) => {
                let body = json!({ "description": format!("changed {}", self.names) });
                h.put(&format!("/organizations/{org}"), t, body).await
            }
            Op::DeleteOrg(org) => h.delete(&format!("/organizations/{org}"), t).await,
            Op::CreateUser { role, org, flags } => {
                let name = self.fresh_name("u");
                let mut body = json!({
                    "username": name, "email": format!("{name}@example.com"),
                    "password": PASSWORD, "role": role.name(), "organization_id": org,
                });
                for (bit, flag) in FLAGS.iter().enumerate() {
                    body[*flag] = json!(flags & (1 << bit) != 0);
                }
                self.h.post("/users/", t, body).await
            }
            Op::UpdateUser { target, change } => {
                let body = self.change_body(*change);
                self.h.patch(&format!("/users/{target}"), t, body).await
            }
            Op::DeleteUser(target) => h.delete(&format!("/users/{target}"), t).await,
            Op::AddMember { org, target } => {
                let path = format!("/organizations/{org}/users/{target}");
                h.post(&path, t, Value::Null).await
            }
            Op::RemoveMember { org, target } => {
                h.delete(&format!("/organizations/{org}/users/{target}"), t)
                    .await
            }
            Op::CreateCa { parent } => {
                let name = self.fresh_name("ca");
                let body = json!({
                    "name": name, "subject_dn": format!("CN={name}"), "key_type": "ec",
                    "parent_ca_id": parent,
                });
                self.h.post("/cas/", t, body).await
            }
            Op::IssueCert { ca } => {
                let name = format!("{}.test", self.fresh_name("host"));
                let body = json!({
                    "common_name": name, "certificate_type": "server", "key_type": "ec",
                    "san_dns_names": [name],
                });
                self.h
                    .post(&format!("/certificates/?ca_id={ca}"), t, body)
                    .await
            }
            Op::RevokeCert(cert) => {
                let body = json!({ "reason": "key compromise" });
                h.post(&format!("/certificates/{cert}/revoke"), t, body)
                    .await
            }
            Op::DeleteCa(ca) => h.delete(&format!("/cas/{ca}"), t).await,
            Op::AdoptCa { ca, org, cascade } => {
                let body = json!({ "organization_id": org, "cascade": cascade });
                h.patch(&format!("/cas/{ca}"), t, body).await
            }
            Op::ListOrgs => h.get("/organizations/?limit=1000", t).await,
            Op::ViewOrg(org) => h.get(&format!("/organizations/{org}"), t).await,
            Op::ListMembers(org) => {
                h.get(&format!("/organizations/{org}/users?limit=1000"), t)
                    .await
            }
            Op::ListUsers => h.get("/users/?limit=1000", t).await,
            Op::ViewUser(target) => h.get(&format!("/users/{target}"), t).await,
            Op::ListCas => h.get("/cas/?limit=1000", t).await,
            Op::ViewCa(ca) => h.get(&format!("/cas/{ca}"), t).await,
            Op::ListCerts => h.get("/certificates/?limit=1000", t).await,
            Op::ViewCert(cert) => h.get(&format!("/certificates/{cert}"), t).await,
            Op::ListAudit => h.get("/audit-logs/?limit=1000", t).await,
        }
    }

    fn change_body(&mut self, change: Change) -> Value {
        let mut body = json!({});
        if change.email {
            let name = self.fresh_name("mail");
            body["email"] = json!(format!("{name}@example.com"));
        }
        if let Some(flags) = change.flags {
            for (bit, flag) in FLAGS.iter().enumerate() {
                body[*flag] = json!(flags & (1 << bit) != 0);
            }
        }
        if let Some(role) = change.role {
            body["role"] = json!(role.name());
        }
        if let Some(active) = change.active {
            body["is_active"] = json!(active);
        }
        if let Some(org) = change.org {
            body["organization_id"] = json!(org);
        }
        body
    }

    /// Brings the model along with an act the server performed, checking what it answered.
    fn apply(&mut self, actor: i64, op: &Op, reply: &Reply) {
        let actor_org = self.model.users.get(&actor).and_then(|user| user.org);
        let body = &reply.json;
        match *op {
            Op::CreateOrg => {
                self.model.orgs.insert(reply.id());
                self.audit_entries += 1;
            }
            Op::UpdateOrg(_) => self.audit_entries += 1,
            Op::RevokeCert(cert) => {
                if let Some(cert) = self.model.certs.get_mut(&cert) {
                    cert.revoked = true;
                }
                self.audit_entries += 1;
                self.check_cert(body);
            }
            Op::DeleteOrg(org) => {
                self.model.orgs.remove(&org);
                self.gone.orgs.push(org);
                self.audit_entries += 1;
            }
            Op::CreateUser { role, org, flags } => {
                let username = body["username"].as_str().unwrap_or_default().to_owned();
                let user = user_m(&username, role, org, flags);
                self.model.users.insert(reply.id(), user);
                self.audit_entries += 1;
                self.check_user(reply.id(), body);
            }
            Op::UpdateUser { target, change } => {
                if let Some(user) = self.model.users.get_mut(&target) {
                    apply_change(user, change);
                }
                self.audit_entries += 1;
                self.check_user(target, body);
            }
            Op::DeleteUser(target) => {
                self.model.users.remove(&target);
                self.gone.users.push(target);
                self.audit_entries += 1;
            }
            Op::AddMember { org, target } => {
                if let Some(user) = self.model.users.get_mut(&target) {
                    user.org = Some(org);
                }
                self.audit_entries += 1;
                self.check_user(target, body);
            }
            Op::RemoveMember { target, .. } => {
                if let Some(user) = self.model.users.get_mut(&target) {
                    user.org = None;
                }
                self.audit_entries += 1;
                self.check_user(target, body);
            }
            Op::CreateCa { parent } => {
                let ca = CaM {
                    org: actor_org,
                    creator: actor,
                    parent,
                };
                self.model.cas.insert(reply.id(), ca);
                self.audit_entries += 1;
                self.check_ca(body);
            }
            Op::IssueCert { ca } => {
                let cert = CertM {
                    org: actor_org,
                    creator: actor,
                    ca,
                    revoked: false,
                };
                self.model.certs.insert(reply.id(), cert);
                self.audit_entries += 1;
                self.check_cert(body);
            }
            Op::DeleteCa(ca) => {
                self.model.cas.remove(&ca);
                self.gone.cas.push(ca);
                self.audit_entries += 1;
            }
            Op::AdoptCa { ca, org, cascade } => {
                self.model.adopt(ca, org, cascade);
                self.audit_entries += 1;
                self.check_ca(body);
            }
            Op::ListOrgs => {
                let visible = self.model.visible_orgs(actor);
                self.check_ids(body, &visible, "organizations listed");
            }
            Op::ListMembers(org) => {
                let members = self.model.members(org);
                self.check_ids(body, &members, "members listed");
                self.check_rows(body, Self::check_user_row);
            }
            Op::ListUsers => {
                let all = self.model.users.keys().copied().collect();
                self.check_ids(body, &all, "users listed");
                self.check_rows(body, Self::check_user_row);
            }
            Op::ViewUser(target) => self.check_user(target, body),
            Op::ListCas => {
                let visible = self.model.visible_cas(actor);
                self.check_ids(body, &visible, "CAs listed");
                self.check_rows(body, Self::check_ca);
            }
            Op::ViewCa(_) => self.check_ca(body),
            Op::ListCerts => {
                let visible = self.model.visible_certs(actor);
                self.check_ids(body, &visible, "certificates listed");
                self.check_rows(body, Self::check_cert);
            }
            Op::ViewCert(_) => self.check_cert(body),
            Op::ViewOrg(org) => {
                if body["id"].as_i64() != Some(org) {
                    self.fail(&format!("organization {org} read as {body}"));
                }
            }
            Op::ListAudit => self.check_audit_scope(actor, body),
        }
    }

    /// An admin reads only its own organization's entries (none without one).
    fn check_audit_scope(&mut self, actor: i64, rows: &Value) {
        let Some(admin) = self
            .model
            .caller(actor)
            .filter(|user| user.role == Role::Admin)
        else {
            return;
        };
        let org = admin.org;
        self.checked += 1;
        let entries = rows.as_array().cloned().unwrap_or_default();
        let foreign = entries
            .iter()
            .find(|entry| org.is_none() || entry["organization_id"].as_i64() != org);
        if let Some(entry) = foreign {
            self.fail(&format!(
                "admin of {org:?} reads another tenant's audit entry {entry}"
            ));
        }
    }

    fn check_rows(&mut self, rows: &Value, check: fn(&mut Run, &Value)) {
        for row in rows.as_array().cloned().unwrap_or_default() {
            check(self, &row);
        }
    }

    fn check_user_row(&mut self, row: &Value) {
        let id = row["id"].as_i64().unwrap_or_default();
        self.check_user(id, row);
    }

    /// The user as the server shows it equals the model's.
    fn check_user(&mut self, id: i64, row: &Value) {
        let Some(user) = self.model.users.get(&id) else {
            self.fail(&format!("user {id} is not in the model: {row}"));
        };
        let mut expected = json!({
            "id": id, "role": user.role.name(), "organization_id": user.org,
            "is_active": user.active,
        });
        for (bit, flag) in FLAGS.iter().enumerate() {
            expected[*flag] = json!(user.flags & (1 << bit) != 0);
        }
        self.check_fields(&expected, row, "user");
    }

    fn check_ca(&mut self, row: &Value) {
        let id = row["id"].as_i64().unwrap_or_default();
        let Some(ca) = self.model.cas.get(&id) else {
            self.fail(&format!("CA {id} is not in the model: {row}"));
        };
        let expected = json!({
            "id": id, "organization_id": ca.org, "created_by_user_id": ca.creator,
            "parent_ca_id": ca.parent,
        });
        self.check_fields(&expected, row, "CA");
    }

    fn check_cert(&mut self, row: &Value) {
        let id = row["id"].as_i64().unwrap_or_default();
        let Some(cert) = self.model.certs.get(&id) else {
            self.fail(&format!("certificate {id} is not in the model: {row}"));
        };
        let status = if cert.revoked { "revoked" } else { "valid" };
        let expected = json!({
            "id": id, "organization_id": cert.org, "created_by_user_id": cert.creator,
            "issuer_id": cert.ca, "status": status,
        });
        self.check_fields(&expected, row, "certificate");
    }

    fn check_fields(&mut self, expected: &Value, row: &Value, what: &str) {
        self.checked += 1;
        let fields = expected.as_object().cloned().unwrap_or_default();
        for (field, value) in fields {
            if row[&field] != value {
                self.fail(&format!("{what} {field}: server {row}, model {expected}"));
            }
        }
    }

    /// After a sequence: every actor's lists, and the audit log as each actor sees it.
    async fn sweep(&mut self) {
        self.trace.push("sweep".to_owned());
        let actors: Vec<i64> = self.tokens.keys().copied().collect();
        for actor in actors {
            for op in [Op::ListOrgs, Op::ListCas, Op::ListCerts, Op::ListUsers] {
                self.act(actor, op).await;
            }
        }
        let root = self.tokens[&self.root].clone();
        let all = self.audit_log(&root).await;
        self.checked += 1;
        if all.len() != self.audit_entries {
            let actions: Vec<_> = all.iter().map(|entry| entry["action"].clone()).collect();
            self.fail(&format!(
                "the audit log holds {} entries, the model {}: {actions:?}",
                all.len(),
                self.audit_entries
            ));
        }
        let admins: Vec<(i64, Option<i64>)> = self
            .model
            .users
            .iter()
            .filter(|(id, user)| {
                user.active && user.role == Role::Admin && self.tokens.contains_key(id)
            })
            .map(|(id, user)| (*id, user.org))
            .collect();
        for (admin, org) in admins {
            let token = self.tokens[&admin].clone();
            let seen = self.audit_log(&token).await;
            let expected: BTreeSet<i64> = all
                .iter()
                .filter(|entry| org.is_some() && entry["organization_id"].as_i64() == org)
                .filter_map(|entry| entry["id"].as_i64())
                .collect();
            self.check_ids(&Value::Array(seen), &expected, "audit entries of an admin");
        }
    }

    /// Every entry `token` may read, page by page.
    async fn audit_log(&mut self, token: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        loop {
            let path = format!("/audit-logs/?limit=1000&skip={}", entries.len());
            let reply = self.h.get(&path, Some(token)).await;
            self.check(reply.code(), 200, &reply, "read the audit log");
            let page = reply.json.as_array().cloned().unwrap_or_default();
            let full = page.len() == 1000;
            entries.extend(page);
            if !full {
                return entries;
            }
        }
    }
}

fn user_m(username: &str, role: Role, org: Option<i64>, flags: u8) -> UserM {
    UserM {
        username: username.to_owned(),
        role,
        org,
        flags,
        active: true,
    }
}

fn apply_change(user: &mut UserM, change: Change) {
    if let Some(flags) = change.flags {
        user.flags = flags;
    }
    if let Some(role) = change.role {
        user.role = role;
    }
    if let Some(active) = change.active {
        user.active = active;
    }
    if let Some(org) = change.org {
        user.org = org;
    }
}
