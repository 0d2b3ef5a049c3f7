//! The tamper-evident audit chain: an intact chain verifies after many mixed and concurrent
//! writes (also while verifications run alongside), and every kind of direct edit of the
//! database — a field, a hash, a deleted, moved or forged entry, a truncated tail — is
//! reported at the entry where it happened.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use orgtenancy_core::{OrgId, Role, Scope, UserId};
use orgtenancy_sqlx::{
    Actor, AuditChainReport, AuditFilter, ChainBreak, ChainBreakReason, NewAuditEntry, Page,
    SqlStore, Store, UserPatch,
};
use tokio::task::JoinSet;

use crate::support::{self, TestDb, new_user, org, root, user};

on_both_backends!(
    empty_log_is_intact,
    older_entries_are_unchained,
    intact_after_mixed_writes,
    intact_after_concurrent_writes
);

/// Every audit entry, by id.
async fn all_ids(store: &SqlStore) -> Vec<i64> {
    let mut ids = Vec::new();
    loop {
        let page = store
            .list_audit(
                Scope::All,
                AuditFilter::default(),
                Page {
                    skip: u64::try_from(ids.len()).expect("count"),
                    limit: 1000,
                },
            )
            .await
            .expect("list audit");
        if page.is_empty() {
            return ids;
        }
        ids.extend(page.iter().map(|entry| entry.id));
    }
}

async fn verify(store: &SqlStore) -> AuditChainReport {
    store.verify_audit_chain().await.expect("verify")
}

/// Asserts an intact chain over exactly the entries the log holds.
async fn assert_intact(store: &SqlStore) -> AuditChainReport {
    let report = verify(store).await;
    let ids = all_ids(store).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.first_broken, None);
    assert_eq!(report.entries_checked, ids.len() as u64, "{report:?}");
    assert_eq!(report.unchained_entries, 0);
    assert_eq!(report.head_id, ids.last().copied());
    assert_eq!(report.head_hash.len(), 64);
    report
}

fn event(action: &str, detail: Option<&str>) -> NewAuditEntry {
    NewAuditEntry {
        action: action.into(),
        actor: Actor {
            user_id: Some(UserId(42)),
            username: Some("wörker".into()),
        },
        organization_id: Some(OrgId(7)),
        resource_type: Some("session".into()),
        resource_id: Some(String::new()),
        detail: detail.map(str::to_owned),
    }
}

async fn empty_log_is_intact(store: &SqlStore) {
    let report = verify(store).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries_checked, 0);
    assert_eq!(report.head_id, None);
    assert_eq!(report.head_hash, "0".repeat(64));
}

/// Entries from before the chain's migration (no hashes; simulated by inserting rows
/// without them) are counted, not checked, and the chain starts after them.
async fn older_entries_are_unchained(store: &SqlStore) {
    let old_entry = "INSERT INTO audit_log (created_at, action, detail) \
                     VALUES ('2024-01-01T00:00:00.000000+00:00', 'org_create', 'before the chain')";
    run_sql(store, &[old_entry.to_owned(), old_entry.to_owned()]).await;
    mixed_writes(store, 0).await;
    let report = verify(store).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.unchained_entries, 2);
    assert_eq!(report.entries_checked, 10);
    // An entry without hashes after the chain started is a break, not an older entry.
    run_sql(store, &[old_entry.to_owned()]).await;
    let newest = *all_ids(store).await.last().expect("entries");
    let report = verify(store).await;
    assert_eq!(
        report.first_broken,
        Some(ChainBreak {
            id: newest,
            reason: ChainBreakReason::Unhashed,
        }),
        "{report:?}"
    );
}

/// Writes one of every kind of audited change (and some refused ones, which add nothing).
async fn mixed_writes(store: &SqlStore, round: usize) {
    let acme = org(store, &format!("acme{round}")).await.id;
    let alice = user(store, &format!("alice{round}"), None).await.id;
    let bob = user(store, &format!("bob{round}"), Some(acme)).await.id;
    store.add_member(&root(), acme, alice).await.expect("add");
    assert!(store.delete_organization(&root(), acme).await.is_err());
    store
        .update_user(
            &Actor {
                user_id: Some(bob),
                username: None,
            },
            alice,
            UserPatch {
                role: Some(Role::Admin),
                ..UserPatch::default()
            },
        )
        .await
        .expect("update");
    store
        .append_audit(event("login_failure", None))
        .await
        .expect("append");
    store
        .append_audit(event("login_success", Some("")))
        .await
        .expect("append");
    store
        .remove_member(&root(), acme, alice)
        .await
        .expect("remove");
    store.delete_user(&root(), bob).await.expect("delete user");
    store
        .delete_organization(&root(), acme)
        .await
        .expect("delete org");
}

