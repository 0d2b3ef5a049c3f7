//! The rows the store reads and writes.

use chrono::{DateTime, Utc};
use orgtenancy_core::{CapabilitySet, OrgId, Principal, Role, UserId};

/// An organization (a tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Assigned by the database, never reused.
    pub id: OrgId,
    /// Unique, non-empty after trimming, at most 255 characters.
    pub name: String,
    /// At most 4096 characters.
    pub description: Option<String>,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// The fields of a new organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganization {
    /// The name (validated by the store: trimmed, 1–255 characters).
    pub name: String,
    /// The description (at most 4096 characters).
    pub description: Option<String>,
}

/// A change to an organization; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizationPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
}

/// What authenticating an access token needs from the store, read in one statement:
/// [`Store::token_holder`](crate::Store::token_holder).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenHolder {
    /// The token's user as stored now.
    pub user: User,
    /// Whether the token's id is among the revoked access tokens.
    pub token_revoked: bool,
}

impl TokenHolder {
    /// The user and the token's revocation, as read together.
    pub fn new(user: User, token_revoked: bool) -> TokenHolder {
        TokenHolder {
            user,
            token_revoked,
        }
    }
}

/// A user account. The password hash never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Assigned by the database, never reused.
    pub id: UserId,
    /// Unique.
    pub username: String,
    /// Unique.
    pub email: String,
    /// An argon2id PHC string.
    pub password_hash: String,
    /// The role.
    pub role: Role,
    /// Whether the account may act.
    pub is_active: bool,
    /// The organization, if any.
    pub organization_id: Option<OrgId>,
    /// Capability flags, as the application defines them.
    pub capabilities: CapabilitySet,
    /// Tokens issued before this instant are rejected (password change, invalidation).
    pub tokens_valid_after: DateTime<Utc>,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The facts the engine needs about this user.
    pub fn principal(&self) -> Principal {
        Principal::new(self.id, self.role, self.organization_id)
            .with_capabilities(self.capabilities)
            .with_active(self.is_active)
    }
}

/// The fields of a new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Unique username.
    pub username: String,
    /// Unique email address.
    pub email: String,
    /// An argon2id hash made by [`crate::password::hash`].
    pub password_hash: String,
    /// The role.
    pub role: Role,
    /// Whether the account starts active.
    pub is_active: bool,
    /// The organization, if any.
    pub organization_id: Option<OrgId>,
    /// Capability flags.
    pub capabilities: CapabilitySet,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserPatch {
    /// A new email.
    pub email: Option<String>,
    /// A new password hash; setting it also moves `tokens_valid_after` to now (as does a
    /// deactivation), and deletes the user's refresh tokens.
    pub password_hash: Option<String>,
    /// New capability flags.
    pub capabilities: Option<CapabilitySet>,
    /// A new role.
    pub role: Option<Role>,
    /// A new active state.
    pub is_active: Option<bool>,
    /// A new organization (`Some(None)` is "no organization").
    pub organization_id: Option<Option<OrgId>>,
    /// Write only if the user still has these facts (role, organization, flags, active
    /// state: what an authorization decision about the change was taken on), else
    /// [`Conflict::Changed`](crate::Conflict::Changed). `None` writes unconditionally; a
    /// server that decided first passes the facts it decided on, so a concurrent change
    /// can neither be lost (flags are written as a whole set) nor slip past the decision.
    pub expected: Option<Principal>,
}

/// What a logout revokes: the access token of the request, and a refresh token if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logout<'a> {
    /// The access token's id (`jti`).
    pub jti: &'a str,
    /// When the access token expires (its revocation is kept until then).
    pub expires_at: DateTime<Utc>,
    /// The hash of a refresh token of the user to delete, if one is given.
    pub refresh_token_hash: Option<&'a str>,
}

/// One page of a list: `skip` rows, then at most `limit` rows, in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub skip: u64,
    /// Rows to return, 1–1000.
    pub limit: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            skip: 0,
            limit: 100,
        }
    }
}

/// Who did a change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// The acting user, if authenticated.
    pub user_id: Option<UserId>,
    /// Its username at the time (kept even after the user is deleted).
    pub username: Option<String>,
}

impl Actor {
    /// The actor for `user`.
    pub fn user(user: &User) -> Actor {
        Actor {
            user_id: Some(user.id),
            username: Some(user.username.clone()),
        }
    }
}

/// An audit-log entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Assigned by the database.
    pub id: i64,
    /// When it was written (UTC).
    pub created_at: DateTime<Utc>,
    /// What happened, e.g. `org_create`.
    pub action: String,
    /// Who did it.
    pub user_id: Option<UserId>,
    /// Its username at the time.
    pub username: Option<String>,
    /// The organization the entry belongs to (decides who may read it).
    pub organization_id: Option<OrgId>,
    /// The kind of thing acted on, e.g. `organization`.
    pub resource_type: Option<String>,
    /// Its id, as text.
    pub resource_id: Option<String>,
    /// A short human-readable detail.
    pub detail: Option<String>,
}

/// An audit entry to append (for events with no other change, such as logins).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewAuditEntry {
    /// What happened.
    pub action: String,
    /// Who did it.
    pub actor: Actor,
    /// The organization the entry belongs to.
    pub organization_id: Option<OrgId>,
    /// The kind of thing acted on.
    pub resource_type: Option<String>,
    /// Its id, as text.
    pub resource_id: Option<String>,
    /// A short detail.
    pub detail: Option<String>,
}

/// Filters of `GET /audit-logs/`; they only narrow the caller's scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    /// Exact action.
    pub action: Option<String>,
    /// Exact acting user.
    pub user_id: Option<UserId>,
    /// Exact resource type.
    pub resource_type: Option<String>,
    /// Exact resource id.
    pub resource_id: Option<String>,
    /// Entries at or after.
    pub since: Option<DateTime<Utc>>,
    /// Entries at or before.
    pub until: Option<DateTime<Utc>>,
}
