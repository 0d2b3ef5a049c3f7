//! Model-based test: random sequences of store operations by random actors, each checked
//! against a simple in-memory model of the store.
//!
//! After every step the test checks that the store returned what the model predicts (the same
//! value, or the same typed error), and that the whole state agrees: every organization, every
//! user and every audit entry. Scoped lists are compared with the model filtered by the
//! engine's decisions (`authorize_org(View)` for organizations; the §6 rule — superuser all,
//! admin its own organization — for the audit log), not by the scope value the store was given.
//!
//! Ids are opaque to the model (PostgreSQL sequences skip numbers on failed inserts); it checks
//! that each new id is larger than every id handed out before. Timestamps are taken from the
//! store when a change sets them, checked to be monotonic, and must read back unchanged.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicUsize, Ordering},
};

use chrono::{DateTime, Utc};
use orgtenancy_core::{CapabilitySet, OrgAct, OrgId, Policy, Principal, Role, Scope, UserId};
use orgtenancy_sqlx::{
    Actor, AuditEntry, AuditFilter, Conflict, Entity, NewAuditEntry, NewOrganization, NewUser,
    Organization, OrganizationPatch, Page, SqlStore, Store, StoreError, StoreResult, User,
    UserPatch,
};
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};

use crate::support;

/// Cases on SQLite, and on PostgreSQL (each case gets a fresh database).
const SQLITE_CASES: u32 = 64;
const POSTGRES_CASES: u32 = 16;
/// Random operations per case (after the setup), at most; at least half as many.
const MAX_STEPS: usize = 40;

const ORG_NAMES: [&str; 7] = ["alpha", "beta", "gamma", "delta", "epsilon", " alpha ", " "];
const USERNAMES: [&str; 7] = ["ann", "bob", "cat", "dan", "eve", "fay", " "];
const EMAILS: [&str; 6] = ["a@x", "b@x", "c@x", "d@x", "e@x", ""];
const ACTIONS: [&str; 3] = ["login_success", "login_failure", ""];

fn description(index: u8) -> String {
    match index {
        0 => "first".into(),
        1 => String::new(),
        _ => "x".repeat(4097),
    }
}

#[derive(Debug, Clone, Copy)]
struct PageSpec {
    skip: u8,
    limit: u16,
}

impl PageSpec {
    fn page(self) -> Page {
        Page {
            skip: u64::from(self.skip),
            limit: u32::from(self.limit),
        }
    }
}

/// A principal for a list: a user of the model when `user` names one, else made up.
#[derive(Debug, Clone, Copy)]
struct Viewer {
    user: u8,
    role: Role,
    org: Option<u8>,
    active: bool,
    strict: bool,
}

#[derive(Debug, Clone)]
enum Op {
    CreateOrg {
        actor: u8,
        name: u8,
        description: Option<u8>,
    },
    UpdateOrg {
        actor: u8,
        org: u8,
        name: Option<u8>,
        description: Option<Option<u8>>,
    },
    DeleteOrg {
        actor: u8,
        org: u8,
    },
    AddMember {
        actor: u8,
        org: u8,
        user: u8,
    },
    RemoveMember {
        actor: u8,
        org: u8,
        user: u8,
    },
    CreateUser {
        actor: u8,
        username: u8,
        email: u8,
        role: Role,
        org: Option<u8>,
        caps: u32,
        first: bool,
    },
    UpdateUser {
        actor: u8,
        user: u8,
        patch: PatchSpec,
    },
    DeleteUser {
        actor: u8,
        user: u8,
    },
    InvalidateTokens {
        user: u8,
    },
    GetOrg {
        org: u8,
    },
    GetUser {
        user: u8,
    },
    GetUserByName {
        username: u8,
    },
    ListOrgs {
        viewer: Viewer,
        page: PageSpec,
    },
    ListMembers {
        org: u8,
        page: PageSpec,
    },
    ListUsers {
        page: PageSpec,
    },
    ListAudit {
        viewer: Viewer,
        action: Option<u8>,
        page: PageSpec,
    },
    AppendAudit {
        actor: u8,
        action: u8,
        org: Option<u8>,
    },
}

#[derive(Debug, Clone)]
struct PatchSpec {
    email: Option<u8>,
    password: Option<u8>,
    caps: Option<u32>,
    role: Option<Role>,
    active: Option<bool>,
    org: Option<Option<u8>>,
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::User), Just(Role::Admin), Just(Role::Superuser)]
}

