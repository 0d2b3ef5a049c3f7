//! Hostile values at the store boundary, on both backends (issue 11): text with a NUL
//! character (PostgreSQL refuses it, SQLite stores it and miscounts) and times outside the
//! years both databases compare alike are `StoreError::Invalid` naming the field, never a
//! driver error, and write nothing.

use chrono::{DateTime, NaiveDate, Utc};
use orgtenancy_core::{Role, Scope};
use orgtenancy_sqlx::{
    AuditFilter, NewAuditEntry, NewOrganization, OrganizationPatch, Page, SqlStore, Store,
    StoreError, UserPatch,
};

use crate::support::{new_user, org, root, user};

on_both_backends!(nul_text_is_invalid, far_times_are_invalid);

const NULS: [&str; 3] = ["a\0b", "\0lead", "trail\0"];

/// The field named by an `Invalid` error, or why it is not one.
fn invalid_field<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
) -> Result<&'static str, String> {
    match result {
        Err(StoreError::Invalid { field, .. }) => Ok(field),
        other => Err(format!("{other:?}")),
    }
}

/// Everything the store holds that a refused write could have touched.
async fn rows(store: &SqlStore) -> (usize, usize, usize) {
    let page = Page {
        skip: 0,
        limit: 1000,
    };
    let orgs = store
        .list_organizations(Scope::All, page)
        .await
        .expect("orgs");
    let users = store.list_users(page).await.expect("users");
    let audit = store
        .list_audit(Scope::All, AuditFilter::default(), page)
        .await
        .expect("audit");
    (orgs.len(), users.len(), audit.len())
}

async fn nul_text_is_invalid(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let alice = user(store, "alice", None).await;
    let before = rows(store).await;
    let mut failures = Vec::new();
    for text in NULS {
        let organization = |name: &str, description: Option<&str>| NewOrganization {
            name: name.into(),
            description: description.map(Into::into),
        };
        let mut named = new_user("named", Role::User, None);
        named.username = text.into();
        let mut mailed = new_user("mailed", Role::User, None);
        mailed.email = format!("{text}@example.com");
        let filter = |action: Option<&str>, kind: Option<&str>, id: Option<&str>| AuditFilter {
            action: action.map(Into::into),
            resource_type: kind.map(Into::into),
            resource_id: id.map(Into::into),
            ..AuditFilter::default()
        };
        let page = Page::default();
        let results: Vec<(&str, Result<&'static str, String>)> = vec![
            (
                "name",
                invalid_field(
                    store
                        .create_organization(&root(), organization(text, None))
                        .await,
                ),
            ),
            (
                "description",
                invalid_field(
                    store
                        .create_organization(&root(), organization("x", Some(text)))
                        .await,
                ),
            ),
            (
                "name",
                invalid_field(
                    store
                        .update_organization(
                            &root(),
                            acme.id,
                            OrganizationPatch {
                                name: Some(text.into()),
                                description: None,
                            },
                        )
                        .await,
                ),
            ),
            (
                "description",
                invalid_field(
                    store
                        .update_organization(
                            &root(),
                            acme.id,
                            OrganizationPatch {
                                name: None,
                                description: Some(Some(text.into())),
                            },
                        )
                        .await,
                ),
            ),
            (
                "username",
                invalid_field(store.create_user(&root(), named, false).await),
            ),
            (
                "email",
                invalid_field(store.create_user(&root(), mailed, false).await),
            ),
            (
                "email",
                invalid_field(
                    store
                        .update_user(
                            &root(),
                            alice.id,
                            UserPatch {
                                email: Some(text.into()),
                                ..UserPatch::default()
                            },
                        )
                        .await,
                ),
            ),
            (
                "action",
                invalid_field(
                    store
                        .list_audit(Scope::All, filter(Some(text), None, None), page)
                        .await,
                ),
            ),
            (
                "resource_type",
                invalid_field(
                    store
                        .list_audit(Scope::All, filter(None, Some(text), None), page)
                        .await,
                ),
            ),
            (
                "resource_id",
                invalid_field(
                    store
                        .list_audit(Scope::All, filter(None, None, Some(text)), page)
                        .await,
                ),
            ),
            (
                "detail",
                invalid_field(
                    store
                        .append_audit(NewAuditEntry {
                            action: "login_failure".into(),
                            detail: Some(text.into()),
                            ..NewAuditEntry::default()
                        })
                        .await,
                ),
            ),
        ];
        for (expected, got) in results {
            if got.as_deref() != Ok(expected) {
                failures.push(format!("{text:?} in {expected}: {got:?}"));
            }
        }
        // No stored username holds a NUL, so none is found (PostgreSQL cannot even compare it).
        let found = store.get_user_by_username(text).await;
        if !matches!(found, Err(StoreError::NotFound(_))) {
            failures.push(format!("{text:?} looked up by username: {found:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        rows(store).await,
        before,
        "a refused write changed something"
    );
}

fn year(year: i32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .expect("a date")
        .and_utc()
}

async fn far_times_are_invalid(store: &SqlStore) {
    org(store, "acme").await;
    for far in [-5000, -1, 0, 10_000, 200_000] {
        let since = AuditFilter {
            since: Some(year(far)),
            ..AuditFilter::default()
        };
        let until = AuditFilter {
            until: Some(year(far)),
            ..AuditFilter::default()
        };
        let page = Page::default();
        assert_eq!(
            invalid_field(store.list_audit(Scope::All, since, page).await),
            Ok("since"),
            "{far}"
        );
        assert_eq!(
            invalid_field(store.list_audit(Scope::All, until, page).await),
            Ok("until"),
            "{far}"
        );
    }
    // The edges of the range still filter: everything is after year 1 and before 9999.
    let all = AuditFilter {
        since: Some(year(1)),
        until: Some(year(9999)),
        ..AuditFilter::default()
    };
    let entries = store
        .list_audit(Scope::All, all, Page::default())
        .await
        .expect("list");
    assert_eq!(entries.len(), 1, "the org_create entry");
}
