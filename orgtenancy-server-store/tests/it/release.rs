//! A database as the release before the split (commit 63ca3f8) made it: its four migrations
//! of one set, applied in version order by one sqlx `Migrator` from the literal files, and a
//! row in every table the upgrade must keep.
//!
//! The files are the ones the two crates carry now (the tenancy crate's
//! `20250601000000_tenancy` and `20250603000000_audit_chain`, this crate's
//! `20250602000000_pki` and `20250604000000_login_throttle`), copied into one directory; the
//! checksums sqlx records for them are compared with the SHA-384 of the release's files
//! ([`RELEASE_CHECKSUMS`]), so a moved migration that changed by one byte fails here. Rows:
//! the organization, the user and their audit entries through the tenancy `Store` (whose
//! code for them is the release's), the CA, the certificate and their `ca_create` and
//! `cert_create` entries with the release's statements, and a login-throttle row.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use orgtenancy_core::{CapabilitySet, Role};
use orgtenancy_sqlx::{
    AuditedTx, Backend, NewAuditEntry, NewOrganization, NewUser, Organization, SqlStore, Store,
    User,
    statement::{Sql, now},
};
use sqlx::migrate::Migrator;

use crate::support::root;

/// `sha384sum` of each migration file at commit 63ca3f8 (`git show 63ca3f8:<path>`), in
/// version order: what sqlx stored as the checksum of each in every database the release
/// created.
pub const RELEASE_CHECKSUMS: [(Backend, [(i64, &str); 4]); 2] = [
    (
        Backend::Sqlite,
        [
            (
                20250601000000,
                "250b7820d4f4173df6dbc9523cadbda05589f72e27030f4ee51bce5398eced781ccf5234de9dd54e895fbf6b5bfef5f8",
            ),
            (
                20250602000000,
                "29de248c4bde23d36badbe283ca5850f97cf2eea171b0f374b1404568db0ab73fe36d54d475cc40f1331bf0efa6a6b22",
            ),
            (
                20250603000000,
                "64c65ddbaa351601abd48c7b6417041fe0fd94f4bf91f03089ef91caf024e3af452893ae48410d420367dda503a91ea7",
            ),
            (
                20250604000000,
                "94d5117350e2400fbcc1985e9bc6d2cc760828dbc3605204fc133b22a1330643968e3e5656ee50076183b62739b12f08",
            ),
        ],
    ),
    (
        Backend::Postgres,
        [
            (
                20250601000000,
                "cf57edcda921a8dd3f634ed57a83df18effd32fa6c8dfed0ec2575cb7616b69c17e04074b49c6d3abb47ccaeaff84afa",
            ),
            (
                20250602000000,
                "4cc98ccf081c69f241997b3eebb005d707ae561c68c2971951ab90b9ee073eeb7e169c476388fc17dfb6a783314036f8",
            ),
            (
                20250603000000,
                "10b9a9c0d3f9bed14386dc5c348465c4c9601714d022cd7bd3f4c810866ebed0212ef4d2e8adb37c36c128794a1b03c3",
            ),
            (
                20250604000000,
                "defb6362a1a2710c752e78d7727cbcd4463821f6279bd450564b379cf88406f1b639fea4158be2c0b974e6498231bda9",
            ),
        ],
    ),
];

/// The migrations a database of today's crates has applied: the release's (with the release's
/// checksums), then those added since in either crate (`20250605000000_pki_fastpki` here,
/// `20250606000000_users_role` in the tenancy crate), with their files', in version order.
pub fn current_checksums(backend: Backend) -> Vec<(i64, String)> {
    let (server, tenancy) = match backend {
        Backend::Sqlite => (
            sqlx::migrate!("./migrations/sqlite"),
            sqlx::migrate!("../orgtenancy-sqlx/migrations/sqlite"),
        ),
        _ => (
            sqlx::migrate!("./migrations/postgres"),
            sqlx::migrate!("../orgtenancy-sqlx/migrations/postgres"),
        ),
    };
    let release = release_checksums(backend);
    let last = release.last().map_or(0, |(version, _)| *version);
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut since: Vec<(i64, String)> = server
        .iter()
        .chain(tenancy.iter())
        .filter(|migration| migration.version > last)
        .map(|migration| (migration.version, hex(&migration.checksum)))
        .collect();
    since.sort();
    let all: Vec<(i64, String)> = release.into_iter().chain(since).collect();
    assert!(all.len() > 5, "the migrations since the release are listed");
    all
}