fn caps() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), Just(1), Just(u32::MAX), any::<u32>()]
}

fn page() -> impl Strategy<Value = PageSpec> {
    (
        0u8..5,
        prop_oneof![
            Just(0u16),
            Just(1),
            Just(2),
            Just(3),
            Just(1000),
            Just(1001)
        ],
    )
        .prop_map(|(skip, limit)| PageSpec { skip, limit })
}

fn viewer() -> impl Strategy<Value = Viewer> {
    (
        0u8..8,
        role(),
        proptest::option::of(0u8..5),
        prop::bool::weighted(0.85),
        any::<bool>(),
    )
        .prop_map(|(user, role, org, active, strict)| Viewer {
            user,
            role,
            org,
            active,
            strict,
        })
}

fn op() -> impl Strategy<Value = Op> {
    let idx = || 0u8..8;
    prop_oneof![
        3 => (idx(), 0u8..7, proptest::option::of(0u8..3))
            .prop_map(|(actor, name, description)| Op::CreateOrg { actor, name, description }),
        2 => (idx(), idx(), proptest::option::of(0u8..7), proptest::option::of(proptest::option::of(0u8..3)))
            .prop_map(|(actor, org, name, description)| Op::UpdateOrg { actor, org, name, description }),
        2 => (idx(), idx()).prop_map(|(actor, org)| Op::DeleteOrg { actor, org }),
        4 => (idx(), idx(), idx()).prop_map(|(actor, org, user)| Op::AddMember { actor, org, user }),
        2 => (idx(), idx(), idx()).prop_map(|(actor, org, user)| Op::RemoveMember { actor, org, user }),
        4 => (idx(), 0u8..7, 0u8..6, role(), proptest::option::of(idx()), caps(), prop::bool::weighted(0.1))
            .prop_map(|(actor, username, email, role, org, caps, first)| Op::CreateUser {
                actor, username, email, role, org, caps, first
            }),
        3 => (
            idx(),
            idx(),
            (
                proptest::option::of(0u8..6),
                proptest::option::of(0u8..3),
                proptest::option::of(caps()),
                proptest::option::of(role()),
                proptest::option::of(any::<bool>()),
                proptest::option::of(proptest::option::of(idx())),
            ),
        )
            .prop_map(|(actor, user, (email, password, caps, role, active, org))| Op::UpdateUser {
                actor,
                user,
                patch: PatchSpec { email, password, caps, role, active, org },
            }),
        1 => (idx(), idx()).prop_map(|(actor, user)| Op::DeleteUser { actor, user }),
        1 => idx().prop_map(|user| Op::InvalidateTokens { user }),
        1 => idx().prop_map(|org| Op::GetOrg { org }),
        1 => idx().prop_map(|user| Op::GetUser { user }),
        1 => (0u8..7).prop_map(|username| Op::GetUserByName { username }),
        2 => (viewer(), page()).prop_map(|(viewer, page)| Op::ListOrgs { viewer, page }),
        2 => (idx(), page()).prop_map(|(org, page)| Op::ListMembers { org, page }),
        1 => page().prop_map(|page| Op::ListUsers { page }),
        2 => (viewer(), proptest::option::of(0u8..4), page())
            .prop_map(|(viewer, action, page)| Op::ListAudit { viewer, action, page }),
        1 => (idx(), 0u8..3, proptest::option::of(idx()))
            .prop_map(|(actor, action, org)| Op::AppendAudit { actor, action, org }),
    ]
}

/// What the store should hold.
#[derive(Debug, Default)]
struct Model {
    orgs: BTreeMap<OrgId, Organization>,
    users: BTreeMap<UserId, User>,
    /// Every id ever handed out, in order.
    org_ids: Vec<OrgId>,
    user_ids: Vec<UserId>,
    /// The last username of every user ever created.
    usernames: BTreeMap<UserId, String>,
    /// The audit log; entries past `adopted` still carry placeholder ids and times.
    audit: Vec<AuditEntry>,
    adopted: usize,
}

/// The id an operation's index names: one handed out before (deleted ones included), or —
/// for index 7, or before any was — one that never existed.
fn pick<T: Copy>(ever: &[T], index: u8, missing: impl Fn(u8) -> T) -> T {
    if index >= 7 || ever.is_empty() {
        return missing(index);
    }
    let i = usize::from(index) % ever.len();
    ever.get(i).copied().unwrap_or_else(|| missing(index))
}

