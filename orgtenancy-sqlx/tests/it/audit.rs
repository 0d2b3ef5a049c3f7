//! The audit log: appending, scoped and filtered reads, append-only.

use chrono::Utc;
use orgtenancy_core::{OrgId, Scope, UserId};
use orgtenancy_sqlx::{Actor, AuditEntry, AuditFilter, NewAuditEntry, Page, SqlStore, Store};

on_both_backends!(
    append_and_read,
    filters,
    scope_never_widens,
    entries_never_change
);

fn login(user: i64, organization: Option<i64>, action: &str) -> NewAuditEntry {
    NewAuditEntry {
        action: action.into(),
        actor: Actor {
            user_id: Some(UserId(user)),
            username: Some(format!("u{user}")),
        },
        organization_id: organization.map(OrgId),
        resource_type: Some("session".into()),
        resource_id: Some(format!("s{user}")),
        detail: Some("password".into()),
    }
}

async fn list(store: &SqlStore, scope: Scope, filter: AuditFilter) -> Vec<AuditEntry> {
    store
        .list_audit(
            scope,
            filter,
            Page {
                skip: 0,
                limit: 1000,
            },
        )
        .await
        .expect("list audit")
}

async fn append_and_read(store: &SqlStore) {
    let before = Utc::now();
    let entry = store
        .append_audit(login(1, Some(5), "login_success"))
        .await
        .expect("append");
    assert_eq!(entry.action, "login_success");
    assert_eq!(entry.user_id, Some(UserId(1)));
    assert_eq!(entry.username.as_deref(), Some("u1"));
    assert_eq!(entry.organization_id, Some(OrgId(5)));
    assert_eq!(entry.resource_type.as_deref(), Some("session"));
    assert_eq!(entry.resource_id.as_deref(), Some("s1"));
    assert_eq!(entry.detail.as_deref(), Some("password"));
    assert!(entry.created_at >= before - chrono::Duration::milliseconds(1));
    let anonymous = store
        .append_audit(NewAuditEntry {
            action: "login_failure".into(),
            ..NewAuditEntry::default()
        })
        .await
        .expect("append");
    assert!(anonymous.id > entry.id);
    assert_eq!(
        list(store, Scope::All, AuditFilter::default()).await,
        vec![entry, anonymous]
    );
    assert!(matches!(
        store.append_audit(NewAuditEntry::default()).await,
        Err(orgtenancy_sqlx::StoreError::Invalid {
            field: "action",
            ..
        })
    ));
}

async fn filters(store: &SqlStore) {
    let a = store
        .append_audit(login(1, Some(1), "login_success"))
        .await
        .expect("append");
    let b = store
        .append_audit(login(2, Some(1), "login_failure"))
        .await
        .expect("append");
    let c = store
        .append_audit(login(1, Some(2), "login_failure"))
        .await
        .expect("append");
    let mut other = login(3, Some(1), "ca_create");
    other.resource_type = Some("ca".into());
    other.resource_id = Some("7".into());
    let d = store.append_audit(other).await.expect("append");

    let by_action = AuditFilter {
        action: Some("login_failure".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(store, Scope::All, by_action.clone()).await,
        vec![b.clone(), c.clone()]
    );
    assert_eq!(
        list(store, Scope::Organization(OrgId(1)), by_action).await,
        vec![b.clone()]
    );
    let by_user = AuditFilter {
        user_id: Some(UserId(1)),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(store, Scope::All, by_user).await,
        vec![a.clone(), c.clone()]
    );
    let by_type = AuditFilter {
        resource_type: Some("ca".into()),
        ..AuditFilter::default()
    };
    assert_eq!(list(store, Scope::All, by_type).await, vec![d.clone()]);
    let by_resource = AuditFilter {
        resource_type: Some("session".into()),
        resource_id: Some("s2".into()),
        ..AuditFilter::default()
    };
    assert_eq!(list(store, Scope::All, by_resource).await, vec![b.clone()]);

    // Time bounds are inclusive, at the stored precision.
    let since = AuditFilter {
        since: Some(b.created_at),
        ..AuditFilter::default()
    };
    let since_b = list(store, Scope::All, since).await;
    assert_eq!(since_b.first(), Some(&b), "{since_b:?}");
    assert!(!since_b.contains(&a) || a.created_at == b.created_at);
    let until = AuditFilter {
        until: Some(b.created_at),
        ..AuditFilter::default()
    };
    let until_b = list(store, Scope::All, until).await;
    assert!(until_b.contains(&a) && until_b.contains(&b));
    assert!(!until_b.contains(&d) || d.created_at == b.created_at);
    let window = AuditFilter {
        since: Some(a.created_at),
        until: Some(d.created_at),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(store, Scope::All, window).await,
        vec![a.clone(), b.clone(), c, d.clone()]
    );
    let future = AuditFilter {
        since: Some(Utc::now() + chrono::Duration::hours(1)),
        ..AuditFilter::default()
    };
    assert_eq!(list(store, Scope::All, future).await, vec![]);

    let page = store
        .list_audit(
            Scope::All,
            AuditFilter::default(),
            Page { skip: 1, limit: 2 },
        )
        .await
        .expect("page");
    assert_eq!(page.len(), 2);
    assert_eq!(page[0], b);
}

async fn scope_never_widens(store: &SqlStore) {
    let a = store
        .append_audit(login(1, Some(1), "x"))
        .await
        .expect("append");
    let b = store
        .append_audit(login(2, Some(2), "x"))
        .await
        .expect("append");
    let c = store
        .append_audit(login(3, None, "x"))
        .await
        .expect("append");
    assert_eq!(
        list(store, Scope::All, AuditFilter::default()).await,
        vec![a.clone(), b, c]
    );
    assert_eq!(
        list(store, Scope::Organization(OrgId(1)), AuditFilter::default()).await,
        vec![a.clone()]
    );
    assert_eq!(
        list(store, Scope::Nothing, AuditFilter::default()).await,
        vec![]
    );
    // Audit entries have no creator column: a creator scope sees nothing, and the
    // organization part alone decides for the combined scope.
    assert_eq!(
        list(store, Scope::Creator(UserId(3)), AuditFilter::default()).await,
        vec![]
    );
    let combined = Scope::OrganizationOrCreator {
        organization: OrgId(1),
        creator: UserId(2),
    };
    assert_eq!(list(store, combined, AuditFilter::default()).await, vec![a]);
    // Filters only narrow.
    let narrow = AuditFilter {
        user_id: Some(UserId(2)),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(store, Scope::Organization(OrgId(1)), narrow).await,
        vec![]
    );
}

async fn entries_never_change(store: &SqlStore) {
    let entry = store
        .append_audit(login(1, Some(1), "x"))
        .await
        .expect("append");
    let update = "UPDATE audit_log SET action = 'forged'";
    let refused = if let Some(pool) = store.sqlite_pool() {
        sqlx::query(update).execute(pool).await.is_err()
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(update).execute(pool).await.is_err()
    } else {
        panic!("a store without a pool")
    };
    assert!(refused, "the schema refuses to change an audit entry");
    assert_eq!(
        list(store, Scope::All, AuditFilter::default()).await,
        vec![entry]
    );
}