/// The release's applied migrations for `backend`, as `(version, checksum in hex)`.
pub fn release_checksums(backend: Backend) -> Vec<(i64, String)> {
    let (_, files) = RELEASE_CHECKSUMS
        .iter()
        .find(|(of, _)| *of == backend)
        .expect("pinned checksums for every backend");
    files
        .iter()
        .map(|(version, hex)| (*version, (*hex).to_owned()))
        .collect()
}

/// The applied migrations recorded in the database, as `(version, checksum in hex)`.
pub async fn applied(store: &SqlStore) -> Vec<(i64, String)> {
    let sql = Sql::new("SELECT version, checksum FROM _sqlx_migrations ORDER BY version");
    let rows: Vec<(i64, Vec<u8>)> = store
        .read()
        .await
        .expect("a reader")
        .fetch_all(sql)
        .await
        .expect("the applied migrations");
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    rows.into_iter()
        .map(|(version, checksum)| (version, hex(&checksum)))
        .collect()
}

fn folder(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        _ => "postgres",
    }
}

/// The release's four migration files for `backend`, in one temporary directory.
pub fn release_migrations(backend: Backend) -> tempfile::TempDir {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace");
    let files: [(PathBuf, &str); 4] = [
        (crates.join("orgtenancy-sqlx"), "20250601000000_tenancy.sql"),
        (
            crates.join("orgtenancy-server-store"),
            "20250602000000_pki.sql",
        ),
        (
            crates.join("orgtenancy-sqlx"),
            "20250603000000_audit_chain.sql",
        ),
        (
            crates.join("orgtenancy-server-store"),
            "20250604000000_login_throttle.sql",
        ),
    ];
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (owner, name) in files {
        let from = owner.join("migrations").join(folder(backend)).join(name);
        std::fs::copy(&from, dir.path().join(name))
            .unwrap_or_else(|error| panic!("copy {}: {error}", from.display()));
    }
    dir
}

/// The release's one migrator (all four versions, none ignored) over `migrations`.
pub async fn release_migrator(migrations: &Path) -> Migrator {
    Migrator::new(migrations)
        .await
        .expect("the release's migration files")
}

/// What the release wrote, to find again after the upgrade.
#[derive(Debug, Clone)]
pub struct Written {
    pub org: Organization,
    pub user: User,
    pub ca: i64,
    pub ca_key: Vec<u8>,
    pub cert: i64,
    pub written_at: DateTime<Utc>,
    pub entries: u64,
    pub head: Option<i64>,
}

/// The release's `create_ca` statement for a root CA of `org` created by `user`.
fn insert_ca(org: &Organization, user: &User, key: &[u8], at: DateTime<Utc>) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO certificate_authorities (name, description, subject_dn, key_type, \
         key_size, valid_days, is_root, parent_ca_id, path_length, allow_leaf_certs, \
         serial_number, certificate_pem, encrypted_private_key, not_before, not_after, \
         organization_id, created_by_user_id, created_at, updated_at) VALUES (",
    );
    sql.bind("Acme Root")
        .push(", ")
        .bind(None::<String>)
        .push(", ");
    sql.bind("CN=Acme Root").push(", ").bind("ec").push(", ");
    sql.bind(256_i64).push(", ").bind(3650_i64).push(", ");
    sql.bind(true).push(", ").bind(None::<i64>).push(", ");
    sql.bind(Some(1_i64)).push(", ").bind(true).push(", ");
    sql.bind("0a1b").push(", ").bind("ca pem").push(", ");
    sql.bind(key.to_vec())
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(at);
    sql.push(", ").bind(org.id.0).push(", ").bind(user.id.0);
    sql.push(", ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(") RETURNING id");
    sql
}

