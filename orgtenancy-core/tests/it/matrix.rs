//! SPEC.md §3: the rules 0–7 one by one, and every row of the permission matrix.

use orgtenancy_core::{
    Action, Capability, CapabilitySet, OrgAct, Policy, Principal, Reason, Resource, Role, Scope,
    UserAct, UserId,
};

use crate::support::*;

/// The flag-guarded rows of the matrix: (matrix row, the flag a plain user needs).
const FLAGGED: [(&str, Capability); 5] = [
    ("create CA", CAN_CREATE_CA),
    ("delete CA", CAN_DELETE_CA),
    ("issue certificate", CAN_CREATE_CERT),
    ("revoke certificate", CAN_REVOKE_CERT),
    ("export a private key", CAN_EXPORT_PRIVATE_KEY),
];

const D: Policy = Policy::DOCUMENTED;
const S: Policy = Policy::STRICT;

/// Resources created by somebody outside the cast.
const IN_A: Resource = Resource::new(Some(ORG_A), Some(UserId(999)));
const IN_B: Resource = Resource::new(Some(ORG_B), Some(UserId(999)));
const ORGLESS: Resource = Resource::new(None, Some(UserId(999)));

#[rustfmt::skip]
#[test]
fn flagged_actions_follow_the_matrix() {
    let mut rows = Vec::new();
    for (label, flag) in FLAGGED {
        let with_flag = USER_A.with_capabilities(caps(&[flag]));
        let every_other: CapabilitySet =
            SERVER_CAPABILITIES.iter().copied().filter(|c| *c != flag).collect();
        let all_but = USER_A.with_capabilities(every_other);
        let flagged_nobody = USER_NONE.with_capabilities(caps(&[flag]));
        let act = Action::Write(flag);
        for policy in [D, S] {
            let p = if policy == D { "documented" } else { "strict" };
            rows.extend([
                row(format!("{label} [{p}]: superuser"), res(policy, SUPER, act, IN_A), ALLOW, Reason::Superuser),
                row(format!("{label} [{p}]: superuser member of A"), res(policy, SUPER_A, act, IN_A), ALLOW, Reason::Superuser),
                row(format!("{label} [{p}]: admin"), res(policy, ADMIN_A, act, IN_A), ALLOW, Reason::OrganizationAdmin),
                row(format!("{label} [{p}]: user with the flag"), res(policy, with_flag, act, IN_A), ALLOW, Reason::Capability),
                row(format!("{label} [{p}]: user without flags"), res(policy, USER_A, act, IN_A), DENY, Reason::Capability),
                row(format!("{label} [{p}]: user with every other flag"), res(policy, all_but, act, IN_A), DENY, Reason::Capability),
                // Not the same organization: the matrix's "yes" and "flag" stop at the border.
                row(format!("{label} [{p}]: admin of another org"), res(policy, ADMIN_B, act, IN_A), DENY, Reason::OtherOrganization),
                row(format!("{label} [{p}]: admin without org"), res(policy, ADMIN_NONE, act, IN_A), DENY, Reason::OtherOrganization),
                row(format!("{label} [{p}]: flagged user of another org"), res(policy, with_flag, act, IN_B), DENY, Reason::OtherOrganization),
                row(format!("{label} [{p}]: flagged user without org"), res(policy, flagged_nobody, act, IN_A), DENY, Reason::OtherOrganization),
                // Org-less resources are superuser-only.
                row(format!("{label} [{p}]: superuser, org-less"), res(policy, SUPER, act, ORGLESS), ALLOW, Reason::Superuser),
                row(format!("{label} [{p}]: admin, org-less"), res(policy, ADMIN_A, act, ORGLESS), DENY, Reason::NoOrganization),
                row(format!("{label} [{p}]: flagged user, org-less"), res(policy, with_flag, act, ORGLESS), DENY, Reason::NoOrganization),
                // Inactive accounts are refused first.
                row(format!("{label} [{p}]: inactive superuser"), res(policy, SUPER.with_active(false), act, IN_A), DENY, Reason::Inactive),
                row(format!("{label} [{p}]: inactive admin"), res(policy, ADMIN_A.with_active(false), act, IN_A), DENY, Reason::Inactive),
                row(format!("{label} [{p}]: inactive flagged user"), res(policy, with_flag.with_active(false), act, IN_A), DENY, Reason::Inactive),
            ]);
        }
    }
    assert_eq!(check_table("§3 flagged actions", &rows), 5 * 2 * 16);
}

