//! Stateful isolation over HTTP: seeded random sequences of API calls by actors in several
//! organizations — create, move, remove and delete users; create, rename and delete
//! organizations; change flags, roles, active states and passwords; create, delete and adopt
//! CAs; issue and revoke certificates; export their private keys; log out, refresh and
//! invalidate tokens; and reads of everything — each step checked against an in-memory model
//! ([`model`]) whose oracle is written from SPEC §3–§5, independently of `orgtenancy-core`:
//!
//! - every status equals the model's (allow, 401, 403, 404, 409);
//! - every list equals the caller's visible set in the model, row for row (so it holds no
//!   other tenant's row and misses none), and every row's owner fields and certificate equal
//!   the model's; a CA read shows the chain of parents the caller may read, and an exported
//!   private key belongs to the certificate the model remembers;
//! - every token the sequence was given authenticates exactly while the model says so: a
//!   token that stops (logout, a password change, an invalidation, a deactivation or
//!   deletion) is tried at once and must get 401, an old refresh token too; logged-out and
//!   superseded tokens are also used now and then for random acts;
//! - after each sequence, every actor's lists, its reads of every intermediate CA (their
//!   chains) and the audit log are swept: an admin sees
//!   exactly the superuser's entries of its organization, a user gets 403, and the log holds
//!   exactly the model's entries (action, acting user, resource) — one per committed change,
//!   export and login.
//!
//! Even sequences run under the documented policy, odd ones under strict isolation. CI runs
//! `DEFAULT_CASES` sequences of `DEFAULT_STEPS` steps per backend; `scripts/stateful.sh`
//! runs many more (`ORGTENANCY_STATEFUL_CASES`, `_STEPS`, `_SEED`). A failure names the seed
//! and prints the steps so far, to replay it.

mod apply;
mod checks;
mod model;
mod ops;
mod send;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orgtenancy_core::Policy;
use orgtenancy_server::ServerConfig;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use self::{
    model::{Change, Model, Role, TokenM, UserM, password_text},
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
    let mut kinds = BTreeMap::<String, (usize, usize)>::new();
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
        for (kind, (allowed, denied)) in run.kinds {
            let total = kinds.entry(kind).or_default();
            total.0 += allowed;
            total.1 += denied;
        }
    }
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(kind, (allowed, denied))| format!("{kind} {allowed}/{denied}"))
        .collect();
    eprintln!(
        "stateful ({backend:?}): {cases} sequences x {steps} steps, {checked} checks; \
         steps by status {statuses:?}; acts allowed/refused by kind: {}",
        kinds.join(", ")
    );
}

on_both_backends!(random_sequences);

