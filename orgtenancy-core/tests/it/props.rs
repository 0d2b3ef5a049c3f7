//! Properties over generated principals, resources and acts.
//!
//! Ids come from small ranges so that "same user", "same organization" and "creator" happen
//! often. Where an act names a target user whose id is the actor's own, the target *is* the
//! actor: [`settle_org`] and [`settle_user`] replace its facts with the actor's, so no case
//! describes one user with two different sets of facts.

use orgtenancy_core::{
    Action, Capability, CapabilitySet, CreatorAccess, OrgAct, OrgId, Policy, Principal, Reason,
    Resource, Role, Scope, UserAct, UserChange, UserId,
};
use proptest::option;
use proptest::prelude::*;

fn user_id() -> impl Strategy<Value = UserId> {
    (0i64..4).prop_map(UserId)
}

fn org_id() -> impl Strategy<Value = OrgId> {
    (0i64..3).prop_map(OrgId)
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::User), Just(Role::Admin), Just(Role::Superuser)]
}

fn capabilities() -> impl Strategy<Value = CapabilitySet> {
    // Mostly the reference server's five bits, sometimes any application-defined bit.
    prop_oneof![3 => 0u32..32, 1 => any::<u32>()].prop_map(CapabilitySet::from_bits)
}

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![3 => 0u8..5, 1 => 0u8..32].prop_filter_map("a bit below 32", Capability::new)
}

pub(crate) fn principal() -> impl Strategy<Value = Principal> {
    (
        user_id(),
        role(),
        option::of(org_id()),
        capabilities(),
        any::<bool>(),
    )
        .prop_map(|(id, role, organization, capabilities, active)| {
            Principal::new(id, role, organization)
                .with_capabilities(capabilities)
                .with_active(active)
        })
}

pub(crate) fn resource() -> impl Strategy<Value = Resource> {
    (option::of(org_id()), option::of(user_id()))
        .prop_map(|(organization, creator)| Resource::new(organization, creator))
}

pub(crate) fn action() -> impl Strategy<Value = Action> {
    prop_oneof![1 => Just(Action::Read), 2 => capability().prop_map(Action::Write)]
}

pub(crate) fn policy() -> impl Strategy<Value = Policy> {
    (any::<bool>(), any::<bool>()).prop_map(|(strict, open_registration)| Policy {
        creator_access: if strict {
            CreatorAccess::SameOrganization
        } else {
            CreatorAccess::Anywhere
        },
        open_registration,
    })
}

fn org_act() -> impl Strategy<Value = OrgAct> {
    prop_oneof![
        Just(OrgAct::Create),
        Just(OrgAct::List),
        Just(OrgAct::ReadAuditLog),
        org_id().prop_map(OrgAct::View),
        org_id().prop_map(OrgAct::Update),
        org_id().prop_map(OrgAct::Delete),
        org_id().prop_map(OrgAct::ListMembers),
        (org_id(), principal())
            .prop_map(|(organization, user)| OrgAct::AddMember { organization, user }),
        (org_id(), principal())
            .prop_map(|(organization, user)| OrgAct::RemoveMember { organization, user }),
    ]
}

fn user_change() -> impl Strategy<Value = UserChange> {
    (
        any::<bool>(),
        any::<bool>(),
        option::of(capabilities()),
        option::of(role()),
        option::of(any::<bool>()),
        option::of(option::of(org_id())),
    )
        .prop_map(
            |(email, password, capabilities, role, active, organization)| {
                let mut change = UserChange::NONE;
                change.email = email;
                change.password = password;
                change.capabilities = capabilities;
                change.role = role;
                change.active = active;
                change.organization = organization;
                change
            },
        )
}

fn user_act() -> impl Strategy<Value = UserAct> {
    prop_oneof![
        (role(), option::of(org_id()), any::<bool>()).prop_map(
            |(role, organization, first_user)| UserAct::Create {
                role,
                organization,
                first_user
            }
        ),
        (role(), option::of(org_id()), any::<bool>()).prop_map(|(role, organization, active)| {
            UserAct::SetUpNewUser {
                role,
                organization,
                active,
            }
        }),
        Just(UserAct::List),
        Just(UserAct::ClearLoginLockout),
        principal().prop_map(UserAct::View),
        (principal(), user_change()).prop_map(|(user, change)| UserAct::Update { user, change }),
        principal().prop_map(UserAct::Delete),
    ]
}

