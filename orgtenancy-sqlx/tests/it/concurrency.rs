//! Races: membership changes against organization deletion, bootstrap, token rotation and
//! secret creation, each with many concurrent tasks on the shared pool.

use std::collections::BTreeMap;

use orgtenancy_core::{OrgId, Role, Scope};
use orgtenancy_sqlx::{
    AuditFilter, Conflict, Entity, Page, SqlStore, Store, StoreError, StoreResult, User,
};
use tokio::task::JoinSet;

use crate::support::{new_user, org, root, user};

on_both_backends!(
    adds_race_deletes,
    bootstrap_race,
    rotation_race,
    secret_race
);

/// Users that every round adds to (and removes from) the round's organization.
const USERS: usize = 24;
/// Concurrent deleters of the round's organization.
const DELETERS: usize = 8;
/// Rounds run at least; more (up to `MAX_ROUNDS`) until both outcomes of the race were seen.
const MIN_ROUNDS: usize = 16;
const MAX_ROUNDS: usize = 40;

/// A tiny deterministic generator for task orders and yields.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap_or(0) % n.max(1)
    }
}

#[derive(Debug, Clone, Copy)]
enum Task {
    Add(usize),
    Remove(usize),
    Delete,
}

#[derive(Debug)]
enum Outcome {
    Add(StoreResult<User>),
    Remove(StoreResult<User>),
    Delete(StoreResult<()>),
}

#[derive(Debug, Default)]
struct Tally {
    adds: usize,
    removes: usize,
    deletes: usize,
    rounds_deleted: usize,
    rounds_kept: usize,
    refused_deletes: usize,
    refused_adds: usize,
}

async fn count(store: &SqlStore, org: OrgId, action: &str) -> usize {
    let filter = AuditFilter {
        action: Some(action.into()),
        ..AuditFilter::default()
    };
    store
        .list_audit(
            Scope::Organization(org),
            filter,
            Page {
                skip: 0,
                limit: 1000,
            },
        )
        .await
        .expect("audit")
        .len()
}

