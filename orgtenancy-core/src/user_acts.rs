//! Decisions for the user acts of §5, with the isolation rules we close there.

use crate::{Decision, OrgId, Policy, Principal, Reason, Role, UserChange, UserId};

/// An act on user accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserAct {
    /// Create a user with `role` in `organization`.
    Create {
        /// The new user's role.
        role: Role,
        /// The new user's organization.
        organization: Option<OrgId>,
        /// Whether no user exists yet (the bootstrap case).
        first_user: bool,
    },
    /// Give a user being created (after the bootstrap) capability flags, or create it
    /// inactive: the fields an admin may set only on a user it administers, and `is_active`
    /// only a superuser. Asked besides [`UserAct::Create`] when the new user is not a plain
    /// active user without flags.
    SetUpNewUser {
        /// The new user's role.
        role: Role,
        /// The new user's organization.
        organization: Option<OrgId>,
        /// Whether it is to be active.
        active: bool,
    },
    /// List every user of the system.
    List,
    /// Read one user.
    View(Principal),
    /// Change fields of one user.
    Update {
        /// The user as it is now.
        user: Principal,
        /// The requested change.
        change: UserChange,
    },
    /// Delete one user.
    Delete(Principal),
    /// Forget the failed logins counted against a username, so it may log in again at once
    /// (an operator's act on the login limits; superuser only).
    ClearLoginLockout,
}

/// What the engine must know about users other than an act's target: facts no single row
/// holds. The store reads them in the transaction that writes, and re-checks them there.
/// Non-exhaustive: build one with [`Census::new`] or take a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Census {
    /// Whether an active superuser other than the act's target exists. Without one, the
    /// target (if an active superuser) is the last and may not be demoted, deactivated or
    /// deleted: nobody could administer the system afterwards.
    pub other_active_superuser: bool,
}

impl Census {
    /// Another active superuser exists: the last-superuser rule cannot apply.
    pub const OTHER_SUPERUSER: Census = Census {
        other_active_superuser: true,
    };

    /// The target is the only active superuser there may be.
    pub const NO_OTHER_SUPERUSER: Census = Census {
        other_active_superuser: false,
    };

    /// The census with `other_active_superuser` as given.
    pub const fn new(other_active_superuser: bool) -> Census {
        Census {
            other_active_superuser,
        }
    }
}

impl Policy {
    /// Decides a user act. `actor` is `None` for an anonymous caller.
    ///
    /// ```
    /// use orgtenancy_core::{OrgId, Policy, Principal, Reason, Role, UserAct, UserId};
    ///
    /// let admin = Principal::new(UserId(1), Role::Admin, Some(OrgId(1)));
    /// let other = Principal::new(UserId(2), Role::User, Some(OrgId(2)));
    /// let decision = Policy::DOCUMENTED.authorize_user(Some(&admin), UserAct::View(other));
    /// assert_eq!(decision.reason, Reason::TargetInOtherOrganization);
    ///
    /// let bootstrap = UserAct::Create { role: Role::Superuser, organization: None, first_user: true };
    /// assert!(Policy::DOCUMENTED.authorize_user(None, bootstrap).is_allowed());
    /// ```
    ///
    /// It decides as if another active superuser existed ([`Census::OTHER_SUPERUSER`]); a
    /// caller whose act could remove the last one asks [`Policy::authorize_user_among`].
    pub const fn authorize_user(&self, actor: Option<&Principal>, act: UserAct) -> Decision {
        self.authorize_user_among(actor, act, Census::OTHER_SUPERUSER)
    }

    /// Decides a user act given the [`Census`] of the other users: as
    /// [`Policy::authorize_user`], and besides, the last active superuser is never demoted,
    /// deactivated or deleted ([`Reason::LastSuperuser`]).
    ///
    /// ```
    /// use orgtenancy_core::{Census, OrgId, Policy, Principal, Reason, Role, UserAct, UserId};
    ///
    /// let (me, other) = (Principal::new(UserId(1), Role::Superuser, None),
    ///                    Principal::new(UserId(2), Role::Superuser, None));
    /// let act = UserAct::Delete(other);
    /// let decision = Policy::DOCUMENTED.authorize_user_among(Some(&me), act, Census::NO_OTHER_SUPERUSER);
    /// assert_eq!(decision.reason, Reason::LastSuperuser);
    /// ```
    pub const fn authorize_user_among(
        &self,
        actor: Option<&Principal>,
        act: UserAct,
        census: Census,
    ) -> Decision {
        if matches!(actor, Some(principal) if !principal.active) {
            return Decision::deny(Reason::Inactive);
        }
        if let UserAct::Create {
            first_user: true, ..
        } = act
        {
            return Decision::allow(Reason::Bootstrap);
        }
        let Some(principal) = actor else {
            return match act {
                UserAct::Create {
                    role: Role::User,
                    organization: None,
                    ..
                } if self.open_registration => Decision::allow(Reason::OpenRegistration),
                _ => Decision::deny(Reason::Anonymous),
            };
        };
        match act {
            UserAct::Create {
                role, organization, ..
            } => create(principal, role, organization),
            UserAct::SetUpNewUser {
                role,
                organization,
                active,
            } => set_up(
                principal,
                &Principal::new(NEW_USER, role, organization),
                active,
            ),
            UserAct::List | UserAct::ClearLoginLockout => superuser_only(principal),
            UserAct::View(user) => view(principal, &user),
            UserAct::Update { user, change } => update(principal, &user, change, census),
            UserAct::Delete(user) => delete(principal, &user, census),
        }
    }
}

