//! Criterion benchmark of the AuthZEN searches of SPEC §11 as the tables grow: one keyset
//! page (limit 100) of
//!
//! * **resource search** over CAs, [`PkiStore::search_cas`]: a superuser's (scope `All`) and
//!   a member's (`scope_for(member, Read)` under the documented policy: its organization or
//!   what it created), each within a superuser caller's read scope;
//! * **subject search** over users, [`Store::list_users_allowed`]: who may read a CA of an
//!   organization (superusers, its creator, the organization's members) and who may issue
//!   from it (superusers, its creator, the organization's admins and `can_create_cert`
//!   holders) — `Policy::principals_allowed` of the engine;
//!
//! at 1 k, 100 k and 1 M CAs and as many users spread evenly over 100 organizations (10, 1 k
//! and 10 k members each, so that deep pages are full too), each for
//! the **first** page and for a page **deep** in the table (the keyset token after the middle
//! id). The cost of a page must follow the page size, not the table size.
//!
//! SQLite always (a file in a temporary directory); PostgreSQL too when
//! `ORGTENANCY_TEST_POSTGRES_URL` is set (in a fresh schema, dropped afterwards). Seeding is
//! one bulk `INSERT … SELECT` per table (a recursive CTE on SQLite, `generate_series` on
//! PostgreSQL) in the store's own tables after both crates' migrations, with constants in
//! every column no search reads (a dummy password hash, an empty PEM and key): 1 M users and
//! 1 M CAs take seconds. Users: user `n` is in organization `n % 100 + 1`, a superuser
//! (without organization) when `n % 250000 == 1`, an admin when `n % 97 == 0`, a holder of
//! `can_create_cert` when `n % 7 == 3`. CAs: CA `n` is in organization `n % 100 + 1`,
//! created by user `n + 1` (a member of the next organization), so a member's scope has
//! its organization's CAs and one more elsewhere. `ORGTENANCY_BENCH_SIZES=1000,100000`
//! chooses the sizes.
//!
//! Run with `cargo bench -p orgtenancy-server-store --bench search`.
#![expect(
    clippy::expect_used,
    reason = "a benchmark stops at the first failure to set up"
)]