#[rustfmt::skip]
#[test]
fn viewing_follows_the_matrix() {
    let r = Action::Read;
    let rows = [
        row("view: superuser", res(D, SUPER, r, IN_A), ALLOW, Reason::Superuser),
        row("view: admin", res(D, ADMIN_A, r, IN_A), ALLOW, Reason::OrganizationAdmin),
        row("view: user without flags", res(D, USER_A, r, IN_A), ALLOW, Reason::MemberRead),
        row("view: user, strict", res(S, USER_A, r, IN_A), ALLOW, Reason::MemberRead),
        row("view: user of another org", res(D, USER_B, r, IN_A), DENY, Reason::OtherOrganization),
        row("view: admin of another org", res(D, ADMIN_B, r, IN_A), DENY, Reason::OtherOrganization),
        row("view: user without org", res(D, USER_NONE, r, IN_A), DENY, Reason::OtherOrganization),
        row("view: user, org-less", res(D, USER_A, r, ORGLESS), DENY, Reason::NoOrganization),
        row("view: admin, org-less", res(D, ADMIN_A, r, ORGLESS), DENY, Reason::NoOrganization),
        row("view: superuser, org-less", res(D, SUPER, r, ORGLESS), ALLOW, Reason::Superuser),
        row("view: inactive user", res(D, USER_A.with_active(false), r, IN_A), DENY, Reason::Inactive),
    ];
    check_table("§3 view", &rows);
}

/// Each rule of the ordered hierarchy decides at least one row, under both policies, and the
/// order matters where two rules would apply.
#[rustfmt::skip]
#[test]
fn the_rules_apply_in_order() {
    let w = Action::Write(CAN_DELETE_CA);
    let r = Action::Read;
    // Alice created resources and then moved from A to B; Nobody has no organization.
    let alice_in_b = who(50, Role::User, Some(ORG_B));
    let nobody = who(51, Role::User, None);
    let made_by_alice_in_a = Resource::new(Some(ORG_A), Some(alice_in_b.id));
    let made_by_alice_in_b = Resource::new(Some(ORG_B), Some(alice_in_b.id));
    let orgless_by_nobody = Resource::new(None, Some(nobody.id));
    let made_by_user_a = Resource::new(Some(ORG_A), Some(USER_A.id));
    let made_by_admin_a = Resource::new(Some(ORG_A), Some(ADMIN_A.id));
    let made_by_super = Resource::new(None, Some(SUPER.id));
    let flagged = |set: &[Capability]| USER_A.with_capabilities(caps(set));
    let rows = [
        // Rule 0 before everything, even superuser and creator.
        row("rule 0: inactive superuser", res(D, SUPER.with_active(false), r, IN_A), DENY, Reason::Inactive),
        row("rule 0: inactive creator", res(D, USER_A.with_active(false), r, made_by_user_a), DENY, Reason::Inactive),
        // Rule 1.
        row("rule 1: superuser of another org", res(D, SUPER_A, w, IN_B), ALLOW, Reason::Superuser),
        row("rule 1: superuser, strict, org-less", res(S, SUPER, w, ORGLESS), ALLOW, Reason::Superuser),
        row("rule 1 before 2: superuser creator", res(D, SUPER, w, made_by_super), ALLOW, Reason::Superuser),
        // Rule 2, documented policy: the creator keeps access after moving away.
        row("rule 2: creator moved to another org, read", res(D, alice_in_b, r, made_by_alice_in_a), ALLOW, Reason::Creator),
        row("rule 2: creator moved to another org, write without flag", res(D, alice_in_b, w, made_by_alice_in_a), ALLOW, Reason::Creator),
        row("rule 2 before 3: creator of an org-less resource", res(D, nobody, w, orgless_by_nobody), ALLOW, Reason::Creator),
        row("rule 2 before 7: creator without the flag, same org", res(D, USER_A, w, made_by_user_a), ALLOW, Reason::Creator),
        row("rule 2 before 6: creator reading, same org", res(D, USER_A, r, made_by_user_a), ALLOW, Reason::Creator),
        row("rule 2 before 5: admin creator", res(D, ADMIN_A, w, made_by_admin_a), ALLOW, Reason::Creator),
        // Rule 2, strict policy: only inside the resource's current organization.
        row("rule 2 strict: creator moved away is refused", res(S, alice_in_b, r, made_by_alice_in_a), DENY, Reason::OtherOrganization),
        row("rule 2 strict: creator of an org-less resource is refused", res(S, nobody, r, orgless_by_nobody), DENY, Reason::NoOrganization),
        row("rule 2 strict: creator inside its org", res(S, alice_in_b, w, made_by_alice_in_b), ALLOW, Reason::Creator),
        row("rule 2 strict: creator without flag, same org", res(S, USER_A, w, made_by_user_a), ALLOW, Reason::Creator),
        // Rule 2 is about this principal only.
        row("rule 2: someone else's creation", res(D, USER_A2, w, made_by_user_a), DENY, Reason::Capability),
        row("rule 2: no creator recorded", res(D, USER_A, w, Resource::new(Some(ORG_A), None)), DENY, Reason::Capability),
        // Rule 3.
        row("rule 3: admin, org-less", res(D, ADMIN_A, r, ORGLESS), DENY, Reason::NoOrganization),
        row("rule 3: user without org, org-less", res(D, USER_NONE, r, Resource::new(None, None)), DENY, Reason::NoOrganization),
        // Rule 4.
        row("rule 4: other org", res(D, USER_A, r, IN_B), DENY, Reason::OtherOrganization),
        row("rule 4: principal without org", res(D, ADMIN_NONE, r, IN_A), DENY, Reason::OtherOrganization),
        // Rule 5.
        row("rule 5: admin without capabilities writes", res(D, ADMIN_A, w, IN_A), ALLOW, Reason::OrganizationAdmin),
        row("rule 5 before 6: admin reads", res(S, ADMIN_A, r, IN_A), ALLOW, Reason::OrganizationAdmin),
        // Rule 6.
        row("rule 6: user reads", res(D, USER_A, r, IN_A), ALLOW, Reason::MemberRead),
        // Rule 7.
        row("rule 7: flag held", res(D, flagged(&[CAN_DELETE_CA]), w, IN_A), ALLOW, Reason::Capability),
        row("rule 7: another flag held", res(D, flagged(&[CAN_CREATE_CA]), w, IN_A), DENY, Reason::Capability),
    ];
    check_table("§3 rules", &rows);
    // Each reason of the hierarchy maps to its rule number.
    let numbered = [
        (Reason::Inactive, 0),
        (Reason::Superuser, 1),
        (Reason::Creator, 2),
        (Reason::NoOrganization, 3),
        (Reason::OtherOrganization, 4),
        (Reason::OrganizationAdmin, 5),
        (Reason::MemberRead, 6),
        (Reason::Capability, 7),
    ];
    for (reason, rule) in numbered {
        assert_eq!(reason.rule(), Some(rule), "{reason:?}");
    }
    for reason in [Reason::RoleRequired, Reason::SelfLockout, Reason::Bootstrap, Reason::NotMember] {
        assert_eq!(reason.rule(), None, "{reason:?} is not a §3 rule");
    }
}

