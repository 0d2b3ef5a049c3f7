//! Issue 11 item 3 against the real binary over HTTP, on both backends: a decision and the
//! write it allows see the same row. (a) An admin's remove-member races a superuser's
//! promotion of that member: the removal never lands on a superuser. (b) Two superusers
//! demote, deactivate or delete each other at once: one active superuser always remains,
//! and the loser is refused (409 from the transaction, or 401/403 once it lost its rights).

use std::{sync::Barrier, thread};

use serde_json::{Value, json};

use crate::{
    concurrency::{
        client::{Answer, Http},
        fresh_database,
    },
    e2e::start,
    support::{Backend, PASSWORD},
};

const TRIALS: usize = 40;

fn user_body(username: &str, role: &str, organization: Option<i64>) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": PASSWORD,
        "role": role,
        "organization_id": organization,
    })
}

/// Creates a user as `by` and logs a client in as it.
fn member(by: &Http, base: &str, username: &str, role: &str, org: Option<i64>) -> (i64, Http) {
    let created = by.must("POST", "/users/", Some(&user_body(username, role, org)));
    assert_eq!(created.status, 201, "create {username}: {}", created.json);
    let mut client = Http::new(base);
    client.login(username);
    (created.id(), client)
}

/// Runs `first` and `second` at the same instant on two threads.
fn at_once(
    first: impl FnOnce() -> Answer + Send,
    second: impl FnOnce() -> Answer + Send,
) -> (Answer, Answer) {
    let barrier = Barrier::new(2);
    thread::scope(|scope| {
        let one = scope.spawn(|| {
            barrier.wait();
            first()
        });
        let two = scope.spawn(|| {
            barrier.wait();
            second()
        });
        (one.join().expect("thread"), two.join().expect("thread"))
    })
}

fn remove_member_vs_promotion(backend: &Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = fresh_database(backend);
    let server = start(dir.path(), Some(&db.url));
    let mut root = Http::new(&server.base);
    assert_eq!(
        root.must(
            "POST",
            "/users/",
            Some(&user_body("root", "superuser", None))
        )
        .status,
        201
    );
    root.login("root");
    let org = root
        .must("POST", "/organizations/", Some(&json!({"name": "acme"})))
        .id();
    let (_, admin) = member(&root, &server.base, "admin", "admin", Some(org));
    let (target, _) = member(&root, &server.base, "target", "user", Some(org));
    let (mut removed_superusers, mut promoted_first) = (Vec::new(), 0);
    for trial in 0..TRIALS {
        let (removal, promotion) = at_once(
            || {
                admin.must(
                    "DELETE",
                    &format!("/organizations/{org}/users/{target}"),
                    None,
                )
            },
            || {
                root.must(
                    "PATCH",
                    &format!("/users/{target}"),
                    Some(&json!({"role": "superuser"})),
                )
            },
        );
        assert_eq!(promotion.status, 200, "trial {trial}: {}", promotion.json);
        match removal.status {
            // The row the removal wrote: it must not be a superuser's.
            200 if removal.json["role"] == "superuser" => removed_superusers.push(trial),
            200 => {}
            403 => promoted_first += 1,
            other => panic!("trial {trial}: removal {other} {}", removal.json),
        }
        // Back to a plain member for the next trial.
        let reset = json!({"role": "user", "organization_id": org});
        assert_eq!(
            root.must("PATCH", &format!("/users/{target}"), Some(&reset))
                .status,
            200
        );
    }
    eprintln!("remove vs promote: {promoted_first} of {TRIALS} refused after the promotion");
    assert!(
        removed_superusers.is_empty(),
        "an admin removed a superuser in trials {removed_superusers:?}"
    );
}

/// One act of a superuser on another: demote, deactivate or delete.
fn act_on(client: &Http, kind: usize, id: i64) -> Answer {
    let path = format!("/users/{id}");
    match kind {
        0 => client.must("PATCH", &path, Some(&json!({"role": "admin"}))),
        1 => client.must("PATCH", &path, Some(&json!({"is_active": false}))),
        _ => client.must("DELETE", &path, None),
    }
}

fn superusers_take_each_other_out(backend: &Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = fresh_database(backend);
    let server = start(dir.path(), Some(&db.url));
    let mut root = Http::new(&server.base);
    assert_eq!(
        root.must(
            "POST",
            "/users/",
            Some(&user_body("root", "superuser", None))
        )
        .status,
        201
    );
    root.login("root");
    let (mut conflicts, mut other_refusals) = (0, 0);
    for trial in 0..TRIALS {
        // Two fresh superusers; root then steps down, so they are the only active ones.
        let (a, client_a) = member(&root, &server.base, &format!("a{trial}"), "superuser", None);
        let (b, client_b) = member(&root, &server.base, &format!("b{trial}"), "superuser", None);
        let root_id = root.must("GET", "/users/me", None).id();
        let step_down = client_a.must(
            "PATCH",
            &format!("/users/{root_id}"),
            Some(&json!({"role": "admin"})),
        );
        assert_eq!(step_down.status, 200, "{}", step_down.json);
        let (kind_a, kind_b) = (trial % 3, (trial / 3 + 1) % 3);
        let (by_a, by_b) = at_once(
            || act_on(&client_a, kind_a, b),
            || act_on(&client_b, kind_b, a),
        );
        let statuses = [by_a.status, by_b.status];
        let won = statuses.iter().filter(|s| (200..300).contains(*s)).count();
        assert_eq!(
            won, 1,
            "trial {trial}: exactly one wins, got {statuses:?} {by_a:?} {by_b:?}"
        );
        for answer in [&by_a, &by_b].into_iter().filter(|answer| !answer.ok()) {
            match answer.status {
                409 => conflicts += 1,
                // The winner committed before the loser was authenticated or decided.
                401 | 403 => other_refusals += 1,
                other => panic!("trial {trial}: loser got {other} {}", answer.json),
            }
        }
        let winner = if by_a.ok() { &client_a } else { &client_b };
        let users = winner.list_all("/users/");
        let active_superusers = users
            .iter()
            .filter(|u| u["role"] == "superuser" && u["is_active"] == true)
            .count();
        assert!(
            active_superusers >= 1,
            "trial {trial}: no active superuser left"
        );
        // Root takes over again, and the winner steps down for the next trial.
        let back = winner.must(
            "PATCH",
            &format!("/users/{root_id}"),
            Some(&json!({"role": "superuser"})),
        );
        assert_eq!(back.status, 200, "{}", back.json);
        let winner_id = if by_a.ok() { a } else { b };
        let down = root.must(
            "PATCH",
            &format!("/users/{winner_id}"),
            Some(&json!({"role": "admin"})),
        );
        assert_eq!(down.status, 200, "{}", down.json);
    }
    eprintln!("superusers race: {conflicts} losers got 409, {other_refusals} got 401/403");
    assert!(conflicts > 0, "no race reached the store's check");
}

#[test]
fn remove_member_never_removes_a_superuser_sqlite() {
    remove_member_vs_promotion(&Backend::Sqlite);
}

#[test]
fn remove_member_never_removes_a_superuser_postgres() {
    if let Some(backend) = Backend::postgres() {
        remove_member_vs_promotion(&backend);
    }
}

#[test]
fn racing_superusers_leave_one_sqlite() {
    superusers_take_each_other_out(&Backend::Sqlite);
}

#[test]
fn racing_superusers_leave_one_postgres() {
    if let Some(backend) = Backend::postgres() {
        superusers_take_each_other_out(&backend);
    }
}