impl Model {
    fn org(&self, index: u8) -> OrgId {
        pick(&self.org_ids, index, |i| OrgId(1_000_000 + i64::from(i)))
    }

    fn user(&self, index: u8) -> UserId {
        pick(&self.user_ids, index, |i| UserId(1_000_000 + i64::from(i)))
    }

    fn actor(&self, index: u8) -> Actor {
        let id = self.user(index);
        match self.usernames.get(&id) {
            Some(name) => Actor {
                user_id: Some(id),
                username: Some(name.clone()),
            },
            None => Actor::default(),
        }
    }

    fn principal(&self, viewer: Viewer) -> (Principal, Policy) {
        let policy = if viewer.strict {
            Policy::STRICT
        } else {
            Policy::DOCUMENTED
        };
        let id = self.user(viewer.user);
        let principal = match self.users.get(&id) {
            Some(user) => user.principal(),
            None => Principal::new(id, viewer.role, viewer.org.map(|o| self.org(o)))
                .with_active(viewer.active),
        };
        (principal, policy)
    }

    /// Whether an active superuser other than `id` exists.
    fn other_superuser(&self, id: UserId) -> bool {
        self.users
            .values()
            .any(|u| u.id != id && u.role == Role::Superuser && u.is_active)
    }

    fn audit(
        &mut self,
        action: &str,
        actor: &Actor,
        org: Option<OrgId>,
        kind: &str,
        id: String,
        detail: Option<String>,
    ) {
        self.audit.push(AuditEntry {
            id: 0,
            created_at: DateTime::<Utc>::default(),
            action: action.into(),
            user_id: actor.user_id,
            username: actor.username.clone(),
            organization_id: org,
            resource_type: Some(kind.into()),
            resource_id: Some(id),
            detail,
        });
    }
}

fn same_error(actual: &StoreError, expected: &StoreError) -> bool {
    match (actual, expected) {
        (StoreError::Invalid { field: a, .. }, StoreError::Invalid { field: b, .. }) => a == b,
        _ => actual == expected,
    }
}

fn invalid(field: &'static str) -> StoreError {
    StoreError::Invalid {
        field,
        message: String::new(),
    }
}

/// Checks that `actual` failed with one of `allowed`.
fn expect_error<T: std::fmt::Debug>(
    actual: StoreResult<T>,
    allowed: &[StoreError],
) -> Result<(), TestCaseError> {
    match actual {
        Err(error) if allowed.iter().any(|e| same_error(&error, e)) => Ok(()),
        other => Err(TestCaseError::fail(format!(
            "expected one of {allowed:?}, got {other:?}"
        ))),
    }
}

fn succeeded<T: std::fmt::Debug>(actual: StoreResult<T>) -> Result<T, TestCaseError> {
    actual.map_err(|error| TestCaseError::fail(format!("expected success, got {error:?}")))
}

fn paged<T: Clone>(items: impl Iterator<Item = T>, page: PageSpec) -> Vec<T> {
    items
        .skip(usize::from(page.skip))
        .take(usize::from(page.limit))
        .collect()
}

fn page_error(page: PageSpec) -> Option<StoreError> {
    (page.limit == 0 || page.limit > 1000).then(|| invalid("limit"))
}

fn org_name_error(name: &str) -> Option<StoreError> {
    name.trim().is_empty().then(|| invalid("name"))
}

fn description_error(description: Option<&str>) -> Option<StoreError> {
    description
        .is_some_and(|d| d.chars().count() > 4096)
        .then(|| invalid("description"))
}

