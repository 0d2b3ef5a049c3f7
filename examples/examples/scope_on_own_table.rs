//! An application keeps its own `documents` table next to the tenancy tables, in the same
//! SQLite database, and lists it with [`orgtenancy_sqlx::push_scope`]: the engine computes a
//! [`Scope`](orgtenancy_core::Scope) for the caller, `push_scope` turns it into a bound SQL
//! predicate, and the database does the filtering — nothing is loaded only to be dropped.
//!
//! For each principal and both policies the example checks that the listed rows are exactly
//! the rows `authorize(principal, Read, row)` allows, and exits non-zero otherwise.
//!
//! Run with `cargo run -p orgtenancy-examples --example scope_on_own_table`.

use std::error::Error;

use orgtenancy_core::{Action, OrgId, Policy, Principal, Resource, Role, UserId};
use orgtenancy_sqlx::{Actor, NewOrganization, SqlStore, Store, push_scope};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

/// One row of the application's own table.
type Document = (i64, String, Option<i64>, Option<i64>);

/// Lists the documents `principal` may read under `policy`, one page, filtered in SQL.
async fn list_documents(
    pool: &SqlitePool,
    policy: Policy,
    principal: &Principal,
) -> Result<Vec<Document>, sqlx::Error> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT id, title, organization_id, created_by FROM documents WHERE ",
    );
    push_scope(
        &mut qb,
        policy.scope(principal),
        "organization_id",
        Some("created_by"),
    );
    qb.push(" ORDER BY id LIMIT ").push_bind(100_i64);
    qb.build_query_as::<Document>().fetch_all(pool).await
}

fn resource(document: &Document) -> Resource {
    let (_, _, organization, creator) = document;
    Resource::new(organization.map(OrgId), creator.map(UserId))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let store = SqlStore::connect("sqlite::memory:").await?;
    let pool = store
        .sqlite_pool()
        .ok_or("a sqlite: URL gives a SQLite pool")?
        .clone();

    // The tenants live in the store's `organizations` table...
    let mut orgs = Vec::new();
    for name in ["acme", "globex"] {
        let org = store
            .create_organization(
                &Actor::default(),
                NewOrganization {
                    name: name.to_owned(),
                    description: None,
                },
            )
            .await?;
        orgs.push(org.id);
    }
    let [acme, globex] = *orgs.as_slice() else {
        return Err("expected two organizations".into());
    };

    // ...and the application's own table references it, so an organization that still owns
    // documents cannot be deleted (ON DELETE RESTRICT).
    sqlx::query(
        "CREATE TABLE documents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL,
            organization_id INTEGER REFERENCES organizations (id) ON DELETE RESTRICT,
            created_by INTEGER
        )",
    )
    .execute(&pool)
    .await?;
    sqlx::query("CREATE INDEX documents_org ON documents (organization_id)")
        .execute(&pool)
        .await?;
    sqlx::query("CREATE INDEX documents_creator ON documents (created_by)")
        .execute(&pool)
        .await?;

    let (root, alice, bob, carol, dave) = (UserId(1), UserId(2), UserId(3), UserId(4), UserId(5));
    let rows: [(&str, Option<OrgId>, Option<UserId>); 7] = [
        ("acme plan", Some(acme), Some(alice)),
        ("acme minutes", Some(acme), Some(bob)),
        ("acme legacy import", Some(acme), None),
        ("globex plan", Some(globex), Some(carol)),
        ("bob's notes at globex", Some(globex), Some(bob)),
        ("site notice", None, Some(root)),
        ("dave's scratchpad", None, Some(dave)),
    ];
    for (title, organization, creator) in rows {
        sqlx::query("INSERT INTO documents (title, organization_id, created_by) VALUES (?, ?, ?)")
            .bind(title)
            .bind(organization.map(|o| o.0))
            .bind(creator.map(|u| u.0))
            .execute(&pool)
            .await?;
    }

    let principals = [
        (
            "root (superuser)",
            Principal::new(root, Role::Superuser, None),
        ),
        (
            "alice (acme admin)",
            Principal::new(alice, Role::Admin, Some(acme)),
        ),
        // Bob wrote a note while at globex, then moved to acme.
        (
            "bob (acme user)",
            Principal::new(bob, Role::User, Some(acme)),
        ),
        (
            "carol (globex user)",
            Principal::new(carol, Role::User, Some(globex)),
        ),
        (
            "dave (no organization)",
            Principal::new(dave, Role::User, None),
        ),
        (
            "alice, deactivated",
            Principal::new(alice, Role::Admin, Some(acme)).with_active(false),
        ),
    ];

    // The oracle: every row, filtered in Rust by the engine. Only this check does that.
    let everything: Vec<Document> =
        sqlx::query_as("SELECT id, title, organization_id, created_by FROM documents ORDER BY id")
            .fetch_all(&pool)
            .await?;

    let mut wrong = 0_usize;
    for (policy_name, policy) in [
        ("documented", Policy::DOCUMENTED),
        ("strict", Policy::STRICT),
    ] {
        println!("== {policy_name} policy");
        for (name, principal) in &principals {
            let listed = list_documents(&pool, policy, principal).await?;
            let allowed: Vec<Document> = everything
                .iter()
                .filter(|doc| {
                    policy
                        .authorize(principal, Action::Read, &resource(doc))
                        .is_allowed()
                })
                .cloned()
                .collect();
            let titles: Vec<&str> = listed
                .iter()
                .map(|(_, title, _, _)| title.as_str())
                .collect();
            let ok = listed == allowed;
            if !ok {
                wrong += 1;
            }
            println!(
                "{mark} {name:<24} {scope:?}\n        {titles:?}",
                mark = if ok { "ok   " } else { "WRONG" },
                scope = policy.scope(principal),
            );
        }
    }

    // The foreign key keeps documents from pointing at a deleted organization.
    let blocked = store.delete_organization(&Actor::default(), globex).await;
    println!("deleting globex while it owns documents: {blocked:?}");
    if blocked.is_ok() {
        wrong += 1;
    }

    store.close().await;
    if wrong == 0 {
        println!("every list equals what authorize(p, Read, r) allows");
        Ok(())
    } else {
        Err(format!("{wrong} checks failed").into())
    }
}
