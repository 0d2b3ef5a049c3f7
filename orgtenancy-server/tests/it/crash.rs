//! Crash safety (issue 7 item 4, SPEC §6 and §8): several clients write (organizations,
//! users, memberships, certificates) to the real binary; once enough writes are
//! acknowledged the process is killed with SIGKILL while the load is still running. After a
//! restart on the same database every acknowledged write is there, with its content and its
//! audit entry, and the database passes its integrity checks.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    concurrency::{client::Http, fresh_database, world::bootstrap},
    e2e::start,
    support::{Backend, Database, PASSWORD},
};

/// Writer clients.
const WRITERS: usize = 6;
/// Acknowledged writes after which the server is killed.
const KILL_AFTER: usize = 120;
/// Rounds a writer does at most (each round is four writes), so the load is bounded even if
/// the kill came late.
const MAX_ROUNDS: usize = 200;

/// A write a client saw acknowledged, and what must be found for it.
#[derive(Debug, Clone)]
enum Write {
    Org {
        id: i64,
        name: String,
    },
    User {
        id: i64,
        email: String,
    },
    Member {
        user: i64,
        org: i64,
    },
    Cert {
        id: i64,
        common_name: String,
        ca: i64,
    },
}

impl Write {
    /// The audit entry it must have: action, resource id, organization.
    fn audit_key(&self) -> (&'static str, String) {
        match self {
            Write::Org { id, .. } => ("org_create", id.to_string()),
            Write::User { id, .. } => ("user_create", id.to_string()),
            Write::Member { user, .. } => ("org_add_user", user.to_string()),
            Write::Cert { id, .. } => ("cert_create", id.to_string()),
        }
    }
}

/// Shared by the writers: the acknowledged writes, in order.
#[derive(Default)]
struct Ledger {
    writes: Mutex<Vec<Write>>,
    count: AtomicUsize,
}

impl Ledger {
    fn ack(&self, write: Write) {
        self.writes.lock().expect("ledger").push(write);
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// One writer: rounds of create organization, create user, add it, issue a certificate,
/// until the server stops answering. Returns whether it saw the connection fail.
fn writer(client: &Http, index: usize, ca: i64, ledger: &Ledger) -> bool {
    for round in 0..MAX_ROUNDS {
        if round_of_writes(client, index, round, ca, ledger).is_none() {
            return true;
        }
    }
    false
}

/// `None` once a request fails in transport (the server is gone).
fn round_of_writes(
    client: &Http,
    index: usize,
    round: usize,
    ca: i64,
    ledger: &Ledger,
) -> Option<()> {
    let tag = format!("w{index}-{round}");
    let org = created(client.send("POST", "/organizations/", Some(&json!({ "name": tag }))))?;
    ledger.ack(Write::Org {
        id: org,
        name: tag.clone(),
    });
    let email = format!("{tag}@example.com");
    let body = json!({ "username": tag, "email": email, "password": PASSWORD, "role": "user" });
    let user = created(client.send("POST", "/users/", Some(&body)))?;
    ledger.ack(Write::User { id: user, email });
    let added = client
        .send("POST", &format!("/organizations/{org}/users/{user}"), None)
        .ok()?;
    assert_eq!(added.status, 200, "add member: {}", added.json);
    ledger.ack(Write::Member { user, org });
    let common_name = format!("{tag}.test");
    let body = json!({ "common_name": common_name, "certificate_type": "client", "key_type": "ec",
                       "valid_days": 30 });
    let cert = created(client.send("POST", &format!("/certificates/?ca_id={ca}"), Some(&body)))?;
    ledger.ack(Write::Cert {
        id: cert,
        common_name,
        ca,
    });
    Some(())
}

/// The id of a 201, `None` on a transport error; any other status fails the test.
fn created(answer: Result<crate::concurrency::client::Answer, ureq::Error>) -> Option<i64> {
    let answer = answer.ok()?;
    assert_eq!(answer.status, 201, "create: {}", answer.json);
    Some(answer.id())
}

/// Superuser writers (each its own account and connection) and a shared organization-less CA.
fn writers(root: &Http) -> (Vec<Http>, i64) {
    let ca = root.must(
        "POST",
        "/cas/",
        Some(&json!({ "name": "crash-ca", "subject_dn": "CN=crash-ca", "key_type": "ec" })),
    );
    assert_eq!(ca.status, 201, "{}", ca.json);
    let clients = (0..WRITERS)
        .map(|i| {
            let name = format!("writer{i}");
            let body = json!({ "username": name, "email": format!("{name}@example.com"),
                               "password": PASSWORD, "role": "superuser" });
            assert_eq!(root.must("POST", "/users/", Some(&body)).status, 201);
            let mut client = Http::new(&root.base);
            client.login(&name);
            client
        })
        .collect();
    (clients, ca.id())
}

/// Runs the writers, SIGKILLs the server after [`KILL_AFTER`] acknowledged writes, and
/// returns the acknowledged writes.
fn load_then_kill(server: crate::e2e::Server, clients: &[Http], ca: i64) -> Vec<Write> {
    let ledger = Ledger::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(index, client)| {
                let ledger = &ledger;
                scope.spawn(move || writer(client, index, ca, ledger))
            })
            .collect();
        // Poll the count (bounded: the writers stop by themselves after MAX_ROUNDS).
        while ledger.count.load(Ordering::SeqCst) < KILL_AFTER
            && !handles.iter().all(|handle| handle.is_finished())
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.sigkill();
        let cut = handles
            .into_iter()
            .map(|handle| handle.join().expect("a writer panicked"))
            .filter(|cut| *cut)
            .count();
        assert_eq!(
            cut, WRITERS,
            "every writer was still writing when the server died"
        );
    });
    ledger.writes.into_inner().expect("ledger")
}

