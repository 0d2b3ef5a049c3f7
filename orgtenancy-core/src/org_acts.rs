//! Decisions for the organization acts of §4 and for reading the audit log (§6).

use crate::{Decision, OrgId, Policy, Principal, Reason, Role, Scope};

/// An act on organizations, their membership or the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrgAct {
    /// Create a new organization (does not change the creator's membership).
    Create,
    /// List organizations; which ones is given by [`Policy::organization_scope`].
    List,
    /// View one organization.
    View(OrgId),
    /// Change an organization's name or description.
    Update(OrgId),
    /// Delete an organization.
    Delete(OrgId),
    /// List the members of an organization.
    ListMembers(OrgId),
    /// Put `user` into `organization`.
    AddMember {
        /// The organization to join.
        organization: OrgId,
        /// The user to add, as it is now.
        user: Principal,
    },
    /// Take `user` out of `organization`.
    RemoveMember {
        /// The organization to leave.
        organization: OrgId,
        /// The user to remove, as it is now.
        user: Principal,
    },
    /// Read audit-log entries; which ones is given by [`Policy::audit_scope`].
    ReadAuditLog,
    /// Read the audit-log entries of one organization (superuser, or an admin of it).
    ReadOrganizationAuditLog(OrgId),
    /// Verify the hash chain of the whole audit log: it covers every organization's entries,
    /// so only a superuser may.
    VerifyAuditChain,
    /// Manage an organization's membership in general (add or remove members): superuser, or
    /// an admin of it. Acts on one user are [`OrgAct::AddMember`] and [`OrgAct::RemoveMember`].
    ManageMembers(OrgId),
    /// Move resources into `organization` — adopt a resource that belongs to none, or take
    /// one from another tenant: superuser only, since it crosses tenants.
    MoveResources(OrgId),
}

impl Policy {
    /// Decides an organization act.
    ///
    /// ```
    /// use orgtenancy_core::{OrgAct, OrgId, Policy, Principal, Reason, Role, UserId};
    ///
    /// let admin = Principal::new(UserId(1), Role::Admin, Some(OrgId(1)));
    /// let stranger = Principal::new(UserId(9), Role::User, Some(OrgId(2)));
    /// let pull = OrgAct::AddMember { organization: OrgId(1), user: stranger };
    /// let decision = Policy::DOCUMENTED.authorize_org(&admin, pull);
    /// assert_eq!(decision.reason, Reason::TargetInOtherOrganization);
    /// assert!(decision.is_denied());
    /// ```
    pub const fn authorize_org(&self, principal: &Principal, act: OrgAct) -> Decision {
        if !principal.active {
            return Decision::deny(Reason::Inactive);
        }
        if matches!(principal.role, Role::Superuser) {
            return Decision::allow(Reason::Superuser);
        }
        let is_admin = matches!(principal.role, Role::Admin);
        match act {
            OrgAct::Create | OrgAct::ReadAuditLog if is_admin => {
                Decision::allow(Reason::RolePermits)
            }
            OrgAct::Create
            | OrgAct::ReadAuditLog
            | OrgAct::Delete(_)
            | OrgAct::VerifyAuditChain
            | OrgAct::MoveResources(_) => Decision::deny(Reason::RoleRequired),
            OrgAct::List => Decision::allow(Reason::MemberRead),
            OrgAct::View(organization) | OrgAct::ListMembers(organization) => {
                if principal.is_member_of(organization) {
                    Decision::allow(Reason::MemberRead)
                } else {
                    Decision::deny(Reason::NotMember)
                }
            }
            OrgAct::Update(organization)
            | OrgAct::ManageMembers(organization)
            | OrgAct::ReadOrganizationAuditLog(organization) => admin_of(principal, organization),
            OrgAct::AddMember { organization, user } => add_member(principal, organization, &user),
            OrgAct::RemoveMember { organization, user } => {
                remove_member(principal, organization, &user)
            }
        }
    }

    /// The organizations `principal` may list, as a scope over the organizations table
    /// (its organization column is the row's own id; it has no creator column).
    pub const fn organization_scope(&self, principal: &Principal) -> Scope {
        member_scope(principal)
    }

    /// The audit-log entries `principal` may read: all for a superuser, its organization's for
    /// an admin (none when it has no organization), none for anyone else.
    pub const fn audit_scope(&self, principal: &Principal) -> Scope {
        if matches!(principal.role, Role::User) {
            Scope::Nothing
        } else {
            member_scope(principal)
        }
    }
}

/// An admin pulls `user` into `organization`: never a superuser, never out of another tenant.
const fn add_member(principal: &Principal, organization: OrgId, user: &Principal) -> Decision {
    let manage = admin_of(principal, organization);
    if manage.is_denied() {
        manage
    } else if matches!(user.role, Role::Superuser) {
        Decision::deny(Reason::TargetIsSuperuser)
    } else if user.organization.is_some() && !user.is_member_of(organization) {
        Decision::deny(Reason::TargetInOtherOrganization)
    } else {
        manage
    }
}

/// An admin takes `user` out of `organization`: only its members, never a superuser.
const fn remove_member(principal: &Principal, organization: OrgId, user: &Principal) -> Decision {
    let manage = admin_of(principal, organization);
    // Membership before role: a superuser outside the organization is answered like any
    // non-member (and like a missing id), so its role is not revealed.
    if manage.is_denied() {
        manage
    } else if !user.is_member_of(organization) {
        Decision::deny(Reason::TargetInOtherOrganization)
    } else if matches!(user.role, Role::Superuser) {
        Decision::deny(Reason::TargetIsSuperuser)
    } else {
        manage
    }
}

/// The principal administers `organization` (a superuser has been handled before).
pub(crate) const fn admin_of(principal: &Principal, organization: OrgId) -> Decision {
    if !principal.is_member_of(organization) {
        Decision::deny(Reason::NotMember)
    } else if matches!(principal.role, Role::Admin) {
        Decision::allow(Reason::OrganizationAdmin)
    } else {
        Decision::deny(Reason::RoleRequired)
    }
}

const fn member_scope(principal: &Principal) -> Scope {
    if !principal.active {
        return Scope::Nothing;
    }
    if matches!(principal.role, Role::Superuser) {
        return Scope::All;
    }
    match principal.organization {
        Some(organization) => Scope::Organization(organization),
        None => Scope::Nothing,
    }
}
