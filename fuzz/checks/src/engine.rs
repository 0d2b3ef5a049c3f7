//! The engine target: the §3 invariants of `orgtenancy-core` on arbitrary inputs.
//!
//! Ids are drawn from a small set (a few small numbers plus the extremes of `i64`), so that
//! principals, resources and targets collide often enough to exercise the creator and
//! membership rules.

use arbitrary::{Arbitrary, Unstructured};
use orgtenancy_core::{
    Action, CreatorAccess, Effect, OrgAct, Policy, Principal, Reason, Role, UserAct, authorize,
};

use crate::{Checked, ensure};

mod arb;

pub use arb::*;

/// One fuzz input for the engine.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct EngineInput {
    /// Who asks.
    pub principal: ArbPrincipal,
    /// About which resource.
    pub resource: ArbResource,
    /// To do what.
    pub action: ArbAction,
    /// An organization act.
    pub org_act: ArbOrgAct,
    /// A user act.
    pub user_act: ArbUserAct,
    /// Whether the user act is anonymous.
    pub anonymous: bool,
    /// Whether anonymous registration is open.
    pub open_registration: bool,
    /// A capability to grant, for the monotonicity check.
    pub grant: ArbCapability,
}

/// Decodes `data` and checks every invariant; see [`check_input`].
pub fn check_bytes(data: &[u8]) -> Checked {
    match EngineInput::arbitrary_take_rest(Unstructured::new(data)) {
        Ok(input) => check_input(&input),
        // Too few bytes for one input: nothing to check.
        Err(_) => Ok(()),
    }
}

const ALLOW_REASONS: [Reason; 5] = [
    Reason::Superuser,
    Reason::Creator,
    Reason::OrganizationAdmin,
    Reason::MemberRead,
    Reason::Capability,
];
const DENY_REASONS: [Reason; 4] = [
    Reason::Inactive,
    Reason::NoOrganization,
    Reason::OtherOrganization,
    Reason::Capability,
];

/// Checks the §3 invariants on one input, under the documented and the strict policy (each
/// with the input's registration setting):
///
/// * an inactive principal is denied everything, with [`Reason::Inactive`], and its scope is
///   empty;
/// * a resource decision names a rule 0–7 whose effect matches it;
/// * a non-superuser is allowed on a resource of another organization, or of none, only by
///   [`Reason::Creator`], and never under the strict policy;
/// * `scope(p).contains(r) == authorize(p, Read, r).is_allowed()`;
/// * granting a capability, or promoting the role, never turns an allow into a deny;
/// * strict never allows what documented denies, and [`authorize`] is the documented policy;
/// * a non-superuser is allowed an act on an organization only as a member of it, and never
///   deletes one; anonymous callers get only bootstrap or open registration; only
///   superusers list or delete users.
pub fn check_input(input: &EngineInput) -> Checked {
    let documented = Policy {
        open_registration: input.open_registration,
        ..Policy::DOCUMENTED
    };
    let strict = Policy {
        open_registration: input.open_registration,
        ..Policy::STRICT
    };
    for policy in [documented, strict] {
        check_policy(policy, input)?;
    }

    let p = input.principal.get();
    let r = input.resource.get();
    let action = input.action.get();
    let loose = documented.authorize(&p, action, &r);
    let tight = strict.authorize(&p, action, &r);
    ensure(!tight.is_allowed() || loose.is_allowed(), || {
        format!(
            "strict allows what documented denies: {p:?} {action:?} {r:?}: {tight:?} vs {loose:?}"
        )
    })?;
    ensure(
        authorize(&p, action, &r) == Policy::DOCUMENTED.authorize(&p, action, &r),
        || "the free authorize() differs from Policy::DOCUMENTED".to_owned(),
    )
}

