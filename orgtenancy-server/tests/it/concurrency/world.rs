//! The population the load runs against, built over HTTP before the race starts: stable
//! organizations (two admins and some certificate issuers each, one CA), victim organizations
//! (one admin each) that a superuser tries to delete, a pool of organization-less users that
//! admins and a superuser move in and out, and two superusers.

use serde_json::{Value, json};

use super::client::Http;
use crate::support::PASSWORD;

/// How big the load is. [`Shape::from_env`] reads overrides for the long variant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Organizations that stay: two admins, `issuers` users with `can_create_cert`, one CA.
    pub(crate) stable_orgs: usize,
    /// Issuers per stable organization.
    pub(crate) issuers: usize,
    /// Organizations a superuser empties and deletes while admins add users to them.
    pub(crate) victim_orgs: usize,
    /// Organization-less users moved between organizations; each also edits its own email.
    pub(crate) pool: usize,
    /// Requests per client (the deleter gets four times as many).
    pub(crate) ops_per_client: usize,
    /// Seeds the clients' random choices.
    pub(crate) seed: u64,
}

impl Shape {
    /// The CI size: 64 clients, 2,048 requests of the race.
    pub(crate) const CI: Shape = Shape {
        stable_orgs: 6,
        issuers: 4,
        victim_orgs: 6,
        pool: 20,
        ops_per_client: 32,
        seed: 0x5eed,
    };

    /// [`Shape::CI`], scaled by `ORGTENANCY_LOAD_SCALE` (organizations and pool) and with
    /// `ORGTENANCY_LOAD_OPS` requests per client and `ORGTENANCY_LOAD_SEED`, when set.
    pub(crate) fn from_env() -> Shape {
        let read = |name: &str| {
            std::env::var(name).ok().map(|value| {
                value
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name}: not a number"))
            })
        };
        let scale = read("ORGTENANCY_LOAD_SCALE").unwrap_or(1).max(1) as usize;
        let base = Shape::CI;
        Shape {
            stable_orgs: base.stable_orgs * scale,
            victim_orgs: base.victim_orgs * scale,
            pool: base.pool * scale,
            ops_per_client: read("ORGTENANCY_LOAD_OPS").map_or(base.ops_per_client, |n| n as usize),
            seed: read("ORGTENANCY_LOAD_SEED").unwrap_or(base.seed),
            ..base
        }
    }

    /// The number of clients racing.
    pub(crate) fn clients(&self) -> usize {
        self.stable_orgs * (2 + self.issuers) + self.victim_orgs + 2 + self.pool
    }
}

/// The capability flag each of a stable organization's two admins toggles on its issuers:
/// every (user, flag) pair has exactly one writer, so its last acknowledged value is known.
pub(crate) const ADMIN_FLAGS: [&str; 2] = ["can_revoke_cert", "can_export_private_key"];

/// What a client does in the race.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    /// Adds pool users to its organization, removes them, toggles its flag on the issuers.
    StableAdmin {
        org: i64,
        flag: &'static str,
        issuers: Vec<i64>,
    },
    /// Adds pool users to its (doomed) organization and removes them.
    VictimAdmin { org: i64 },
    /// Issues certificates from its organization's CA and edits its own email.
    Issuer { ca: i64 },
    /// A pool user: edits its own email.
    Pooled,
    /// A superuser that empties the victim organizations and deletes them.
    Deleter { victims: Vec<i64> },
    /// A superuser that moves pool users between any organizations.
    Mover { orgs: Vec<i64> },
}

/// One racing client: a logged-in user and its part.
pub(crate) struct Actor {
    /// The user's id.
    pub(crate) id: i64,
    /// The user's username.
    pub(crate) username: String,
    /// Its client, on the server it was assigned.
    pub(crate) http: Http,
    /// What it does.
    pub(crate) part: Part,
}

