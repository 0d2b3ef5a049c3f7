//! Shared fixtures: the reference server's capabilities, two organizations, a cast of
//! principals, and the row checker used by the table tests.

use orgtenancy_core::{
    Action, Capability, CapabilitySet, Census, Decision, Effect, MissingUserAct, OrgAct, OrgId,
    Policy, Principal, Reason, Resource, Role, UserAct, UserId,
};

/// The reference server's capability flags (SPEC.md §2). The core knows none of them.
pub const CAN_CREATE_CA: Capability = Capability::of::<0>();
pub const CAN_CREATE_CERT: Capability = Capability::of::<1>();
pub const CAN_REVOKE_CERT: Capability = Capability::of::<2>();
pub const CAN_EXPORT_PRIVATE_KEY: Capability = Capability::of::<3>();
pub const CAN_DELETE_CA: Capability = Capability::of::<4>();

/// The five flags, in bit order.
pub const SERVER_CAPABILITIES: [Capability; 5] = [
    CAN_CREATE_CA,
    CAN_CREATE_CERT,
    CAN_REVOKE_CERT,
    CAN_EXPORT_PRIVATE_KEY,
    CAN_DELETE_CA,
];

/// Two tenants, and an organization id that names no stored organization.
pub const ORG_A: OrgId = OrgId(1);
pub const ORG_B: OrgId = OrgId(2);
pub const ORG_MISSING: OrgId = OrgId(99);

/// An active principal.
pub const fn who(id: i64, role: Role, organization: Option<OrgId>) -> Principal {
    Principal::new(UserId(id), role, organization)
}

/// A set holding exactly `caps`.
pub fn caps(caps: &[Capability]) -> CapabilitySet {
    caps.iter().copied().collect()
}

pub const ALLOW: Effect = Effect::Allow;
pub const DENY: Effect = Effect::Deny;

// The cast of the table tests. Ids are distinct so that "self" is never an accident.
pub const SUPER: Principal = who(1, Role::Superuser, None);
pub const SUPER_A: Principal = who(2, Role::Superuser, Some(ORG_A));
pub const ADMIN_A: Principal = who(10, Role::Admin, Some(ORG_A));
pub const ADMIN_A2: Principal = who(13, Role::Admin, Some(ORG_A));
pub const ADMIN_B: Principal = who(11, Role::Admin, Some(ORG_B));
pub const ADMIN_NONE: Principal = who(12, Role::Admin, None);
pub const USER_A: Principal = who(20, Role::User, Some(ORG_A));
pub const USER_A2: Principal = who(21, Role::User, Some(ORG_A));
pub const USER_B: Principal = who(30, Role::User, Some(ORG_B));
pub const USER_NONE: Principal = who(40, Role::User, None);

/// One question to the engine.
#[derive(Debug, Clone, Copy)]
pub enum Ask {
    /// `policy.authorize(principal, action, resource)`.
    Resource {
        policy: Policy,
        principal: Principal,
        action: Action,
        resource: Resource,
    },
    /// `Policy::DOCUMENTED.authorize_org(principal, act)` (org acts do not depend on the policy;
    /// the checker asks both policies and requires the same answer).
    Org { principal: Principal, act: OrgAct },
    /// `policy.authorize_user(actor, act)`.
    User {
        policy: Policy,
        actor: Option<Principal>,
        act: UserAct,
    },
    /// `Policy::DOCUMENTED.authorize_user_among(Some(actor), act, census)`.
    UserAmong {
        actor: Principal,
        act: UserAct,
        census: Census,
    },
    /// `Policy::DOCUMENTED.authorize_missing_user(actor, act)`.
    Missing {
        actor: Principal,
        act: MissingUserAct,
    },
}

impl Ask {
    pub fn decide(self) -> Decision {
        match self {
            Ask::Resource {
                policy,
                principal,
                action,
                resource,
            } => policy.authorize(&principal, action, &resource),
            Ask::Org { principal, act } => Policy::DOCUMENTED.authorize_org(&principal, act),
            Ask::User { policy, actor, act } => policy.authorize_user(actor.as_ref(), act),
            Ask::UserAmong { actor, act, census } => {
                Policy::DOCUMENTED.authorize_user_among(Some(&actor), act, census)
            }
            Ask::Missing { actor, act } => Policy::DOCUMENTED.authorize_missing_user(&actor, act),
        }
    }
}

pub const fn res(policy: Policy, principal: Principal, action: Action, resource: Resource) -> Ask {
    Ask::Resource {
        policy,
        principal,
        action,
        resource,
    }
}

pub const fn org(principal: Principal, act: OrgAct) -> Ask {
    Ask::Org { principal, act }
}

pub const fn usr(actor: Principal, act: UserAct) -> Ask {
    Ask::User {
        policy: Policy::DOCUMENTED,
        actor: Some(actor),
        act,
    }
}

/// A user act when no active superuser but the target exists.
pub const fn alone(actor: Principal, act: UserAct) -> Ask {
    Ask::UserAmong {
        actor,
        act,
        census: Census::NO_OTHER_SUPERUSER,
    }
}

/// An act on a user id no user has.
pub const fn missing(actor: Principal, act: MissingUserAct) -> Ask {
    Ask::Missing { actor, act }
}

pub const fn anon(policy: Policy, act: UserAct) -> Ask {
    Ask::User {
        policy,
        actor: None,
        act,
    }
}

/// One row of a table: a question and the answer SPEC.md gives.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub ask: Ask,
    pub effect: Effect,
    pub reason: Reason,
}

/// A row; `name` says which table row and which case it stands for.
pub fn row(name: impl Into<String>, ask: Ask, effect: Effect, reason: Reason) -> Row {
    Row {
        name: name.into(),
        ask,
        effect,
        reason,
    }
}

/// The checker of every table. Reports every failing row at once, and returns the row count.
#[track_caller]
pub fn check_table(table: &str, rows: &[Row]) -> usize {
    let mut failures = Vec::new();
    for r in rows {
        let got = r.ask.decide();
        if (got.effect, got.reason) != (r.effect, r.reason) {
            failures.push(format!(
                "  {}: expected {:?} by {:?}, engine said {:?} by {:?}",
                r.name, r.effect, r.reason, got.effect, got.reason
            ));
        }
        if got.is_allowed() != (got.effect == Effect::Allow) || got.is_allowed() == got.is_denied()
        {
            failures.push(format!(
                "  {}: is_allowed/is_denied disagree with the effect",
                r.name
            ));
        }
        // Organization acts must not depend on the resource policy.
        if let Ask::Org { principal, act } = r.ask
            && Policy::STRICT.authorize_org(&principal, act) != got
        {
            failures.push(format!(
                "  {}: the strict policy answers differently",
                r.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{table}: {} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert!(!rows.is_empty(), "{table}: empty table");
    rows.len()
}
