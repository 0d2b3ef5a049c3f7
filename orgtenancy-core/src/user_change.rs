//! The field-level change of a user update (§5).

use crate::{CapabilitySet, OrgId, Principal, Role};

/// The fields a user update asks to set. A field set to its current value is not a change.
///
/// Non-exhaustive, so that a field added later does not break applications: start from
/// [`UserChange::NONE`] and add fields with the `with_…` methods.
///
/// ```
/// use orgtenancy_core::{Role, UserChange};
///
/// let change = UserChange::NONE.with_email().with_role(Role::Admin);
/// assert!(change.email && change.role == Some(Role::Admin) && !change.password);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct UserChange {
    /// A new email address is given.
    pub email: bool,
    /// A new password is given.
    pub password: bool,
    /// New capability flags.
    pub capabilities: Option<CapabilitySet>,
    /// A new role.
    pub role: Option<Role>,
    /// A new active state.
    pub active: Option<bool>,
    /// A new organization (`Some(None)` is "no organization").
    pub organization: Option<Option<OrgId>>,
}

impl UserChange {
    /// A change of nothing.
    pub const NONE: UserChange = UserChange {
        email: false,
        password: false,
        capabilities: None,
        role: None,
        active: None,
        organization: None,
    };

    /// The change, also setting a new email address.
    #[must_use]
    pub const fn with_email(self) -> UserChange {
        UserChange {
            email: true,
            ..self
        }
    }

    /// The change, also setting a new password.
    #[must_use]
    pub const fn with_password(self) -> UserChange {
        UserChange {
            password: true,
            ..self
        }
    }

    /// The change, also setting the capability flags to `capabilities`.
    #[must_use]
    pub const fn with_capabilities(self, capabilities: CapabilitySet) -> UserChange {
        UserChange {
            capabilities: Some(capabilities),
            ..self
        }
    }

    /// The change, also setting the role.
    #[must_use]
    pub const fn with_role(self, role: Role) -> UserChange {
        UserChange {
            role: Some(role),
            ..self
        }
    }

    /// The change, also activating or deactivating the user.
    #[must_use]
    pub const fn with_active(self, active: bool) -> UserChange {
        UserChange {
            active: Some(active),
            ..self
        }
    }

    /// The change, also moving the user to `organization` (`None`: out of every one).
    #[must_use]
    pub const fn with_organization(self, organization: Option<OrgId>) -> UserChange {
        UserChange {
            organization: Some(organization),
            ..self
        }
    }

    /// Which kinds of field the change really alters on `user`.
    pub(crate) const fn against(self, user: &Principal) -> ChangeKinds {
        let role = matches!(self.role, Some(r) if r as u8 != user.role as u8);
        let active = matches!(self.active, Some(a) if a != user.active);
        let organization = match self.organization {
            Some(Some(org)) => !user.is_member_of(org),
            Some(None) => user.organization.is_some(),
            None => false,
        };
        let capabilities =
            matches!(self.capabilities, Some(c) if c.bits() != user.capabilities.bits());
        ChangeKinds {
            capabilities,
            superuser_only: role || active || organization,
            demotes: role || matches!(self.active, Some(false)),
        }
    }
}

/// What a change alters on its target, as the rules of §5 need it.
pub(crate) struct ChangeKinds {
    pub(crate) capabilities: bool,
    pub(crate) superuser_only: bool,
    /// Would lock a superuser out if applied to itself (a role change or deactivation).
    pub(crate) demotes: bool,
}