fn check_policy(policy: Policy, input: &EngineInput) -> Checked {
    let p = input.principal.get();
    let r = input.resource.get();
    let action = input.action.get();
    let decision = policy.authorize(&p, action, &r);
    let context = || format!("{policy:?} {p:?} {action:?} {r:?} -> {decision:?}");

    // The decision names a rule of the hierarchy, and the rule's effect.
    ensure(decision.reason.rule().is_some(), || {
        format!("resource decision without a rule: {}", context())
    })?;
    let reasons: &[Reason] = match decision.effect {
        Effect::Allow => &ALLOW_REASONS,
        Effect::Deny => &DENY_REASONS,
    };
    ensure(reasons.contains(&decision.reason), || {
        format!("effect and reason disagree: {}", context())
    })?;

    // Rule 0.
    if !p.active {
        ensure(
            decision.is_denied() && decision.reason == Reason::Inactive,
            || format!("inactive principal not denied by rule 0: {}", context()),
        )?;
        ensure(!policy.scope(&p).contains(&r), || {
            format!("inactive principal has a non-empty scope: {}", context())
        })?;
        let org = policy.authorize_org(&p, input.org_act.get());
        ensure(org.is_denied() && org.reason == Reason::Inactive, || {
            format!(
                "inactive principal allowed an organization act: {org:?} {}",
                context()
            )
        })?;
        let user = policy.authorize_user(Some(&p), input.user_act.get());
        ensure(user.is_denied() && user.reason == Reason::Inactive, || {
            format!(
                "inactive principal allowed a user act: {user:?} {}",
                context()
            )
        })?;
    }

    // Tenant isolation.
    let same_org = matches!((p.organization, r.organization), (Some(a), Some(b)) if a == b);
    if decision.is_allowed() && p.role != Role::Superuser && !same_org {
        ensure(decision.reason == Reason::Creator, || {
            format!("cross-tenant allow not by the creator rule: {}", context())
        })?;
        ensure(policy.creator_access == CreatorAccess::Anywhere, || {
            format!("cross-tenant allow under strict isolation: {}", context())
        })?;
    }

    // Scope agrees with reading.
    let readable = policy.authorize(&p, Action::Read, &r).is_allowed();
    let scope = policy.scope(&p);
    ensure(scope.contains(&r) == readable, || {
        format!(
            "scope {scope:?} disagrees with authorize(Read) = {readable}: {}",
            context()
        )
    })?;

    // Monotonicity: a capability more, or a stronger role, never takes an allow away.
    let granted = p.with_capabilities(p.capabilities.with(input.grant.get()));
    let after_grant = policy.authorize(&granted, action, &r);
    ensure(decision.is_denied() || after_grant.is_allowed(), || {
        format!(
            "granting {:?} turned an allow into {after_grant:?}: {}",
            input.grant.get(),
            context()
        )
    })?;
    for role in Role::ALL {
        if role >= p.role {
            let promoted = p.with_role(role);
            let after = policy.authorize(&promoted, action, &r);
            ensure(decision.is_denied() || after.is_allowed(), || {
                format!(
                    "promoting to {role} turned an allow into {after:?}: {}",
                    context()
                )
            })?;
        }
    }

    check_org_act(policy, &p, input.org_act)?;
    check_user_act(policy, input)
}

fn check_org_act(policy: Policy, p: &Principal, act: ArbOrgAct) -> Checked {
    let decision = policy.authorize_org(p, act.get());
    if p.role == Role::Superuser || decision.is_denied() {
        return Ok(());
    }
    let context = || format!("{policy:?} {p:?} {:?} -> {decision:?}", act.get());
    let superuser_only = matches!(
        act.get(),
        OrgAct::Delete(_) | OrgAct::VerifyAuditChain | OrgAct::MoveResources(_)
    );
    ensure(!superuser_only, || {
        format!(
            "a non-superuser may delete an organization, verify the whole audit chain or move resources across tenants: {}",
            context()
        )
    })?;
    if let Some(org) = act.organization() {
        ensure(p.is_member_of(org), || {
            format!("a non-member acts on an organization: {}", context())
        })?;
    }
    match act.get() {
        OrgAct::AddMember { user, organization } => ensure(
            user.role != Role::Superuser
                && (user.organization.is_none() || user.is_member_of(organization)),
            || format!("an admin pulls a user out of another tenant: {}", context()),
        ),
        OrgAct::RemoveMember { user, organization } => ensure(
            user.role != Role::Superuser && user.is_member_of(organization),
            || format!("an admin removes a user of another tenant: {}", context()),
        ),
        _ => Ok(()),
    }
}

fn check_user_act(policy: Policy, input: &EngineInput) -> Checked {
    let p = input.principal.get();
    let act = input.user_act.get();
    let actor = if input.anonymous { None } else { Some(&p) };
    let decision = policy.authorize_user(actor, act);
    let context = || format!("{policy:?} {actor:?} {act:?} -> {decision:?}");
    if decision.is_denied() {
        return Ok(());
    }
    let Some(p) = actor else {
        return ensure(
            decision.reason == Reason::Bootstrap
                || (policy.open_registration && decision.reason == Reason::OpenRegistration),
            || {
                format!(
                    "anonymous allowed beyond bootstrap and registration: {}",
                    context()
                )
            },
        );
    };
    if p.role == Role::Superuser {
        return Ok(());
    }
    match act {
        UserAct::List | UserAct::Delete(_) | UserAct::ClearLoginLockout => {
            Err(crate::Violation(format!(
                "a non-superuser lists or deletes users or clears a lockout: {}",
                context()
            )))
        }
        UserAct::View(user) | UserAct::Update { user, .. } => ensure(
            user.id == p.id
                || (p.role == Role::Admin
                    && user.role != Role::Superuser
                    && matches!(p.organization, Some(o) if user.is_member_of(o))),
            || {
                format!(
                    "a user reaches another tenant's or a superuser's account: {}",
                    context()
                )
            },
        ),
        UserAct::Create {
            role,
            organization,
            first_user,
        } => ensure(
            first_user
                || (p.role == Role::Admin
                    && role == Role::User
                    && organization.is_none_or(|o| p.is_member_of(o))),
            || format!("a user creates beyond its power: {}", context()),
        ),
        // An act this check does not know yet: the engine's own tests cover it.
        _ => Ok(()),
    }
}
