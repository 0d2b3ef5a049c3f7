//! The facts the engine decides on: who asks, about which resource or user.
//!
//! A user that an act is *about* (the target of a membership change, an update, a deletion)
//! is described by the same [`Principal`] facts as the user who asks.

use crate::{CapabilitySet, OrgId, Role, UserId};

/// The authenticated user asking for a decision, as re-read from storage for this request.
///
/// Non-exhaustive, so that a fact added later does not break applications: build one with
/// [`Principal::new`] and the `with_…` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Principal {
    /// The user's id.
    pub id: UserId,
    /// The user's role.
    pub role: Role,
    /// The user's organization, if any.
    pub organization: Option<OrgId>,
    /// Capabilities granted to the user (they matter for the `user` role only).
    pub capabilities: CapabilitySet,
    /// Whether the account is active; an inactive principal is denied everything.
    pub active: bool,
}

impl Principal {
    /// An active principal with no capabilities.
    pub const fn new(id: UserId, role: Role, organization: Option<OrgId>) -> Principal {
        Principal {
            id,
            role,
            organization,
            capabilities: CapabilitySet::EMPTY,
            active: true,
        }
    }

    /// The same principal with `capabilities`.
    #[must_use]
    pub const fn with_capabilities(self, capabilities: CapabilitySet) -> Principal {
        Principal {
            capabilities,
            ..self
        }
    }

    /// The same principal, active or not.
    #[must_use]
    pub const fn with_active(self, active: bool) -> Principal {
        Principal { active, ..self }
    }

    /// The same principal with `role`.
    #[must_use]
    pub const fn with_role(self, role: Role) -> Principal {
        Principal { role, ..self }
    }

    /// The same principal in `organization` (`None`: in none).
    #[must_use]
    pub const fn with_organization(self, organization: Option<OrgId>) -> Principal {
        Principal {
            organization,
            ..self
        }
    }

    /// Whether this principal belongs to `organization`.
    pub const fn is_member_of(&self, organization: OrgId) -> bool {
        matches!(self.organization, Some(own) if own.0 == organization.0)
    }
}

/// What the engine needs to know of a protected resource.
///
/// Non-exhaustive, like [`Principal`]: build one with [`Resource::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Resource {
    /// The organization that owns the resource; `None` makes it superuser-only (save for its creator).
    pub organization: Option<OrgId>,
    /// The user who created it, if known.
    pub creator: Option<UserId>,
}

impl Resource {
    /// A resource owned by `organization` and created by `creator`.
    pub const fn new(organization: Option<OrgId>, creator: Option<UserId>) -> Resource {
        Resource {
            organization,
            creator,
        }
    }

    /// The same resource, now owned by `organization`.
    #[must_use]
    pub const fn with_organization(self, organization: Option<OrgId>) -> Resource {
        Resource {
            organization,
            ..self
        }
    }
}