async fn step(store: &SqlStore, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match op.clone() {
        Op::CreateOrg {
            actor,
            name,
            description: desc,
        } => {
            let actor = model.actor(actor);
            let raw = ORG_NAMES[usize::from(name)].to_owned();
            let desc = desc.map(description);
            let actual = store
                .create_organization(
                    &actor,
                    NewOrganization {
                        name: raw.clone(),
                        description: desc.clone(),
                    },
                )
                .await;
            let name = raw.trim().to_owned();
            if let Some(error) = org_name_error(&raw).or_else(|| description_error(desc.as_deref()))
            {
                return expect_error(actual, &[error]);
            }
            if model.orgs.values().any(|o| o.name == name) {
                return expect_error(actual, &[StoreError::Conflict(Conflict::OrganizationName)]);
            }
            let org = succeeded(actual)?;
            prop_assert!(
                model.org_ids.last().is_none_or(|last| org.id > *last),
                "id reused"
            );
            let expected = Organization {
                id: org.id,
                name: name.clone(),
                description: desc,
                created_at: org.created_at,
                updated_at: org.created_at,
            };
            prop_assert_eq!(&org, &expected);
            model.org_ids.push(org.id);
            model.orgs.insert(org.id, org.clone());
            model.audit(
                "org_create",
                &actor,
                Some(org.id),
                "organization",
                org.id.to_string(),
                Some(name),
            );
        }
        Op::UpdateOrg {
            actor,
            org,
            name,
            description: desc,
        } => {
            let actor = model.actor(actor);
            let id = model.org(org);
            let raw = name.map(|n| ORG_NAMES[usize::from(n)].to_owned());
            let desc = desc.map(|d| d.map(description));
            let actual = store
                .update_organization(
                    &actor,
                    id,
                    OrganizationPatch {
                        name: raw.clone(),
                        description: desc.clone(),
                    },
                )
                .await;
            let validation = raw
                .as_deref()
                .and_then(org_name_error)
                .or_else(|| desc.as_ref().and_then(|d| description_error(d.as_deref())));
            if let Some(error) = validation {
                return expect_error(actual, &[error]);
            }
            let Some(before) = model.orgs.get(&id).cloned() else {
                return expect_error(actual, &[StoreError::NotFound(Entity::Organization)]);
            };
            let name = raw.map(|r| r.trim().to_owned());
            if let Some(name) = &name
                && model.orgs.values().any(|o| o.id != id && o.name == *name)
            {
                return expect_error(actual, &[StoreError::Conflict(Conflict::OrganizationName)]);
            }
            if name.as_ref().is_none_or(|n| *n == before.name)
                && desc.as_ref().is_none_or(|d| *d == before.description)
            {
                // Nothing changes: nothing written, nothing audited, `updated_at` kept.
                prop_assert_eq!(&succeeded(actual)?, &before);
                return Ok(());
            }
            let org = succeeded(actual)?;
            prop_assert!(org.updated_at >= before.updated_at);
            let expected = Organization {
                name: name.unwrap_or(before.name.clone()),
                description: desc.unwrap_or(before.description.clone()),
                updated_at: org.updated_at,
                ..before
            };
            prop_assert_eq!(&org, &expected);
            model.orgs.insert(id, org.clone());
            model.audit(
                "org_update",
                &actor,
                Some(id),
                "organization",
                id.to_string(),
                Some(org.name),
            );
        }
        Op::DeleteOrg { actor, org } => {
            let actor = model.actor(actor);
            let id = model.org(org);
            let actual = store.delete_organization(&actor, id).await;
            let Some(before) = model.orgs.get(&id).cloned() else {
                return expect_error(actual, &[StoreError::NotFound(Entity::Organization)]);
            };
            if model.users.values().any(|u| u.organization_id == Some(id)) {
                return expect_error(
                    actual,
                    &[StoreError::Conflict(Conflict::OrganizationNotEmpty)],
                );
            }
            succeeded(actual)?;
            model.orgs.remove(&id);
            model.audit(
                "org_delete",
                &actor,
                Some(id),
                "organization",
                id.to_string(),
                Some(before.name),
            );
        }
        Op::AddMember { actor, org, user } => {
            let actor = model.actor(actor);
            let (org, user) = (model.org(org), model.user(user));
            let actual = store.add_member(&actor, org, user).await;
            let Some(before) = model.users.get(&user).cloned() else {
                return expect_error(actual, &[StoreError::NotFound(Entity::User)]);
            };
            if !model.orgs.contains_key(&org) {
                return expect_error(
                    actual,
                    &[StoreError::Conflict(Conflict::MissingOrganization)],
                );
            }
            let updated = succeeded(actual)?;
            prop_assert!(updated.updated_at >= before.updated_at);
            let expected = User {
                organization_id: Some(org),
                updated_at: updated.updated_at,
                ..before
            };
            prop_assert_eq!(&updated, &expected);
            model.users.insert(user, updated.clone());
            model.audit(
                "org_add_user",
                &actor,
                Some(org),
                "user",
                user.to_string(),
                Some(updated.username),
            );
        }
        Op::RemoveMember { actor, org, user } => {
            let actor = model.actor(actor);
            let (org, user) = (model.org(org), model.user(user));
            let actual = store.remove_member(&actor, org, user).await;
            let Some(before) = model
                .users
                .get(&user)
                .filter(|u| u.organization_id == Some(org))
                .cloned()
            else {
                return expect_error(actual, &[StoreError::NotFound(Entity::User)]);
            };
            let updated = succeeded(actual)?;
            prop_assert!(updated.updated_at >= before.updated_at);
            let expected = User {
                organization_id: None,
                updated_at: updated.updated_at,
                ..before
            };
            prop_assert_eq!(&updated, &expected);
            model.users.insert(user, updated.clone());
            model.audit(
                "org_remove_user",
                &actor,
                Some(org),
                "user",
                user.to_string(),
                Some(updated.username),
            );
        }
        Op::CreateUser {
            actor,
            username,
            email,
            role,
            org,
            caps,
            first,
        } => {
            let actor = model.actor(actor);
            let new = NewUser {
                username: USERNAMES[usize::from(username)].to_owned(),
                email: EMAILS[usize::from(email)].to_owned(),
                password_hash: format!("$argon2id$fake-{username}"),
                role,
                is_active: true,
                organization_id: org.map(|o| model.org(o)),
                capabilities: CapabilitySet::from_bits(caps),
            };
            let actual = store.create_user(&actor, new.clone(), first).await;
            if new.username.trim().is_empty() {
                return expect_error(actual, &[invalid("username")]);
            }
            if new.email.trim().is_empty() {
                return expect_error(actual, &[invalid("email")]);
            }
            if first && !model.users.is_empty() {
                return expect_error(actual, &[StoreError::Conflict(Conflict::NotFirstUser)]);
            }
            let mut unique = Vec::new();
            if model.users.values().any(|u| u.username == new.username) {
                unique.push(StoreError::Conflict(Conflict::Username));
            }
            if model.users.values().any(|u| u.email == new.email) {
                unique.push(StoreError::Conflict(Conflict::Email));
            }
            if !unique.is_empty() {
                // Unique indexes are checked before the (statement-end) foreign key; which of
                // two duplicate columns is reported first is up to the database.
                return expect_error(actual, &unique);
            }
            if new
                .organization_id
                .is_some_and(|o| !model.orgs.contains_key(&o))
            {
                return expect_error(
                    actual,
                    &[StoreError::Conflict(Conflict::MissingOrganization)],
                );
            }
            let user = succeeded(actual)?;
            prop_assert!(
                model.user_ids.last().is_none_or(|last| user.id > *last),
                "id reused"
            );
            let expected = User {
                id: user.id,
                username: new.username,
                email: new.email,
                password_hash: new.password_hash,
                role,
                is_active: true,
                organization_id: new.organization_id,
                capabilities: new.capabilities,
                tokens_valid_after: user.created_at,
                created_at: user.created_at,
                updated_at: user.created_at,
            };
            prop_assert_eq!(&user, &expected);
            model.user_ids.push(user.id);
            model.usernames.insert(user.id, user.username.clone());
            model.users.insert(user.id, user.clone());
            model.audit(
                "user_create",
                &actor,
                user.organization_id,
                "user",
                user.id.to_string(),
                Some(user.username),
            );
        }
        Op::UpdateUser {
            actor,
            user,
            patch: spec,
        } => {
            let actor = model.actor(actor);
            let id = model.user(user);
            let patch = UserPatch {
                email: spec.email.map(|e| EMAILS[usize::from(e)].to_owned()),
                password_hash: spec.password.map(|p| format!("$argon2id$changed-{p}")),
                capabilities: spec.caps.map(CapabilitySet::from_bits),
                role: spec.role,
                is_active: spec.active,
                organization_id: spec.org.map(|o| o.map(|o| model.org(o))),
                expected: None,
            };
            let actual = store.update_user(&actor, id, patch.clone()).await;
            if patch.email.as_deref().is_some_and(|e| e.trim().is_empty()) {
                return expect_error(actual, &[invalid("email")]);
            }
            let Some(before) = model.users.get(&id).cloned() else {
                return expect_error(actual, &[StoreError::NotFound(Entity::User)]);
            };
            // Only real changes count: a field set to its value is none (a password always is).
            let change = UserPatch {
                email: patch.email.clone().filter(|e| *e != before.email),
                password_hash: patch.password_hash.clone(),
                capabilities: patch.capabilities.filter(|c| *c != before.capabilities),
                role: patch.role.filter(|r| *r != before.role),
                is_active: patch.is_active.filter(|a| *a != before.is_active),
                organization_id: patch
                    .organization_id
                    .filter(|o| *o != before.organization_id),
                expected: None,
            };
            if change == UserPatch::default() {
                // Nothing written, nothing audited, `updated_at` kept.
                prop_assert_eq!(&succeeded(actual)?, &before);
                return Ok(());
            }
            let demotes = change.role.is_some() || change.is_active == Some(false);
            if demotes
                && before.role == Role::Superuser
                && before.is_active
                && !model.other_superuser(id)
            {
                return expect_error(actual, &[StoreError::Conflict(Conflict::LastSuperuser)]);
            }
            if let Some(email) = &change.email
                && model
                    .users
                    .values()
                    .any(|u| u.id != id && u.email == *email)
            {
                return expect_error(actual, &[StoreError::Conflict(Conflict::Email)]);
            }
            if let Some(Some(org)) = change.organization_id
                && !model.orgs.contains_key(&org)
            {
                return expect_error(
                    actual,
                    &[StoreError::Conflict(Conflict::MissingOrganization)],
                );
            }
            let updated = succeeded(actual)?;
            prop_assert!(updated.updated_at >= before.updated_at);
            // A new password or a deactivation ends every session.
            let tokens_valid_after =
                if change.password_hash.is_some() || change.is_active == Some(false) {
                    prop_assert_eq!(updated.tokens_valid_after, updated.updated_at);
                    updated.tokens_valid_after
                } else {
                    before.tokens_valid_after
                };
            let mut fields = Vec::new();
            for (name, set) in [
                ("email", change.email.is_some()),
                ("password", change.password_hash.is_some()),
                ("capabilities", change.capabilities.is_some()),
                ("role", change.role.is_some()),
                ("is_active", change.is_active.is_some()),
                ("organization_id", change.organization_id.is_some()),
            ] {
                if set {
                    fields.push(name);
                }
            }
            let expected = User {
                email: patch.email.unwrap_or(before.email.clone()),
                password_hash: patch.password_hash.unwrap_or(before.password_hash.clone()),
                capabilities: patch.capabilities.unwrap_or(before.capabilities),
                role: patch.role.unwrap_or(before.role),
                is_active: patch.is_active.unwrap_or(before.is_active),
                organization_id: patch.organization_id.unwrap_or(before.organization_id),
                tokens_valid_after,
                updated_at: updated.updated_at,
                ..before.clone()
            };
            prop_assert_eq!(&updated, &expected);
            let detail = fields.join(", ");
            // A move between two organizations is audited for each (the new one first).
            let orgs = match (before.organization_id, updated.organization_id) {
                (Some(left), Some(joined)) if left != joined => vec![Some(joined), Some(left)],
                (left, joined) => vec![joined.or(left)],
            };
            model.users.insert(id, updated);
            for org in orgs {
                model.audit(
                    "user_update",
                    &actor,
                    org,
                    "user",
                    id.to_string(),
                    Some(detail.clone()),
                );
            }
        }
        Op::DeleteUser { actor, user } => {
            let actor = model.actor(actor);
            let id = model.user(user);
            let actual = store.delete_user(&actor, id).await;
            let Some(before) = model.users.get(&id).cloned() else {
                return expect_error(actual, &[StoreError::NotFound(Entity::User)]);
            };
            if before.role == Role::Superuser && before.is_active && !model.other_superuser(id) {
                return expect_error(actual, &[StoreError::Conflict(Conflict::LastSuperuser)]);
            }
            model.users.remove(&id);
            succeeded(actual)?;
            model.audit(
                "user_delete",
                &actor,
                before.organization_id,
                "user",
                id.to_string(),
                Some(before.username),
            );
        }
        Op::InvalidateTokens { user } => {
            let id = model.user(user);
            let actor = model.actor(user);
            let actual = store.invalidate_tokens(&actor, id).await;
            let Some(before) = model.users.get_mut(&id) else {
                return expect_error(actual, &[StoreError::NotFound(Entity::User)]);
            };
            let at = succeeded(actual)?;
            prop_assert!(at >= before.tokens_valid_after);
            before.tokens_valid_after = at;
            let org = before.organization_id;
            model.audit(
                "token_invalidate",
                &actor,
                org,
                "user",
                id.to_string(),
                Some("every session ended".to_owned()),
            );
        }
        Op::GetOrg { org } => {
            let id = model.org(org);
            let actual = store.get_organization(id).await;
            match model.orgs.get(&id) {
                Some(org) => prop_assert_eq!(&succeeded(actual)?, org),
                None => return expect_error(actual, &[StoreError::NotFound(Entity::Organization)]),
            }
        }
        Op::GetUser { user } => {
            let id = model.user(user);
            let actual = store.get_user(id).await;
            match model.users.get(&id) {
                Some(user) => prop_assert_eq!(&succeeded(actual)?, user),
                None => return expect_error(actual, &[StoreError::NotFound(Entity::User)]),
            }
        }
        Op::GetUserByName { username } => {
            let name = USERNAMES[usize::from(username)];
            let actual = store.get_user_by_username(name).await;
            match model.users.values().find(|u| u.username == name) {
                Some(user) => prop_assert_eq!(&succeeded(actual)?, user),
                None => return expect_error(actual, &[StoreError::NotFound(Entity::User)]),
            }
        }
        Op::ListOrgs { viewer, page } => {
            let (principal, policy) = model.principal(viewer);
            let scope = policy.organization_scope(&principal);
            let actual = store.list_organizations(scope, page.page()).await;
            if let Some(error) = page_error(page) {
                return expect_error(actual, &[error]);
            }
            let visible = model
                .orgs
                .values()
                .filter(|o| {
                    policy
                        .authorize_org(&principal, OrgAct::View(o.id))
                        .is_allowed()
                })
                .cloned();
            prop_assert_eq!(
                succeeded(actual)?,
                paged(visible, page),
                "{:?} {:?}",
                principal,
                scope
            );
        }
        Op::ListMembers { org, page } => {
            let id = model.org(org);
            let actual = store.list_members(id, page.page()).await;
            if let Some(error) = page_error(page) {
                return expect_error(actual, &[error]);
            }
            let members = model
                .users
                .values()
                .filter(|u| u.organization_id == Some(id))
                .cloned();
            prop_assert_eq!(succeeded(actual)?, paged(members, page));
        }
        Op::ListUsers { page } => {
            let actual = store.list_users(page.page()).await;
            if let Some(error) = page_error(page) {
                return expect_error(actual, &[error]);
            }
            prop_assert_eq!(
                succeeded(actual)?,
                paged(model.users.values().cloned(), page)
            );
        }
        Op::ListAudit {
            viewer,
            action,
            page,
        } => {
            let (principal, policy) = model.principal(viewer);
            let scope = policy.audit_scope(&principal);
            let action = action.map(|a| {
                ["org_create", "org_add_user", "user_update", "login_success"][usize::from(a)]
            });
            let filter = AuditFilter {
                action: action.map(str::to_owned),
                ..AuditFilter::default()
            };
            let actual = store.list_audit(scope, filter, page.page()).await;
            if let Some(error) = page_error(page) {
                return expect_error(actual, &[error]);
            }
            let may_read = policy
                .authorize_org(&principal, OrgAct::ReadAuditLog)
                .is_allowed();
            let visible = model.audit.iter().filter(|entry| {
                may_read
                    && (principal.role == Role::Superuser
                        || entry
                            .organization_id
                            .is_some_and(|o| principal.is_member_of(o)))
                    && action.is_none_or(|a| entry.action == a)
            });
            prop_assert_eq!(
                succeeded(actual)?,
                paged(visible.cloned(), page),
                "{:?} {:?}",
                principal,
                scope
            );
        }
        Op::AppendAudit { actor, action, org } => {
            let entry = NewAuditEntry {
                action: ACTIONS[usize::from(action)].to_owned(),
                actor: model.actor(actor),
                organization_id: org.map(|o| model.org(o)),
                resource_type: None,
                resource_id: None,
                detail: None,
            };
            let actual = store.append_audit(entry.clone()).await;
            if entry.action.is_empty() {
                return expect_error(actual, &[invalid("action")]);
            }
            let written = succeeded(actual)?;
            model.audit.push(AuditEntry {
                id: 0,
                created_at: DateTime::<Utc>::default(),
                action: entry.action,
                user_id: entry.actor.user_id,
                username: entry.actor.username,
                organization_id: entry.organization_id,
                resource_type: None,
                resource_id: None,
                detail: None,
            });
            let placeholder = model.audit.last().cloned();
            prop_assert_eq!(
                Some(AuditEntry {
                    id: 0,
                    created_at: DateTime::<Utc>::default(),
                    ..written
                }),
                placeholder
            );
        }
    }
    Ok(())
}