/// "list CAs / certificates: all / own org / own org" — the listing scope, per policy.
#[rustfmt::skip]
#[test]
fn listing_scopes_follow_the_matrix() {
    let cases: [(&str, Policy, Principal, Scope); 12] = [
        ("superuser", D, SUPER, Scope::All),
        ("superuser, strict", S, SUPER, Scope::All),
        ("superuser with an org", D, SUPER_A, Scope::All),
        ("admin", D, ADMIN_A, Scope::OrganizationOrCreator { organization: ORG_A, creator: ADMIN_A.id }),
        ("admin, strict", S, ADMIN_A, Scope::Organization(ORG_A)),
        ("user", D, USER_A, Scope::OrganizationOrCreator { organization: ORG_A, creator: USER_A.id }),
        ("user, strict", S, USER_A, Scope::Organization(ORG_A)),
        ("user without org", D, USER_NONE, Scope::Creator(USER_NONE.id)),
        ("user without org, strict", S, USER_NONE, Scope::Nothing),
        ("admin without org, strict", S, ADMIN_NONE, Scope::Nothing),
        ("inactive user", D, USER_A.with_active(false), Scope::Nothing),
        ("inactive superuser", S, SUPER.with_active(false), Scope::Nothing),
    ];
    for (name, policy, principal, expected) in cases {
        assert_eq!(policy.scope(&principal), expected, "scope of {name}");
    }

    // What a listing shows: (who, resource, listed under documented, listed under strict).
    let own = Resource::new(Some(ORG_A), Some(USER_A.id));
    let own_elsewhere = Resource::new(Some(ORG_B), Some(USER_A.id));
    let own_orgless = Resource::new(None, Some(USER_A.id));
    let listed: [(&str, Principal, Resource, bool, bool); 10] = [
        ("user: colleague's CA", USER_A, IN_A, true, true),
        ("user: own CA", USER_A, own, true, true),
        ("user: own CA now in another org", USER_A, own_elsewhere, true, false),
        ("user: own org-less CA", USER_A, own_orgless, true, false),
        ("user: other org's CA", USER_A, IN_B, false, false),
        ("user: org-less CA", USER_A, ORGLESS, false, false),
        ("admin: other org's CA", ADMIN_A, IN_B, false, false),
        ("admin: org-less CA", ADMIN_A, ORGLESS, false, false),
        ("superuser: other org's CA", SUPER_A, IN_B, true, true),
        ("superuser: org-less CA", SUPER, ORGLESS, true, true),
    ];
    for (name, principal, resource, documented, strict) in listed {
        assert_eq!(D.scope(&principal).contains(&resource), documented, "{name} (documented)");
        assert_eq!(S.scope(&principal).contains(&resource), strict, "{name} (strict)");
        // The list and the view agree.
        assert_eq!(D.authorize(&principal, Action::Read, &resource).is_allowed(), documented, "{name}");
        assert_eq!(S.authorize(&principal, Action::Read, &resource).is_allowed(), strict, "{name}");
    }
}

