//! Criterion benchmark of the scoped list queries as the tables grow.
//!
//! For 1 k, 100 k and 1 M users spread evenly over 1 k organizations (and as many audit
//! entries), it measures one page of 100 of:
//!
//! * `list_members` of one organization (the §4 member list);
//! * `list_audit` in one organization's scope (what an admin reads, §6);
//! * `list_organizations` in a member's scope and `list_users` (a superuser's first page).
//!
//! Every list is `ORDER BY id LIMIT 100` over an index, so the time per page must stay flat
//! while the tables grow a thousandfold. At 1 k users an organization has a single member,
//! from 100 k on a full page of 100.
//!
//! SQLite always (a file in a temporary directory); PostgreSQL too when
//! `ORGTENANCY_TEST_POSTGRES_URL` is set (in a fresh schema, dropped afterwards). Seeding is
//! one bulk `INSERT … SELECT` per table (a recursive CTE on SQLite, `generate_series` on
//! PostgreSQL) with a fixed dummy password hash, so no argon2 runs. Set
//! `ORGTENANCY_BENCH_SIZES=1000,100000` to choose the sizes.
//!
//! Run with `cargo bench -p orgtenancy-sqlx --bench scoped_lists`.
#![expect(
    clippy::expect_used,
    reason = "a benchmark stops at the first failure to set up"
)]

use std::{hint::black_box, str::FromStr, time::Duration};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use orgtenancy_core::{OrgId, Scope};
use orgtenancy_sqlx::{AuditFilter, Page, SqlStore, Store};
use sqlx::{
    Connection, Executor, PgConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::runtime::Runtime;

/// Organizations the users are spread over.
const ORGS: i64 = 1_000;
/// Users (and audit entries) per run.
const SIZES: [i64; 3] = [1_000, 100_000, 1_000_000];
/// The page every query asks for.
const PAGE: Page = Page {
    skip: 0,
    limit: 100,
};
/// The organization whose page is read: one in the middle.
const ORG: OrgId = OrgId(500);

const SQLITE_SEED: [&str; 3] = [
    "INSERT INTO organizations (name, description, created_at, updated_at) \
     WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1) \
     SELECT 'org-' || n, NULL, '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00' FROM seq",
    "INSERT INTO users (username, email, password_hash, role, is_active, organization_id, \
     capabilities, tokens_valid_after, created_at, updated_at) \
     WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $2) \
     SELECT 'user-' || n, 'user-' || n || '@example.com', '$argon2id$v=19$dummy', 'user', 1, \
     (n % $1) + 1, 0, '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00', \
     '2025-01-01T00:00:00+00:00' FROM seq",
    "INSERT INTO audit_log (created_at, action, user_id, username, organization_id, \
     resource_type, resource_id, detail) \
     WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $2) \
     SELECT '2025-01-01T00:00:00+00:00', 'login_success', n, 'user-' || n, (n % $1) + 1, \
     'session', NULL, NULL FROM seq",
];

const POSTGRES_SEED: [&str; 3] = [
    "INSERT INTO organizations (name, description, created_at, updated_at) \
     SELECT 'org-' || n, NULL, now(), now() FROM generate_series(1, $1::bigint) AS n",
    "INSERT INTO users (username, email, password_hash, role, is_active, organization_id, \
     capabilities, tokens_valid_after, created_at, updated_at) \
     SELECT 'user-' || n, 'user-' || n || '@example.com', '$argon2id$v=19$dummy', 'user', TRUE, \
     (n % $1::bigint) + 1, 0, now(), now(), now() FROM generate_series(1, $2::bigint) AS n",
    "INSERT INTO audit_log (created_at, action, user_id, username, organization_id, \
     resource_type, resource_id, detail) \
     SELECT now(), 'login_success', n, 'user-' || n, (n % $1::bigint) + 1, 'session', NULL, NULL \
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

async fn seed_sqlite(store: &SqlStore, users: i64) {
    let pool = store.sqlite_pool().expect("SQLite");
    for sql in SQLITE_SEED {
        let query = sqlx::query(sql).bind(ORGS);
        let query = if sql.contains("$2") {
            query.bind(users)
        } else {
            query
        };
        query.execute(pool).await.expect("seed");
    }
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
}

async fn seed_postgres(store: &SqlStore, users: i64) {
    let pool = store.postgres_pool().expect("PostgreSQL");
    for sql in POSTGRES_SEED {
        let query = sqlx::query(sql).bind(ORGS);
        let query = if sql.contains("$2") {
            query.bind(users)
        } else {
            query
        };
        query.execute(pool).await.expect("seed");
    }
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
}

fn measure(c: &mut Criterion, rt: &Runtime, backend: &str, users: i64, store: &SqlStore) {
    // A sanity check of what is measured.
    let members = rt.block_on(store.list_members(ORG, PAGE)).expect("members");
    let expected = usize::try_from((users / ORGS).min(100)).expect("small");
    assert_eq!(members.len(), expected, "members on the page");

    let mut group = c.benchmark_group(format!("{backend}/page_of_100"));
    group.sample_size(30);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.bench_with_input(BenchmarkId::new("list_members", users), &users, |b, _| {
        b.iter(|| black_box(rt.block_on(store.list_members(ORG, PAGE))))
    });
    group.bench_with_input(BenchmarkId::new("list_audit_org", users), &users, |b, _| {
        b.iter(|| {
            black_box(rt.block_on(store.list_audit(
                Scope::Organization(ORG),
                AuditFilter::default(),
                PAGE,
            )))
        })
    });
    group.bench_with_input(
        BenchmarkId::new("list_organizations_member", users),
        &users,
        |b, _| {
            b.iter(|| {
                black_box(rt.block_on(store.list_organizations(Scope::Organization(ORG), PAGE)))
            })
        },
    );
    group.bench_with_input(BenchmarkId::new("list_users", users), &users, |b, _| {
        b.iter(|| black_box(rt.block_on(store.list_users(PAGE))))
    });
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    for users in sizes() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = rt.block_on(SqlStore::connect(&url)).expect("open");
        let started = std::time::Instant::now();
        rt.block_on(seed_sqlite(&store, users));
        eprintln!("sqlite: seeded {users} users in {:?}", started.elapsed());
        measure(c, &rt, "sqlite", users, &store);
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
    for users in sizes() {
        let schema = format!("bench_{}_{users}", std::process::id());
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
            SqlStore::from_postgres_pool(pool).await.expect("open")
        });
        let started = std::time::Instant::now();
        rt.block_on(seed_postgres(&store, users));
        eprintln!("postgres: seeded {users} users in {:?}", started.elapsed());
        measure(c, &rt, "postgres", users, &store);
        rt.block_on(store.close());
        rt.block_on(admin(format!("DROP SCHEMA {schema} CASCADE")));
    }
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
