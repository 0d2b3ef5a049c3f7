//! The resource hierarchy of §3: `authorize` and the listing scope.

use crate::{Capability, Decision, Principal, Reason, Resource, Role, Scope};

/// What a principal wants to do with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Read the resource (view it, list it).
    Read,
    /// Change the resource; a plain `user` needs the named capability.
    Write(Capability),
}

/// How far the creator rule (rule 2) reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum CreatorAccess {
    /// The documented hierarchy: a creator keeps access to what it created, wherever the
    /// creator or the resource has since moved.
    #[default]
    Anywhere,
    /// Strict isolation: the creator rule applies only while the creator is a member of the
    /// resource's current organization.
    SameOrganization,
}

/// The engine's settings. Every decision is a pure function of a policy and its inputs.
///
/// ```
/// use orgtenancy_core::{Action, OrgId, Policy, Principal, Reason, Resource, Role, UserId};
///
/// let alice = Principal::new(UserId(1), Role::User, Some(OrgId(7)));
/// let report = Resource::new(Some(OrgId(7)), Some(UserId(2)));
/// let decision = Policy::DOCUMENTED.authorize(&alice, Action::Read, &report);
/// assert!(decision.is_allowed());
/// assert_eq!(decision.reason, Reason::MemberRead);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Policy {
    /// How far the creator rule reaches.
    pub creator_access: CreatorAccess,
    /// Whether anonymous callers may register themselves as plain users with no organization.
    pub open_registration: bool,
}

impl Policy {
    /// The documented hierarchy, registration closed.
    pub const DOCUMENTED: Policy = Policy {
        creator_access: CreatorAccess::Anywhere,
        open_registration: false,
    };

    /// Strict isolation: the creator rule stops at the organization boundary.
    pub const STRICT: Policy = Policy {
        creator_access: CreatorAccess::SameOrganization,
        open_registration: false,
    };

    /// Decides whether `principal` may do `action` on `resource`: the rules 0–7 of §3, in order;
    /// the first that applies decides, and the [`Decision`] names it.
    pub const fn authorize(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
    ) -> Decision {
        if !principal.active {
            return Decision::deny(Reason::Inactive);
        }
        if matches!(principal.role, Role::Superuser) {
            return Decision::allow(Reason::Superuser);
        }
        if self.creator_rule_applies(principal, resource) {
            return Decision::allow(Reason::Creator);
        }
        let Some(organization) = resource.organization else {
            return Decision::deny(Reason::NoOrganization);
        };
        if !principal.is_member_of(organization) {
            return Decision::deny(Reason::OtherOrganization);
        }
        if matches!(principal.role, Role::Admin) {
            return Decision::allow(Reason::OrganizationAdmin);
        }
        match action {
            Action::Read => Decision::allow(Reason::MemberRead),
            Action::Write(capability) if principal.capabilities.contains(capability) => {
                Decision::allow(Reason::Capability)
            }
            Action::Write(_) => Decision::deny(Reason::Capability),
        }
    }

    /// The resources `principal` may read, as a value that storage turns into a `WHERE` clause.
    ///
    /// Invariant: `scope(p).contains(r) == authorize(p, Action::Read, r).is_allowed()`
    /// for every principal and resource.
    ///
    /// ```
    /// use orgtenancy_core::{OrgId, Policy, Principal, Role, Scope, UserId};
    ///
    /// let bob = Principal::new(UserId(2), Role::User, Some(OrgId(7)));
    /// assert_eq!(
    ///     Policy::DOCUMENTED.scope(&bob),
    ///     Scope::OrganizationOrCreator { organization: OrgId(7), creator: UserId(2) },
    /// );
    /// assert_eq!(Policy::STRICT.scope(&bob), Scope::Organization(OrgId(7)));
    /// ```
    pub const fn scope(&self, principal: &Principal) -> Scope {
        self.scope_for(principal, Action::Read)
    }

    /// The resources `principal` may do `action` on, as a value that storage turns into a
    /// `WHERE` clause (the resource search of SPEC §11). [`Policy::scope`] is the `Read` case.
    ///
    /// Invariant: `scope_for(p, a).contains(r) == authorize(p, a, r).is_allowed()` for every
    /// principal, action and resource.
    ///
    /// ```
    /// use orgtenancy_core::{Action, Capability, OrgId, Policy, Principal, Role, Scope, UserId};
    ///
    /// const CAN_ISSUE: Capability = Capability::of::<0>();
    /// let bob = Principal::new(UserId(2), Role::User, Some(OrgId(7)));
    /// let issue = Action::Write(CAN_ISSUE);
    /// // Without the capability, only what bob created himself.
    /// assert_eq!(Policy::DOCUMENTED.scope_for(&bob, issue), Scope::Creator(UserId(2)));
    /// assert_eq!(
    ///     Policy::STRICT.scope_for(&bob, issue),
    ///     Scope::CreatorInOrganization { organization: OrgId(7), creator: UserId(2) },
    /// );
    /// ```
    pub const fn scope_for(&self, principal: &Principal, action: Action) -> Scope {
        if !principal.active {
            return Scope::Nothing;
        }
        if matches!(principal.role, Role::Superuser) {
            return Scope::All;
        }
        let creator = principal.id;
        let organization_wide = member_may(principal, action);
        match (self.creator_access, principal.organization) {
            (CreatorAccess::Anywhere, Some(organization)) if organization_wide => {
                Scope::OrganizationOrCreator {
                    organization,
                    creator,
                }
            }
            (CreatorAccess::Anywhere, _) => Scope::Creator(creator),
            (CreatorAccess::SameOrganization, Some(organization)) if organization_wide => {
                Scope::Organization(organization)
            }
            (CreatorAccess::SameOrganization, Some(organization)) => Scope::CreatorInOrganization {
                organization,
                creator,
            },
            (CreatorAccess::SameOrganization, None) => Scope::Nothing,
        }
    }

    const fn creator_rule_applies(&self, principal: &Principal, resource: &Resource) -> bool {
        let is_creator = matches!(resource.creator, Some(creator) if creator.0 == principal.id.0);
        match self.creator_access {
            CreatorAccess::Anywhere => is_creator,
            CreatorAccess::SameOrganization => {
                is_creator
                    && matches!(resource.organization, Some(org) if principal.is_member_of(org))
            }
        }
    }
}

/// Rules 5–7 for a member of the resource's organization: whether membership alone lets
/// `principal` do `action` (an admin anything, anyone reading, a write with its capability).
pub(crate) const fn member_may(principal: &Principal, action: Action) -> bool {
    match action {
        _ if matches!(principal.role, Role::Admin) => true,
        Action::Read => true,
        Action::Write(capability) => principal.capabilities.contains(capability),
    }
}

/// [`Policy::authorize`] under the documented policy.
///
/// ```
/// use orgtenancy_core::{authorize, Action, Capability, OrgId, Principal, Resource, Role, UserId};
///
/// const CAN_PUBLISH: Capability = Capability::of::<0>();
/// let carol = Principal::new(UserId(3), Role::User, Some(OrgId(1)));
/// let page = Resource::new(Some(OrgId(1)), None);
/// assert!(authorize(&carol, Action::Write(CAN_PUBLISH), &page).is_denied());
/// ```
pub const fn authorize(principal: &Principal, action: Action, resource: &Resource) -> Decision {
    Policy::DOCUMENTED.authorize(principal, action, resource)
}