/// The whole state: organizations, users, and the audit log (adopting the ids and times the
/// store gave new entries, which must grow).
async fn check_state(store: &SqlStore, model: &mut Model) -> Result<(), TestCaseError> {
    let all = Page {
        skip: 0,
        limit: 1000,
    };
    let orgs = succeeded(store.list_organizations(Scope::All, all).await)?;
    prop_assert_eq!(orgs, model.orgs.values().cloned().collect::<Vec<_>>());
    let users = succeeded(store.list_users(all).await)?;
    prop_assert_eq!(users, model.users.values().cloned().collect::<Vec<_>>());
    let entries = succeeded(
        store
            .list_audit(Scope::All, AuditFilter::default(), all)
            .await,
    )?;
    prop_assert_eq!(entries.len(), model.audit.len(), "{:?}", entries);
    for (i, (stored, expected)) in entries.iter().zip(model.audit.iter_mut()).enumerate() {
        if i < model.adopted {
            prop_assert_eq!(stored, &*expected);
        } else {
            let placeholder = AuditEntry {
                id: 0,
                created_at: DateTime::<Utc>::default(),
                ..stored.clone()
            };
            prop_assert_eq!(&placeholder, &*expected);
            *expected = stored.clone();
        }
    }
    model.adopted = model.audit.len();
    prop_assert!(
        entries
            .windows(2)
            .all(|w| w[0].id < w[1].id && w[0].created_at <= w[1].created_at)
    );
    Ok(())
}

