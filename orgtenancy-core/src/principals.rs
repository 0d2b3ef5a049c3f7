//! The reverse question of §3: for an action on one resource, which principals are allowed
//! (the subject search of SPEC §11), as data a SQL layer can render over a users table.

use crate::{Action, Capability, CreatorAccess, OrgId, Policy, Principal, Resource, Role, UserId};

/// The principals allowed one action on one resource, from [`Policy::principals_allowed`].
///
/// Only active principals are in the set (rule 0); an active one is in it when it matches one
/// of the parts below — a disjunction over facts a users table stores (the id, the role, the
/// organization, the capability mask):
///
/// | part | principals | predicate over the users table |
/// |---|---|---|
/// | `superusers` | every superuser (rule 1) | `role = 'superuser'` |
/// | `creator: Some(CreatorGrant { user, within: None })` | the creator (rule 2) | `id = user` |
/// | `creator: Some(CreatorGrant { user, within: Some(o) })` | the creator while a member of `o` (strict rule 2) | `id = user AND organization_id = o` |
/// | `members: Some(MemberGrant { organization: o, members: Members::Everyone })` | every member of `o` (rules 5, 6) | `organization_id = o` |
/// | `members: Some(MemberGrant { organization: o, members: Members::AdminsOrHolders(c) })` | admins of `o` and members holding `c` (rules 5, 7) | `organization_id = o AND (role = 'admin' OR capabilities & mask(c) <> 0)` |
///
/// Invariant: `principals_allowed(a, r).contains(p) == authorize(p, a, r).is_allowed()` for
/// every policy, action, resource and principal.
///
/// Non-exhaustive, so that a part added later is not a breaking change; a renderer that meets
/// a [`Members`] variant it does not know should admit no one by it (deny).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PrincipalSet {
    /// Whether superusers are in the set (always, under rule 1).
    pub superusers: bool,
    /// The resource's creator, when the creator rule can reach them.
    pub creator: Option<CreatorGrant>,
    /// The members of the resource's organization who qualify, if it has one.
    pub members: Option<MemberGrant>,
}

/// The creator part of a [`PrincipalSet`] (rule 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CreatorGrant {
    /// The user who created the resource.
    pub user: UserId,
    /// Under the strict creator rule, the organization the creator must belong to (the
    /// resource's); `None` under the documented rule: wherever the creator is.
    pub within: Option<OrgId>,
}

/// The membership part of a [`PrincipalSet`] (rules 5–7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MemberGrant {
    /// The resource's organization.
    pub organization: OrgId,
    /// Which of its members qualify.
    pub members: Members,
}

/// Which members of an organization a [`MemberGrant`] admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Members {
    /// Every member, whatever the role (reading, rule 6).
    Everyone,
    /// Admins (rule 5), and members holding the capability (rule 7): a write.
    AdminsOrHolders(Capability),
}

impl PrincipalSet {
    /// Whether `principal` is in the set.
    pub const fn contains(self, principal: &Principal) -> bool {
        if !principal.active {
            return false;
        }
        let superuser = self.superusers && matches!(principal.role, Role::Superuser);
        let creator = match self.creator {
            Some(grant) => grant.admits(principal),
            None => false,
        };
        let member = match self.members {
            Some(grant) => grant.admits(principal),
            None => false,
        };
        superuser || creator || member
    }
}

impl CreatorGrant {
    /// Whether `principal` is the creator this part admits (activity aside).
    pub const fn admits(self, principal: &Principal) -> bool {
        principal.id.0 == self.user.0
            && match self.within {
                Some(organization) => principal.is_member_of(organization),
                None => true,
            }
    }
}

impl MemberGrant {
    /// Whether `principal` is a member this part admits (activity aside).
    pub const fn admits(self, principal: &Principal) -> bool {
        principal.is_member_of(self.organization) && self.members.admits(principal)
    }
}

impl Members {
    /// Whether a member of the organization with these facts qualifies.
    pub const fn admits(self, principal: &Principal) -> bool {
        match self {
            Members::Everyone => true,
            Members::AdminsOrHolders(capability) => {
                matches!(principal.role, Role::Admin) || principal.capabilities.contains(capability)
            }
        }
    }
}

impl Policy {
    /// The principals allowed to do `action` on `resource`, as a value that storage turns into
    /// a `WHERE` clause over its users table (the subject search of SPEC §11).
    ///
    /// Invariant: `principals_allowed(a, r).contains(p) == authorize(p, a, r).is_allowed()`
    /// for every principal, action and resource.
    ///
    /// ```
    /// use orgtenancy_core::{Action, Capability, CreatorGrant, Members, OrgId, Policy,
    ///                       Principal, Resource, Role, UserId};
    ///
    /// const CAN_REVOKE: Capability = Capability::of::<2>();
    /// let cert = Resource::new(Some(OrgId(7)), Some(UserId(3)));
    /// let set = Policy::STRICT.principals_allowed(Action::Write(CAN_REVOKE), &cert);
    /// assert!(set.superusers);
    /// assert_eq!(set.creator.map(|c| (c.user, c.within)), Some((UserId(3), Some(OrgId(7)))));
    /// let members = set.members.map(|m| (m.organization, m.members));
    /// assert_eq!(members, Some((OrgId(7), Members::AdminsOrHolders(CAN_REVOKE))));
    ///
    /// let carol = Principal::new(UserId(4), Role::User, Some(OrgId(7)));
    /// assert!(!set.contains(&carol));
    /// assert!(set.contains(&carol.with_role(Role::Admin)));
    /// ```
    pub const fn principals_allowed(&self, action: Action, resource: &Resource) -> PrincipalSet {
        let creator = match (resource.creator, self.creator_access, resource.organization) {
            (None, _, _) | (Some(_), CreatorAccess::SameOrganization, None) => None,
            (Some(user), CreatorAccess::Anywhere, _) => Some(CreatorGrant { user, within: None }),
            (Some(user), CreatorAccess::SameOrganization, Some(organization)) => {
                Some(CreatorGrant {
                    user,
                    within: Some(organization),
                })
            }
        };
        let members = match resource.organization {
            Some(organization) => Some(MemberGrant {
                organization,
                members: match action {
                    Action::Read => Members::Everyone,
                    Action::Write(capability) => Members::AdminsOrHolders(capability),
                },
            }),
            None => None,
        };
        PrincipalSet {
            superusers: true,
            creator,
            members,
        }
    }
}