/// The population.
pub(crate) struct World {
    /// A superuser client of the first server, for the checks.
    pub(crate) root: Http,
    /// The racing clients.
    pub(crate) actors: Vec<Actor>,
    /// The superusers' ids.
    pub(crate) superusers: Vec<i64>,
    /// The pool users' ids.
    pub(crate) pool: Vec<i64>,
}

/// A user to create: username, role, organization, flags, and its part once logged in.
struct Spec {
    username: String,
    role: &'static str,
    org: Option<i64>,
    can_create_cert: bool,
    part: Option<Part>,
}

impl Spec {
    fn new(username: String, role: &'static str, org: Option<i64>) -> Spec {
        Spec {
            username,
            role,
            org,
            can_create_cert: false,
            part: None,
        }
    }
}

/// Runs `work` on every item on a few threads; results come back in no particular order.
pub(crate) fn parallel<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    const THREADS: usize = 8;
    let mut chunks: Vec<Vec<T>> = (0..THREADS).map(|_| Vec::new()).collect();
    for (index, item) in items.into_iter().enumerate() {
        chunks[index % THREADS].push(item);
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("a setup thread panicked"))
            .collect()
    })
}

fn create_user(root: &Http, spec: &Spec) -> i64 {
    let body = json!({
        "username": spec.username,
        "email": format!("{}@example.com", spec.username),
        "password": PASSWORD,
        "role": spec.role,
        "organization_id": spec.org,
        "can_create_cert": spec.can_create_cert,
    });
    let answer = root.must("POST", "/users/", Some(&body));
    assert_eq!(
        answer.status, 201,
        "create {}: {}",
        spec.username, answer.json
    );
    answer.id()
}

fn create_org(root: &Http, name: &str) -> i64 {
    let answer = root.must("POST", "/organizations/", Some(&json!({ "name": name })));
    assert_eq!(
        answer.status, 201,
        "create organization {name}: {}",
        answer.json
    );
    answer.id()
}

fn create_ca(admin: &Http, name: &str) -> i64 {
    let body = json!({
        "name": name, "subject_dn": format!("CN={name}"), "key_type": "ec", "valid_days": 365,
    });
    let answer = admin.must("POST", "/cas/", Some(&body));
    assert_eq!(answer.status, 201, "create CA {name}: {}", answer.json);
    answer.id()
}

/// Bootstraps the superuser on a fresh server and logs it in.
pub(crate) fn bootstrap(base: &str) -> Http {
    let mut root = Http::new(base);
    let body = json!({
        "username": "root", "email": "root@example.com", "password": PASSWORD, "role": "superuser",
    });
    let answer = root.must("POST", "/users/", Some(&body));
    assert_eq!(answer.status, 201, "bootstrap: {}", answer.json);
    root.login("root");
    root
}

impl World {
    /// Builds the population on `servers[0]`; client `i` talks to `servers[i % len]`.
    pub(crate) fn build(servers: &[String], shape: Shape) -> World {
        let root = bootstrap(&servers[0]);
        let root_id = root.must("GET", "/users/me", None).id();
        let stable: Vec<i64> = (0..shape.stable_orgs)
            .map(|i| create_org(&root, &format!("stable-{i}")))
            .collect();
        let victims: Vec<i64> = (0..shape.victim_orgs)
            .map(|i| create_org(&root, &format!("victim-{i}")))
            .collect();
        let specs = specs(shape, &stable, &victims);
        let created = parallel(specs, |spec| {
            (create_user(&root.on(&servers[0]), &spec), spec)
        });
        let issuers_of = |org: i64| -> Vec<i64> {
            created
                .iter()
                .filter(|(_, spec)| spec.org == Some(org) && spec.can_create_cert)
                .map(|(id, _)| *id)
                .collect()
        };
        let mut jobs = Vec::new();
        for (index, (id, spec)) in created.iter().enumerate() {
            let part = spec.part.clone().unwrap_or_else(|| match spec.role {
                "admin" => {
                    let org = spec.org.expect("an admin of an organization");
                    if stable.contains(&org) {
                        let flag = ADMIN_FLAGS[usize::from(spec.username.ends_with("-1"))];
                        Part::StableAdmin {
                            org,
                            flag,
                            issuers: issuers_of(org),
                        }
                    } else {
                        Part::VictimAdmin { org }
                    }
                }
                _ if spec.can_create_cert => Part::Issuer { ca: 0 },
                _ => Part::Pooled,
            });
            let server = servers[index % servers.len()].clone();
            jobs.push((*id, spec.username.clone(), server, part));
        }
        let mut actors = parallel(jobs, |(id, username, server, part)| {
            let mut http = Http::new(&server);
            http.login(&username);
            Actor {
                id,
                username,
                http,
                part,
            }
        });
        actors.sort_by_key(|actor| actor.id);
        give_cas(&mut actors);
        let superusers = created
            .iter()
            .filter(|(_, spec)| spec.role == "superuser")
            .map(|(id, _)| *id)
            .chain(std::iter::once(root_id))
            .collect();
        let pool = created
            .iter()
            .filter(|(_, spec)| spec.role == "user" && spec.org.is_none())
            .map(|(id, _)| *id)
            .collect();
        World {
            root,
            actors,
            superusers,
            pool,
        }
    }
}