/// The release's `create_certificate` statement for a certificate issued by `ca`.
fn insert_cert(ca: i64, org: &Organization, user: &User, at: DateTime<Utc>) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO certificates (ca_id, common_name, subject_dn, certificate_type, status, \
         serial_number, key_type, key_size, valid_days, not_before, not_after, \
         san_dns_names, san_ip_addresses, certificate_pem, encrypted_private_key, \
         organization_id, created_by_user_id, created_at, updated_at) VALUES (",
    );
    sql.bind(ca).push(", ").bind("www.acme.example").push(", ");
    sql.bind("CN=www.acme.example")
        .push(", ")
        .bind("server")
        .push(", ");
    sql.bind("valid")
        .push(", ")
        .bind("0c0d")
        .push(", ")
        .bind("ec");
    sql.push(", ")
        .bind(256_i64)
        .push(", ")
        .bind(90_i64)
        .push(", ");
    sql.bind(at).push(", ").bind(at).push(", ");
    sql.bind("www.acme.example\nacme.example")
        .push(", ")
        .bind("192.0.2.7");
    sql.push(", ")
        .bind("cert pem")
        .push(", ")
        .bind(vec![9_u8, 8, 7]);
    sql.push(", ").bind(org.id.0).push(", ").bind(user.id.0);
    sql.push(", ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(") RETURNING id");
    sql
}

fn resource_entry(action: &str, kind: &str, id: i64, org: &Organization) -> NewAuditEntry {
    NewAuditEntry {
        action: action.to_owned(),
        actor: root(),
        organization_id: Some(org.id),
        resource_type: Some(kind.to_owned()),
        resource_id: Some(id.to_string()),
        detail: None,
    }
}

/// One release write: `sql` (returning an id) and its audit entry, in one transaction.
async fn audited_insert(
    store: &SqlStore,
    sql: Sql,
    entry: impl FnOnce(i64) -> NewAuditEntry,
) -> i64 {
    let mut tx: AuditedTx = store.begin().await.expect("begin");
    let (id,): (i64,) = tx.fetch_one(sql).await.expect("insert");
    tx.audit(entry(id)).await.expect("audit");
    tx.commit().await.expect("commit");
    id
}

fn ann(org: &Organization) -> NewUser {
    NewUser {
        username: "ann".into(),
        email: "ann@acme.example".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$fake$ann".into(),
        role: Role::Admin,
        is_active: true,
        organization_id: Some(org.id),
        capabilities: CapabilitySet::EMPTY,
    }
}

/// Writes the release's rows into `store`'s database (migrated by the release's migrator).
pub async fn populate(store: &SqlStore) -> Written {
    let new = NewOrganization {
        name: "acme".into(),
        description: Some("made by the release".into()),
    };
    let org = store.create_organization(&root(), new).await.expect("org");
    let user = store
        .create_user(&root(), ann(&org), false)
        .await
        .expect("user");
    let at = now();
    let ca_key = vec![1_u8, 2, 3, 4];
    let insert = insert_ca(&org, &user, &ca_key, at);
    let ca = audited_insert(store, insert, |id| {
        resource_entry("ca_create", "certificate_authority", id, &org)
    })
    .await;
    let insert = insert_cert(ca, &org, &user, at);
    let cert = audited_insert(store, insert, |id| {
        resource_entry("cert_create", "certificate", id, &org)
    })
    .await;
    let mut throttle =
        Sql::new("INSERT INTO login_throttle (kind, subject, attempts, window_start) VALUES (");
    throttle
        .bind("username")
        .push(", ")
        .bind("ann")
        .push(", 3, ")
        .bind(at)
        .push(")");
    let mut tx = store.begin_unaudited().await.expect("begin");
    tx.execute(throttle).await.expect("a throttle row");
    tx.commit().await.expect("commit");
    let report = store.verify_audit_chain().await.expect("verify");
    assert!(report.ok, "the release's chain: {report:?}");
    Written {
        org,
        user,
        ca,
        ca_key,
        cert,
        written_at: at,
        entries: report.entries_checked,
        head: report.head_id,
    }
}