/// The act with a target that has the actor's id replaced by the actor itself.
fn settle_org(actor: &Principal, act: OrgAct) -> OrgAct {
    let same = |user: Principal| if user.id == actor.id { *actor } else { user };
    match act {
        OrgAct::AddMember { organization, user } => OrgAct::AddMember {
            organization,
            user: same(user),
        },
        OrgAct::RemoveMember { organization, user } => OrgAct::RemoveMember {
            organization,
            user: same(user),
        },
        other => other,
    }
}

/// The act with a target that has the actor's id replaced by the actor itself.
fn settle_user(actor: &Principal, act: UserAct) -> UserAct {
    let same = |user: Principal| if user.id == actor.id { *actor } else { user };
    match act {
        UserAct::View(user) => UserAct::View(same(user)),
        UserAct::Delete(user) => UserAct::Delete(same(user)),
        UserAct::Update { user, change } => UserAct::Update {
            user: same(user),
            change,
        },
        other => other,
    }
}

fn target_of_user_act(act: &UserAct) -> Option<Principal> {
    match act {
        UserAct::View(user) | UserAct::Delete(user) | UserAct::Update { user, .. } => Some(*user),
        _ => None,
    }
}

/// Whether `principal` is a member of the resource's organization.
fn same_org(principal: &Principal, resource: &Resource) -> bool {
    resource.organization.is_some() && resource.organization == principal.organization
}

