//! Many clients at once (SPEC §4–§6, issue 7 item 3): at least 64 clients, each logged in
//! with its own token, race add-member, remove-member, delete-organization, PATCHes of the
//! same users and certificate issuance from shared CAs, against the real binary over HTTP.
//! Afterwards: no 5xx (503 with `Retry-After` allowed), exactly one audit entry per
//! acknowledged change, no user in a deleted organization, no lost update, a membership
//! history that replays to the final state, unique serial numbers per issuer.
//!
//! [`race_and_check`] is shared with the two-process test (`multiprocess.rs`). The long
//! variant is `scripts/stress.sh` (environment variables of [`world::Shape::from_env`]).

pub(crate) mod actors;
pub(crate) mod checks;
pub(crate) mod client;
pub(crate) mod world;

use std::time::Instant;

use self::{
    checks::{Figures, check, figures, last_audit_id},
    client::Http,
    world::{Shape, World},
};
use crate::{
    e2e::start,
    support::{Backend, Database},
};

/// Builds the population on fresh servers (client `i` talks to `servers[i % len]`), races,
/// checks every invariant and returns the figures and the superuser's client (of `servers[0]`).
pub(crate) fn race_and_check(servers: &[String], shape: Shape) -> (Figures, Http) {
    let world = World::build(servers, shape);
    assert!(
        world.actors.len() >= 64 || shape.clients() < 64,
        "fewer clients than planned"
    );
    let since = last_audit_id(&world.root);
    let started = Instant::now();
    let logs = actors::race(&world, shape.ops_per_client, shape.seed);
    let elapsed = started.elapsed();
    let figures = figures(&logs);
    eprintln!(
        "race over {} server(s): {} clients, {} requests in {elapsed:.1?}; statuses {:?}; \
         acknowledged {:?}; {} organizations deleted",
        servers.len(),
        figures.clients,
        figures.ops,
        figures.statuses,
        figures.acks,
        figures.deleted_orgs
    );
    check(&world.root, &logs, &world.superusers, &world.pool, since);
    (figures, world.root)
}

/// A fresh database for `backend`, created on a throwaway runtime (the tests are blocking).
pub(crate) fn fresh_database(backend: &Backend) -> Database {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(Database::fresh(backend))
}

fn race_on(backend: &Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = fresh_database(backend);
    let server = start(dir.path(), Some(&db.url));
    let shape = Shape::from_env();
    let (figures, _) = race_and_check(std::slice::from_ref(&server.base), shape);
    assert_eq!(figures.clients, shape.clients());
    assert!(figures.clients >= 64, "at least 64 clients");
    assert!(figures.ops >= 2000 || shape.ops_per_client < Shape::CI.ops_per_client);
}

#[test]
fn sqlite() {
    race_on(&Backend::Sqlite);
}

#[test]
fn postgres() {
    if let Some(backend) = Backend::postgres() {
        race_on(&backend);
    }
}
