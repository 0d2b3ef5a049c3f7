//! What must hold after the race, read back through the API as a superuser: no 5xx, one audit
//! entry per acknowledged change, no user in a deleted organization, no lost update, a
//! membership history that replays to the final state, unique serial numbers per issuer.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::{actors::Log, client::Http, world::field_of};

/// The audit actions the race's writes record, and whose counts must equal the 2xx counts.
const AUDITED: [&str; 5] = [
    "org_add_user",
    "org_remove_user",
    "org_delete",
    "user_update",
    "cert_create",
];

/// What the race did, for the report.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    /// Clients that raced.
    pub(crate) clients: usize,
    /// Requests they sent.
    pub(crate) ops: usize,
    /// Responses by status.
    pub(crate) statuses: BTreeMap<u16, usize>,
    /// 2xx responses by audit action.
    pub(crate) acks: BTreeMap<&'static str, usize>,
    /// Organizations deleted during the race.
    pub(crate) deleted_orgs: usize,
    /// Certificates issued during the race.
    pub(crate) certificates: usize,
}

/// Sums the clients' logs.
pub(crate) fn figures(logs: &[Log]) -> Figures {
    let mut figures = Figures {
        clients: logs.len(),
        ..Figures::default()
    };
    for log in logs {
        figures.ops += log.ops;
        figures.deleted_orgs += log.deleted.len();
        for (status, count) in &log.statuses {
            *figures.statuses.entry(*status).or_default() += count;
        }
        for (action, count) in &log.acks {
            *figures.acks.entry(action).or_default() += count;
        }
    }
    figures.certificates = figures.acks.get("cert_create").copied().unwrap_or(0);
    figures
}

/// The id of the newest audit entry (0 when there is none).
pub(crate) fn last_audit_id(root: &Http) -> i64 {
    root.list_all("/audit-logs/")
        .iter()
        .filter_map(|entry| entry["id"].as_i64())
        .max()
        .unwrap_or(0)
}

/// Asserts every invariant; `since` is the last audit id before the race. Every check runs
/// (each failure is printed) before the test fails, so one run reports all broken invariants.
pub(crate) fn check(root: &Http, logs: &[Log], superusers: &[i64], pool: &[i64], since: i64) {
    let audit: Vec<Value> = root
        .list_all("/audit-logs/")
        .into_iter()
        .filter(|entry| entry["id"].as_i64().is_some_and(|id| id > since))
        .collect();
    let users = root.list_all("/users/");
    let figures = figures(logs);
    let checks: [(&str, &dyn Fn()); 6] = [
        ("no 5xx", &|| no_server_errors(logs)),
        ("one audit entry per acknowledged change", &|| {
            one_audit_entry_per_ack(&audit, &figures);
        }),
        ("no user in a deleted organization", &|| {
            deleted_orgs_are_empty(root, logs, &users, &audit);
        }),
        ("no lost update", &|| no_lost_update(logs, &users)),
        ("membership history replays", &|| {
            membership_replays(&audit, &users, superusers, pool);
        }),
        ("serial numbers unique per issuer", &|| {
            serials_unique(root, &figures)
        }),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, check)| std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).is_err())
        .map(|(name, _)| *name)
        .collect();
    assert!(
        failed.is_empty(),
        "broken invariants (details above): {failed:?}"
    );
}

