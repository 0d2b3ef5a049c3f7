//! The one-off commands, start-up failures and the checkpoint on SIGTERM.

use std::time::{Duration, Instant};

use orgtenancy_core::{CapabilitySet, Role};
use orgtenancy_sqlx::{Actor, AuditFilter, NewUser, Page};

use super::{command, fresh, run_with_input, serve, token};
use crate::support::{Backend, Database};

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

fn create_superuser(
    db: &Database,
    username: &str,
    email: &str,
    password: &str,
) -> std::process::Output {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = command(dir.path());
    cmd.args(["create-superuser", "--username", username, "--email", email])
        .args(["--database-url", &db.url]);
    run_with_input(cmd, &format!("{password}\n"))
}

/// On a database that already has a (plain) user: a superuser is made, audited, with a
/// password the server's hashing verifies; a taken username or email and a short password
/// are refused with a message and a non-zero exit.
fn creates_a_superuser(backend: &Backend) {
    let db = fresh(backend);
    block_on(async {
        let store = orgtenancy_sqlx::connect(&db.url).await.expect("connect");
        let hash = orgtenancy_sqlx::password::hash("first-user-password").expect("hash");
        let new = NewUser {
            username: "first".into(),
            email: "first@example.com".into(),
            password_hash: hash,
            role: Role::User,
            is_active: true,
            organization_id: None,
            capabilities: CapabilitySet::EMPTY,
        };
        store
            .create_user(&Actor::default(), new, true)
            .await
            .expect("first user");
    });
    let made = create_superuser(&db, "root", "root@example.com", "root-password");
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert!(
        made.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(stdout.contains("created superuser `root`"), "{stdout}");
    for (username, email, password, expected) in [
        (
            "root",
            "other@example.com",
            "root-password",
            "username `root` is taken",
        ),
        (
            "other",
            "root@example.com",
            "root-password",
            "email `root@example.com` is taken",
        ),
        (
            "other",
            "other@example.com",
            "short",
            "at least 8 characters",
        ),
        ("other", "not-an-email", "long-password", "invalid email"),
    ] {
        let refused = create_superuser(&db, username, email, password);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{username} {email}: {stderr}"
        );
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    block_on(async {
        let store = orgtenancy_sqlx::connect(&db.url).await.expect("connect");
        let root = store
            .get_user_by_username("root")
            .await
            .expect("root exists");
        assert_eq!(root.role, Role::Superuser);
        assert!(root.is_active && root.organization_id.is_none());
        assert!(orgtenancy_sqlx::password::verify(
            "root-password",
            &root.password_hash
        ));
        assert!(store.get_user_by_username("other").await.is_err());
        let filter = AuditFilter {
            action: Some("user_create".into()),
            ..AuditFilter::default()
        };
        let entries = store
            .list_audit(orgtenancy_core::Scope::All, filter, Page::default())
            .await
            .expect("audit");
        let entry = entries.last().expect("an entry for root");
        assert_eq!(
            entry.resource_id.as_deref(),
            Some(root.id.to_string().as_str())
        );
        assert_eq!(
            entry.username.as_deref(),
            Some(orgtenancy_server::operate::CLI_ACTOR)
        );
        assert_eq!(entry.user_id, None);
    });
    // The server accepts the new superuser's password.
    let dir = tempfile::tempdir().expect("dir");
    let server = serve(dir.path(), "warn", &["--database-url", &db.url]);
    token(&server, "root", "root-password");
    server.stop();
}

#[test]
fn create_superuser_sqlite() {
    creates_a_superuser(&Backend::Sqlite);
}

#[test]
fn create_superuser_postgres() {
    if let Some(backend) = Backend::postgres() {
        creates_a_superuser(&backend);
    }
}

fn verify(dir: &std::path::Path, url: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = command(dir);
    cmd.arg("verify-audit");
    if let Some(url) = url {
        cmd.args(["--database-url", url]);
    }
    let output = run_with_input(cmd, "");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A missing file (the default URL too, whose `mode=rwc` would create it), an empty file and
/// another application's database: exit 2, a message, and the file as it was.
#[test]
fn verify_audit_never_writes_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let (code, stderr) = verify(dir.path(), None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no database file at `orgtenancy.db`"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("orgtenancy.db").exists(),
        "verify-audit created the default file"
    );

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("empty file");
    let (code, stderr) = verify(
        dir.path(),
        Some(&format!("sqlite://{}?mode=rwc", empty.display())),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no `audit_log`"), "{stderr}");
    assert_eq!(
        std::fs::metadata(&empty).expect("still there").len(),
        0,
        "the empty file was written"
    );

    let foreign = dir.path().join("foreign.db");
    let made = std::process::Command::new("sqlite3")
        .arg(&foreign)
        .arg("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'x');")
        .status()
        .expect("run sqlite3");
    assert!(made.success());
    let before = std::fs::read(&foreign).expect("read");
    let (code, stderr) = verify(dir.path(), Some(&format!("sqlite://{}", foreign.display())));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no `audit_log`"), "{stderr}");
    assert_eq!(
        std::fs::read(&foreign).expect("read"),
        before,
        "the foreign database changed"
    );
}

/// An empty schema is exit 2 and stays empty (no migration ran).
#[test]
fn verify_audit_never_writes_postgres() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = fresh(&backend);
    let dir = tempfile::tempdir().expect("dir");
    let (code, stderr) = verify(dir.path(), Some(&db.url));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no `audit_log`"), "{stderr}");
    let tables: i64 = block_on(async {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_one(&mut conn)
        .await
        .expect("count tables")
    });
    assert_eq!(tables, 0, "verify-audit created tables");
}

/// An unreachable PostgreSQL and an unopenable SQLite file: non-zero within seconds, naming
/// the database without its password, and the cause.
#[test]
fn startup_failures_are_quick_and_named() {
    let dir = tempfile::tempdir().expect("dir");
    let rows = [
        (
            "postgres://postgres:hunter2@127.0.0.1:1/x",
            "postgres://postgres:***@127.0.0.1:1/x",
            "refused",
        ),
        (
            "sqlite:///no/such/dir/x.db",
            "sqlite:///no/such/dir/x.db",
            "unable to open database file",
        ),
    ];
    for (url, shown, cause) in rows {
        let started = Instant::now();
        let output = command(dir.path())
            .args(["--bind", "127.0.0.1:0", "--database-url", url])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot open the database {shown}")),
            "{stderr}"
        );
        assert!(stderr.contains(cause), "{cause}: {stderr}");
        assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    }
}