use std::{hint::black_box, str::FromStr, time::Duration};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use orgtenancy_core::{
    Action, Capability, OrgId, Policy, Principal, PrincipalSet, Resource, Role, Scope, UserId,
};
use orgtenancy_server_store::PkiStore;
use orgtenancy_sqlx::{KeysetPage, SqlStore, Store};
use sqlx::{
    Connection, Executor, PgConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::runtime::Runtime;

/// Organizations the rows are spread over.
const ORGS: i64 = 100;
/// Users and CAs per run.
const SIZES: [i64; 3] = [1_000, 100_000, 1_000_000];
/// The page every search asks for.
const LIMIT: u32 = 100;
/// The organization searched in: one in the middle.
const ORG: OrgId = OrgId(50);
/// `can_create_cert`, bit 1 of the reference server's catalog.
const CAN_CREATE_CERT: Capability = Capability::of::<1>();

const SQLITE_SEED: [&str; 3] = [
    "INSERT INTO organizations (name, description, created_at, updated_at) \
     WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1) \
     SELECT 'org-' || n, NULL, '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00' FROM seq",
    "INSERT INTO users (username, email, password_hash, role, is_active, organization_id, \
     capabilities, tokens_valid_after, created_at, updated_at) \
     WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $2) \
     SELECT 'user-' || n, 'user-' || n || '@example.com', '$argon2id$v=19$dummy', \
     CASE WHEN n % 250000 = 1 THEN 'superuser' WHEN n % 97 = 0 THEN 'admin' ELSE 'user' END, \
     1, CASE WHEN n % 250000 = 1 THEN NULL ELSE (n % $1) + 1 END, \
     CASE WHEN n % 7 = 3 THEN 2 ELSE 0 END, '2025-01-01T00:00:00+00:00', \
     '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00' FROM seq",
    "INSERT INTO certificate_authorities (name, description, subject_dn, key_type, key_size, \
     valid_days, is_root, parent_ca_id, path_length, allow_leaf_certs, serial_number, \
     certificate_pem, encrypted_private_key, not_before, not_after, organization_id, \
     created_by_user_id, created_at, updated_at) \
     WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $2) \
     SELECT 'ca-' || n, NULL, 'CN=ca', 'ec', 256, 365, 1, NULL, NULL, 1, n, '', x'00', \
     '2025-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', (n % $1) + 1, n + 1, \
     '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00' FROM seq",
];

const POSTGRES_SEED: [&str; 3] = [
    "INSERT INTO organizations (name, description, created_at, updated_at) \
     SELECT 'org-' || n, NULL, now(), now() FROM generate_series(1, $1::bigint) AS n",
    "INSERT INTO users (username, email, password_hash, role, is_active, organization_id, \
     capabilities, tokens_valid_after, created_at, updated_at) \
     SELECT 'user-' || n, 'user-' || n || '@example.com', '$argon2id$v=19$dummy', \
     CASE WHEN n % 250000 = 1 THEN 'superuser' WHEN n % 97 = 0 THEN 'admin' ELSE 'user' END, \
     TRUE, CASE WHEN n % 250000 = 1 THEN NULL ELSE (n % $1::bigint) + 1 END, \
     CASE WHEN n % 7 = 3 THEN 2 ELSE 0 END, now(), now(), now() \
     FROM generate_series(1, $2::bigint) AS n",
    "INSERT INTO certificate_authorities (name, description, subject_dn, key_type, key_size, \
     valid_days, is_root, parent_ca_id, path_length, allow_leaf_certs, serial_number, \
     certificate_pem, encrypted_private_key, not_before, not_after, organization_id, \
     created_by_user_id, created_at, updated_at) \
     SELECT 'ca-' || n, NULL, 'CN=ca', 'ec', 256, 365, TRUE, NULL, NULL, TRUE, n::text, '', \
     '\\x00'::bytea, now(), now() + interval '1 year', (n % $1::bigint) + 1, n + 1, now(), now() \
     FROM generate_series(1, $2::bigint) AS n",
];

fn sizes() -> Vec<i64> {
    match std::env::var("ORGTENANCY_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|n| n.trim().parse().expect("ORGTENANCY_BENCH_SIZES: numbers"))
            .collect(),
        Err(_) => SIZES.to_vec(),
    }
}

async fn seed_sqlite(store: &SqlStore, size: i64) {
    let pool = store.sqlite_pool().expect("SQLite");
    for sql in SQLITE_SEED {
        let query = sqlx::query(sql).bind(ORGS);
        let query = if sql.contains("$2") {
            query.bind(size)
        } else {
            query
        };
        query.execute(pool).await.expect("seed");
    }
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
}

async fn seed_postgres(store: &SqlStore, size: i64) {
    let pool = store.postgres_pool().expect("PostgreSQL");
    for sql in POSTGRES_SEED {
        let query = sqlx::query(sql).bind(ORGS);
        let query = if sql.contains("$2") {
            query.bind(size)
        } else {
            query
        };
        query.execute(pool).await.expect("seed");
    }
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
}

/// A plain member of [`ORG`] in the middle of the users table.
fn member(size: i64) -> Principal {
    let id = (ORG.0 - 1) + ORGS * (size / ORGS / 2);
    Principal::new(UserId(id), Role::User, Some(ORG))
}

/// The searches measured, each as `(name, first page, deep page)`: the deep page starts
/// after the middle id of the table.
fn pages(size: i64) -> [KeysetPage; 2] {
    [
        KeysetPage {
            after: None,
            limit: LIMIT,
        },
        KeysetPage {
            after: Some(size / 2),
            limit: LIMIT,
        },
    ]
}

fn measure(c: &mut Criterion, rt: &Runtime, backend: &str, size: i64, store: &SqlStore) {
    let policy = Policy::DOCUMENTED;
    let member = member(size);
    let member_reads = policy.scope_for(&member, Action::Read);
    assert!(matches!(member_reads, Scope::OrganizationOrCreator { .. }));
    // A CA of ORG (created by a member of the next organization).
    let ca = Resource::new(Some(ORG), Some(UserId(ORG.0 + 1)));
    let readers = policy.principals_allowed(Action::Read, &ca);
    let issuers = policy.principals_allowed(Action::Write(CAN_CREATE_CERT), &ca);

    // What is measured, checked once: full pages where the table has them.
    for page in pages(size) {
        let all = rt.block_on(store.search_cas(Scope::All, Scope::All, page));
        assert_eq!(all.expect("search").len(), 100, "{page:?}");
        let users = rt.block_on(store.list_users_allowed(readers, page));
        let expected = if size >= 100_000 { 100 } else { 1 };
        assert!(users.expect("search").len() >= expected, "{page:?}");
    }

    let mut group = c.benchmark_group(format!("{backend}/search_page_of_100"));
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
    for (depth, page) in ["first", "deep"].into_iter().zip(pages(size)) {
        let cas: [(&str, Scope); 2] = [("superuser", Scope::All), ("member_read", member_reads)];
        for (who, scope) in cas {
            let id = BenchmarkId::new(format!("cas/{who}/{depth}"), size);
            group.bench_with_input(id, &size, |b, _| {
                b.iter(|| black_box(rt.block_on(store.search_cas(scope, Scope::All, page))))
            });
        }
        let users: [(&str, PrincipalSet); 2] = [("read", readers), ("issue", issuers)];
        for (what, set) in users {
            let id = BenchmarkId::new(format!("users/{what}/{depth}"), size);
            group.bench_with_input(id, &size, |b, _| {
                b.iter(|| black_box(rt.block_on(store.list_users_allowed(set, page))))
            });
        }
    }
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    for size in sizes() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = rt.block_on(SqlStore::connect(&url)).expect("open");
        rt.block_on(orgtenancy_server_store::migrate(&store))
            .expect("migrate");
        let started = std::time::Instant::now();
        rt.block_on(seed_sqlite(&store, size));
        eprintln!(
            "sqlite: seeded {size} users and CAs in {:?}",
            started.elapsed()
        );
        measure(c, &rt, "sqlite", size, &store);
        rt.block_on(store.close());
    }
}