/// Each stable organization's first admin creates its CA; its issuers issue from it.
fn give_cas(actors: &mut [Actor]) {
    let mut cas = Vec::new();
    for actor in actors.iter() {
        if let Part::StableAdmin { org, flag, .. } = &actor.part
            && *flag == ADMIN_FLAGS[0]
        {
            cas.push((*org, create_ca(&actor.http, &format!("ca-of-{org}"))));
        }
    }
    let orgs_of: Vec<(i64, i64)> = actors
        .iter()
        .filter_map(|actor| match &actor.part {
            Part::StableAdmin { org, issuers, .. } => Some(
                issuers
                    .iter()
                    .map(|issuer| (*issuer, *org))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    for actor in actors.iter_mut() {
        if let Part::Issuer { ca } = &mut actor.part {
            let org = orgs_of
                .iter()
                .find(|(issuer, _)| *issuer == actor.id)
                .map(|(_, org)| *org);
            let org = org.expect("an issuer of a stable organization");
            *ca = cas
                .iter()
                .find(|(o, _)| *o == org)
                .map(|(_, ca)| *ca)
                .expect("a CA");
        }
    }
}

fn specs(shape: Shape, stable: &[i64], victims: &[i64]) -> Vec<Spec> {
    let mut specs = Vec::new();
    for (i, org) in stable.iter().enumerate() {
        for a in 0..2 {
            specs.push(Spec::new(format!("admin-s{i}-{a}"), "admin", Some(*org)));
        }
        for u in 0..shape.issuers {
            let mut spec = Spec::new(format!("issuer-s{i}-{u}"), "user", Some(*org));
            spec.can_create_cert = true;
            specs.push(spec);
        }
    }
    for (i, org) in victims.iter().enumerate() {
        specs.push(Spec::new(format!("admin-v{i}"), "admin", Some(*org)));
    }
    for p in 0..shape.pool {
        specs.push(Spec::new(format!("pool-{p}"), "user", None));
    }
    let mut deleter = Spec::new("deleter".into(), "superuser", None);
    deleter.part = Some(Part::Deleter {
        victims: victims.to_vec(),
    });
    specs.push(deleter);
    let mut mover = Spec::new("mover".into(), "superuser", None);
    mover.part = Some(Part::Mover {
        orgs: stable.iter().chain(victims).copied().collect(),
    });
    specs.push(mover);
    specs
}

/// The JSON value of `field` of the user `id` in a `GET /users/` listing.
pub(crate) fn field_of(users: &[Value], id: i64, field: &str) -> Value {
    users
        .iter()
        .find(|user| user["id"] == id)
        .map(|user| user[field].clone())
        .unwrap_or_else(|| panic!("user {id} is missing from the list"))
}
