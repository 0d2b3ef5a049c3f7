//! The split of the migrations keeps existing databases: a database the release before the
//! split created (see [`crate::release`]) opens with the tenancy store's `connect` and this
//! crate's `migrate` without running or re-checking anything differently, keeps every row and
//! its audit chain, and takes new writes; a fresh database gets every table of both crates.

use std::time::Duration;

use orgtenancy_core::Scope;
use orgtenancy_server_store::{
    CertificateStatus, KeySource, PkiStore, ThrottleKind, ThrottleStore,
};
use orgtenancy_sqlx::{
    Backend, NewOrganization, Page, SqlStore, Store, sqlite_options, statement::Sql,
};
use sqlx::{SqlitePool, postgres::PgPoolOptions};

use crate::{
    pki::{ca_facts, cert_facts, new_ca, new_cert},
    release::{
        Written, applied, current_checksums, populate, release_checksums, release_migrations,
        release_migrator,
    },
    support::{drop_schema, postgres_schema, root},
};

/// Every table of both crates (and sqlx's), by name.
const TABLES: [&str; 12] = [
    "_sqlx_migrations",
    "audit_chain_head",
    "audit_log",
    "certificate_authorities",
    "certificate_revocation_lists",
    "certificates",
    "login_throttle",
    "organizations",
    "refresh_tokens",
    "revoked_access_tokens",
    "secrets",
    "users",
];

/// An empty database: its URL, and what to drop afterwards.
struct Empty {
    url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

fn empty_sqlite() -> Empty {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("release.db").display());
    Empty {
        url,
        backend: Backend::Sqlite,
        _dir: Some(dir),
        schema: None,
    }
}

async fn empty_postgres() -> Option<Empty> {
    let (base, schema, _) = postgres_schema().await?;
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    Some(Empty {
        url,
        backend: Backend::Postgres,
        _dir: None,
        schema: Some((base, schema)),
    })
}

impl Empty {
    async fn finish(self) {
        if let Some((base, schema)) = &self.schema {
            drop_schema(base, schema).await;
        }
    }
}

/// The applied migrations, straight from the release's pool.
const APPLIED: &str = "SELECT version, checksum FROM _sqlx_migrations ORDER BY version";

/// `(version, checksum)` rows with the checksum in hex.
fn hex(rows: Vec<(i64, Vec<u8>)>) -> Vec<(i64, String)> {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    rows.into_iter()
        .map(|(version, checksum)| (version, hex(&checksum)))
        .collect()
}

/// Creates the release's schema in `db` with its one migrator and writes its rows.
async fn as_the_release(db: &Empty) -> Written {
    let migrations = release_migrations(db.backend);
    let migrator = release_migrator(migrations.path()).await;
    let store = match db.backend {
        Backend::Sqlite => {
            let options = sqlite_options(&db.url).expect("SQLite options");
            let pool = SqlitePool::connect_with(options).await.expect("connect");
            migrator.run(&pool).await.expect("the release's migrations");
            let applied = sqlx::query_as(APPLIED).fetch_all(&pool).await;
            assert_eq!(
                hex(applied.expect("applied")),
                release_checksums(db.backend)
            );
            SqlStore::from_sqlite_pool(pool).await
        }
        _ => {
            let pool = PgPoolOptions::new()
                .connect(&db.url)
                .await
                .expect("connect");
            migrator.run(&pool).await.expect("the release's migrations");
            let applied = sqlx::query_as(APPLIED).fetch_all(&pool).await;
            assert_eq!(
                hex(applied.expect("applied")),
                release_checksums(db.backend)
            );
            SqlStore::from_postgres_pool(pool).await
        }
    };
    // Opening it with today's tenancy store also applies the tenancy migrations added since
    // the release (`20250606000000_users_role`); the populated rows are the release's.
    let store = store.expect("the release's database opens");
    let written = populate(&store).await;
    store.close().await;
    written
}

/// Every row the release wrote is there, as it was written.
async fn rows_kept(store: &SqlStore, old: &Written) {
    assert_eq!(
        store.get_organization(old.org.id).await,
        Ok(old.org.clone())
    );
    assert_eq!(store.get_user(old.user.id).await, Ok(old.user.clone()));
    let ca = store.get_ca(old.ca).await.expect("the release's CA");
    assert_eq!(
        (ca.name.as_str(), ca.organization_id, ca.created_by_user_id),
        ("Acme Root", Some(old.org.id), Some(old.user.id))
    );
    assert_eq!(
        (ca.path_length, ca.is_root, ca.not_before),
        (Some(1), true, old.written_at)
    );
    assert_eq!(store.ca_signing_key(old.ca).await, Ok(old.ca_key.clone()));
    let cert = store
        .get_certificate(old.cert)
        .await
        .expect("the release's certificate");
    assert_eq!(cert.ca_id, old.ca);
    assert_eq!(cert.status, CertificateStatus::Valid);
    assert_eq!(cert.san_dns_names, ["www.acme.example", "acme.example"]);
    assert_eq!(cert.san_ip_addresses, ["192.0.2.7"]);
    // The counted window is there: one more attempt is the fourth, in the same window.
    let window = Duration::from_secs(3600);
    let counted = store
        .count_login_attempt(ThrottleKind::Username, "ann", window)
        .await
        .expect("count");
    assert_eq!((counted.count, counted.window_start), (4, old.written_at));
    let report = store.verify_audit_chain().await.expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(
        (report.entries_checked, report.head_id),
        (old.entries, old.head)
    );
}