fn postgres(c: &mut Criterion) {
    let Some(url) = std::env::var("ORGTENANCY_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("ORGTENANCY_TEST_POSTGRES_URL is not set: PostgreSQL skipped");
        return;
    };
    let rt = Runtime::new().expect("runtime");
    for size in sizes() {
        let schema = format!("bench_search_{}_{size}", std::process::id());
        let admin = async |sql: String| {
            let mut conn = PgConnection::connect(&url)
                .await
                .expect("PostgreSQL reachable");
            conn.execute(sql.as_str()).await.expect("admin statement");
            conn.close().await.expect("close");
        };
        rt.block_on(admin(format!("CREATE SCHEMA {schema}")));
        let options = PgConnectOptions::from_str(&url)
            .expect("URL")
            .options([("search_path", schema.as_str())]);
        let store = rt.block_on(async {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .expect("connect");
            let store = SqlStore::from_postgres_pool(pool).await.expect("open");
            orgtenancy_server_store::migrate(&store)
                .await
                .expect("migrate");
            store
        });
        let started = std::time::Instant::now();
        rt.block_on(seed_postgres(&store, size));
        eprintln!(
            "postgres: seeded {size} users and CAs in {:?}",
            started.elapsed()
        );
        measure(c, &rt, "postgres", size, &store);
        rt.block_on(store.close());
        rt.block_on(admin(format!("DROP SCHEMA {schema} CASCADE")));
    }
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
