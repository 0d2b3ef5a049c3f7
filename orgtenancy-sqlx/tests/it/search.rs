//! The two searches of SPEC §11 rendered to SQL agree with the engine's decisions, on both
//! backends, following keyset pages to the end:
//!
//! * subjects: `Sql::principals` over the store's users (and `Store::list_users_allowed`)
//!   returns exactly the users `authorize` allows an action on a resource;
//! * resources: `Sql::scope` of `Policy::scope_for` over an application's table returns
//!   exactly the rows `authorize` allows a principal an action on.
//!
//! The world: every role in no organization and in two, active or not, with several flag
//! masks (bit 31 among them); resources of no organization and of both, created by nobody or
//! by users of every kind; reading and six writes; both creator policies.

use orgtenancy_core::{
    Action, Capability, CapabilitySet, OrgId, Policy, PrincipalSet, Resource, Role, Scope, UserId,
};
use orgtenancy_sqlx::{KeysetPage, SqlStore, Store, StoreError, User, UserColumns, statement::Sql};

use crate::support::{new_user, org, root};

on_both_backends!(
    principal_sets_match_decisions,
    any_action_scopes_match_decisions
);

const MASKS: [u32; 4] = [0, 0b00001, 0b10100, 0x8000_001f];
const PAGE: u32 = 7;

fn actions() -> Vec<Action> {
    let mut actions = vec![Action::Read];
    actions.extend(
        [0, 1, 2, 3, 4, 31]
            .into_iter()
            .filter_map(Capability::new)
            .map(Action::Write),
    );
    actions
}

/// Every role × organization (none, a, b) × active × flag mask: 72 users.
async fn seed_users(store: &SqlStore, a: OrgId, b: OrgId) -> Vec<User> {
    let mut users = Vec::new();
    for role in Role::ALL {
        for organization in [None, Some(a), Some(b)] {
            for active in [true, false] {
                for mask in MASKS {
                    let name = format!("u{}", users.len());
                    let mut new = new_user(&name, role, organization);
                    new.is_active = active;
                    new.capabilities = CapabilitySet::from_bits(mask);
                    let user = store.create_user(&root(), new, false).await;
                    users.push(user.expect("create user"));
                }
            }
        }
    }
    users
}

/// Resources of no organization, of a and of b, created by nobody or by several seeded users.
fn resources(users: &[User], a: OrgId, b: OrgId) -> Vec<Resource> {
    // Seeded at role × 24 + organization × 8 + inactive × 4 + mask: a plain user of a
    // (active, inactive, holding flags), one of b holding bit 0, one of none, an admin of a.
    let creators = [
        None,
        Some(8),
        Some(12),
        Some(10),
        Some(17),
        Some(0),
        Some(32),
    ];
    let mut resources = Vec::new();
    for organization in [None, Some(a), Some(b)] {
        for creator in creators {
            let creator = creator.and_then(|i| users.get(i)).map(|u| u.id);
            resources.push(Resource::new(organization, creator));
        }
    }
    resources
}

/// The ids of the users in `set`, following pages of `Store::list_users_allowed`.
async fn paged_user_ids(store: &SqlStore, set: PrincipalSet) -> Vec<UserId> {
    let mut ids = Vec::new();
    let mut page = KeysetPage {
        after: None,
        limit: PAGE,
    };
    loop {
        let users = store.list_users_allowed(set, page).await.expect("a page");
        assert!(users.len() <= PAGE as usize);
        let Some(last) = users.last() else { break };
        page.after = Some(last.id.0);
        ids.extend(users.iter().map(|u| u.id));
    }
    ids
}

/// The ids of the users in `set`, in one statement of the public layer.
async fn user_ids(store: &SqlStore, set: PrincipalSet) -> Vec<UserId> {
    let mut sql = Sql::new("SELECT id FROM users WHERE ");
    sql.principals(set, UserColumns::USERS).push(" ORDER BY id");
    let rows: Vec<(i64,)> = store
        .read()
        .await
        .expect("reader")
        .fetch_all(sql)
        .await
        .expect("query");
    rows.into_iter().map(|(id,)| UserId(id)).collect()
}

