//! The two search directions of SPEC §11, over the whole finite input space of
//! [`exhaustive`](crate::exhaustive) (every role, activity, organization of principal and
//! resource, creator, action, set of the five flags, and both creator policies):
//!
//! * the resources a principal may act on: `scope_for(p, a).contains(r)`;
//! * the principals allowed an action on a resource: `principals_allowed(a, r).contains(p)`;
//!
//! each equal to `authorize(p, a, r).is_allowed()` *and* to the independent oracle, and each
//! value's parts (what a SQL layer renders) describing the same set as its `contains`; and
//! the same as a proptest property over generated facts (any capability bit, any mask).

use std::collections::BTreeSet;

use orgtenancy_core::{Action, Members, Policy, Principal, PrincipalSet, Resource, Role, Scope};
use proptest::prelude::*;

use crate::exhaustive::{
    ACTS, CREATORS, Case, ORGS, ROLES, action, oracle, policy, principal, resource,
};

/// Every case of the exhaustive space.
fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for role in ROLES {
        for active in [true, false] {
            for principal_org in ORGS {
                for resource_org in ORGS {
                    for creator in CREATORS {
                        for act in ACTS {
                            for held in 0u8..32 {
                                for strict in [false, true] {
                                    cases.push(Case {
                                        role,
                                        active,
                                        principal_org,
                                        resource_org,
                                        creator,
                                        act,
                                        held,
                                        strict,
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    cases
}

/// The engine's facts and its decision for a case, and the oracle's.
fn decide(case: &Case) -> (Policy, Principal, Action, Resource, bool, bool) {
    let (p, r, policy) = (principal(case), resource(case), policy(case.strict));
    let a = action(case.act).unwrap_or(Action::Read);
    assert!(action(case.act).is_some(), "{case:?}: no such capability");
    let allowed = policy.authorize(&p, a, &r).is_allowed();
    (policy, p, a, r, allowed, oracle(case).0)
}

/// A scope's predicate evaluated from its fields alone, as a SQL layer renders it.
fn scope_by_parts(scope: Scope, r: &Resource) -> bool {
    let org_is = |o| r.organization == Some(o);
    let creator_is = |u| r.creator == Some(u);
    match scope {
        Scope::All => true,
        Scope::Nothing => false,
        Scope::Organization(o) => org_is(o),
        Scope::OrganizationOrCreator {
            organization,
            creator,
        } => org_is(organization) || creator_is(creator),
        Scope::Creator(u) => creator_is(u),
        Scope::CreatorInOrganization {
            organization,
            creator,
        } => org_is(organization) && creator_is(creator),
    }
}

/// A principal set's predicate evaluated from its fields alone, as a SQL layer renders it
/// over the users table's columns.
fn set_by_parts(set: PrincipalSet, p: &Principal) -> bool {
    let in_org = |o| p.organization == Some(o);
    let superuser = set.superusers && p.role == Role::Superuser;
    let creator = set
        .creator
        .is_some_and(|c| p.id == c.user && c.within.is_none_or(in_org));
    let member = set.members.is_some_and(|m| {
        in_org(m.organization)
            && match m.members {
                Members::Everyone => true,
                Members::AdminsOrHolders(c) => {
                    p.role == Role::Admin || p.capabilities.bits() & (1 << c.bit()) != 0
                }
                _ => false,
            }
    });
    p.active && (superuser || creator || member)
}

#[test]
fn every_any_action_scope_matches_decisions_and_the_oracle() {
    let mut failures = Vec::new();
    let mut variants = BTreeSet::new();
    let cases = all_cases();
    for case in &cases {
        let (policy, p, a, r, allowed, oracle_allowed) = decide(case);
        let scope = policy.scope_for(&p, a);
        variants.insert(
            format!("{scope:?}")
                .split([' ', '('])
                .next()
                .map(str::to_owned),
        );
        let (contains, parts) = (scope.contains(&r), scope_by_parts(scope, &r));
        if contains != allowed || allowed != oracle_allowed || parts != contains {
            failures.push(format!(
                "{case:?}: {scope:?} contains {contains} (by parts {parts}), engine {allowed}, \
                 oracle {oracle_allowed}"
            ));
        }
        if a == Action::Read && policy.scope(&p) != scope {
            failures.push(format!("{case:?}: scope differs from scope_for(Read)"));
        }
    }
    println!("§11 resource search: checked {} cases", cases.len());
    assert_eq!(cases.len(), 62_208);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        first(&failures)
    );
    assert_eq!(
        variants.len(),
        6,
        "every scope variant occurs: {variants:?}"
    );
}

#[test]
fn every_principal_set_matches_decisions_and_the_oracle() {
    let mut failures = Vec::new();
    let mut shapes = BTreeSet::new();
    let cases = all_cases();
    for case in &cases {
        let (policy, p, a, r, allowed, oracle_allowed) = decide(case);
        let set = policy.principals_allowed(a, &r);
        shapes.insert((
            set.creator.map(|c| c.within.is_some()),
            set.members.map(|m| matches!(m.members, Members::Everyone)),
        ));
        let (contains, parts) = (set.contains(&p), set_by_parts(set, &p));
        if contains != allowed || allowed != oracle_allowed || parts != contains {
            failures.push(format!(
                "{case:?}: {set:?} contains {contains} (by parts {parts}), engine {allowed}, \
                 oracle {oracle_allowed}"
            ));
        }
    }
    println!("§11 subject search: checked {} cases", cases.len());
    assert_eq!(cases.len(), 62_208);
    // Creator: none, anywhere, within; members: none, everyone, admins or holders — save
    // "within" without members: the strict creator part needs the resource's organization.
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        first(&failures)
    );
    assert_eq!(shapes.len(), 8, "every shape of set occurs: {shapes:?}");
}

fn first(failures: &[String]) -> String {
    failures
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Both search directions agree with `authorize` on generated facts, and their parts
    /// describe the same sets as their `contains`.
    #[test]
    fn searches_agree_with_decisions(
        p in crate::props::principal(),
        r in crate::props::resource(),
        a in crate::props::action(),
        policy in crate::props::policy(),
    ) {
        let allowed = policy.authorize(&p, a, &r).is_allowed();
        let scope = policy.scope_for(&p, a);
        prop_assert_eq!(scope.contains(&r), allowed);
        prop_assert_eq!(scope_by_parts(scope, &r), allowed);
        let set = policy.principals_allowed(a, &r);
        prop_assert_eq!(set.contains(&p), allowed);
        prop_assert_eq!(set_by_parts(set, &p), allowed);
    }
}