/// New writes of every kind work on the upgraded database and join the same chain.
async fn new_writes_work(store: &SqlStore, old: &Written) {
    let actor = root();
    let ca = store.get_ca(old.ca).await.expect("the release's CA");
    let child = new_ca("child", Some(ca.id), Some(old.org.id), Some(old.user.id));
    let child = store
        .create_ca(&actor, child, Some(ca_facts(&ca)))
        .await
        .expect("child CA");
    let issued = store
        .create_certificate(
            &actor,
            new_cert(ca.id, "0e0f", Some(old.org.id)),
            ca_facts(&ca),
        )
        .await
        .expect("issue from the release's CA");
    let cert = store.get_certificate(old.cert).await.expect("certificate");
    // The rebuilt certificates table (SQLite) kept the row, its key, and the id counter.
    assert_eq!(cert.key_source, KeySource::Server);
    assert_eq!(
        (cert.renewed_from_id, cert.san_email_addresses.len()),
        (None, 0)
    );
    assert!(issued.id > old.cert, "ids are never reused");
    store
        .export_certificate_key(&actor, cert.id, cert_facts(&cert))
        .await
        .expect("the release's certificate key");
    store
        .revoke_certificate(&actor, cert.id, cert_facts(&cert), None)
        .await
        .expect("revoke the release's certificate");
    let (_, key) = store
        .export_ca_key(&actor, ca.id, ca_facts(&ca))
        .await
        .expect("export");
    assert_eq!(key, old.ca_key);
    let globex = NewOrganization {
        name: "globex".into(),
        description: None,
    };
    store
        .create_organization(&actor, globex)
        .await
        .expect("a new organization");
    let cas = store
        .list_cas(Scope::Organization(old.org.id), Page::default())
        .await;
    let ids: Vec<i64> = cas.expect("list").iter().map(|ca| ca.id).collect();
    assert_eq!(ids, [old.ca, child.id]);
    assert_eq!(issued.organization_id, Some(old.org.id));
    let report = store.verify_audit_chain().await.expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries_checked, old.entries + 6);
}

/// The release's database, then the upgrade: tenancy `connect` and this crate's `migrate`.
async fn upgrade(db: Empty) {
    let old = as_the_release(&db).await;
    let store = SqlStore::connect(&db.url)
        .await
        .expect("the tenancy store opens it");
    orgtenancy_server_store::migrate(&store)
        .await
        .expect("the server's migrations");
    assert_eq!(
        applied(&store).await,
        current_checksums(db.backend),
        "nothing ran again, every checksum is the release's, and the newer migrations ran"
    );
    rows_kept(&store, &old).await;
    new_writes_work(&store, &old).await;
    store.close().await;
    db.finish().await;
}

/// The tables of the database `store` is on.
async fn tables(store: &SqlStore) -> Vec<String> {
    let sql = match store.backend() {
        Backend::Sqlite => Sql::new(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ),
        _ => Sql::new(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name",
        ),
    };
    let rows: Vec<(String,)> = store
        .read()
        .await
        .expect("reader")
        .fetch_all(sql)
        .await
        .expect("tables");
    rows.into_iter().map(|(name,)| name).collect()
}

/// A fresh database through the server store's `connect`: every table, the release's
/// migrations with the release's checksums, and a working store.
async fn fresh(db: Empty) {
    let server = orgtenancy_server_store::connect(&db.url)
        .await
        .expect("connect");
    let org = server
        .create_organization(
            &root(),
            NewOrganization {
                name: "acme".into(),
                description: None,
            },
        )
        .await
        .expect("org");
    server
        .create_ca(&root(), new_ca("root", None, Some(org.id), None), None)
        .await
        .expect("CA");
    drop(server);
    let store = SqlStore::connect(&db.url).await.expect("reopen");
    assert_eq!(tables(&store).await, TABLES);
    assert_eq!(applied(&store).await, current_checksums(db.backend));
    assert!(store.verify_audit_chain().await.expect("verify").ok);
    store.close().await;
    db.finish().await;
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_release_database_upgrades() {
        super::upgrade(super::empty_sqlite()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fresh_database_gets_every_table() {
        super::fresh(super::empty_sqlite()).await;
    }
}

mod postgres {
    use crate::support::POSTGRES_URL_VAR;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_release_database_upgrades() {
        match super::empty_postgres().await {
            Some(db) => super::upgrade(db).await,
            None => eprintln!("{POSTGRES_URL_VAR} is not set: PostgreSQL run skipped"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fresh_database_gets_every_table() {
        match super::empty_postgres().await {
            Some(db) => super::fresh(db).await,
            None => eprintln!("{POSTGRES_URL_VAR} is not set: PostgreSQL run skipped"),
        }
    }
}
