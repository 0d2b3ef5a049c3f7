//! The server's per-request path without the network: `orgtenancy_server::app` over a fresh
//! SQLite file holding 100 organizations of 100 users, driven in-process by poem's
//! `TestClient`. Each request goes through every layer the real server runs — routing and
//! middleware, token verification, the user re-read and the revocation check, the engine's
//! decision, the query, JSON — except the TCP socket and HTTP parsing.
//!
//! Also timed alone, to see where the time goes: token verification, the engine's decision,
//! and the store calls a request makes (the revocation check and the user re-read as two
//! statements, as they were, and as the one statement authentication now makes).
//!
//! ```text
//! cargo bench -p orgtenancy-server --bench request_path
//! ```

#![expect(clippy::unwrap_used, reason = "a benchmark's set-up fails loudly")]

use std::{hint::black_box, sync::Arc};

use criterion::Criterion;
use orgtenancy_core::{CapabilitySet, OrgAct, OrgId, Policy, Role};
use orgtenancy_server::{App, ServerConfig, app, fuzzing::AccessTokenVerifier};
use orgtenancy_server_store::ServerStore;
use orgtenancy_sqlx::{Actor, NewOrganization, NewUser, Page, User};
use poem::{http::StatusCode, test::TestClient};
use tokio::runtime::Runtime;

const ORGANIZATIONS: usize = 100;
const USERS_PER_ORGANIZATION: usize = 100;
const KEY: &[u8] = b"request-path-bench-signing-key-32-bytes";

/// The seeded world: the store, and one plain member of the organization the benches read.
struct World {
    store: Arc<dyn ServerStore>,
    organization: OrgId,
    member: User,
    _dir: tempfile::TempDir,
}

/// 100 organizations × (1 admin + 99 users) and a superuser, through the store's API (the
/// same writes, checks and audit entries as the HTTP API). Every user shares one argon2 hash,
/// computed once: hashing 10,000 passwords would take minutes and is not what is measured.
async fn seed() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let store = orgtenancy_server_store::connect(&url).await.unwrap();
    let hash = orgtenancy_sqlx::password::hash("bench-password").unwrap();
    let new_user = |name: String, role, organization| NewUser {
        email: format!("{name}@bench.test"),
        username: name,
        password_hash: hash.clone(),
        role,
        is_active: true,
        organization_id: organization,
        capabilities: CapabilitySet::EMPTY,
    };
    let root = store
        .create_user(
            &Actor::default(),
            new_user("root".to_owned(), Role::Superuser, None),
            true,
        )
        .await
        .unwrap();
    let actor = Actor::user(&root);
    let mut member = None;
    for o in 0..ORGANIZATIONS {
        let new = NewOrganization {
            name: format!("org-{o}"),
            description: Some("seeded for the request-path bench".to_owned()),
        };
        let org = store.create_organization(&actor, new).await.unwrap();
        for u in 0..USERS_PER_ORGANIZATION {
            let role = if u == 0 { Role::Admin } else { Role::User };
            let new = new_user(format!("user-{o}-{u}"), role, Some(org.id));
            let user = store.create_user(&actor, new, false).await.unwrap();
            if o == ORGANIZATIONS / 2 && u == 1 {
                member = Some(user);
            }
        }
    }
    let member = member.unwrap();
    World {
        organization: member.organization_id.unwrap(),
        member,
        store,
        _dir: dir,
    }
}

/// One GET as `token`; panics unless it answers 200, so a refusal is never timed as success.
async fn get(client: &TestClient<App>, path: &str, token: &str) -> usize {
    let response = client
        .get(path)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .0;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.into_body().into_vec().await.unwrap().len()
}

fn request_path(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let world = runtime.block_on(seed());
    let config = ServerConfig {
        signing_key: Some(KEY.to_vec()),
        ..ServerConfig::default()
    };
    let api = runtime
        .block_on(app(Arc::clone(&world.store), config))
        .unwrap();
    let client = TestClient::new(api);
    let tokens = AccessTokenVerifier::new(KEY).unwrap();
    let token = tokens
        .issue(world.member.id.0, &world.member.username)
        .unwrap();
    let org = world.organization.0;
    let one = format!("/api/v1/organizations/{org}");
    let members = format!("/api/v1/organizations/{org}/users?limit=100");
    let members_20 = format!("/api/v1/organizations/{org}/users?limit=20");
    // A page of members is a full page: 100 users, each a JSON object.
    let page_bytes = runtime.block_on(get(&client, &members, &token));
    assert!(page_bytes > 100 * 100, "a full page of members");

    let mut group = c.benchmark_group("request_path");
    group.bench_function("GET /organizations/{id} as a member", |b| {
        b.iter(|| runtime.block_on(get(&client, &one, &token)));
    });
    group.bench_function("GET /organizations/{id}/users (20 members)", |b| {
        b.iter(|| runtime.block_on(get(&client, &members_20, &token)));
    });
    group.bench_function("GET /organizations/{id}/users (100 members)", |b| {
        b.iter(|| runtime.block_on(get(&client, &members, &token)));
    });
    group.finish();

    let mut parts = c.benchmark_group("request_parts");
    parts.bench_function("verify the access token", |b| {
        b.iter(|| tokens.verify(black_box(&token)).unwrap());
    });
    let principal = world.member.principal();
    parts.bench_function("decide (engine)", |b| {
        b.iter(|| {
            Policy::DOCUMENTED.authorize_org(
                black_box(&principal),
                black_box(OrgAct::View(world.organization)),
            )
        });
    });
    let store = &world.store;
    let jti = "not-revoked";
    parts.bench_function("store: is the token revoked", |b| {
        b.iter(|| runtime.block_on(store.is_access_token_revoked(black_box(jti))));
    });
    parts.bench_function("store: re-read the user", |b| {
        b.iter(|| runtime.block_on(store.get_user(black_box(world.member.id))));
    });
    parts.bench_function(
        "store: the token's user and revocation (one statement)",
        |b| {
            b.iter(|| runtime.block_on(store.token_holder(black_box(world.member.id), jti)));
        },
    );
    parts.bench_function("store: read the organization", |b| {
        b.iter(|| runtime.block_on(store.get_organization(black_box(world.organization))));
    });
    for limit in [20, 100] {
        let page = Page { skip: 0, limit };
        parts.bench_function(format!("store: one page of members ({limit})"), |b| {
            b.iter(|| runtime.block_on(store.list_members(black_box(world.organization), page)));
        });
    }
    parts.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    request_path(&mut criterion);
    criterion.final_summary();
}
