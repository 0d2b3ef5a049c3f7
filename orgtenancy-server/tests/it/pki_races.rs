//! Races between a decision and its write on the PKI resources (issue 11 item 3), against the
//! real binary over HTTP: a superuser moves organization A's CA tree to organization B with
//! cascade while A's admin revokes a certificate of the tree, exports the CA's or the
//! certificate's key, deletes a CA of the tree, issues from the CA or creates an intermediate
//! under it. Every trial then reads the audit log: the admin's act either committed before the
//! move (2xx, its one entry in organization A, older than the move's entries) or it did not
//! happen at all (403, or 409 after retries; no entry, no key). Never A's admin acting on a
//! row that was B's at the time.

use std::sync::Barrier;

use serde_json::{Value, json};

use crate::{
    concurrency::{client::Http, fresh_database, world::bootstrap},
    e2e::start,
    support::{Backend, PASSWORD},
};

/// Trials of each act (the bug showed in most trials before the fix; 90 in all take seconds).
const TRIALS: usize = 15;

/// What A's admin does while the tree moves.
#[derive(Debug, Clone, Copy)]
enum Act {
    Revoke,
    ExportCaKey,
    ExportCertKey,
    DeleteCa,
    Issue,
    CreateIntermediate,
}

const ACTS: [Act; 6] = [
    Act::Revoke,
    Act::ExportCaKey,
    Act::ExportCertKey,
    Act::DeleteCa,
    Act::Issue,
    Act::CreateIntermediate,
];

impl Act {
    /// The request, and the audit action a success writes.
    fn request(self, tree: &Tree, n: usize) -> (&'static str, String, Option<Value>, &'static str) {
        let leaf = json!({
            "common_name": format!("late{n}.example.com"), "certificate_type": "server",
            "key_type": "ec", "valid_days": 30, "san_dns_names": [format!("late{n}.example.com")],
        });
        let sub = json!({
            "name": format!("late-{n}"), "subject_dn": format!("CN=late-{n}"), "key_type": "ec",
            "valid_days": 100, "parent_ca_id": tree.root,
        });
        match self {
            Act::Revoke => (
                "POST",
                format!("/certificates/{}/revoke", tree.cert),
                Some(json!({"reason": "keyCompromise"})),
                "cert_revoke",
            ),
            Act::ExportCaKey => (
                "GET",
                format!("/cas/{}/private-key", tree.root),
                None,
                "ca_export_private_key",
            ),
            Act::ExportCertKey => (
                "GET",
                format!("/certificates/{}/private-key", tree.cert),
                None,
                "cert_export_private_key",
            ),
            Act::DeleteCa => ("DELETE", format!("/cas/{}", tree.child), None, "ca_delete"),
            Act::Issue => (
                "POST",
                format!("/certificates/?ca_id={}", tree.root),
                Some(leaf),
                "cert_create",
            ),
            Act::CreateIntermediate => ("POST", "/cas/".to_owned(), Some(sub), "ca_create"),
        }
    }
}

/// One trial's rows, all A's at the start (made by another member of A): a root CA, a child
/// CA without dependents, and a certificate issued by the root.
struct Tree {
    root: i64,
    child: i64,
    cert: i64,
}

struct Trial {
    act: Act,
    tree: Tree,
    /// The admin's status and body.
    status: u16,
    body: Value,
}

fn created(http: &Http, path: &str, body: &Value) -> i64 {
    let answer = http.must("POST", path, Some(body));
    assert_eq!(answer.status, 201, "POST {path}: {}", answer.json);
    answer.id()
}

fn tree(admin: &Http, n: usize) -> Tree {
    let ca = |name: String, parent: Option<i64>| {
        json!({"name": name, "subject_dn": format!("CN={name}"), "key_type": "ec",
               "valid_days": 365, "parent_ca_id": parent})
    };
    let root = created(admin, "/cas/", &ca(format!("root-{n}"), None));
    let child = created(admin, "/cas/", &ca(format!("child-{n}"), Some(root)));
    let leaf = json!({"common_name": format!("h{n}.example.com"), "certificate_type": "server",
                      "key_type": "ec", "valid_days": 30,
                      "san_dns_names": [format!("h{n}.example.com")]});
    let cert = created(admin, &format!("/certificates/?ca_id={root}"), &leaf);
    Tree { root, child, cert }
}

/// Runs the move and the admin's act at once; returns the admin's answer.
fn race(root: &Http, admin: &Http, org_b: i64, act: Act, tree: &Tree, n: usize) -> (u16, Value) {
    let barrier = Barrier::new(2);
    let (method, path, body, _) = act.request(tree, n);
    let mv = json!({"organization_id": org_b, "cascade": true});
    let (moved, acted) = std::thread::scope(|s| {
        let moved = s.spawn(|| {
            barrier.wait();
            root.must("PATCH", &format!("/cas/{}", tree.root), Some(&mv))
        });
        let acted = s.spawn(|| {
            barrier.wait();
            admin.must(method, &path, body.as_ref())
        });
        (moved.join().expect("move"), acted.join().expect("act"))
    });
    assert_eq!(moved.status, 200, "the move: {}", moved.json);
    (acted.status, acted.json)
}

/// An entry's resource id (a number, or the digits of a string).
fn resource_id(entry: &Value) -> Option<i64> {
    let id = &entry["resource_id"];
    id.as_i64()
        .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
}