fn promotions() -> [(Role, Role); 3] {
    [
        (Role::User, Role::Admin),
        (Role::Admin, Role::Superuser),
        (Role::User, Role::Superuser),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// (a) A non-superuser never gets anything on a resource of another organization or of
    /// none, except through the creator rule — and under the strict policy not even then.
    #[test]
    fn isolation(
        p in principal(),
        non_superuser in prop_oneof![Just(Role::User), Just(Role::Admin)],
        r in resource(),
        a in action(),
        policy in policy(),
    ) {
        let p = p.with_role(non_superuser);
        // Move the resource out of the principal's organization (to the next id, or to none).
        let r = match (r.organization, p.organization) {
            (Some(o), Some(own)) if o == own => r.with_organization(Some(OrgId((o.0 + 1) % 3))),
            _ => r,
        };
        prop_assert!(!same_org(&p, &r));
        let d = policy.authorize(&p, a, &r);
        if d.is_allowed() {
            prop_assert_eq!(d.reason, Reason::Creator);
            prop_assert_eq!(r.creator, Some(p.id));
        }
        let strict = Policy { creator_access: CreatorAccess::SameOrganization, ..policy };
        prop_assert!(strict.authorize(&p, a, &r).is_denied());
        prop_assert!(!strict.scope(&p).contains(&r));
    }

    /// (b) An inactive principal is denied everything, by rule 0, and sees nothing.
    #[test]
    fn inactive_is_denied_everything(
        p in principal(),
        r in resource(),
        a in action(),
        org in org_act(),
        user in user_act(),
        policy in policy(),
    ) {
        let p = p.with_active(false);
        let d = policy.authorize(&p, a, &r);
        prop_assert_eq!((d.is_denied(), d.reason), (true, Reason::Inactive));
        let d = policy.authorize_org(&p, settle_org(&p, org));
        prop_assert_eq!((d.is_denied(), d.reason), (true, Reason::Inactive));
        let d = policy.authorize_user(Some(&p), settle_user(&p, user));
        prop_assert_eq!((d.is_denied(), d.reason), (true, Reason::Inactive));
        prop_assert_eq!(policy.scope(&p), Scope::Nothing);
        prop_assert_eq!(policy.organization_scope(&p), Scope::Nothing);
        prop_assert_eq!(policy.audit_scope(&p), Scope::Nothing);
    }

    /// (c) Granting capabilities never turns a resource allow into a deny; organization acts do
    /// not depend on capabilities at all; nor do user acts on somebody else.
    #[test]
    fn granting_capabilities_is_monotone(
        p in principal(),
        more in capabilities(),
        r in resource(),
        a in action(),
        org in org_act(),
        user in user_act(),
        policy in policy(),
    ) {
        let richer = p.with_capabilities(CapabilitySet::from_bits(p.capabilities.bits() | more.bits()));
        prop_assert!(p.capabilities.is_subset_of(richer.capabilities));
        if policy.authorize(&p, a, &r).is_allowed() {
            prop_assert!(policy.authorize(&richer, a, &r).is_allowed());
        }
        prop_assert_eq!(
            policy.authorize_org(&p, settle_org(&p, org)),
            policy.authorize_org(&richer, settle_org(&richer, org))
        );
        // On oneself a capability change can matter (flags set to their current value are not a
        // change), so only acts on others are compared.
        if target_of_user_act(&user).is_none_or(|t| t.id != p.id) {
            prop_assert_eq!(
                policy.authorize_user(Some(&p), user),
                policy.authorize_user(Some(&richer), user)
            );
        }
    }

    /// (c) Promoting user → admin → superuser never turns an allow into a deny: resource acts
    /// and organization acts always; user acts on others always. The one deliberate exception
    /// is a PATCH of oneself that restates one's current role: for the lower role it changes
    /// nothing (a field set to its current value is not a change), but after the promotion the
    /// same request *is* a role change of oneself — refused to an admin (role is
    /// superuser-only, `FieldNotPermitted`) and to a superuser (`SelfLockout`).
    #[test]
    fn promotion_is_monotone(
        p in principal(),
        r in resource(),
        a in action(),
        org in org_act(),
        user in user_act(),
        policy in policy(),
    ) {
        for (low, high) in promotions() {
            let lo = p.with_role(low);
            let hi = p.with_role(high);
            if policy.authorize(&lo, a, &r).is_allowed() {
                prop_assert!(policy.authorize(&hi, a, &r).is_allowed(), "{:?} -> {:?}", low, high);
            }
            if policy.authorize_org(&lo, settle_org(&lo, org)).is_allowed() {
                let d = policy.authorize_org(&hi, settle_org(&hi, org));
                prop_assert!(d.is_allowed(), "{:?} -> {:?}: {:?}", low, high, d);
            }
            let lo_act = settle_user(&lo, user);
            let hi_act = settle_user(&hi, user);
            if policy.authorize_user(Some(&lo), lo_act).is_allowed() {
                let d = policy.authorize_user(Some(&hi), hi_act);
                if d.is_denied() {
                    let restates_own_role = matches!(
                        hi_act,
                        UserAct::Update { user, change } if user == hi && change.role == Some(low)
                    );
                    prop_assert!(restates_own_role, "{:?} -> {:?}: {:?}", low, high, d);
                    let expected = if high == Role::Superuser {
                        Reason::SelfLockout
                    } else {
                        Reason::FieldNotPermitted
                    };
                    prop_assert_eq!(d.reason, expected);
                }
                // With the target's facts held fixed, the actor's power alone is monotone.
                if target_of_user_act(&lo_act).is_none_or(|t| t.id != p.id) {
                    prop_assert!(policy.authorize_user(Some(&hi), lo_act).is_allowed());
                }
            }
        }
    }

    /// (d) The listing scope contains a resource exactly when reading it is allowed; the
    /// organization list agrees with viewing; the audit scope agrees with §6.
    #[test]
    fn scopes_agree_with_decisions(
        p in principal(),
        r in resource(),
        o in org_id(),
        entry in resource(),
        policy in policy(),
    ) {
        prop_assert_eq!(
            policy.scope(&p).contains(&r),
            policy.authorize(&p, Action::Read, &r).is_allowed()
        );
        // The organizations table: the organization column is the row's own id, no creator.
        prop_assert_eq!(
            policy.organization_scope(&p).contains(&Resource::new(Some(o), None)),
            policy.authorize_org(&p, OrgAct::View(o)).is_allowed()
        );
        // Audit entries: readable at all only when ReadAuditLog is allowed; then all for a
        // superuser, else only entries of one's own organization.
        let may_read_log = policy.authorize_org(&p, OrgAct::ReadAuditLog).is_allowed();
        let own_entry = entry.organization.is_some() && entry.organization == p.organization;
        prop_assert_eq!(
            policy.audit_scope(&p).contains(&entry),
            may_read_log && (p.role == Role::Superuser || own_entry)
        );
        // The scope's parts are what a SQL layer renders; check they describe it.
        let scope = policy.scope(&p);
        let by_parts = match scope {
            Scope::All => true,
            Scope::Nothing => false,
            _ => {
                scope.organization().is_some_and(|org| r.organization == Some(org))
                    || scope.creator().is_some_and(|u| r.creator == Some(u))
            }
        };
        prop_assert_eq!(scope.contains(&r), by_parts);
    }

    /// (e) An admin never gets an allow on another organization's settings or membership, on
    /// pulling a user out of another organization, or on a user of another organization or a
    /// superuser.
    #[test]
    fn admins_stay_inside_their_organization(
        mut admin in principal(),
        other in org_id(),
        target in principal(),
        change in user_change(),
        new_role in role(),
        policy in policy(),
    ) {
        admin.role = Role::Admin;
        let foreign = admin.organization != Some(other);
        let target = if target.id == admin.id { admin } else { target };
        let denied = |act: OrgAct| policy.authorize_org(&admin, act).is_denied();
        if foreign {
            prop_assert!(denied(OrgAct::View(other)));
            prop_assert!(denied(OrgAct::Update(other)));
            prop_assert!(denied(OrgAct::ListMembers(other)));
            let add = OrgAct::AddMember { organization: other, user: target };
            prop_assert!(denied(add), "{:?}", add);
            let remove = OrgAct::RemoveMember { organization: other, user: target };
            prop_assert!(denied(remove), "{:?}", remove);
            let create = UserAct::Create { role: new_role, organization: Some(other), first_user: false };
            prop_assert!(policy.authorize_user(Some(&admin), create).is_denied());
        }
        prop_assert!(denied(OrgAct::Delete(other)));
        // Pulling a user out of another organization into one's own.
        if let Some(own) = admin.organization {
            if target.organization.is_some_and(|t| t != own) || target.role == Role::Superuser {
                let pull = OrgAct::AddMember { organization: own, user: target };
                prop_assert!(denied(pull), "{:?}", pull);
            }
            if !target.is_member_of(own) || target.role == Role::Superuser {
                let remove = OrgAct::RemoveMember { organization: own, user: target };
                prop_assert!(denied(remove), "{:?}", remove);
            }
        }
        // Users of another organization (or of none) and superusers: no read, no change.
        let out_of_reach = target.role == Role::Superuser
            || target.organization.is_none()
            || target.organization != admin.organization;
        if out_of_reach && target.id != admin.id {
            let view = policy.authorize_user(Some(&admin), UserAct::View(target));
            prop_assert!(view.is_denied(), "{:?}", view);
            let update = policy.authorize_user(Some(&admin), UserAct::Update { user: target, change });
            prop_assert!(update.is_denied(), "{:?}", update);
        }
        // Never the superuser-only user fields, on anyone.
        let creates_admin = UserAct::Create { role: Role::Admin, organization: admin.organization, first_user: false };
        prop_assert!(policy.authorize_user(Some(&admin), creates_admin).is_denied());
        prop_assert!(policy.authorize_user(Some(&admin), UserAct::List).is_denied());
        prop_assert!(policy.authorize_user(Some(&admin), UserAct::Delete(target)).is_denied());
    }

    /// §5: a caller may create a user inside an organization exactly when it may manage that
    /// organization's membership; admin and superuser accounts need a superuser.
    #[test]
    fn creating_inside_an_organization_needs_its_membership(
        p in principal(),
        o in option::of(org_id()),
        new_role in role(),
        policy in policy(),
    ) {
        let create = UserAct::Create { role: new_role, organization: o, first_user: false };
        let d = policy.authorize_user(Some(&p), create);
        if let Some(o) = o
            && new_role == Role::User
        {
            // The new user, as it would be before joining: in no organization.
            let newcomer = Principal::new(UserId(-1), Role::User, None);
            let add = policy.authorize_org(&p, OrgAct::AddMember { organization: o, user: newcomer });
            prop_assert_eq!(d.is_allowed(), add.is_allowed());
        }
        if new_role != Role::User && d.is_allowed() {
            prop_assert!(p.active && p.role == Role::Superuser);
        }
        // Anonymous callers: a plain user without organization, with registration on.
        let anonymous = policy.authorize_user(None, create);
        prop_assert_eq!(
            anonymous.is_allowed(),
            policy.open_registration && new_role == Role::User && o.is_none()
        );
    }

    /// Every decision names a reason consistent with its kind, and never panics.
    #[test]
    fn decisions_are_well_formed(
        p in principal(),
        r in resource(),
        a in action(),
        org in org_act(),
        user in user_act(),
        actor in option::of(principal()),
        policy in policy(),
    ) {
        let d = policy.authorize(&p, a, &r);
        prop_assert!(d.reason.rule().is_some(), "resource decisions name a §3 rule: {:?}", d);
        prop_assert_ne!(d.is_allowed(), d.is_denied());
        let d = policy.authorize_org(&p, settle_org(&p, org));
        prop_assert_ne!(d.is_allowed(), d.is_denied());
        prop_assert!(!d.reason.describe().is_empty());
        let user = match actor { Some(ref a) => settle_user(a, user), None => user };
        let d = policy.authorize_user(actor.as_ref(), user);
        prop_assert_ne!(d.is_allowed(), d.is_denied());
        prop_assert!(!d.reason.describe().is_empty());
    }
}
