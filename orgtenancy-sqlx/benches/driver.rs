//! Is sqlx's SQLite driver the wall? One primary-key lookup of a user-shaped row, through
//! sqlx (a pool as the store configures it, with and without sqlx's ping before each
//! acquire, and one bare connection) beside the same query through rusqlite on the calling
//! thread. The file is a fresh SQLite database in a temporary directory with the store's
//! pragmas (WAL, `synchronous = NORMAL`) and 10,000 rows.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and sends every statement
//! and every row over channels to it; rusqlite calls SQLite directly. The difference between
//! the two rows is what the driver's design costs per statement.
//!
//! Run with `cargo bench -p orgtenancy-sqlx --bench driver`.
#![expect(
    clippy::expect_used,
    reason = "a benchmark stops at the first failure to set up"
)]

use std::{hint::black_box, str::FromStr};

use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::{
    Connection, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::runtime::Runtime;

/// Rows in the table.
const ROWS: i64 = 10_000;
/// The row every lookup reads.
const ID: i64 = 4_321;

const CREATE: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     username TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL, \
     is_active INTEGER NOT NULL, organization_id INTEGER, capabilities INTEGER NOT NULL)";
const SEED: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) \
     INSERT INTO users (username, email, role, is_active, organization_id, capabilities) \
     SELECT 'user-' || i, 'user-' || i || '@bench.test', 'user', 1, i % 100, 0 FROM n";
const LOOKUP: &str = "SELECT id, username, email, role, is_active, organization_id, \
     capabilities FROM users WHERE id = ?";

/// The row as both drivers return it.
type UserRow = (i64, String, String, String, bool, Option<i64>, i64);

fn options(path: &std::path::Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .expect("url")
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
}

async fn pool(path: &std::path::Path, ping: bool) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(ping)
        .connect_with(options(path))
        .await
        .expect("pool")
}

fn driver(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("driver.db");
    let runtime = Runtime::new().expect("runtime");
    let pinged = runtime.block_on(async {
        let pool = pool(&path, true).await;
        sqlx::query(CREATE).execute(&pool).await.expect("create");
        sqlx::query(SEED).execute(&pool).await.expect("seed");
        pool
    });
    let unpinged = runtime.block_on(pool(&path, false));
    let mut bare = runtime
        .block_on(SqliteConnection::connect_with(&options(&path)))
        .expect("connection");
    let native = rusqlite::Connection::open(&path).expect("rusqlite");
    native
        .pragma_update(None, "synchronous", "NORMAL")
        .expect("pragma");
    let count: i64 = native
        .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
        .expect("count");
    assert_eq!(count, ROWS, "seeded");

    let mut group = c.benchmark_group("sqlite primary-key lookup");
    group.bench_function("sqlx pool, ping before acquire (sqlx default)", |b| {
        b.iter(|| runtime.block_on(lookup_sqlx(&pinged)));
    });
    group.bench_function("sqlx pool, no ping", |b| {
        b.iter(|| runtime.block_on(lookup_sqlx(&unpinged)));
    });
    group.bench_function("sqlx one connection, no pool", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let row: Option<UserRow> = sqlx::query_as(LOOKUP)
                    .bind(black_box(ID))
                    .fetch_optional(&mut bare)
                    .await
                    .expect("lookup");
                row
            })
        });
    });
    group.bench_function("rusqlite, cached statement, calling thread", |b| {
        b.iter(|| lookup_rusqlite(&native));
    });
    group.finish();
}

async fn lookup_sqlx(pool: &SqlitePool) -> Option<UserRow> {
    sqlx::query_as(LOOKUP)
        .bind(black_box(ID))
        .fetch_optional(pool)
        .await
        .expect("lookup")
}

fn lookup_rusqlite(conn: &rusqlite::Connection) -> Option<UserRow> {
    let mut statement = conn.prepare_cached(LOOKUP).expect("prepare");
    let mut rows = statement.query([black_box(ID)]).expect("query");
    let row = rows.next().expect("step")?;
    Some((
        row.get(0).expect("id"),
        row.get(1).expect("username"),
        row.get(2).expect("email"),
        row.get(3).expect("role"),
        row.get(4).expect("is_active"),
        row.get(5).expect("organization_id"),
        row.get(6).expect("capabilities"),
    ))
}

criterion_group!(benches, driver);
criterion_main!(benches);