async fn intact_after_mixed_writes(store: &SqlStore) {
    for round in 0..20 {
        mixed_writes(store, round).await;
    }
    let report = assert_intact(store).await;
    assert_eq!(report.entries_checked, 20 * 10);
    // Verifying changes nothing.
    assert_eq!(assert_intact(store).await, report);
}

/// Concurrent writers of every kind, with verifications running alongside: no
/// verification sees a break (appends never fork the chain, and a walk never trips over an
/// append in flight), and the final chain covers every entry.
async fn intact_after_concurrent_writes(store: &SqlStore) {
    const WRITERS: usize = 48;
    let users: Vec<UserId> = {
        let mut ids = Vec::new();
        for i in 0..8 {
            ids.push(user(store, &format!("member{i}"), None).await.id);
        }
        ids
    };
    let mut writers = JoinSet::new();
    for i in 0..WRITERS {
        let store = store.clone();
        let member = users[i % users.len()];
        writers.spawn(async move {
            match i % 4 {
                0 => mixed_writes(&store, 1000 + i).await,
                1 => {
                    let org = org(&store, &format!("crowd{i}")).await.id;
                    let _ = store.add_member(&root(), org, member).await;
                    let _ = store.remove_member(&root(), org, member).await;
                    let _ = store.delete_organization(&root(), org).await;
                }
                2 => {
                    for _ in 0..5 {
                        store
                            .append_audit(event("login_failure", Some("wrong password")))
                            .await
                            .expect("append");
                    }
                }
                _ => {
                    store
                        .create_user(
                            &root(),
                            new_user(&format!("new{i}"), Role::User, None),
                            false,
                        )
                        .await
                        .expect("create");
                }
            }
        });
    }
    let done = Arc::new(AtomicBool::new(false));
    let verifier = {
        let store = store.clone();
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut runs = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let report = store.verify_audit_chain().await.expect("verify");
                assert!(report.ok, "a verification during writes: {report:?}");
                runs += 1;
                if finished {
                    return runs;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    while let Some(result) = writers.join_next().await {
        result.expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let runs = verifier.await.expect("verifier");
    assert!(runs > 0);
    let report = assert_intact(store).await;
    eprintln!(
        "intact_after_concurrent_writes: {WRITERS} writers, {} chained entries, {runs} \
         verifications alongside",
        report.entries_checked
    );
}

// ---- tampering --------------------------------------------------------------------------

/// An entry of the chain, chosen relative to the written log.
#[derive(Debug, Clone, Copy)]
enum At {
    First,
    AfterFirst,
    Middle,
    AfterMiddle,
    Last,
    /// The id one past the last entry (a forged entry's).
    New,
}

/// A direct edit of the database and where verification must report it.
struct Tamper {
    name: &'static str,
    /// SQL run on the database; `{id}` is the Middle entry, `{next}` the one after, `{first}`,
    /// `{last}` and `{new}` as in [`At`].
    sql: &'static [&'static str],
    at: At,
    reason: ChainBreakReason,
}

const TAMPERS: &[Tamper] = &[
    Tamper {
        name: "edit detail",
        sql: &["UPDATE audit_log SET detail = 'nothing to see' WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "edit action",
        sql: &["UPDATE audit_log SET action = 'org_update' WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "edit user_id",
        sql: &["UPDATE audit_log SET user_id = 999 WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "clear username",
        sql: &["UPDATE audit_log SET username = NULL WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "edit created_at",
        sql: &[
            "UPDATE audit_log SET created_at = '2001-02-03T04:05:06.000007+00:00' WHERE id = {id}",
        ],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "edit organization_id",
        sql: &["UPDATE audit_log SET organization_id = NULL WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "edit hash",
        sql: &["UPDATE audit_log SET hash = prev_hash WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "edit prev_hash",
        sql: &["UPDATE audit_log SET prev_hash = hash WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "edit the first entry",
        sql: &["UPDATE audit_log SET detail = 'rewritten' WHERE id = {first}"],
        at: At::First,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "strip the first entry's hashes",
        sql: &["UPDATE audit_log SET hash = NULL, prev_hash = NULL WHERE id = {first}"],
        at: At::First,
        reason: ChainBreakReason::Unhashed,
    },
    Tamper {
        name: "strip a middle entry's hashes",
        sql: &["UPDATE audit_log SET hash = NULL, prev_hash = NULL WHERE id = {id}"],
        at: At::Middle,
        reason: ChainBreakReason::Unhashed,
    },
    Tamper {
        name: "delete a middle entry",
        sql: &["DELETE FROM audit_log WHERE id = {id}"],
        at: At::AfterMiddle,
        reason: ChainBreakReason::PrevHashMismatch,
    },
    Tamper {
        name: "delete the first entry",
        sql: &["DELETE FROM audit_log WHERE id = {first}"],
        at: At::AfterFirst,
        reason: ChainBreakReason::PrevHashMismatch,
    },
    Tamper {
        name: "swap two entries' ids",
        sql: &[
            "UPDATE audit_log SET id = -1 WHERE id = {id}",
            "UPDATE audit_log SET id = {id} WHERE id = {next}",
            "UPDATE audit_log SET id = {next} WHERE id = -1",
        ],
        at: At::Middle,
        reason: ChainBreakReason::HashMismatch,
    },
    Tamper {
        name: "delete the newest entry",
        sql: &["DELETE FROM audit_log WHERE id = {last}"],
        at: At::Last,
        reason: ChainBreakReason::HeadMismatch,
    },
    Tamper {
        name: "rewind the head with the newest entry",
        sql: &[
            "DELETE FROM audit_log WHERE id = {last}",
            "UPDATE audit_chain_head SET last_id = {id}",
        ],
        at: At::Middle,
        reason: ChainBreakReason::HeadMismatch,
    },
    Tamper {
        name: "append a forged entry",
        sql: &[
            "INSERT INTO audit_log (id, created_at, action) VALUES ({new}, \
                '2030-01-01T00:00:00.000000+00:00', 'org_delete')",
        ],
        at: At::New,
        reason: ChainBreakReason::Unhashed,
    },
];

/// Lets a test change and renumber audit rows as an attacker with database access could:
/// the append-only trigger is dropped, PostgreSQL's identity column made updatable.
const UNLOCK_SQLITE: &[&str] = &["DROP TRIGGER audit_log_no_update"];
const UNLOCK_POSTGRES: &[&str] = &[
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
    "ALTER TABLE audit_log ALTER COLUMN id SET GENERATED BY DEFAULT",
];

/// Runs raw SQL statements on the store's database.
async fn run_sql(store: &SqlStore, statements: &[String]) {
    for statement in statements {
        let result = if let Some(pool) = store.sqlite_pool() {
            sqlx::query(statement).execute(pool).await.map(drop)
        } else {
            let pool = store.postgres_pool().expect("a pool");
            sqlx::query(statement).execute(pool).await.map(drop)
        };
        result.unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
}

async fn check_tamper(store: &SqlStore, tamper: &Tamper) {
    for round in 0..3 {
        mixed_writes(store, round).await;
    }
    assert_intact(store).await;
    let ids = all_ids(store).await;
    let middle = ids.len() / 2;
    let id_of = |at: At| match at {
        At::First => ids[0],
        At::AfterFirst => ids[1],
        At::Middle => ids[middle],
        At::AfterMiddle => ids[middle + 1],
        At::Last => ids[ids.len() - 1],
        At::New => ids[ids.len() - 1] + 1,
    };
    let unlock = if store.sqlite_pool().is_some() {
        UNLOCK_SQLITE
    } else {
        UNLOCK_POSTGRES
    };
    let mut statements: Vec<String> = unlock.iter().map(|sql| (*sql).to_owned()).collect();
    statements.extend(tamper.sql.iter().map(|sql| {
        sql.replace("{id}", &id_of(At::Middle).to_string())
            .replace("{next}", &id_of(At::AfterMiddle).to_string())
            .replace("{first}", &id_of(At::First).to_string())
            .replace("{last}", &id_of(At::Last).to_string())
            .replace("{new}", &id_of(At::New).to_string())
    }));
    run_sql(store, &statements).await;
    let report = verify(store).await;
    assert!(!report.ok, "{}: {report:?}", tamper.name);
    assert_eq!(
        report.first_broken,
        Some(ChainBreak {
            id: id_of(tamper.at),
            reason: tamper.reason,
        }),
        "{}: {report:?}",
        tamper.name
    );
}

/// Each tampering on a fresh database of each backend.
mod tampering {
    use super::*;

    async fn each_on(fresh: impl AsyncFn() -> Option<TestDb>) {
        for tamper in TAMPERS {
            let Some(db) = fresh().await else {
                eprintln!("PostgreSQL run skipped");
                return;
            };
            check_tamper(&db.store, tamper).await;
            db.finish().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        each_on(async || Some(support::sqlite().await)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        each_on(support::postgres).await;
    }
}
