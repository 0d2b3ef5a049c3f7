//! Acts on a user or resource id that does not exist: asked as a question of its own, so that
//! a caller who may not act on a user or resource learns nothing about whether the id exists.

use crate::{Decision, OrgId, Policy, Principal, Reason, Role, org_acts::admin_of};

/// An act on a user id that no user has (it never existed, or was deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MissingUserAct {
    /// [`UserAct::View`](crate::UserAct::View) of the missing user.
    View,
    /// [`UserAct::Update`](crate::UserAct::Update) of the missing user.
    Update,
    /// [`UserAct::Delete`](crate::UserAct::Delete) of the missing user.
    Delete,
    /// [`OrgAct::AddMember`](crate::OrgAct::AddMember) of the missing user to an organization.
    AddMember(OrgId),
    /// [`OrgAct::RemoveMember`](crate::OrgAct::RemoveMember) of the missing user from an organization.
    RemoveMember(OrgId),
}

impl Policy {
    /// Decides an act on a missing user. A superuser, who may act on every user, is allowed
    /// (the caller answers "not found"). Anyone else is denied for the same reason as for an
    /// existing user out of its reach: the act's own rule first (role, membership of the
    /// organization), and [`Reason::TargetMissing`] where the target's facts would decide.
    ///
    /// ```
    /// use orgtenancy_core::{MissingUserAct, OrgId, Policy, Principal, Reason, Role, UserId};
    ///
    /// let admin = Principal::new(UserId(1), Role::Admin, Some(OrgId(1)));
    /// let add = MissingUserAct::AddMember(OrgId(1));
    /// let decision = Policy::DOCUMENTED.authorize_missing_user(&admin, add);
    /// assert_eq!(decision.reason, Reason::TargetMissing);
    /// ```
    pub const fn authorize_missing_user(&self, actor: &Principal, act: MissingUserAct) -> Decision {
        if !actor.active {
            return Decision::deny(Reason::Inactive);
        }
        if matches!(actor.role, Role::Superuser) {
            return Decision::allow(Reason::Superuser);
        }
        let is_admin = matches!(actor.role, Role::Admin);
        match act {
            MissingUserAct::View | MissingUserAct::Update if is_admin => {
                Decision::deny(Reason::TargetMissing)
            }
            MissingUserAct::View | MissingUserAct::Update | MissingUserAct::Delete => {
                Decision::deny(Reason::RoleRequired)
            }
            MissingUserAct::AddMember(organization)
            | MissingUserAct::RemoveMember(organization) => {
                // The organization's own rule decides first, as for an existing user.
                let manage = admin_of(actor, organization);
                if manage.is_denied() {
                    manage
                } else {
                    Decision::deny(Reason::TargetMissing)
                }
            }
        }
    }

    /// Decides any action on a resource id that no row has (every action is answered alike).
    /// A superuser, who may act on every resource, is allowed (the caller answers "not
    /// found"); anyone else is denied with [`Reason::TargetMissing`], which a server answers
    /// like a resource of another tenant, so ids reveal nothing.
    ///
    /// ```
    /// use orgtenancy_core::{OrgId, Policy, Principal, Reason, Role, UserId};
    ///
    /// let admin = Principal::new(UserId(1), Role::Admin, Some(OrgId(1)));
    /// let decision = Policy::DOCUMENTED.authorize_missing_resource(&admin);
    /// assert!(decision.is_denied());
    /// assert_eq!(decision.reason, Reason::TargetMissing);
    /// ```
    pub const fn authorize_missing_resource(&self, actor: &Principal) -> Decision {
        if !actor.active {
            Decision::deny(Reason::Inactive)
        } else if matches!(actor.role, Role::Superuser) {
            Decision::allow(Reason::Superuser)
        } else {
            Decision::deny(Reason::TargetMissing)
        }
    }
}
