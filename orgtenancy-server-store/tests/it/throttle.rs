//! The login-attempt counters (`ThrottleStore`): counting, forgiving, clearing, windows, and
//! an operator's audited clearing of a lockout.

use std::time::Duration;

use orgtenancy_core::{CapabilitySet, OrgId, Role, Scope};
use orgtenancy_server_store::{MAX_THROTTLE_KEY, ThrottleKind, ThrottleStore};
use orgtenancy_sqlx::{AuditFilter, NewUser, Page, SqlStore, Store, StoreError};

use crate::support::{org, root};

on_both_backends!(
    counts_forgives_clears_and_reopens,
    clearing_a_lockout_is_audited
);

async fn counts_forgives_clears_and_reopens(store: &SqlStore) {
    let window = Duration::from_secs(600);
    let count = |key: &'static str| {
        let store = store.clone();
        async move {
            store
                .count_login_attempt(ThrottleKind::Username, key, window)
                .await
                .expect("the throttle answers")
                .count
        }
    };
    assert_eq!(count("ann").await, 1);
    assert_eq!(count("ann").await, 2);
    // Kinds and keys are counted apart.
    assert_eq!(count("bob").await, 1);
    let address = store
        .count_login_attempt(ThrottleKind::Address, "ann", window)
        .await
        .expect("the throttle answers");
    assert_eq!(address.count, 1);
    store
        .forgive_login_attempt(ThrottleKind::Username, "ann")
        .await
        .expect("the throttle answers");
    assert_eq!(count("ann").await, 2);
    store
        .clear_login_attempts(ThrottleKind::Username, "ann")
        .await
        .expect("the throttle answers");
    assert_eq!(count("ann").await, 1);
    // A zero-length window is always over: every attempt opens a new one.
    let fresh = store
        .count_login_attempt(ThrottleKind::Username, "bob", Duration::ZERO)
        .await
        .expect("the throttle answers");
    assert_eq!(fresh.count, 1);
    let long = "x".repeat(MAX_THROTTLE_KEY + 1);
    assert!(matches!(
        store
            .count_login_attempt(ThrottleKind::Username, &long, window)
            .await,
        Err(StoreError::Invalid { .. })
    ));
}

/// A user of `organization` (with a fake password hash).
fn member(name: &str, organization: OrgId) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.com"),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$fake${name}"),
        role: Role::User,
        is_active: true,
        organization_id: Some(organization),
        capabilities: CapabilitySet::EMPTY,
    }
}

/// An operator's clearing forgets the username's attempts and is audited for the account's
/// organization, in the chain; clearing a key with nothing counted is audited too.
async fn clearing_a_lockout_is_audited(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let ann = store
        .create_user(&root(), member("ann", acme.id), false)
        .await
        .expect("user");
    let window = Duration::from_secs(600);
    for _ in 0..3 {
        store
            .count_login_attempt(ThrottleKind::Username, "ann", window)
            .await
            .expect("count");
    }
    let cleared = store.clear_login_lockout(&root(), "ann", Some(&ann)).await;
    assert_eq!(cleared, Ok(3));
    assert_eq!(
        store.clear_login_lockout(&root(), "nobody", None).await,
        Ok(0)
    );
    let again = store
        .count_login_attempt(ThrottleKind::Username, "ann", window)
        .await
        .expect("count");
    assert_eq!(again.count, 1, "the window was forgotten");
    let filter = AuditFilter {
        action: Some("login_lockout_clear".into()),
        ..AuditFilter::default()
    };
    let acme_log = store
        .list_audit(
            Scope::Organization(acme.id),
            filter.clone(),
            Page::default(),
        )
        .await
        .expect("acme's log");
    assert_eq!(acme_log.len(), 1);
    let entry = &acme_log[0];
    assert_eq!(entry.resource_type.as_deref(), Some("user"));
    assert_eq!(entry.resource_id, Some(ann.id.to_string()));
    assert_eq!(
        entry.detail.as_deref(),
        Some("ann: 3 counted login attempts forgotten")
    );
    let all = store
        .list_audit(Scope::All, filter, Page::default())
        .await
        .expect("the whole log");
    assert_eq!(all.len(), 2);
    assert!(store.verify_audit_chain().await.expect("verify").ok);
}