/// The matrix rows that are not about resources: organizations, users, the audit log.
#[rustfmt::skip]
#[test]
fn organization_user_and_audit_rows_follow_the_matrix() {
    let add_none_to_a = OrgAct::AddMember { organization: ORG_A, user: USER_NONE };
    let remove_from_a = OrgAct::RemoveMember { organization: ORG_A, user: USER_A };
    let rows = [
        row("create organization: superuser", org(SUPER, OrgAct::Create), ALLOW, Reason::Superuser),
        row("create organization: admin", org(ADMIN_A, OrgAct::Create), ALLOW, Reason::RolePermits),
        row("create organization: user", org(USER_A, OrgAct::Create), DENY, Reason::RoleRequired),
        row("update organization: superuser", org(SUPER, OrgAct::Update(ORG_A)), ALLOW, Reason::Superuser),
        row("update organization: admin, own org", org(ADMIN_A, OrgAct::Update(ORG_A)), ALLOW, Reason::OrganizationAdmin),
        row("update organization: admin, other org", org(ADMIN_A, OrgAct::Update(ORG_B)), DENY, Reason::NotMember),
        row("update organization: user, own org", org(USER_A, OrgAct::Update(ORG_A)), DENY, Reason::RoleRequired),
        row("delete organization: superuser", org(SUPER, OrgAct::Delete(ORG_A)), ALLOW, Reason::Superuser),
        row("delete organization: admin, own org", org(ADMIN_A, OrgAct::Delete(ORG_A)), DENY, Reason::RoleRequired),
        row("delete organization: user, own org", org(USER_A, OrgAct::Delete(ORG_A)), DENY, Reason::RoleRequired),
        row("manage membership: superuser", org(SUPER, add_none_to_a), ALLOW, Reason::Superuser),
        row("manage membership: admin, own org (add)", org(ADMIN_A, add_none_to_a), ALLOW, Reason::OrganizationAdmin),
        row("manage membership: admin, own org (remove)", org(ADMIN_A, remove_from_a), ALLOW, Reason::OrganizationAdmin),
        row("manage membership: admin, other org", org(ADMIN_B, add_none_to_a), DENY, Reason::NotMember),
        row("manage membership: user, own org", org(USER_A, add_none_to_a), DENY, Reason::RoleRequired),
        row("list all users: superuser", usr(SUPER, UserAct::List), ALLOW, Reason::Superuser),
        row("list all users: admin", usr(ADMIN_A, UserAct::List), DENY, Reason::RoleRequired),
        row("list all users: user", usr(USER_A, UserAct::List), DENY, Reason::RoleRequired),
        row("delete a user: superuser", usr(SUPER, UserAct::Delete(USER_A)), ALLOW, Reason::Superuser),
        row("delete a user: admin of the user's org", usr(ADMIN_A, UserAct::Delete(USER_A)), DENY, Reason::RoleRequired),
        row("delete a user: user", usr(USER_A2, UserAct::Delete(USER_A)), DENY, Reason::RoleRequired),
        row("read audit logs: superuser", org(SUPER, OrgAct::ReadAuditLog), ALLOW, Reason::Superuser),
        row("read audit logs: admin", org(ADMIN_A, OrgAct::ReadAuditLog), ALLOW, Reason::RolePermits),
        row("read audit logs: user", org(USER_A, OrgAct::ReadAuditLog), DENY, Reason::RoleRequired),
    ];
    check_table("§3 matrix, non-resource rows", &rows);

    // "read audit logs: all / own org / no".
    let audit_scopes = [
        ("superuser", SUPER, Scope::All),
        ("admin", ADMIN_A, Scope::Organization(ORG_A)),
        ("user", USER_A, Scope::Nothing),
    ];
    for (name, principal, expected) in audit_scopes {
        assert_eq!(D.audit_scope(&principal), expected, "audit scope of {name}");
    }
}