/// `Err(message)` unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(format!($($message)+));
        }
    };
}

/// Checks one trial against the entries written after its set-up (`window`).
fn check(trial: &Trial, window: &[&Value], admin: i64, orgs: (i64, i64)) -> Result<(), String> {
    let (org_a, org_b) = orgs;
    let body: String = trial.body.to_string().chars().take(160).collect();
    let what = format!(
        "{:?} on {}: {} {body}",
        trial.act, trial.tree.root, trial.status
    );
    let (_, _, _, action) = trial.act.request(&trial.tree, 0);
    let moves: Vec<&&Value> = window
        .iter()
        .filter(|e| e["action"] == "ca_assign_org" && resource_id(e) == Some(trial.tree.root))
        .collect();
    let mut moved: Vec<i64> = moves
        .iter()
        .filter_map(|e| e["organization_id"].as_i64())
        .collect();
    moved.sort_unstable();
    ensure!(
        moved == [org_a, org_b],
        "one move entry per organization: {what}"
    );
    let first_move = moves.iter().filter_map(|e| e["id"].as_i64()).min();
    let first_move = first_move.unwrap_or(0);
    let acts: Vec<&&Value> = window.iter().filter(|e| e["user_id"] == admin).collect();
    ensure!(
        window.len() == moves.len() + acts.len(),
        "unexpected entries: {what} {window:?}"
    );
    match trial.status {
        200..=299 => {
            ensure!(acts.len() == 1, "one entry for the admin's act: {what}");
            let entry = acts[0];
            ensure!(entry["action"] == action, "{what}");
            ensure!(
                entry["organization_id"] == org_a,
                "A's admin acted on B's row: {what} {entry}"
            );
            let id = entry["id"].as_i64().unwrap_or(i64::MAX);
            ensure!(id < first_move, "acted after the move: {what} {entry}");
        }
        403 | 409 | 503 => {
            ensure!(acts.is_empty(), "refused, yet audited: {what} {acts:?}");
            ensure!(
                trial.body.get("private_key").is_none(),
                "a key with a refusal: {what}"
            );
        }
        _ => return Err(format!("unexpected status: {what}")),
    }
    Ok(())
}

fn races_on(backend: &Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = fresh_database(backend);
    let server = start(dir.path(), Some(&db.url));
    let root = bootstrap(&server.base);
    let org_a = created(&root, "/organizations/", &json!({"name": "acme"}));
    let org_b = created(&root, "/organizations/", &json!({"name": "globex"}));
    let admin_body = json!({"username": "admin_a", "email": "admin_a@example.com",
                            "password": PASSWORD, "role": "admin", "organization_id": org_a});
    let admin_id = created(&root, "/users/", &admin_body);
    let mut admin = Http::new(&server.base);
    admin.login("admin_a");
    // Another member of A makes the trees: their creator keeps access after a move (§3 rule
    // 2), the admin only while they are A's (rule 5).
    let maker_body = json!({"username": "maker_a", "email": "maker_a@example.com",
                            "password": PASSWORD, "role": "admin", "organization_id": org_a});
    created(&root, "/users/", &maker_body);
    let mut maker = Http::new(&server.base);
    maker.login("maker_a");
    let mut trials = Vec::new();
    let mut setups = Vec::new();
    for n in 0..TRIALS * ACTS.len() {
        let act = ACTS[n % ACTS.len()];
        let tree = tree(&maker, n);
        setups.push(tree.cert);
        let (status, body) = race(&root, &admin, org_b, act, &tree, n);
        trials.push(Trial {
            act,
            tree,
            status,
            body,
        });
    }
    let log = root.list_all("/audit-logs/");
    // The set-up of trial `n` ends with its certificate's `cert_create`; its window runs from
    // there to the set-up of the next trial.
    let set_up_end = |cert: i64| {
        log.iter()
            .find(|e| e["action"] == "cert_create" && resource_id(e) == Some(cert))
            .and_then(|e| e["id"].as_i64())
            .expect("the set-up's certificate entry")
    };
    let ends: Vec<i64> = setups.iter().map(|cert| set_up_end(*cert)).collect();
    let (mut won, mut broken_trials) = (0, Vec::new());
    for (n, trial) in trials.iter().enumerate() {
        let next_start = trials.get(n + 1).map_or(i64::MAX, |next| {
            log.iter()
                .find(|e| e["action"] == "ca_create" && resource_id(e) == Some(next.tree.root))
                .and_then(|e| e["id"].as_i64())
                .expect("the next set-up's entry")
        });
        let window: Vec<&Value> = log
            .iter()
            .filter(|e| {
                e["id"]
                    .as_i64()
                    .is_some_and(|id| id > ends[n] && id < next_start)
            })
            .collect();
        if let Err(broken) = check(trial, &window, admin_id, (org_a, org_b)) {
            broken_trials.push(broken);
        }
        won += usize::from((200..300).contains(&trial.status));
    }
    eprintln!(
        "{} trials: the admin's act committed first in {won}, {} broken",
        trials.len(),
        broken_trials.len()
    );
    assert!(
        broken_trials.is_empty(),
        "{} of {} trials broke:\n{}",
        broken_trials.len(),
        trials.len(),
        broken_trials.join("\n")
    );
}

#[test]
fn sqlite() {
    races_on(&Backend::Sqlite);
}

#[test]
fn postgres() {
    if let Some(backend) = Backend::postgres() {
        races_on(&backend);
    }
}
