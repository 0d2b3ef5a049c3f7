//! # own-resources: an application embeds orgtenancy for its own tenant-scoped table
//!
//! The application depends on `orgtenancy-core` and on `orgtenancy-sqlx` with SQLite only. It
//! keeps its own `documents` table (its own migration, `organization_id` referencing
//! `organizations (id)` with `ON DELETE RESTRICT`) next to the tenancy tables, and:
//!
//! 1. creates organizations and users through the store;
//! 2. asks the engine before each write, and writes each document together with its audit
//!    entry in one transaction through the store's public [`AuditedTx`](orgtenancy_sqlx::AuditedTx);
//! 3. lists each user's documents through the engine's scope, rendered as SQL by `push_scope`;
//! 4. shows that deleting an organization that owns documents is refused;
//! 5. verifies the audit chain, its own entries included, and reads them back through an
//!    admin's audit scope.
//!
//! Every result is checked; a wrong one exits non-zero. Run it with
//! `cargo run -p orgtenancy-example-own-resources`.
#![forbid(unsafe_code)]

mod documents;
mod setup;

use std::process::ExitCode;

use orgtenancy_core::{Action, Policy, Reason};
use orgtenancy_sqlx::{AuditFilter, Conflict, Page, SqlStore, Store, StoreError};

use crate::{
    documents::{Document, Written},
    setup::{Tenants, check},
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const POLICY: Policy = Policy::DOCUMENTED;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => {
            println!("own-resources: every check passed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("own-resources: FAILED: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let store = setup::open().await?;
    let tenants = setup::tenants(&store).await?;
    write_documents(&store, &tenants).await?;
    writes_are_atomic(&store, &tenants).await?;
    lists_follow_the_scope(&store, &tenants).await?;
    deleting_an_owner_is_refused(&store, &tenants).await?;
    the_chain_holds_our_entries(&store, &tenants).await
}

/// Who may write where is the engine's answer, and a refused write writes nothing.
async fn write_documents(store: &SqlStore, t: &Tenants) -> Result<()> {
    let cases = [
        (&t.bob, t.acme, "acme plan", None),
        (&t.alice, t.acme, "acme budget", None),
        (&t.carol, t.acme, "carol's note", Some(Reason::Capability)),
        (
            &t.dave,
            t.acme,
            "dave in acme",
            Some(Reason::OtherOrganization),
        ),
        (&t.dave, t.globex, "globex plan", None),
        (&t.root, t.archive, "old records", None),
    ];
    for (author, organization, title, refused) in cases {
        let written = documents::create(store, POLICY, author, organization, title).await?;
        match (written, refused) {
            (Written::Created(document), None) => check(document.title == title, title)?,
            (Written::Refused(decision), Some(reason)) => check(decision.reason == reason, title)?,
            (written, _) => return Err(format!("{title}: unexpected {written:?}").into()),
        }
    }
    let titles: Vec<String> = documents::all(store)
        .await?
        .into_iter()
        .map(|d| d.title)
        .collect();
    check(
        titles == ["acme plan", "acme budget", "globex plan", "old records"],
        "exactly the allowed documents exist",
    )
}

/// A dropped transaction leaves neither the row nor its audit entry; a foreign-key refusal
/// is a typed error.
async fn writes_are_atomic(store: &SqlStore, t: &Tenants) -> Result<()> {
    let (rows, entries) = (documents::all(store).await?.len(), audit_len(store).await?);
    documents::create_and_roll_back(store, &t.bob, t.acme).await?;
    let error = documents::insert_into(store, &t.bob, orgtenancy_core::OrgId(999_999)).await?;
    check(
        matches!(error, StoreError::Conflict(_) | StoreError::Invalid { .. }),
        &format!("a missing organization is a typed refusal, got {error:?}"),
    )?;
    check(
        documents::all(store).await?.len() == rows,
        "no row was left behind",
    )?;
    check(
        audit_len(store).await? == entries,
        "no audit entry was left behind",
    )
}

/// Each user's list is exactly what the engine lets it read, filtered in SQL.
async fn lists_follow_the_scope(store: &SqlStore, t: &Tenants) -> Result<()> {
    let all = documents::all(store).await?;
    let expected: [(&orgtenancy_sqlx::User, &[&str]); 5] = [
        (
            &t.root,
            &["acme plan", "acme budget", "globex plan", "old records"],
        ),
        (&t.alice, &["acme plan", "acme budget"]),
        (&t.bob, &["acme plan", "acme budget"]),
        (&t.carol, &["acme plan", "acme budget"]),
        (&t.dave, &["globex plan"]),
    ];
    for (reader, titles) in expected {
        let listed = documents::visible(store, POLICY, reader).await?;
        let allowed: Vec<&Document> = all
            .iter()
            .filter(|d| {
                POLICY
                    .authorize(&reader.principal(), Action::Read, &d.resource())
                    .is_allowed()
            })
            .collect();
        let names: Vec<&str> = listed.iter().map(|d| d.title.as_str()).collect();
        check(
            names == titles,
            &format!("{}'s list: {names:?}", reader.username),
        )?;
        check(
            listed.iter().collect::<Vec<_>>() == allowed,
            "the scope agrees with authorize",
        )?;
    }
    Ok(())
}

/// `ON DELETE RESTRICT` on the application's own table protects an organization that owns
/// documents, and the store says so as a typed conflict.
async fn deleting_an_owner_is_refused(store: &SqlStore, t: &Tenants) -> Result<()> {
    let refused = store.delete_organization(&t.root_actor(), t.archive).await;
    check(
        matches!(
            refused,
            Err(StoreError::Conflict(Conflict::OrganizationNotEmpty))
        ),
        &format!("deleting an organization that owns documents: {refused:?}"),
    )?;
    check(
        store.get_organization(t.archive).await.is_ok(),
        "archive is still there",
    )?;
    // An organization without documents or members goes.
    store
        .delete_organization(&t.root_actor(), t.scratch)
        .await?;
    check(
        store.get_organization(t.scratch).await.is_err(),
        "scratch is gone",
    )
}

/// The application's entries are links of the one chain, and admins read their own.
async fn the_chain_holds_our_entries(store: &SqlStore, t: &Tenants) -> Result<()> {
    let report = store.verify_audit_chain().await?;
    let total = audit_len(store).await?;
    check(report.ok, &format!("the chain is intact: {report:?}"))?;
    check(
        report.entries_checked == total,
        "every entry is a checked link",
    )?;
    let filter = AuditFilter {
        action: Some("document_create".to_owned()),
        ..AuditFilter::default()
    };
    let alice_scope = POLICY.audit_scope(&t.alice.principal());
    let seen = store
        .list_audit(alice_scope, filter.clone(), Page::default())
        .await?;
    let ids: Vec<Option<String>> = seen.iter().map(|e| e.resource_id.clone()).collect();
    check(
        ids == [Some("1".to_owned()), Some("2".to_owned())],
        "alice reads acme's two",
    )?;
    let newest = store.list_audit(
        POLICY.audit_scope(&t.root.principal()),
        filter,
        Page::default(),
    );
    let newest = newest.await?;
    check(newest.len() == 4, "the superuser reads all four")?;
    let last_ours = newest.last().map(|e| e.id);
    check(
        last_ours <= report.head_id,
        "our entries are links before the head",
    )?;
    let dave = store.list_audit(
        POLICY.audit_scope(&t.dave.principal()),
        AuditFilter::default(),
        Page::default(),
    );
    check(dave.await?.is_empty(), "a plain user reads no audit entry")
}

async fn audit_len(store: &SqlStore) -> Result<u64> {
    let scope = orgtenancy_core::Scope::All;
    let page = Page {
        skip: 0,
        limit: 1000,
    };
    Ok(store
        .list_audit(scope, AuditFilter::default(), page)
        .await?
        .len() as u64)
}