fn no_server_errors(logs: &[Log]) {
    let failures: Vec<&String> = logs.iter().flat_map(|log| &log.failures).collect();
    assert!(
        failures.is_empty(),
        "{} server errors or transport failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

fn one_audit_entry_per_ack(audit: &[Value], figures: &Figures) {
    let mut counted: BTreeMap<String, usize> = BTreeMap::new();
    for entry in audit {
        *counted
            .entry(entry["action"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    for action in AUDITED {
        let acks = figures.acks.get(action).copied().unwrap_or(0);
        let entries = counted.remove(action).unwrap_or(0);
        assert_eq!(
            entries, acks,
            "audit entries `{action}` vs acknowledged requests"
        );
    }
    assert!(
        counted.is_empty(),
        "audit entries nobody acknowledged: {counted:?}"
    );
}

fn deleted_orgs_are_empty(root: &Http, logs: &[Log], users: &[Value], audit: &[Value]) {
    for org in logs.iter().flat_map(|log| &log.deleted) {
        let answer = root.must("GET", &format!("/organizations/{org}"), None);
        assert_eq!(
            answer.status, 404,
            "deleted organization {org} still answers"
        );
        let left: Vec<&Value> = users
            .iter()
            .filter(|u| u["organization_id"] == *org)
            .collect();
        assert!(
            left.is_empty(),
            "users left in deleted organization {org}: {left:?}"
        );
        let deletion = audit
            .iter()
            .find(|e| e["action"] == "org_delete" && e["organization_id"] == *org)
            .and_then(|e| e["id"].as_i64())
            .unwrap_or_else(|| panic!("no org_delete entry for {org}"));
        let later = audit.iter().find(|e| {
            e["action"] == "org_add_user"
                && e["organization_id"] == *org
                && e["id"].as_i64().is_some_and(|id| id > deletion)
        });
        assert!(
            later.is_none(),
            "a user was added to {org} after its deletion: {later:?}"
        );
    }
}

fn no_lost_update(logs: &[Log], users: &[Value]) {
    let mut checked = 0;
    for log in logs {
        for ((user, name), field) in &log.fields {
            let stored = field_of(users, *user, name);
            assert!(
                stored == field.acked || field.pending.contains(&stored),
                "lost update: user {user} `{name}` is {stored}, last acknowledged {} (pending {:?})",
                field.acked,
                field.pending
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no single-writer field was written");
}

/// Replays the membership entries of the pool users in audit order: an admin may add a user
/// that is in no organization or already in its own (SPEC §4); only a superuser moves a user
/// out of another; a removal finds the user in that organization. The replay must end where
/// the users are.
fn membership_replays(audit: &[Value], users: &[Value], superusers: &[i64], pool: &[i64]) {
    let pool: HashSet<String> = pool.iter().map(i64::to_string).collect();
    let mut current: HashMap<String, Option<i64>> =
        pool.iter().map(|id| (id.clone(), None)).collect();
    let mut ordered: Vec<&Value> = audit.iter().collect();
    ordered.sort_by_key(|entry| entry["id"].as_i64());
    for entry in ordered {
        let Some(user) = entry["resource_id"]
            .as_i64()
            .map(|id| id.to_string())
            .filter(|id| pool.contains(id))
        else {
            continue;
        };
        let org = entry["organization_id"].as_i64();
        let by_superuser = entry["user_id"]
            .as_i64()
            .is_some_and(|id| superusers.contains(&id));
        let now = current.get(&user).copied().flatten();
        match entry["action"].as_str() {
            Some("org_add_user") => {
                assert!(
                    now.is_none() || now == org || by_superuser,
                    "admin moved user {user} out of organization {now:?} into {org:?}: {entry}"
                );
                current.insert(user.clone(), org);
            }
            Some("org_remove_user") => {
                assert_eq!(
                    now, org,
                    "user {user} removed from an organization it was not in: {entry}"
                );
                current.insert(user.clone(), None);
            }
            _ => {}
        }
    }
    for (user, org) in current {
        let id: i64 = user.parse().expect("a user id");
        assert_eq!(
            field_of(users, id, "organization_id").as_i64(),
            org,
            "user {user}: the membership history does not end where the user is"
        );
    }
}

fn serials_unique(root: &Http, figures: &Figures) {
    let certificates = root.list_all("/certificates/");
    assert_eq!(
        certificates.len(),
        figures.certificates,
        "certificates stored vs acknowledged"
    );
    let mut seen = HashSet::new();
    for cert in &certificates {
        let key = (
            cert["issuer_id"].as_i64(),
            cert["serial_number"].as_str().map(str::to_owned),
        );
        assert!(
            seen.insert(key.clone()),
            "serial number issued twice by one CA: {key:?}"
        );
    }
}
