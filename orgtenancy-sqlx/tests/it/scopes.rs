//! `push_scope` on an application's own table agrees with the engine's decisions.
//!
//! Every combination of resource facts (organization, creator) over a small domain is a row;
//! for every principal of the same domain, both policies and every role, the rows the scoped
//! query returns are exactly those `authorize(principal, Read, resource)` allows.

use orgtenancy_core::{Action, OrgId, Policy, Principal, Resource, Role, Scope, UserId};
use orgtenancy_sqlx::{SqlStore, push_scope};
use sqlx::{Postgres, QueryBuilder, Sqlite};

on_both_backends!(scope_matches_decisions);

const ORGS: [Option<i64>; 4] = [None, Some(1), Some(2), Some(3)];
const CREATORS: [Option<i64>; 5] = [None, Some(1), Some(2), Some(3), Some(4)];

/// The ids of `app_resources` rows in `scope`, in id order.
async fn scoped_ids(store: &SqlStore, scope: Scope) -> Vec<i64> {
    const SELECT: &str = "SELECT id FROM app_resources WHERE ";
    if let Some(pool) = store.sqlite_pool() {
        let mut qb = QueryBuilder::<Sqlite>::new(SELECT);
        push_scope(&mut qb, scope, "organization_id", Some("created_by"));
        qb.push(" ORDER BY id");
        qb.build_query_scalar()
            .fetch_all(pool)
            .await
            .expect("scoped query")
    } else if let Some(pool) = store.postgres_pool() {
        let mut qb = QueryBuilder::<Postgres>::new(SELECT);
        push_scope(&mut qb, scope, "organization_id", Some("created_by"));
        qb.push(" ORDER BY id");
        qb.build_query_scalar()
            .fetch_all(pool)
            .await
            .expect("scoped query")
    } else {
        panic!("a store without a pool")
    }
}

async fn execute(store: &SqlStore, sql: &str) {
    if let Some(pool) = store.sqlite_pool() {
        sqlx::query(sql).execute(pool).await.expect("statement");
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(sql).execute(pool).await.expect("statement");
    }
}

async fn scope_matches_decisions(store: &SqlStore) {
    // An application table next to the store's, as the crate docs suggest.
    execute(
        store,
        "CREATE TABLE app_resources (id BIGINT PRIMARY KEY, \
         organization_id BIGINT REFERENCES organizations (id) ON DELETE RESTRICT, \
         created_by BIGINT)",
    )
    .await;
    for i in 1..=3 {
        crate::support::org(store, &format!("org{i}")).await;
    }
    let mut resources = Vec::new();
    for organization in ORGS {
        for creator in CREATORS {
            let id = i64::try_from(resources.len()).expect("small") + 1;
            let sql = format!(
                "INSERT INTO app_resources VALUES ({id}, {}, {})",
                organization.map_or("NULL".to_owned(), |o| o.to_string()),
                creator.map_or("NULL".to_owned(), |c| c.to_string()),
            );
            execute(store, &sql).await;
            resources.push((
                id,
                Resource::new(organization.map(OrgId), creator.map(UserId)),
            ));
        }
    }
    let mut checked = 0;
    for policy in [Policy::DOCUMENTED, Policy::STRICT] {
        for role in Role::ALL {
            for organization in [None, Some(OrgId(1)), Some(OrgId(2))] {
                for id in 1..=4 {
                    for active in [true, false] {
                        let principal =
                            Principal::new(UserId(id), role, organization).with_active(active);
                        let expected: Vec<i64> = resources
                            .iter()
                            .filter(|(_, r)| {
                                policy.authorize(&principal, Action::Read, r).is_allowed()
                            })
                            .map(|(id, _)| *id)
                            .collect();
                        let scope = policy.scope(&principal);
                        assert_eq!(
                            scoped_ids(store, scope).await,
                            expected,
                            "{policy:?} {principal:?} {scope:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 144);
    // Resources of an organization block its deletion, like members do.
    assert_eq!(
        orgtenancy_sqlx::Store::delete_organization(store, &crate::support::root(), OrgId(1)).await,
        Err(orgtenancy_sqlx::StoreError::Conflict(
            orgtenancy_sqlx::Conflict::OrganizationNotEmpty
        ))
    );
}
