//! The JSON shapes of the API, with the documented field names, and their conversions from
//! the store's rows. The password hash has no field here, so it can never be returned.

use chrono::{DateTime, Utc};
use orgtenancy_core::Role;
use orgtenancy_sqlx::{AuditEntry, Organization, User};
use poem_openapi::{
    Enum, Object,
    types::{Email, MaybeUndefined},
};

use crate::{
    capabilities::{Flags, flag_literal, flagged_object, with_capability_catalog},
    text::Text,
    validate,
};

/// Examples of the request bodies, for the OpenAPI document (kept apart: they are long).
mod examples;

/// An organization (a tenant). Answered as [`Serialized`](crate::payload::Serialized):
/// `Serialize` writes what `ToJSON` does (a test compares them).
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Organization")]
pub struct OrganizationOut {
    /// Assigned by the server, never reused.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Optional description.
    #[oai(nullable)]
    pub description: Option<String>,
    /// When it was created (RFC 3339, UTC).
    #[serde(serialize_with = "crate::payload::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC).
    #[serde(serialize_with = "crate::payload::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationOut {
    fn from(org: Organization) -> Self {
        OrganizationOut {
            id: org.id.0,
            name: org.name,
            description: org.description,
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

/// The fields of a new organization.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example, skip_serializing_if_is_none)]
pub struct OrganizationCreate {
    /// Unique, non-empty after trimming, at most 255 characters.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: Text,
    /// At most 4096 characters.
    #[oai(validator(max_length = 4096))]
    pub description: Option<Text>,
}

/// A change to an organization: absent fields stay as they are; a `null` description clears it.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example, skip_serializing_if_is_none)]
pub struct OrganizationUpdate {
    /// A new unique name (non-empty after trimming, at most 255 characters).
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: Option<Text>,
    /// A new description (at most 4096 characters), or `null` to clear it.
    pub description: MaybeUndefined<Text>,
}

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename = "Role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Reads inside its own organization; writes need capability flags.
    User,
    /// Full access inside its own organization.
    Admin,
    /// Everything, in every organization.
    Superuser,
}

impl From<RoleName> for Role {
    fn from(role: RoleName) -> Role {
        match role {
            RoleName::User => Role::User,
            RoleName::Admin => Role::Admin,
            RoleName::Superuser => Role::Superuser,
        }
    }
}

impl From<Role> for RoleName {
    fn from(role: Role) -> RoleName {
        match role {
            Role::User => RoleName::User,
            Role::Admin => RoleName::Admin,
            Role::Superuser => RoleName::Superuser,
        }
    }
}

with_capability_catalog!(flagged_object! {
    out
    /// A user account (never with its password). Answered as
    /// [`Serialized`](crate::payload::Serialized) in lists: `Serialize` writes what `ToJSON`
    /// does (a test compares them).
    #[derive(Debug, Clone, Object, serde::Serialize)]
    #[oai(rename = "User")]
    pub struct UserOut {
        /// Assigned by the server, never reused.
        pub id: i64,
        /// Unique username.
        pub username: String,
        /// Unique email address.
        pub email: String,
        /// `superuser`, `admin` or `user`.
        pub role: RoleName,
        /// Whether the account may sign in and act.
        pub is_active: bool,
        /// The user's organization, or `null`.
        #[oai(nullable)]
        pub organization_id: Option<i64>,
        /// When it was created (RFC 3339, UTC).
        #[serde(serialize_with = "crate::payload::rfc3339")]
        pub created_at: DateTime<Utc>,
        /// When it last changed (RFC 3339, UTC).
        #[serde(serialize_with = "crate::payload::rfc3339")]
        pub updated_at: DateTime<Utc>,
    }
});

impl From<User> for UserOut {
    fn from(user: User) -> Self {
        with_capability_catalog!(flag_literal! {
            UserOut {
                id: user.id.0,
                username: user.username,
                email: user.email,
                role: user.role.into(),
                is_active: user.is_active,
                organization_id: user.organization_id.map(|org| org.0),
                created_at: user.created_at,
                updated_at: user.updated_at,
            }
            bools Flags::from_set(user.capabilities)
        })
    }
}

fn default_role() -> RoleName {
    RoleName::User
}

fn default_active() -> bool {
    true
}

with_capability_catalog!(flagged_object! {
    create
    /// The fields of a new user; every capability flag defaults to false.
    #[derive(Debug, Clone, Object)]
    #[oai(deny_unknown_fields, example, skip_serializing_if_is_none)]
    pub struct UserCreate {
        /// Unique; 1 to 255 characters, no surrounding whitespace.
        #[oai(validator(min_length = 1, max_length = 255))]
        pub username: Text,
        /// Unique, valid email address.
        pub email: Email,
        /// At least 8 characters (at most 1024).
        #[oai(validator(min_length = 8, max_length = 1024))]
        pub password: Text,
        /// The role (default `user`).
        #[oai(default = "default_role")]
        pub role: RoleName,
        /// The organization to put the user in, if any.
        pub organization_id: Option<i64>,
        /// Whether the account may sign in and act (default true). Creating an inactive user
        /// needs the right to deactivate it (a superuser); the first user is always active.
        #[oai(default = "default_active")]
        pub is_active: bool,
    }
});

with_capability_catalog!(flagged_object! {
    update
    /// A change to a user: absent fields stay as they are. `organization_id: null` means
    /// "no organization".
    #[derive(Debug, Clone, Object)]
    #[oai(deny_unknown_fields, example, skip_serializing_if_is_none)]
    pub struct UserUpdate {
        /// A new unique email address.
        pub email: Option<Email>,
        /// A new password (at least 8 characters); signs the user out everywhere.
        #[oai(validator(min_length = 8, max_length = 1024))]
        pub password: Option<Text>,
        /// A new role (superuser only).
        pub role: Option<RoleName>,
        /// Activate or deactivate (superuser only).
        pub is_active: Option<bool>,
        /// Move to an organization, or `null` for none (superuser only).
        pub organization_id: MaybeUndefined<i64>,
    }
});

/// One audit-log entry.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuditLog")]
pub struct AuditEntryOut {
    /// Assigned by the server.
    pub id: i64,
    /// When it was written (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// What happened, e.g. `org_delete`.
    pub action: String,
    /// Who did it, if known.
    #[oai(nullable)]
    pub user_id: Option<i64>,
    /// Its username at the time.
    #[oai(nullable)]
    pub username: Option<String>,
    /// The organization the entry belongs to.
    #[oai(nullable)]
    pub organization_id: Option<i64>,
    /// The kind of thing acted on, e.g. `organization`.
    #[oai(nullable)]
    pub resource_type: Option<String>,
    /// Its id (an integer, as FastPKI's clients expect; `null` for an entry without one, or
    /// whose id an embedding application wrote as non-numeric text).
    #[oai(nullable)]
    pub resource_id: Option<i64>,
    /// A short human-readable detail.
    #[oai(nullable)]
    pub detail: Option<String>,
}

impl From<AuditEntry> for AuditEntryOut {
    fn from(entry: AuditEntry) -> Self {
        AuditEntryOut {
            id: entry.id,
            created_at: entry.created_at,
            action: entry.action,
            user_id: entry.user_id.map(|user| user.0),
            username: entry.username,
            organization_id: entry.organization_id.map(|org| org.0),
            resource_type: entry.resource_type,
            resource_id: entry.resource_id.and_then(|id| id.parse::<i64>().ok()),
            detail: entry.detail,
        }
    }
}

/// A pair of tokens.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Token")]
pub struct TokenOut {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// An opaque token for `POST /auth/refresh`; single use.
    pub refresh_token: String,
}

/// The OAuth2 password-flow form.
#[derive(Debug, Clone, Object, serde::Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct TokenForm {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
    /// `password` (the default; OAuth2 clients send it).
    #[oai(default = "examples::grant_type")]
    pub grant_type: Option<String>,
    /// Ignored.
    pub scope: Option<String>,
    /// Ignored.
    pub client_id: Option<String>,
    /// Ignored.
    pub client_secret: Option<String>,
}

impl crate::payload::FormFields for TokenForm {
    const REQUIRED: &'static [&'static str] = &["username", "password"];
    const MAX_CHARS: &'static [(&'static str, usize)] = &[
        ("username", validate::USERNAME.max),
        ("password", validate::PASSWORD.max),
        ("grant_type", 64),
        ("scope", 1024),
        ("client_id", 255),
        ("client_secret", 1024),
    ];
}

/// A refresh request.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example, skip_serializing_if_is_none)]
pub struct RefreshRequest {
    /// The refresh token from the last token response.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub refresh_token: Text,
}

/// A logout request.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example, skip_serializing_if_is_none)]
pub struct LogoutRequest {
    /// A refresh token to revoke along with the access token.
    #[oai(validator(max_length = 1024))]
    pub refresh_token: Option<Text>,
}

/// What `GET /` answers.
#[derive(Debug, Clone, Object)]
pub struct ServiceInfo {
    /// The service's name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// What `GET /healthz` answers.
#[derive(Debug, Clone, Object)]
pub struct Health {
    /// `ok`.
    pub status: String,
}
