//! The whole finite input space, against oracles written from the SPEC.md text.
//!
//! The oracles describe each case with their own small enums and decide it from the SPEC
//! wording, sharing no code with the engine: §3 is read literally as "the first rule that
//! applies decides", a list of eight (applies, effect) pairs; a closed-form formula of the
//! same rules cross-checks the oracle itself. Only afterwards is each case translated into
//! engine types and asked.

use orgtenancy_core::{
    Action, CapabilitySet, Census, Effect, OrgAct, OrgId, Policy, Principal, Resource, Role,
    UserAct, UserChange, UserId,
};

use crate::support::SERVER_CAPABILITIES;

// ---------------------------------------------------------------- the oracle's vocabulary

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum R {
    User,
    Admin,
    Super,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum O {
    NoOrg,
    A,
    B,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum C {
    Nobody,
    Me,
    Someone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    Read,
    /// A write needing the capability at this position of the reference server's list.
    Write(usize),
}

pub(crate) const ROLES: [R; 3] = [R::User, R::Admin, R::Super];
pub(crate) const ORGS: [O; 3] = [O::NoOrg, O::A, O::B];
pub(crate) const CREATORS: [C; 3] = [C::Nobody, C::Me, C::Someone];
pub(crate) const ACTS: [Act; 6] = [
    Act::Read,
    Act::Write(0),
    Act::Write(1),
    Act::Write(2),
    Act::Write(3),
    Act::Write(4),
];

#[derive(Debug, Clone, Copy)]
pub(crate) struct Case {
    pub(crate) role: R,
    pub(crate) active: bool,
    pub(crate) principal_org: O,
    pub(crate) resource_org: O,
    pub(crate) creator: C,
    pub(crate) act: Act,
    /// Bit `i` set: the principal holds the reference server's capability number `i`.
    pub(crate) held: u8,
    pub(crate) strict: bool,
}

/// §3, read literally: rules 0–7 in order; the first that applies decides.
/// Returns (allowed, rule number).
pub(crate) fn oracle(c: &Case) -> (bool, u8) {
    let same_org = c.principal_org != O::NoOrg && c.principal_org == c.resource_org;
    let holds = match c.act {
        Act::Read => false,
        Act::Write(i) => c.held & (1 << i) != 0,
    };
    // (the rule applies, the rule allows)
    let rules: [(bool, bool); 8] = [
        // 0. principal is not active → deny
        (!c.active, false),
        // 1. principal is a superuser → allow
        (c.role == R::Super, true),
        // 2. principal created the resource → allow; the strict policy limits this to the
        //    resource's current organization.
        (c.creator == C::Me && (!c.strict || same_org), true),
        // 3. resource has no organization → deny
        (c.resource_org == O::NoOrg, false),
        // 4. principal's organization differs from the resource's (or it has none) → deny
        (!same_org, false),
        // 5. principal is an admin (same organization) → allow
        (c.role == R::Admin, true),
        // 6. action is read → allow
        (c.act == Act::Read, true),
        // 7. allow exactly when the principal holds the named capability
        (true, holds),
    ];
    let mut decided = (false, 99);
    for (number, (applies, allows)) in (0u8..).zip(rules) {
        if applies {
            decided = (allows, number);
            break;
        }
    }
    // A second formulation of the same text, to keep the oracle itself honest.
    let creator_ok = c.creator == C::Me && (!c.strict || same_org);
    let closed_form = c.active
        && (c.role == R::Super
            || creator_ok
            || (same_org && (c.role == R::Admin || c.act == Act::Read || holds)));
    assert_eq!(
        decided.0, closed_form,
        "the two oracle formulations disagree on {c:?}"
    );
    decided
}

// ------------------------------------------------------- translating into engine types

const ME: UserId = UserId(7);
const SOMEONE: UserId = UserId(8);

fn org_id(o: O) -> Option<OrgId> {
    match o {
        O::NoOrg => None,
        O::A => Some(OrgId(100)),
        O::B => Some(OrgId(200)),
    }
}

fn role(r: R) -> Role {
    match r {
        R::User => Role::User,
        R::Admin => Role::Admin,
        R::Super => Role::Superuser,
    }
}

fn capability_set(held: u8) -> CapabilitySet {
    SERVER_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(i, _)| held & (1 << i) != 0)
        .map(|(_, c)| *c)
        .collect()
}

pub(crate) fn principal(c: &Case) -> Principal {
    Principal::new(ME, role(c.role), org_id(c.principal_org))
        .with_capabilities(capability_set(c.held))
        .with_active(c.active)
}

pub(crate) fn resource(c: &Case) -> Resource {
    let creator = match c.creator {
        C::Nobody => None,
        C::Me => Some(ME),
        C::Someone => Some(SOMEONE),
    };
    Resource::new(org_id(c.resource_org), creator)
}

pub(crate) fn action(act: Act) -> Option<Action> {
    match act {
        Act::Read => Some(Action::Read),
        Act::Write(i) => SERVER_CAPABILITIES.get(i).map(|c| Action::Write(*c)),
    }
}

pub(crate) fn policy(strict: bool) -> Policy {
    if strict {
        Policy::STRICT
    } else {
        Policy::DOCUMENTED
    }
}

#[test]
fn every_resource_decision_matches_the_oracle() {
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for role in ROLES {
        for active in [true, false] {
            for principal_org in ORGS {
                for resource_org in ORGS {
                    for creator in CREATORS {
                        for act in ACTS {
                            for held in 0u8..32 {
                                for strict in [false, true] {
                                    let case = Case {
                                        role,
                                        active,
                                        principal_org,
                                        resource_org,
                                        creator,
                                        act,
                                        held,
                                        strict,
                                    };
                                    checked += 1;
                                    if let Some(problem) = check_case(&case) {
                                        failures.push(problem);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let expected = ROLES.len() * 2 * ORGS.len() * ORGS.len() * CREATORS.len() * ACTS.len() * 32 * 2;
    println!("exhaustive §3: checked {checked} resource cases against the oracle");
    assert_eq!(checked, expected);
    assert_eq!(checked, 62_208);
    assert!(
        failures.is_empty(),
        "{} of {checked} cases disagree with the oracle; first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn check_case(case: &Case) -> Option<String> {
    let (allowed, rule) = oracle(case);
    let p = principal(case);
    let r = resource(case);
    let policy = policy(case.strict);
    let Some(action) = action(case.act) else {
        return Some(format!("{case:?}: no such capability"));
    };
    let got = policy.authorize(&p, action, &r);
    let want_effect = if allowed { Effect::Allow } else { Effect::Deny };
    if got.effect != want_effect || got.reason.rule() != Some(rule) {
        return Some(format!(
            "{case:?}: oracle {want_effect:?} by rule {rule}, engine {:?} by {:?} (rule {:?})",
            got.effect,
            got.reason,
            got.reason.rule()
        ));
    }
    // Listing scope agrees with reading, for every case (including write cases' resources).
    let listed = policy.scope(&p).contains(&r);
    let readable = policy.authorize(&p, Action::Read, &r).is_allowed();
    let oracle_readable = oracle(&Case {
        act: Act::Read,
        ..*case
    })
    .0;
    if listed != readable || readable != oracle_readable {
        return Some(format!(
            "{case:?}: scope contains {listed}, read allowed {readable}, oracle read {oracle_readable}"
        ));
    }
    // The top-level `authorize` is the documented policy.
    if !case.strict && orgtenancy_core::authorize(&p, action, &r) != got {
        return Some(format!(
            "{case:?}: `authorize` differs from Policy::DOCUMENTED"
        ));
    }
    None
}

// ------------------------------------------------------------ organization acts (§4)

/// A user as the oracle sees it: role, organization, active. Every user holds the flags
/// [`TARGET_FLAGS`], so a user acting on itself is described by the same facts twice.
#[derive(Debug, Clone, Copy)]
struct U {
    id: i64,
    role: R,
    org: O,
    active: bool,
}

fn engine_user(u: U) -> Principal {
    Principal::new(UserId(u.id), role(u.role), org_id(u.org))
        .with_capabilities(capability_set(TARGET_FLAGS))
        .with_active(u.active)
}

#[derive(Debug, Clone, Copy)]
enum OAct {
    Create,
    List,
    View(O),
    Update(O),
    Delete(O),
    ListMembers(O),
    Add(O, U),
    Remove(O, U),
    Audit,
    OrgAudit(O),
    Verify,
    Manage(O),
    Move(O),
}

fn all_users(first_id: i64) -> Vec<U> {
    let mut users = Vec::new();
    let mut id = first_id;
    for role in ROLES {
        for org in ORGS {
            for active in [true, false] {
                users.push(U {
                    id,
                    role,
                    org,
                    active,
                });
                id += 1;
            }
        }
    }
    users
}

/// §4 and §6 for organization acts, from the endpoint table and the closed holes.
fn org_oracle(actor: U, act: OAct) -> bool {
    let member = |o: O| o != O::NoOrg && actor.org == o;
    let admin_of = |o: O| actor.role == R::Admin && member(o);
    if !actor.active {
        return false;
    }
    if actor.role == R::Super {
        return true;
    }
    match act {
        // "admin or superuser"
        OAct::Create => actor.role == R::Admin,
        // "any active user"
        OAct::List => true,
        // "members of it; superuser any"
        OAct::View(o) | OAct::ListMembers(o) => member(o),
        // "superuser, or admin of that organization"
        OAct::Update(o) => admin_of(o),
        // "superuser only"
        OAct::Delete(_) => false,
        // Admin of that organization; the user belongs to none or already to it; an admin
        // never changes a superuser's organization (organization_id is superuser-only, §5).
        OAct::Add(o, u) => admin_of(o) && u.role != R::Super && (u.org == O::NoOrg || u.org == o),
        // Admin of that organization, only members of it, never a superuser.
        OAct::Remove(o, u) => admin_of(o) && u.role != R::Super && u.org == o,
        // §6: superuser all, admin its own organization's, user 403.
        OAct::Audit => actor.role == R::Admin,
        // §6: one organization's entries: its admins (and superusers).
        OAct::OrgAudit(o) => admin_of(o),
        // §6: the chain covers every tenant's entries: superuser only.
        OAct::Verify => false,
        // §4: membership in general is the organization's admins' business.
        OAct::Manage(o) => admin_of(o),
        // §3: moving resources between tenants (adopting org-less ones): superuser only.
        OAct::Move(_) => false,
    }
}

fn engine_org_act(act: OAct) -> Option<OrgAct> {
    let id = |o: O| org_id(o);
    Some(match act {
        OAct::Create => OrgAct::Create,
        OAct::List => OrgAct::List,
        OAct::View(o) => OrgAct::View(id(o)?),
        OAct::Update(o) => OrgAct::Update(id(o)?),
        OAct::Delete(o) => OrgAct::Delete(id(o)?),
        OAct::ListMembers(o) => OrgAct::ListMembers(id(o)?),
        OAct::Add(o, u) => OrgAct::AddMember {
            organization: id(o)?,
            user: engine_user(u),
        },
        OAct::Remove(o, u) => OrgAct::RemoveMember {
            organization: id(o)?,
            user: engine_user(u),
        },
        OAct::Audit => OrgAct::ReadAuditLog,
        OAct::OrgAudit(o) => OrgAct::ReadOrganizationAuditLog(id(o)?),
        OAct::Verify => OrgAct::VerifyAuditChain,
        OAct::Manage(o) => OrgAct::ManageMembers(id(o)?),
        OAct::Move(o) => OrgAct::MoveResources(id(o)?),
    })
}

#[test]
fn every_organization_decision_matches_the_oracle() {
    let actors = all_users(1);
    let targets = all_users(100);
    let mut acts = vec![OAct::Create, OAct::List, OAct::Audit, OAct::Verify];
    for o in [O::A, O::B] {
        acts.extend([
            OAct::View(o),
            OAct::Update(o),
            OAct::Delete(o),
            OAct::ListMembers(o),
            OAct::OrgAudit(o),
            OAct::Manage(o),
            OAct::Move(o),
        ]);
        for t in &targets {
            acts.extend([OAct::Add(o, *t), OAct::Remove(o, *t)]);
        }
    }
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for actor in &actors {
        // Acting on oneself: the target's facts are the actor's own.
        let mut own = Vec::new();
        for o in [O::A, O::B] {
            own.extend([OAct::Add(o, *actor), OAct::Remove(o, *actor)]);
        }
        for act in acts.iter().chain(&own) {
            let Some(engine_act) = engine_org_act(*act) else {
                failures.push(format!("{act:?}: cannot translate"));
                continue;
            };
            for policy in [Policy::DOCUMENTED, Policy::STRICT] {
                checked += 1;
                let got = policy.authorize_org(&engine_user(*actor), engine_act);
                if got.is_allowed() != org_oracle(*actor, *act) {
                    failures.push(format!("{actor:?} {act:?}: engine {got:?}"));
                }
            }
        }
    }
    println!("exhaustive §4: checked {checked} organization cases against the oracle");
    assert_eq!(checked, actors.len() * (acts.len() + 4) * 2);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------- user acts (§5)

/// A PATCH as the oracle sees it. `None` = field absent.
#[derive(Debug, Clone, Copy)]
struct Patch {
    email: bool,
    password: bool,
    /// Flags: `Some(true)` = the user's current flags, `Some(false)` = different ones.
    flags_same: Option<bool>,
    role: Option<R>,
    active: Option<bool>,
    org: Option<O>,
}

#[derive(Debug, Clone, Copy)]
enum UAct {
    Create { role: R, org: O, first: bool },
    SetUp { role: R, org: O, active: bool },
    List,
    View(U),
    Update(U, Patch),
    Delete(U),
    ClearLoginLockout,
}

const TARGET_FLAGS: u8 = 0b00101;

/// §5, from the endpoint table and the closed holes. `actor` is `None` when anonymous;
/// `others` says whether an active superuser other than the target exists.
fn user_oracle(open_registration: bool, actor: Option<U>, act: UAct, others: bool) -> bool {
    // "an inactive principal is denied everything", even the bootstrap act.
    if actor.is_some_and(|a| !a.active) {
        return false;
    }
    if let UAct::Create { first: true, .. } = act {
        return true; // "the very first user: anyone, any role"
    }
    let Some(actor) = actor else {
        return matches!(
            act,
            UAct::Create {
                role: R::User,
                org: O::NoOrg,
                ..
            }
        ) && open_registration;
    };
    if !actor.active {
        return false;
    }
    let is_self = |u: U| u.id == actor.id;
    // "The last active superuser can never be demoted, deactivated or deleted."
    let last_superuser = |u: U| u.role == R::Super && u.active && !others;
    // An admin reaches members of its own organization that are not superusers.
    let administers = |u: U| {
        actor.role == R::Admin && u.role != R::Super && u.org != O::NoOrg && u.org == actor.org
    };
    match act {
        UAct::Create { role, org, .. } => match actor.role {
            R::Super => true,
            R::Admin => role == R::User && (org == O::NoOrg || org == actor.org),
            R::User => false,
        },
        // Flags or an inactive state on a new user: what the actor could set on it as a member
        // of its organization — an admin of it gives flags, only a superuser deactivates.
        UAct::SetUp { role, org, active } => match actor.role {
            R::Super => true,
            R::Admin => role != R::Super && org != O::NoOrg && org == actor.org && active,
            R::User => false,
        },
        UAct::List => actor.role == R::Super,
        UAct::View(u) => actor.role == R::Super || is_self(u) || administers(u),
        UAct::Update(u, p) => {
            let role_changes = p.role.is_some_and(|r| r != u.role);
            let active_changes = p.active.is_some_and(|a| a != u.active);
            let org_changes = p.org.is_some_and(|o| o != u.org);
            let flags_change = p.flags_same == Some(false);
            let superuser_fields = role_changes || active_changes || org_changes;
            if actor.role == R::Super {
                // "a superuser cannot demote itself" (nor deactivate itself).
                let demotes = role_changes || active_changes;
                return !(demotes && (is_self(u) || last_superuser(u)));
            }
            (administers(u) && !superuser_fields)
                || (is_self(u) && !superuser_fields && !flags_change)
        }
        UAct::Delete(u) => actor.role == R::Super && !is_self(u) && !last_superuser(u),
        // An operator's act on the login limits (issue 12): superusers only.
        UAct::ClearLoginLockout => actor.role == R::Super,
    }
}

fn engine_user_act(act: UAct) -> UserAct {
    match act {
        UAct::Create {
            role: r,
            org,
            first,
        } => UserAct::Create {
            role: role(r),
            organization: org_id(org),
            first_user: first,
        },
        UAct::SetUp {
            role: r,
            org,
            active,
        } => UserAct::SetUpNewUser {
            role: role(r),
            organization: org_id(org),
            active,
        },
        UAct::List => UserAct::List,
        UAct::ClearLoginLockout => UserAct::ClearLoginLockout,
        UAct::View(u) => UserAct::View(engine_user(u)),
        UAct::Delete(u) => UserAct::Delete(engine_user(u)),
        UAct::Update(u, p) => {
            let user = engine_user(u);
            let change = {
                let mut change = UserChange::NONE;
                change.email = p.email;
                change.password = p.password;
                change.capabilities = p.flags_same.map(|same| {
                    capability_set(if same {
                        TARGET_FLAGS
                    } else {
                        TARGET_FLAGS ^ 0b11
                    })
                });
                change.role = p.role.map(role);
                change.active = p.active;
                change.organization = p.org.map(org_id);
                change
            };
            UserAct::Update { user, change }
        }
    }
}

fn all_patches() -> Vec<Patch> {
    let mut patches = Vec::new();
    for email in [false, true] {
        for password in [false, true] {
            for flags_same in [None, Some(true), Some(false)] {
                for role in [None, Some(R::User), Some(R::Admin), Some(R::Super)] {
                    for active in [None, Some(true), Some(false)] {
                        for org in [None, Some(O::NoOrg), Some(O::A), Some(O::B)] {
                            patches.push(Patch {
                                email,
                                password,
                                flags_same,
                                role,
                                active,
                                org,
                            });
                        }
                    }
                }
            }
        }
    }
    patches
}

#[test]
fn every_user_decision_matches_the_oracle() {
    let mut actors: Vec<Option<U>> = vec![None];
    actors.extend(all_users(1).into_iter().map(Some));
    let others = all_users(100);
    let patches = all_patches();
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for actor in &actors {
        // The targets: every other user, and the actor itself (same facts, same id).
        let mut targets = others.clone();
        if let Some(me) = actor {
            targets.push(*me);
        }
        let mut acts = vec![UAct::List, UAct::ClearLoginLockout];
        for role in ROLES {
            for org in ORGS {
                for first in [false, true] {
                    acts.push(UAct::Create { role, org, first });
                    acts.push(UAct::SetUp {
                        role,
                        org,
                        active: first,
                    });
                }
            }
        }
        for t in &targets {
            acts.extend([UAct::View(*t), UAct::Delete(*t)]);
            acts.extend(patches.iter().map(|p| UAct::Update(*t, *p)));
        }
        for act in acts {
            for (open, others) in [(false, true), (true, true), (false, false), (true, false)] {
                let policy = Policy {
                    open_registration: open,
                    ..Policy::DOCUMENTED
                };
                let actor_facts = actor.map(engine_user);
                let engine_act = engine_user_act(act);
                let census = Census::new(others);
                checked += 1;
                let got = policy.authorize_user_among(actor_facts.as_ref(), engine_act, census);
                if got.is_allowed() != user_oracle(open, *actor, act, others) {
                    failures.push(format!(
                        "{actor:?} {act:?} open={open} others={others}: engine {got:?}"
                    ));
                }
                if others && got != policy.authorize_user(actor_facts.as_ref(), engine_act) {
                    failures.push(format!("{actor:?} {act:?}: authorize_user differs"));
                }
            }
        }
    }
    println!("exhaustive §5: checked {checked} user cases against the oracle");
    // Anonymous: 18 other targets; each of the 18 users: 18 others and itself. Each target
    // has View, Delete and one Update per patch; plus List, ClearLoginLockout, 18 Creates and
    // 18 set-ups of a new user; two policies, each with and without another active superuser.
    let per_target = 2 + patches.len();
    let anonymous = 2 + 36 + 18 * per_target;
    let signed_in = 2 + 36 + 19 * per_target;
    assert_eq!(checked, 4 * (anonymous + 18 * signed_in));
    assert!(
        failures.is_empty(),
        "{} failures; first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