/// A superuser deletes anyone but itself and the last active superuser.
const fn delete(principal: &Principal, user: &Principal, census: Census) -> Decision {
    if !matches!(principal.role, Role::Superuser) {
        Decision::deny(Reason::RoleRequired)
    } else if user.id.0 == principal.id.0 {
        Decision::deny(Reason::SelfLockout)
    } else if is_last_superuser(user, census) {
        Decision::deny(Reason::LastSuperuser)
    } else {
        Decision::allow(Reason::Superuser)
    }
}

/// Whether `user` is an active superuser and no other one exists.
const fn is_last_superuser(user: &Principal, census: Census) -> bool {
    matches!(user.role, Role::Superuser) && user.active && !census.other_active_superuser
}

const fn superuser_only(principal: &Principal) -> Decision {
    if matches!(principal.role, Role::Superuser) {
        Decision::allow(Reason::Superuser)
    } else {
        Decision::deny(Reason::RoleRequired)
    }
}

const fn create(principal: &Principal, role: Role, organization: Option<OrgId>) -> Decision {
    match principal.role {
        Role::Superuser => Decision::allow(Reason::Superuser),
        Role::User => Decision::deny(Reason::RoleRequired),
        Role::Admin => match (role, organization) {
            (Role::Admin | Role::Superuser, _) => Decision::deny(Reason::RoleRequired),
            (Role::User, None) => Decision::allow(Reason::RolePermits),
            (Role::User, Some(org)) if principal.is_member_of(org) => {
                Decision::allow(Reason::OrganizationAdmin)
            }
            (Role::User, Some(_)) => Decision::deny(Reason::NotMember),
        },
    }
}

/// The id the engine gives a user being created: none yet (stored ids are positive).
const NEW_USER: UserId = UserId(0);

/// Flags and the active state of a new user: a superuser sets anything; an admin gives flags
/// to a user it will administer (its own organization, not a superuser), never inactive.
const fn set_up(principal: &Principal, new_user: &Principal, active: bool) -> Decision {
    if matches!(principal.role, Role::Superuser) {
        return Decision::allow(Reason::Superuser);
    }
    let access = administers(principal, new_user);
    if access.is_allowed() && !active {
        Decision::deny(Reason::FieldNotPermitted)
    } else {
        access
    }
}

/// Whether an admin `principal` administers `user`: same organization, and not a superuser.
const fn administers(principal: &Principal, user: &Principal) -> Decision {
    if !matches!(principal.role, Role::Admin) {
        return Decision::deny(Reason::RoleRequired);
    }
    if matches!(user.role, Role::Superuser) {
        return Decision::deny(Reason::TargetIsSuperuser);
    }
    match principal.organization {
        Some(org) if user.is_member_of(org) => Decision::allow(Reason::OrganizationAdmin),
        _ => Decision::deny(Reason::TargetInOtherOrganization),
    }
}

const fn view(principal: &Principal, user: &Principal) -> Decision {
    if matches!(principal.role, Role::Superuser) {
        Decision::allow(Reason::Superuser)
    } else if user.id.0 == principal.id.0 {
        Decision::allow(Reason::SelfService)
    } else {
        administers(principal, user)
    }
}

const fn update(
    principal: &Principal,
    user: &Principal,
    change: UserChange,
    census: Census,
) -> Decision {
    let kinds = change.against(user);
    let is_self = user.id.0 == principal.id.0;
    if matches!(principal.role, Role::Superuser) {
        return if is_self && kinds.demotes {
            Decision::deny(Reason::SelfLockout)
        } else if kinds.demotes && is_last_superuser(user, census) {
            Decision::deny(Reason::LastSuperuser)
        } else {
            Decision::allow(Reason::Superuser)
        };
    }
    let access = administers(principal, user);
    if access.is_allowed() {
        // An admin of the user's organization: email, password and flags, never the rest.
        return if kinds.superuser_only {
            Decision::deny(Reason::FieldNotPermitted)
        } else {
            access
        };
    }
    if !is_self {
        return access;
    }
    // Oneself, without administering oneself: email and password only.
    if kinds.superuser_only || kinds.capabilities {
        Decision::deny(Reason::FieldNotPermitted)
    } else {
        Decision::allow(Reason::SelfService)
    }
}
