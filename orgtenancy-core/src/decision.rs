//! Decisions: allow or deny, and the rule that decided.

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Effect {
    /// The act may go ahead.
    Allow,
    /// The act is refused.
    Deny,
}

/// Why a decision came out as it did. Resource decisions use the first eight
/// variants, one per rule of the hierarchy; organization and user acts use the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum Reason {
    /// Rule 0: the principal is not active.
    Inactive,
    /// Rule 1: the principal is a superuser.
    Superuser,
    /// Rule 2: the principal created the resource.
    Creator,
    /// Rule 3: the resource belongs to no organization (superuser-only).
    NoOrganization,
    /// Rule 4: the resource belongs to another organization, or the principal has none.
    OtherOrganization,
    /// Rule 5: the principal is an admin of the resource's organization.
    OrganizationAdmin,
    /// Rule 6: reading inside one's own organization.
    MemberRead,
    /// Rule 7: the principal holds (allow) or lacks (deny) the capability the action names.
    Capability,
    /// The act needs a role the principal does not have.
    RoleRequired,
    /// The principal's role permits the act (for acts outside any one organization).
    RolePermits,
    /// The principal is not a member of the organization the act is about.
    NotMember,
    /// The target user belongs to another organization than the principal administers.
    TargetInOtherOrganization,
    /// An admin acting on a superuser.
    TargetIsSuperuser,
    /// The principal acts on its own account, within what self-service permits.
    SelfService,
    /// A field of the change needs more power than the principal has.
    FieldNotPermitted,
    /// A superuser may not demote, deactivate or delete itself.
    SelfLockout,
    /// The act would demote, deactivate or delete the last active superuser.
    LastSuperuser,
    /// The act is about a user id that no user has. Callers who could act on any user (a
    /// superuser) are allowed, so they learn of the absence (404); everyone else is denied
    /// with this reason, which a server answers like the denials for users out of reach
    /// ([`Reason::TargetInOtherOrganization`], [`Reason::TargetIsSuperuser`]).
    TargetMissing,
    /// The first user of an empty system may be created by anyone, with any role.
    Bootstrap,
    /// Anonymous self-registration is switched on and asks for nothing more than a plain user.
    OpenRegistration,
    /// No authenticated principal, and the act needs one.
    Anonymous,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Reason; 21] = [
        Reason::Inactive,
        Reason::Superuser,
        Reason::Creator,
        Reason::NoOrganization,
        Reason::OtherOrganization,
        Reason::OrganizationAdmin,
        Reason::MemberRead,
        Reason::Capability,
        Reason::RoleRequired,
        Reason::RolePermits,
        Reason::NotMember,
        Reason::TargetInOtherOrganization,
        Reason::TargetIsSuperuser,
        Reason::SelfService,
        Reason::FieldNotPermitted,
        Reason::SelfLockout,
        Reason::LastSuperuser,
        Reason::TargetMissing,
        Reason::Bootstrap,
        Reason::OpenRegistration,
        Reason::Anonymous,
    ];

    /// The reason's one spelling on the wire and in logs (snake_case, as its serde form).
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Inactive => "inactive",
            Reason::Superuser => "superuser",
            Reason::Creator => "creator",
            Reason::NoOrganization => "no_organization",
            Reason::OtherOrganization => "other_organization",
            Reason::OrganizationAdmin => "organization_admin",
            Reason::MemberRead => "member_read",
            Reason::Capability => "capability",
            Reason::RoleRequired => "role_required",
            Reason::RolePermits => "role_permits",
            Reason::NotMember => "not_member",
            Reason::TargetInOtherOrganization => "target_in_other_organization",
            Reason::TargetIsSuperuser => "target_is_superuser",
            Reason::SelfService => "self_service",
            Reason::FieldNotPermitted => "field_not_permitted",
            Reason::SelfLockout => "self_lockout",
            Reason::LastSuperuser => "last_superuser",
            Reason::TargetMissing => "target_missing",
            Reason::Bootstrap => "bootstrap",
            Reason::OpenRegistration => "open_registration",
            Reason::Anonymous => "anonymous",
        }
    }

    /// The number of the §3 hierarchy rule this reason stands for, if it is one.
    pub const fn rule(self) -> Option<u8> {
        match self {
            Reason::Inactive => Some(0),
            Reason::Superuser => Some(1),
            Reason::Creator => Some(2),
            Reason::NoOrganization => Some(3),
            Reason::OtherOrganization => Some(4),
            Reason::OrganizationAdmin => Some(5),
            Reason::MemberRead => Some(6),
            Reason::Capability => Some(7),
            _ => None,
        }
    }

    /// A short lowercase explanation, for logs and error messages.
    pub const fn describe(self) -> &'static str {
        match self {
            Reason::Inactive => "the account is inactive",
            Reason::Superuser => "superusers may do everything",
            Reason::Creator => "the creator of a resource keeps access to it",
            Reason::NoOrganization => "resources outside any organization are superuser-only",
            Reason::OtherOrganization => "the resource belongs to another organization",
            Reason::OrganizationAdmin => "admins have full access inside their organization",
            Reason::MemberRead => "members may read inside their organization",
            Reason::Capability => "the action needs a capability flag",
            Reason::RoleRequired => "the action needs a higher role",
            Reason::RolePermits => "the user's role permits the action",
            Reason::NotMember => "not a member of this organization",
            Reason::TargetInOtherOrganization => "the user belongs to another organization",
            Reason::TargetIsSuperuser => "only a superuser may act on a superuser",
            Reason::SelfService => "users may manage their own account",
            Reason::FieldNotPermitted => "a requested field may not be changed by this user",
            Reason::SelfLockout => "a superuser may not demote, deactivate or delete itself",
            Reason::LastSuperuser => {
                "the last active superuser may not be demoted, deactivated or deleted"
            }
            Reason::TargetMissing => "no such user or resource",
            Reason::Bootstrap => "the first user may be created by anyone",
            Reason::OpenRegistration => "open registration allows creating a plain user",
            Reason::Anonymous => "authentication is required",
        }
    }
}

/// The reason's [`Reason::as_str`] spelling.
impl core::fmt::Display for Reason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of asking the engine: an [`Effect`] and the [`Reason`] that decided it.
///
/// The engine never fails: every question has a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Decision {
    /// Allow or deny.
    pub effect: Effect,
    /// Which rule decided.
    pub reason: Reason,
}

impl Decision {
    /// An allow decided by `reason`.
    pub const fn allow(reason: Reason) -> Decision {
        Decision {
            effect: Effect::Allow,
            reason,
        }
    }

    /// A deny decided by `reason`.
    pub const fn deny(reason: Reason) -> Decision {
        Decision {
            effect: Effect::Deny,
            reason,
        }
    }

    /// Whether the act may go ahead.
    pub const fn is_allowed(self) -> bool {
        matches!(self.effect, Effect::Allow)
    }

    /// Whether the act is refused.
    pub const fn is_denied(self) -> bool {
        !self.is_allowed()
    }
}