/// Steps run and steps that changed something (audited), over all cases of one run.
#[derive(Debug, Default)]
struct Stats {
    steps: AtomicUsize,
    changes: AtomicUsize,
}

/// Every case starts from the same small world — three organizations, four users, three of
/// them members — built by ordinary (checked) steps, so that random steps meet real rows.
fn setup() -> Vec<Op> {
    let mut ops: Vec<Op> = (0..3)
        .map(|name| Op::CreateOrg {
            actor: 7,
            name,
            description: None,
        })
        .collect();
    for (i, org) in [Some(0), Some(1), None, Some(2)].into_iter().enumerate() {
        let i = u8::try_from(i).unwrap_or(0);
        ops.push(Op::CreateUser {
            actor: 0,
            username: i,
            email: i,
            role: [Role::Admin, Role::User, Role::Superuser, Role::User][usize::from(i)],
            org,
            caps: 0,
            first: i == 0,
        });
    }
    ops
}

async fn run_case(store: &SqlStore, ops: &[Op], stats: &Stats) -> Result<(), TestCaseError> {
    let mut model = Model::default();
    let ops: Vec<Op> = setup().into_iter().chain(ops.iter().cloned()).collect();
    for (i, op) in ops.iter().enumerate() {
        stats.steps.fetch_add(1, Ordering::Relaxed);
        let audited = model.audit.len();
        step(store, &mut model, op)
            .await
            .map_err(|e| TestCaseError::fail(format!("step {i} {op:?}: {e}")))?;
        check_state(store, &mut model)
            .await
            .map_err(|e| TestCaseError::fail(format!("state after step {i} {op:?}: {e}")))?;
        if model.audit.len() > audited {
            stats.changes.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

fn run(postgres: bool, cases: u32) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let stats = Stats::default();
    let result = runner.run(
        &proptest::collection::vec(op(), MAX_STEPS / 2..=MAX_STEPS),
        |ops| {
            runtime.block_on(async {
                let db = if postgres {
                    support::postgres()
                        .await
                        .expect("PostgreSQL is switched on")
                } else {
                    support::sqlite().await
                };
                let result = run_case(&db.store, &ops, &stats).await;
                db.finish().await;
                result
            })
        },
    );
    if let Err(error) = result {
        panic!("{error}");
    }
    eprintln!(
        "model: {cases} cases, {} steps, {} of them changes",
        stats.steps.load(Ordering::Relaxed),
        stats.changes.load(Ordering::Relaxed)
    );
}

#[test]
fn sqlite_matches_model() {
    run(false, SQLITE_CASES);
}

#[test]
fn postgres_matches_model() {
    if support::postgres_url().is_none() {
        eprintln!(
            "{} is not set: PostgreSQL run skipped",
            support::POSTGRES_URL_VAR
        );
        return;
    }
    run(true, POSTGRES_CASES);
}
