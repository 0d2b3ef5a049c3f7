//! Rows as the database returns them, and their conversion into the model.
//!
//! A stored value the model cannot represent (an unknown role, a capability mask out of range)
//! is a corrupt row: it is logged and reported as [`StoreError::Internal`], never trusted.

use chrono::{DateTime, Utc};
use orgtenancy_core::{CapabilitySet, OrgId, Role, UserId};

use crate::{AuditEntry, Organization, StoreError, StoreResult, User};

/// The columns of [`OrgRow`], in order.
pub(crate) const ORG_COLUMNS: &str = "id, name, description, created_at, updated_at";

/// The columns of [`UserRow`], in order.
pub(crate) const USER_COLUMNS: &str = "id, username, email, password_hash, role, is_active, \
     organization_id, capabilities, tokens_valid_after, created_at, updated_at";

/// The columns of [`AuditRow`], in order.
pub(crate) const AUDIT_COLUMNS: &str = "id, created_at, action, user_id, username, \
     organization_id, resource_type, resource_id, detail";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: i64,
    name: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<OrgRow> for Organization {
    fn from(row: OrgRow) -> Organization {
        Organization {
            id: OrgId(row.id),
            name: row.name,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    email: String,
    password_hash: String,
    role: String,
    is_active: bool,
    organization_id: Option<i64>,
    capabilities: i64,
    tokens_valid_after: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[cfg(feature = "sqlite")]
impl crate::inline::InlineRow for OrgRow {
    fn from_inline(row: &rusqlite::Row<'_>) -> Option<OrgRow> {
        use crate::inline::{int, opt_text, text, time};
        Some(OrgRow {
            id: int(row, 0)?,
            name: text(row, 1)?,
            description: opt_text(row, 2)?,
            created_at: time(row, 3)?,
            updated_at: time(row, 4)?,
        })
    }
}

#[cfg(feature = "sqlite")]
impl crate::inline::InlineRow for UserRow {
    fn from_inline(row: &rusqlite::Row<'_>) -> Option<UserRow> {
        use crate::inline::{boolean, int, opt_int, text, time};
        Some(UserRow {
            id: int(row, 0)?,
            username: text(row, 1)?,
            email: text(row, 2)?,
            password_hash: text(row, 3)?,
            role: text(row, 4)?,
            is_active: boolean(row, 5)?,
            organization_id: opt_int(row, 6)?,
            capabilities: int(row, 7)?,
            tokens_valid_after: time(row, 8)?,
            created_at: time(row, 9)?,
            updated_at: time(row, 10)?,
        })
    }
}

impl UserRow {
    /// How many columns [`USER_COLUMNS`] names.
    #[cfg(feature = "sqlite")]
    pub(crate) const COLUMNS: usize = 11;

    pub(crate) fn into_user(self) -> StoreResult<User> {
        let Some(role) = Role::parse(&self.role) else {
            tracing::error!(user = self.id, role = %self.role, "corrupt row: unknown role");
            return Err(StoreError::Internal);
        };
        let Ok(bits) = u32::try_from(self.capabilities) else {
            tracing::error!(user = self.id, "corrupt row: capability mask out of range");
            return Err(StoreError::Internal);
        };
        Ok(User {
            id: UserId(self.id),
            username: self.username,
            email: self.email,
            password_hash: self.password_hash,
            role,
            is_active: self.is_active,
            organization_id: self.organization_id.map(OrgId),
            capabilities: CapabilitySet::from_bits(bits),
            tokens_valid_after: self.tokens_valid_after,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub(crate) id: i64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) action: String,
    pub(crate) user_id: Option<i64>,
    pub(crate) username: Option<String>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) resource_type: Option<String>,
    pub(crate) resource_id: Option<String>,
    pub(crate) detail: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> AuditEntry {
        AuditEntry {
            id: row.id,
            created_at: row.created_at,
            action: row.action,
            user_id: row.user_id.map(UserId),
            username: row.username,
            organization_id: row.organization_id.map(OrgId),
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            detail: row.detail,
        }
    }
}