#[test]
fn an_invalid_log_level_is_a_startup_error() {
    let dir = tempfile::tempdir().expect("dir");
    let output = command(dir.path())
        .args(["--bind", "127.0.0.1:0", "--log-level", "verbose!!"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("invalid --log-level `verbose!!`"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("orgtenancy.db").exists(),
        "it went on to open the database"
    );
}

/// After SIGTERM the WAL is empty or gone, and a copy of the `.db` file alone has the data.
#[test]
fn sigterm_checkpoints_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let server = serve(dir.path(), "warn", &[]);
    let body = serde_json::json!({"username": "root", "email": "root@example.com",
        "password": "root-password", "role": "superuser"});
    let created = super::call(&server, "POST", "/api/v1/users/", None, None, Some(&body));
    assert_eq!(created.status, 201, "{}", created.body);
    let root = token(&server, "root", "root-password");
    for index in 0..20 {
        let body = serde_json::json!({"name": format!("org {index}")});
        let reply = super::call(
            &server,
            "POST",
            "/api/v1/organizations/",
            Some(&root),
            None,
            Some(&body),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let wal = dir.path().join("orgtenancy.db-wal");
    assert!(
        wal.metadata().is_ok_and(|m| m.len() > 0),
        "the writes went to the WAL first"
    );
    server.stop();
    assert!(
        wal.metadata().map_or(true, |m| m.len() == 0),
        "the WAL still holds data"
    );
    let copy = tempfile::tempdir().expect("dir");
    std::fs::copy(
        dir.path().join("orgtenancy.db"),
        copy.path().join("copy.db"),
    )
    .expect("copy");
    let output = std::process::Command::new("sqlite3")
        .arg(copy.path().join("copy.db"))
        .arg("SELECT COUNT(*) FROM organizations; SELECT username FROM users;")
        .output()
        .expect("sqlite3");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "20\nroot\n");
}