async fn principal_sets_match_decisions(store: &SqlStore) {
    let (a, b) = (org(store, "a").await.id, org(store, "b").await.id);
    let users = seed_users(store, a, b).await;
    let mut checked = 0;
    for policy in [Policy::DOCUMENTED, Policy::STRICT] {
        for resource in resources(&users, a, b) {
            for action in actions() {
                let set = policy.principals_allowed(action, &resource);
                let expected: Vec<UserId> = users
                    .iter()
                    .filter(|u| {
                        policy
                            .authorize(&u.principal(), action, &resource)
                            .is_allowed()
                    })
                    .map(|u| u.id)
                    .collect();
                let why = format!("{policy:?} {action:?} {resource:?} {set:?}");
                assert_eq!(user_ids(store, set).await, expected, "{why}");
                assert_eq!(paged_user_ids(store, set).await, expected, "{why}, paged");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 21 * 7);
    let too_big = KeysetPage {
        after: None,
        limit: 1001,
    };
    let set = Policy::DOCUMENTED.principals_allowed(Action::Read, &Resource::default());
    assert!(matches!(
        store.list_users_allowed(set, too_big).await,
        Err(StoreError::Invalid { field: "limit", .. })
    ));
}

async fn execute(store: &SqlStore, sql: &'static str) {
    let mut tx = store.begin_unaudited().await.expect("begin");
    tx.execute(Sql::new(sql)).await.expect("statement");
    tx.commit().await.expect("commit");
}

/// The ids of `app_resources` rows in `scope`, following keyset pages.
async fn scoped_ids(store: &SqlStore, scope: Scope) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut page = KeysetPage {
        after: None,
        limit: PAGE,
    };
    let mut reader = store.read().await.expect("reader");
    loop {
        let mut sql = Sql::new("SELECT id FROM app_resources WHERE ");
        sql.scope(scope, "organization_id", Some("created_by"))
            .keyset("id", page);
        let rows: Vec<(i64,)> = reader.fetch_all(sql).await.expect("a page");
        let Some((last,)) = rows.last() else { break };
        page.after = Some(*last);
        ids.extend(rows.iter().map(|(id,)| *id));
    }
    ids
}

async fn any_action_scopes_match_decisions(store: &SqlStore) {
    let (a, b) = (org(store, "a").await.id, org(store, "b").await.id);
    let users = seed_users(store, a, b).await;
    execute(
        store,
        "CREATE TABLE app_resources (id BIGINT PRIMARY KEY, \
         organization_id BIGINT REFERENCES organizations (id) ON DELETE RESTRICT, \
         created_by BIGINT)",
    )
    .await;
    let resources = resources(&users, a, b);
    for (id, resource) in (1_i64..).zip(&resources) {
        let mut insert = Sql::new("INSERT INTO app_resources VALUES (");
        insert
            .bind(id)
            .push(", ")
            .bind(resource.organization.map(|o| o.0))
            .push(", ")
            .bind(resource.creator.map(|u| u.0))
            .push(")");
        let mut tx = store.begin_unaudited().await.expect("begin");
        tx.execute(insert).await.expect("insert");
        tx.commit().await.expect("commit");
    }
    let mut checked = 0;
    for policy in [Policy::DOCUMENTED, Policy::STRICT] {
        for user in &users {
            let principal = user.principal();
            for action in actions() {
                let expected: Vec<i64> = (1_i64..)
                    .zip(&resources)
                    .filter(|(_, r)| policy.authorize(&principal, action, r).is_allowed())
                    .map(|(id, _)| id)
                    .collect();
                let scope = policy.scope_for(&principal, action);
                let got = scoped_ids(store, scope).await;
                assert_eq!(
                    got, expected,
                    "{policy:?} {principal:?} {action:?} {scope:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 72 * 7);
}