/// One sequence: the app, the model, and what is needed to act and to explain a failure.
struct Run {
    h: Harness,
    model: Model,
    gone: Gone,
    /// Every access token the sequence was given, with what the model knows of it.
    held: Vec<(String, TokenM)>,
    /// The access token (index into `held`) each actor acts with. One that stopped for good
    /// (logout, password change, invalidation) is dropped, so the actor logs in again; those
    /// of deleted or deactivated users stay, to act with and get 401.
    current: HashMap<i64, usize>,
    /// Every refresh token the sequence was given, and each actor's newest (index).
    refresh_held: Vec<(String, TokenM)>,
    current_refresh: HashMap<i64, usize>,
    rng: StdRng,
    seed: u64,
    trace: Vec<String>,
    root: i64,
    /// Entries the audit log must hold, counted: (action, acting user, resource id).
    audit: BTreeMap<(String, Option<i64>, i64), usize>,
    /// Statuses and lists compared so far.
    checked: usize,
    /// How many steps answered each status, to show what the sequences covered.
    statuses: BTreeMap<u16, usize>,
    /// How many acts of each kind (and probes of stopped tokens) were allowed and refused.
    kinds: BTreeMap<String, (usize, usize)>,
    names: u64,
    /// The description each organization was last given by `UpdateOrg` (a PUT that sets the
    /// same one again changes nothing and is not audited, issue 11).
    descriptions: BTreeMap<i64, String>,
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
            held: Vec::new(),
            current: HashMap::new(),
            refresh_held: Vec::new(),
            current_refresh: HashMap::new(),
            rng: StdRng::seed_from_u64(seed),
            seed,
            trace: Vec::new(),
            root,
            audit: BTreeMap::new(),
            checked: 0,
            statuses: BTreeMap::new(),
            kinds: BTreeMap::new(),
            names: 0,
            descriptions: BTreeMap::new(),
        };
        // The bootstrap user, created anonymously.
        run.audited("user_create", None, root);
        run.model
            .users
            .insert(root, user_m("root", Role::Superuser, None, 0));
        run.populate().await;
        run
    }

    /// Three organizations, an admin and two users in the first, an admin and a user in the
    /// second, an admin and a user in none; a password change; two chains of CAs, one
    /// adopted in part; a rename into a taken name.
    async fn populate(&mut self) {
        for _ in 0..3 {
            self.act(self.root, Op::CreateOrg).await;
        }
        let orgs: Vec<i64> = self.model.orgs.keys().copied().collect();
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
        let first_org = |role: Role| {
            let users = self.model.users.iter();
            users
                .filter(|(_, user)| user.role == role && user.org == Some(orgs[0]))
                .map(|(id, _)| *id)
                .next()
        };
        let (admin, member) = (first_org(Role::Admin), first_org(Role::User));
        // A user that logged in and refreshed (two access tokens) gets a new password from
        // its organization's admin: both tokens, its refresh token and the old password stop.
        if let (Some(admin), Some(member)) = (admin, member) {
            self.act(member, Op::ViewMe).await;
            self.act(member, Op::Refresh).await;
            let change = Change {
                password: Some(self.rng.gen_range(0..1000)),
                ..Change::default()
            };
            let target = member;
            self.act(admin, Op::UpdateUser { target, change }).await;
        }
        // Chains from the start: a root and intermediate of the first organization (its
        // admin's), and an organization-less root and intermediate (the superuser's) whose
        // intermediate the second organization adopts without its root, so that its members
        // read a chain that stops short.
        for actor in admin.into_iter().chain([self.root]) {
            self.act(actor, Op::CreateCa { parent: None }).await;
            let parent = self.model.cas.keys().last().copied();
            self.act(actor, Op::CreateCa { parent }).await;
        }
        if let Some(ca) = self.model.cas.keys().last().copied() {
            let adopt = Op::AdoptCa {
                ca,
                org: orgs[1],
                cascade: false,
            };
            self.act(self.root, adopt).await;
        }
        // A rename into another organization's name (blanks around it): 409.
        let taken = self.model.orgs[&orgs[0]].clone();
        let rename = Op::RenameOrg {
            org: orgs[1],
            name: Some(format!(" {taken}  ")),
        };
        self.act(self.root, rename).await;
    }

    /// One random act by a random actor: anyone with a token (possibly deleted or
    /// deactivated since), or an active user (who logs in first). Most denials are easy to
    /// reach, so two steps in three retry a few draws for an act the model allows: the
    /// state grows (moved creators, busy organizations, chains) and the rest probes it.
    /// Now and then the act is sent with a token its user no longer acts with (logged out,
    /// signed out everywhere, or superseded by a refresh and still valid).
    async fn step(&mut self) {
        if self.rng.gen_bool(0.05) {
            let acting: BTreeSet<usize> = self.current.values().copied().collect();
            let spare: Vec<usize> = (0..self.held.len())
                .filter(|index| !acting.contains(index))
                .collect();
            if !spare.is_empty() {
                let index = spare[self.rng.gen_range(0..spare.len())];
                let owner = self.held[index].1.user;
                let op = next_op(&mut self.rng, &self.model, &self.gone, owner, self.root);
                self.act_with(owner, index, op).await;
                return;
            }
        }
        let mut candidates: Vec<i64> = self.current.keys().copied().collect();
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

    /// The index in `held` of the token `actor` acts with; an actor without one logs in
    /// with the password the model knows.
    async fn token(&mut self, actor: i64) -> usize {
        if let Some(index) = self.current.get(&actor) {
            return *index;
        }
        let user = &self.model.users[&actor];
        let (username, password) = (user.username.clone(), user.password.clone());
        self.trace.push(format!("user {actor}: log in"));
        let reply = self.h.login_reply(&username, &password).await;
        self.check(reply.code(), 200, &reply, "login");
        self.audited("login_success", Some(actor), actor);
        self.count("LogIn".to_owned(), true);
        self.take_tokens(actor, &reply.json);
        self.current[&actor]
    }

    /// Holds the tokens of a login or refresh reply as `actor`'s current ones.
    fn take_tokens(&mut self, actor: i64, body: &Value) {
        let sign_outs = self
            .model
            .users
            .get(&actor)
            .map_or(0, |user| user.sign_outs);
        let fresh = TokenM {
            user: actor,
            sign_outs,
            spent: false,
        };
        let text = |field: &str| body[field].as_str().unwrap_or_default().to_owned();
        self.held.push((text("access_token"), fresh.clone()));
        self.current.insert(actor, self.held.len() - 1);
        self.refresh_held.push((text("refresh_token"), fresh));
        self.current_refresh
            .insert(actor, self.refresh_held.len() - 1);
    }

    fn count(&mut self, kind: String, allowed: bool) {
        let counts = self.kinds.entry(kind).or_default();
        if allowed {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }

    fn audited(&mut self, action: &str, actor: Option<i64>, resource: i64) {
        *self
            .audit
            .entry((action.to_owned(), actor, resource))
            .or_default() += 1;
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

    /// Runs `op` as `actor` with its current token (a user picked without one is active and
    /// logs in now).
    async fn act(&mut self, actor: i64, op: Op) {
        let token = self.token(actor).await;
        self.act_with(actor, token, op).await;
    }

    /// Runs `op` as `actor` with the token `held[token]`: the status must be the model's; on
    /// success the model follows. Then every token the act stopped must get 401.
    async fn act_with(&mut self, actor: i64, token: usize, op: Op) {
        let op = match op {
            Op::RenameOrg { org, name: None } => Op::RenameOrg {
                org,
                name: Some(self.fresh_name("renamed")),
            },
            op => op,
        };
        let marker = if self.current.get(&actor) == Some(&token) {
            String::new()
        } else {
            format!(" (with its token #{token})")
        };
        self.trace.push(format!("user {actor}{marker}: {op:?}"));
        let expected = if matches!(op, Op::Refresh) || self.model.accepts(&self.held[token].1) {
            self.expect(actor, &op)
        } else {
            Err(401)
        };
        let before = self.live_tokens();
        let bearer = self.held[token].0.clone();
        let reply = self.send(actor, &bearer, &op).await;
        let wanted = match (&op, expected) {
            (_, Err(status)) => status,
            (
                Op::CreateOrg | Op::CreateUser { .. } | Op::CreateCa { .. } | Op::IssueCert { .. },
                Ok(()),
            ) => 201,
            (
                Op::DeleteOrg(_)
                | Op::DeleteUser(_)
                | Op::DeleteCa(_)
                | Op::Logout { .. }
                | Op::Invalidate,
                Ok(()),
            ) => 204,
            (_, Ok(())) => 200,
        };
        self.check(reply.code(), wanted, &reply, &format!("{op:?}"));
        *self.statuses.entry(wanted).or_default() += 1;
        let kind: String = match op {
            Op::UpdateUser { change, .. } if change.password.is_some() => "ChangePassword".into(),
            _ => format!("{op:?}")
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect(),
        };
        self.count(kind, expected.is_ok());
        if !marker.is_empty() {
            self.count("with-an-older-token".to_owned(), expected.is_ok());
        }
        if matches!(op, Op::Refresh) {
            // Single use: any exchange consumes the refresh token, whatever it answers.
            if let Some(index) = self.current_refresh.get(&actor) {
                self.refresh_held[*index].1.spent = true;
            }
        }
        let replaced = match op {
            Op::UpdateUser { target, change } if change.password.is_some() => {
                self.model.users.get(&target).map(|user| {
                    let login = (user.username.clone(), user.password.clone());
                    (target, login)
                })
            }
            _ => None,
        };
        if expected.is_ok() {
            self.apply(actor, token, &op, &reply);
        }
        self.settle(before).await;
        // The replaced password no longer logs in (unless the new one is the same).
        if let (Ok(()), Some((target, (username, old)))) = (expected, replaced)
            && self.model.users[&target].password != old
        {
            self.trace
                .push(format!("user {target}: log in with the replaced password"));
            let reply = self.h.login_reply(&username, &old).await;
            self.check(reply.code(), 401, &reply, "log in with a replaced password");
            self.audited("login_failure", Some(target), target);
        }
    }

    /// The access and refresh tokens (indices) the model accepts now.
    fn live_tokens(&self) -> (Vec<usize>, Vec<usize>) {
        let live = |tokens: &[(String, TokenM)]| {
            (0..tokens.len())
                .filter(|index| self.model.accepts(&tokens[*index].1))
                .collect()
        };
        (live(&self.held), live(&self.refresh_held))
    }

    /// After an act: every access token the model accepted `before` and no longer does must
    /// get 401 at once, every such refresh token too (trying it consumes it); actors whose
    /// token stopped for good log in again when they next act.
    async fn settle(&mut self, before: (Vec<usize>, Vec<usize>)) {
        let (access, refresh) = before;
        for index in access {
            let (token, owner) = (self.held[index].0.clone(), self.held[index].1.user);
            if self.model.accepts(&self.held[index].1) {
                continue;
            }
            self.trace
                .push(format!("token #{index} of user {owner}: read /users/me"));
            let reply = self.h.get("/users/me", Some(&token)).await;
            self.check(reply.code(), 401, &reply, "a stopped access token");
            self.count("stopped-access-token".to_owned(), false);
        }
        for index in refresh {
            let (token, owner) = (
                self.refresh_held[index].0.clone(),
                self.refresh_held[index].1.user,
            );
            if self.model.accepts(&self.refresh_held[index].1) {
                continue;
            }
            self.trace
                .push(format!("refresh token #{index} of user {owner}: refresh"));
            let reply = self
                .h
                .post("/auth/refresh", None, json!({ "refresh_token": token }))
                .await;
            self.check(reply.code(), 401, &reply, "a stopped refresh token");
            self.count("stopped-refresh-token".to_owned(), false);
            self.refresh_held[index].1.spent = true;
        }
        let (held, users) = (&self.held, &self.model.users);
        self.current.retain(|_, index| {
            let token = &held[*index].1;
            !token.spent
                && users
                    .get(&token.user)
                    .is_none_or(|user| user.sign_outs == token.sign_outs)
        });
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
            Op::ExportCaKey(ca) => m.on_row(
                actor,
                Some(model::EXPORT_KEY),
                m.ca_res(ca),
                m.cas.contains_key(&ca),
            ),
            Op::ExportCertKey(cert) => m.on_row(
                actor,
                Some(model::EXPORT_KEY),
                m.cert_res(cert),
                m.certs.contains_key(&cert),
            ),
            Op::RenameOrg { org, ref name } => {
                m.rename_org(actor, org, name.as_deref().unwrap_or_default())
            }
            Op::Refresh => match self.current_refresh.get(&actor) {
                Some(index) => m.refresh(&self.refresh_held[*index].1),
                None => Err(401),
            },
            Op::Logout { .. } | Op::Invalidate | Op::ViewMe => Ok(()),
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
        password: PASSWORD.to_owned(),
        sign_outs: 0,
    }
}

/// The public key in a PEM certificate (the subject public key's bits).
fn public_key(pem: &str) -> Option<Vec<u8>> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

fn apply_change(user: &mut UserM, change: Change) {
    if let Some(password) = change.password {
        // A new password signs the user out everywhere (§5).
        user.password = password_text(password);
        user.sign_outs += 1;
    }
    if let Some(flags) = change.flags {
        user.flags = flags;
    }
    if let Some(role) = change.role {
        user.role = role;
    }
    if let Some(active) = change.active {
        // A deactivation ends every session for good, as a password change does (issue 11).
        if user.active && !active {
            user.sign_outs += 1;
        }
        user.active = active;
    }
    if let Some(org) = change.org {
        user.org = org;
    }
}