/// Every acknowledged write is there with its content and its audit entry.
fn all_found(root: &Http, writes: &[Write]) -> usize {
    let audit: HashMap<(String, String), Value> = root
        .list_all("/audit-logs/")
        .into_iter()
        .map(|entry| {
            let key = (
                entry["action"].as_str().unwrap_or_default().to_owned(),
                entry["resource_id"]
                    .as_i64()
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
            );
            (key, entry)
        })
        .collect();
    for write in writes {
        let (action, resource) = write.audit_key();
        assert!(
            audit.contains_key(&(action.to_owned(), resource.clone())),
            "no `{action}` audit entry for {write:?}"
        );
        match write {
            Write::Org { id, name } => {
                let org = root.must("GET", &format!("/organizations/{id}"), None);
                assert_eq!(
                    (org.status, &org.json["name"]),
                    (200, &json!(name)),
                    "{write:?}"
                );
            }
            Write::User { id, email } => {
                let user = root.must("GET", &format!("/users/{id}"), None);
                assert_eq!(
                    (user.status, &user.json["email"]),
                    (200, &json!(email)),
                    "{write:?}"
                );
            }
            Write::Member { user, org } => {
                let user = root.must("GET", &format!("/users/{user}"), None);
                assert_eq!(user.json["organization_id"], json!(org), "{write:?}");
            }
            Write::Cert {
                id,
                common_name,
                ca,
            } => {
                let cert = root.must("GET", &format!("/certificates/{id}"), None);
                assert_eq!(cert.status, 200, "{write:?}");
                assert_eq!(
                    (&cert.json["common_name"], &cert.json["issuer_id"]),
                    (&json!(common_name), &json!(ca))
                );
            }
        }
    }
    writes.len()
}

/// SQLite's own checks, and on both backends the references a crash could break.
async fn integrity(db: &Database, backend: &Backend) {
    use sqlx::{Connection as _, Row as _};
    let orphans = [
        "SELECT COUNT(*) FROM users WHERE organization_id IS NOT NULL \
         AND organization_id NOT IN (SELECT id FROM organizations)",
        "SELECT COUNT(*) FROM certificates WHERE ca_id NOT IN (SELECT id FROM certificate_authorities)",
        "SELECT COUNT(*) FROM (SELECT ca_id, serial_number FROM certificates \
         GROUP BY ca_id, serial_number HAVING COUNT(*) > 1) AS twice",
    ];
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("open SQLite");
            let check: (String,) = sqlx::query_as("PRAGMA integrity_check")
                .fetch_one(&mut conn)
                .await
                .expect("integrity_check");
            assert_eq!(check.0, "ok", "PRAGMA integrity_check");
            let broken = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut conn)
                .await
                .expect("fk check");
            assert!(
                broken.is_empty(),
                "PRAGMA foreign_key_check found {} rows",
                broken.len()
            );
            for sql in orphans {
                let row = sqlx::query(sql).fetch_one(&mut conn).await.expect(sql);
                assert_eq!(row.get::<i64, _>(0), 0, "{sql}");
            }
        }
        Backend::Postgres(_) => {
            let mut conn = sqlx::PgConnection::connect(&db.url)
                .await
                .expect("open PostgreSQL");
            for sql in orphans {
                let row = sqlx::query(sql).fetch_one(&mut conn).await.expect(sql);
                assert_eq!(row.get::<i64, _>(0), 0, "{sql}");
            }
        }
    }
}

fn crash_and_recover(backend: &Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = fresh_database(backend);
    let server = start(dir.path(), Some(&db.url));
    let root = bootstrap(&server.base);
    let (clients, ca) = writers(&root);
    let writes = load_then_kill(server, &clients, ca);
    assert!(
        writes.len() >= KILL_AFTER,
        "only {} writes before the kill",
        writes.len()
    );
    let server = start(dir.path(), Some(&db.url));
    let mut root = Http::new(&server.base);
    root.login("root");
    let found = all_found(&root, &writes);
    eprintln!(
        "crash: {} writes acknowledged before SIGKILL, {found} found after restart",
        writes.len()
    );
    drop(server);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(integrity(&db, backend));
}

#[test]
fn sqlite() {
    crash_and_recover(&Backend::Sqlite);
}

#[test]
fn postgres() {
    if let Some(backend) = Backend::postgres() {
        crash_and_recover(&backend);
    }
}
