//! Acts on a missing user, over the whole finite space of actors and targets: a caller who
//! may not act on a user gets the same answer for a missing id as for an existing user out
//! of its reach (another tenant's user, a superuser), so the answer reveals nothing.

use orgtenancy_core::{
    Action, Capability, MissingUserAct, OrgAct, OrgId, Policy, Principal, Reason, Resource, Role,
    UserAct, UserChange, UserId,
};

const ORGS: [Option<OrgId>; 3] = [None, Some(OrgId(1)), Some(OrgId(2))];
const ROLES: [Role; 3] = [Role::User, Role::Admin, Role::Superuser];

fn cast(first_id: i64) -> Vec<Principal> {
    let mut users = Vec::new();
    for role in ROLES {
        for organization in ORGS {
            for active in [true, false] {
                let id = UserId(first_id + users.len() as i64);
                users.push(Principal::new(id, role, organization).with_active(active));
            }
        }
    }
    users
}

/// The same act on an existing user.
fn on(act: MissingUserAct, user: Principal) -> Existing {
    let email = UserChange::NONE.with_email();
    match act {
        MissingUserAct::View => Existing::User(UserAct::View(user)),
        MissingUserAct::Update => Existing::User(UserAct::Update {
            user,
            change: email,
        }),
        MissingUserAct::Delete => Existing::User(UserAct::Delete(user)),
        MissingUserAct::AddMember(organization) => {
            Existing::Org(OrgAct::AddMember { organization, user })
        }
        MissingUserAct::RemoveMember(organization) => {
            Existing::Org(OrgAct::RemoveMember { organization, user })
        }
        // A new act of the engine: this test must learn its counterpart.
        _ => Existing::Unknown,
    }
}

enum Existing {
    User(UserAct),
    Org(OrgAct),
    Unknown,
}

/// What a caller can tell apart: denials about the target's facts are one answer ("not a
/// member" for a removal, where the server says 404; "out of reach" elsewhere).
fn answer(act: MissingUserAct, reason: Reason) -> String {
    let about_target = matches!(
        reason,
        Reason::TargetMissing | Reason::TargetInOtherOrganization | Reason::TargetIsSuperuser
    );
    match act {
        MissingUserAct::RemoveMember(_)
            if matches!(
                reason,
                Reason::TargetMissing | Reason::TargetInOtherOrganization
            ) =>
        {
            "not a member".to_owned()
        }
        MissingUserAct::RemoveMember(_) => format!("{reason:?}"),
        _ if about_target => "out of reach".to_owned(),
        _ => format!("{reason:?}"),
    }
}

/// A removal of a member is visible to whoever lists the organization's members: only
/// non-members must look like a missing id.
fn hidden(act: MissingUserAct, user: &Principal) -> bool {
    match act {
        MissingUserAct::RemoveMember(organization) => !user.is_member_of(organization),
        _ => true,
    }
}

#[test]
fn a_missing_user_looks_like_any_user_out_of_reach() {
    let policy = Policy::DOCUMENTED;
    let targets = cast(100);
    let mut acts = vec![
        MissingUserAct::View,
        MissingUserAct::Update,
        MissingUserAct::Delete,
    ];
    for organization in [OrgId(1), OrgId(2)] {
        acts.extend([
            MissingUserAct::AddMember(organization),
            MissingUserAct::RemoveMember(organization),
        ]);
    }
    let (mut checked, mut failures) = (0usize, Vec::new());
    for actor in cast(1) {
        for &act in &acts {
            let got = policy.authorize_missing_user(&actor, act);
            let superuser = actor.active && actor.role == Role::Superuser;
            if got.is_allowed() != superuser {
                failures.push(format!("{actor:?} {act:?}: missing {got:?}"));
            }
            for user in targets.iter().filter(|user| hidden(act, user)) {
                let existing = match on(act, *user) {
                    Existing::User(act) => policy.authorize_user(Some(&actor), act),
                    Existing::Org(act) => policy.authorize_org(&actor, act),
                    Existing::Unknown => {
                        failures.push(format!("{act:?}: no existing counterpart"));
                        continue;
                    }
                };
                checked += 1;
                if existing.is_denied() && answer(act, existing.reason) != answer(act, got.reason) {
                    failures.push(format!(
                        "{actor:?} {act:?}: missing {got:?}, {user:?} {existing:?}"
                    ));
                }
            }
        }
    }
    println!("missing users: checked {checked} pairs");
    assert!(checked > 1000);
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

/// What a caller can tell apart about a resource denial: every "outside your organization"
/// reason is one answer (the server gives them one text).
fn resource_answer(reason: Reason) -> String {
    match reason {
        Reason::NoOrganization | Reason::OtherOrganization | Reason::TargetMissing => {
            "outside".to_owned()
        }
        other => other.to_string(),
    }
}

#[test]
fn a_missing_resource_looks_like_another_tenants_resource() {
    let actions = [
        Action::Read,
        Action::Write(Capability::of::<0>()),
        Action::Write(Capability::of::<4>()),
    ];
    let (mut checked, mut failures) = (0usize, Vec::new());
    for policy in [Policy::DOCUMENTED, Policy::STRICT] {
        for actor in cast(1) {
            let got = policy.authorize_missing_resource(&actor);
            let superuser = actor.active && actor.role == Role::Superuser;
            if got.is_allowed() != superuser {
                failures.push(format!("{actor:?}: missing {got:?}"));
            }
            // Another tenant's resource that someone else created: out of everyone's reach
            // but a superuser's, whatever the action.
            for organization in ORGS {
                if organization.is_some() && organization == actor.organization {
                    continue;
                }
                let foreign = Resource::new(organization, Some(UserId(999)));
                for action in actions {
                    checked += 1;
                    let existing = policy.authorize(&actor, action, &foreign);
                    if existing.is_allowed() != got.is_allowed()
                        || resource_answer(existing.reason) != resource_answer(got.reason)
                    {
                        failures.push(format!("{actor:?} {action:?}: {got:?} vs {existing:?}"));
                    }
                }
            }
        }
    }
    println!("missing resources: checked {checked} pairs");
    assert!(checked > 100);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