async fn adds_race_deletes(store: &SqlStore) {
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(user(store, &format!("racer{i}"), None).await.id);
    }
    let mut rng = Lcg(0x5eed);
    let mut tally = Tally::default();
    let mut round = 0;
    while round < MIN_ROUNDS
        || (round < MAX_ROUNDS && (tally.rounds_deleted == 0 || tally.refused_deletes == 0))
    {
        let org = org(store, &format!("round{round}")).await.id;
        let mut tasks: Vec<Task> = (0..USERS)
            .flat_map(|u| [Task::Add(u), Task::Remove(u)])
            .collect();
        tasks.extend([Task::Delete; DELETERS]);
        for i in (1..tasks.len()).rev() {
            tasks.swap(i, rng.below(i + 1));
        }
        let mut set = JoinSet::new();
        for task in tasks {
            let store = store.clone();
            let users = users.clone();
            let yields = rng.below(4);
            set.spawn(async move {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
                match task {
                    Task::Add(u) => Outcome::Add(store.add_member(&root(), org, users[u]).await),
                    Task::Remove(u) => {
                        Outcome::Remove(store.remove_member(&root(), org, users[u]).await)
                    }
                    Task::Delete => Outcome::Delete(store.delete_organization(&root(), org).await),
                }
            });
        }
        let (mut adds, mut removes, mut deletes) = (0, 0, 0);
        while let Some(outcome) = set.join_next().await {
            match outcome.expect("task") {
                Outcome::Add(Ok(user)) => {
                    assert_eq!(user.organization_id, Some(org));
                    adds += 1;
                }
                Outcome::Add(Err(StoreError::Conflict(Conflict::MissingOrganization))) => {
                    tally.refused_adds += 1;
                }
                Outcome::Remove(Ok(user)) => {
                    assert_eq!(user.organization_id, None);
                    removes += 1;
                }
                Outcome::Remove(Err(StoreError::NotFound(Entity::User))) => {}
                Outcome::Delete(Ok(())) => deletes += 1,
                Outcome::Delete(Err(StoreError::NotFound(Entity::Organization))) => {}
                Outcome::Delete(Err(StoreError::Conflict(Conflict::OrganizationNotEmpty))) => {
                    tally.refused_deletes += 1;
                }
                other => panic!("round {round}: unexpected outcome {other:?}"),
            }
        }
        assert!(deletes <= 1, "round {round}: deleted {deletes} times");
        // Every committed change has exactly one audit entry, and nothing else has one.
        assert_eq!(
            count(store, org, "org_add_user").await,
            adds,
            "round {round}: adds"
        );
        assert_eq!(
            count(store, org, "org_remove_user").await,
            removes,
            "round {round}: removes"
        );
        assert_eq!(
            count(store, org, "org_delete").await,
            deletes,
            "round {round}: deletes"
        );
        let members = store
            .list_members(
                org,
                Page {
                    skip: 0,
                    limit: 1000,
                },
            )
            .await
            .expect("members");
        if deletes == 1 {
            assert_eq!(
                store.get_organization(org).await,
                Err(StoreError::NotFound(Entity::Organization))
            );
            assert!(
                members.is_empty(),
                "round {round}: members of a deleted organization"
            );
            tally.rounds_deleted += 1;
        } else {
            store
                .get_organization(org)
                .await
                .expect("the organization survived");
            tally.rounds_kept += 1;
        }
        tally.adds += adds;
        tally.removes += removes;
        tally.deletes += deletes;
        round += 1;
    }
    // No user points at a missing organization.
    let mut orgs_of_users = BTreeMap::new();
    for id in &users {
        let user = store.get_user(*id).await.expect("user");
        if let Some(org) = user.organization_id {
            store
                .get_organization(org)
                .await
                .unwrap_or_else(|e| panic!("{user:?} points at a missing organization: {e:?}"));
            *orgs_of_users.entry(org).or_insert(0) += 1;
        }
    }
    for (org, n) in orgs_of_users {
        let members = store
            .list_members(
                org,
                Page {
                    skip: 0,
                    limit: 1000,
                },
            )
            .await
            .expect("members");
        assert_eq!(members.len(), n);
    }
    // Every racer's audit entry joined one chain (appends never fork).
    let chain = store
        .verify_audit_chain()
        .await
        .expect("verify the audit chain");
    assert!(chain.ok, "the audit chain after the races: {chain:?}");
    eprintln!("adds_race_deletes: {round} rounds, {tally:?}");
    assert!(
        tally.rounds_deleted > 0,
        "no round saw a deletion win: {tally:?}"
    );
    assert!(
        tally.refused_deletes > 0,
        "no round saw a deletion refused: {tally:?}"
    );
}

async fn bootstrap_race(store: &SqlStore) {
    let mut set = JoinSet::new();
    for i in 0..12 {
        let store = store.clone();
        set.spawn(async move {
            store
                .create_user(
                    &root(),
                    new_user(&format!("boot{i}"), Role::Superuser, None),
                    true,
                )
                .await
        });
    }
    let mut winners = 0;
    while let Some(result) = set.join_next().await {
        match result.expect("task") {
            Ok(_) => winners += 1,
            Err(StoreError::Conflict(Conflict::NotFirstUser)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(
        store
            .list_users(Page::default())
            .await
            .expect("users")
            .len(),
        1
    );
    let audited = store
        .list_audit(Scope::All, AuditFilter::default(), Page::default())
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
}

async fn rotation_race(store: &SqlStore) {
    let bob = user(store, "bob", None).await;
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    store
        .insert_refresh_token(bob.id, "shared", later)
        .await
        .expect("token");
    let mut set = JoinSet::new();
    for i in 0..12 {
        let store = store.clone();
        set.spawn(async move {
            store
                .rotate_refresh_token("shared", &format!("next{i}"), later)
                .await
        });
    }
    let mut winners = Vec::new();
    while let Some(result) = set.join_next().await {
        match result.expect("task") {
            Ok(user) => winners.push(user),
            Err(StoreError::NotFound(Entity::RefreshToken)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        winners,
        vec![bob.id],
        "a refresh token is used exactly once"
    );
}

async fn secret_race(store: &SqlStore) {
    let mut set = JoinSet::new();
    for i in 0u8..12 {
        let store = store.clone();
        set.spawn(async move { store.get_or_create_secret("jwt", vec![i; 32]).await });
    }
    let mut values = Vec::new();
    while let Some(result) = set.join_next().await {
        values.push(result.expect("task").expect("secret"));
    }
    values.dedup();
    assert_eq!(values.len(), 1, "every racer got the same key");
}
