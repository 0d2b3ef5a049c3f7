//! SPEC.md §4: every row of the organization endpoint table, the isolation rules we close
//! there, and the organization and audit-log listing scopes (§4, §6).

use orgtenancy_core::{OrgAct, Policy, Principal, Reason, Resource, Scope};

use crate::support::*;

#[rustfmt::skip]
#[test]
fn organization_endpoints_follow_the_table() {
    let a = ORG_A;
    let b = ORG_B;
    let user_c_in_b = who(32, orgtenancy_core::Role::User, Some(ORG_B));
    let super_in_a = SUPER_A;
    let rows = [
        // POST /organizations/ — admin or superuser.
        row("create: superuser", org(SUPER, OrgAct::Create), ALLOW, Reason::Superuser),
        row("create: admin", org(ADMIN_A, OrgAct::Create), ALLOW, Reason::RolePermits),
        row("create: admin without org", org(ADMIN_NONE, OrgAct::Create), ALLOW, Reason::RolePermits),
        row("create: user", org(USER_A, OrgAct::Create), DENY, Reason::RoleRequired),
        row("create: user without org", org(USER_NONE, OrgAct::Create), DENY, Reason::RoleRequired),
        row("create: inactive admin", org(ADMIN_A.with_active(false), OrgAct::Create), DENY, Reason::Inactive),
        // GET /organizations/ — any active user (what they see: the scope test below).
        row("list: superuser", org(SUPER, OrgAct::List), ALLOW, Reason::Superuser),
        row("list: admin", org(ADMIN_A, OrgAct::List), ALLOW, Reason::MemberRead),
        row("list: user", org(USER_A, OrgAct::List), ALLOW, Reason::MemberRead),
        row("list: user without org", org(USER_NONE, OrgAct::List), ALLOW, Reason::MemberRead),
        row("list: inactive user", org(USER_A.with_active(false), OrgAct::List), DENY, Reason::Inactive),
        // GET /organizations/{id} — members of it; superuser any; 403 whether or not it exists.
        row("view: member user", org(USER_A, OrgAct::View(a)), ALLOW, Reason::MemberRead),
        row("view: member admin", org(ADMIN_A, OrgAct::View(a)), ALLOW, Reason::MemberRead),
        row("view: superuser, any org", org(SUPER_A, OrgAct::View(b)), ALLOW, Reason::Superuser),
        row("view: superuser, missing org (404 is storage's)", org(SUPER, OrgAct::View(ORG_MISSING)), ALLOW, Reason::Superuser),
        row("view: non-member user", org(USER_B, OrgAct::View(a)), DENY, Reason::NotMember),
        row("view: non-member admin", org(ADMIN_A, OrgAct::View(b)), DENY, Reason::NotMember),
        row("view: user without org", org(USER_NONE, OrgAct::View(a)), DENY, Reason::NotMember),
        row("view: missing org, non-member", org(ADMIN_A, OrgAct::View(ORG_MISSING)), DENY, Reason::NotMember),
        row("view: inactive member", org(USER_A.with_active(false), OrgAct::View(a)), DENY, Reason::Inactive),
        // PUT /organizations/{id} — superuser, or admin of that organization.
        row("update: superuser", org(SUPER, OrgAct::Update(b)), ALLOW, Reason::Superuser),
        row("update: admin of it", org(ADMIN_A, OrgAct::Update(a)), ALLOW, Reason::OrganizationAdmin),
        row("update: admin of another", org(ADMIN_B, OrgAct::Update(a)), DENY, Reason::NotMember),
        row("update: admin without org", org(ADMIN_NONE, OrgAct::Update(a)), DENY, Reason::NotMember),
        row("update: member user", org(USER_A, OrgAct::Update(a)), DENY, Reason::RoleRequired),
        row("update: inactive admin of it", org(ADMIN_A.with_active(false), OrgAct::Update(a)), DENY, Reason::Inactive),
        // DELETE /organizations/{id} — superuser only.
        row("delete: superuser", org(SUPER, OrgAct::Delete(a)), ALLOW, Reason::Superuser),
        row("delete: superuser member", org(SUPER_A, OrgAct::Delete(a)), ALLOW, Reason::Superuser),
        row("delete: admin of it", org(ADMIN_A, OrgAct::Delete(a)), DENY, Reason::RoleRequired),
        row("delete: admin of another", org(ADMIN_B, OrgAct::Delete(a)), DENY, Reason::RoleRequired),
        row("delete: member user", org(USER_A, OrgAct::Delete(a)), DENY, Reason::RoleRequired),
        row("delete: inactive superuser", org(SUPER.with_active(false), OrgAct::Delete(a)), DENY, Reason::Inactive),
        // POST /organizations/{id}/users/{user_id} — superuser any; admin of that organization.
        row("add: superuser, user without org", org(SUPER, OrgAct::AddMember { organization: a, user: USER_NONE }), ALLOW, Reason::Superuser),
        row("add: superuser moves a user between orgs", org(SUPER, OrgAct::AddMember { organization: a, user: USER_B }), ALLOW, Reason::Superuser),
        row("add: superuser, another superuser", org(SUPER, OrgAct::AddMember { organization: a, user: SUPER_A }), ALLOW, Reason::Superuser),
        row("add: admin of it, user without org", org(ADMIN_A, OrgAct::AddMember { organization: a, user: USER_NONE }), ALLOW, Reason::OrganizationAdmin),
        row("add: admin of it, admin without org", org(ADMIN_A, OrgAct::AddMember { organization: a, user: ADMIN_NONE }), ALLOW, Reason::OrganizationAdmin),
        row("add: admin of it, user already a member", org(ADMIN_A, OrgAct::AddMember { organization: a, user: USER_A2 }), ALLOW, Reason::OrganizationAdmin),
        row("add: admin of another org", org(ADMIN_B, OrgAct::AddMember { organization: a, user: USER_NONE }), DENY, Reason::NotMember),
        row("add: admin without org", org(ADMIN_NONE, OrgAct::AddMember { organization: a, user: USER_NONE }), DENY, Reason::NotMember),
        row("add: member user", org(USER_A, OrgAct::AddMember { organization: a, user: USER_NONE }), DENY, Reason::RoleRequired),
        row("add: inactive admin of it", org(ADMIN_A.with_active(false), OrgAct::AddMember { organization: a, user: USER_NONE }), DENY, Reason::Inactive),
        // Closed hole: moving a user out of another organization is a superuser's act.
        row("isolation: admin pulls a user out of another org", org(ADMIN_A, OrgAct::AddMember { organization: a, user: USER_B }), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin pulls an admin out of another org", org(ADMIN_A, OrgAct::AddMember { organization: a, user: ADMIN_B }), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin pulls a superuser in", org(ADMIN_A, OrgAct::AddMember { organization: a, user: SUPER }), DENY, Reason::TargetIsSuperuser),
        row("isolation: admin pushes a user into another org", org(ADMIN_A, OrgAct::AddMember { organization: b, user: USER_NONE }), DENY, Reason::NotMember),
        // DELETE /organizations/{id}/users/{user_id} — superuser any; admin of that organization.
        row("remove: superuser", org(SUPER, OrgAct::RemoveMember { organization: b, user: USER_B }), ALLOW, Reason::Superuser),
        row("remove: admin of it, member", org(ADMIN_A, OrgAct::RemoveMember { organization: a, user: USER_A }), ALLOW, Reason::OrganizationAdmin),
        row("remove: admin of it, fellow admin", org(ADMIN_A, OrgAct::RemoveMember { organization: a, user: ADMIN_A2 }), ALLOW, Reason::OrganizationAdmin),
        row("remove: admin of another org", org(ADMIN_B, OrgAct::RemoveMember { organization: a, user: USER_A }), DENY, Reason::NotMember),
        row("remove: member user", org(USER_A2, OrgAct::RemoveMember { organization: a, user: USER_A }), DENY, Reason::RoleRequired),
        row("remove: inactive admin of it", org(ADMIN_A.with_active(false), OrgAct::RemoveMember { organization: a, user: USER_A }), DENY, Reason::Inactive),
        // Closed hole: an admin removes only members of its own organization.
        row("isolation: admin removes a user of another org", org(ADMIN_A, OrgAct::RemoveMember { organization: a, user: user_c_in_b }), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin removes a user without org", org(ADMIN_A, OrgAct::RemoveMember { organization: a, user: USER_NONE }), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin removes a superuser member", org(ADMIN_A, OrgAct::RemoveMember { organization: a, user: super_in_a }), DENY, Reason::TargetIsSuperuser),
        row("isolation: admin removes from another org", org(ADMIN_A, OrgAct::RemoveMember { organization: b, user: USER_B }), DENY, Reason::NotMember),
        // GET /organizations/{id}/users — members of it; superuser any.
        row("members: member user", org(USER_A, OrgAct::ListMembers(a)), ALLOW, Reason::MemberRead),
        row("members: member admin", org(ADMIN_A, OrgAct::ListMembers(a)), ALLOW, Reason::MemberRead),
        row("members: superuser", org(SUPER, OrgAct::ListMembers(b)), ALLOW, Reason::Superuser),
        row("members: non-member user", org(USER_B, OrgAct::ListMembers(a)), DENY, Reason::NotMember),
        row("members: non-member admin", org(ADMIN_A, OrgAct::ListMembers(b)), DENY, Reason::NotMember),
        row("members: user without org", org(USER_NONE, OrgAct::ListMembers(a)), DENY, Reason::NotMember),
        row("members: inactive member", org(USER_A.with_active(false), OrgAct::ListMembers(a)), DENY, Reason::Inactive),
        // GET /audit-logs/ (§6) — superuser all, admin its organization's, user 403.
        row("audit: superuser", org(SUPER, OrgAct::ReadAuditLog), ALLOW, Reason::Superuser),
        row("audit: admin", org(ADMIN_A, OrgAct::ReadAuditLog), ALLOW, Reason::RolePermits),
        row("audit: admin without org (sees none)", org(ADMIN_NONE, OrgAct::ReadAuditLog), ALLOW, Reason::RolePermits),
        row("audit: user", org(USER_A, OrgAct::ReadAuditLog), DENY, Reason::RoleRequired),
        row("audit: inactive admin", org(ADMIN_A.with_active(false), OrgAct::ReadAuditLog), DENY, Reason::Inactive),
    ];
    check_table("§4 organizations", &rows);
}

/// `GET /organizations/`: superuser all; others only their own, or `[]` without one.
/// `GET /audit-logs/`: superuser all; admin its organization's (none without one); user none.
#[test]
fn organization_and_audit_scopes() {
    let cases: [(&str, Principal, Scope, Scope); 8] = [
        ("superuser", SUPER, Scope::All, Scope::All),
        ("superuser with an org", SUPER_A, Scope::All, Scope::All),
        (
            "admin",
            ADMIN_A,
            Scope::Organization(ORG_A),
            Scope::Organization(ORG_A),
        ),
        (
            "admin without org",
            ADMIN_NONE,
            Scope::Nothing,
            Scope::Nothing,
        ),
        ("user", USER_A, Scope::Organization(ORG_A), Scope::Nothing),
        (
            "user without org",
            USER_NONE,
            Scope::Nothing,
            Scope::Nothing,
        ),
        (
            "inactive admin",
            ADMIN_A.with_active(false),
            Scope::Nothing,
            Scope::Nothing,
        ),
        (
            "inactive superuser",
            SUPER.with_active(false),
            Scope::Nothing,
            Scope::Nothing,
        ),
    ];
    for (name, principal, organizations, audit) in cases {
        for policy in [Policy::DOCUMENTED, Policy::STRICT] {
            assert_eq!(
                policy.organization_scope(&principal),
                organizations,
                "organizations of {name}"
            );
            assert_eq!(
                policy.audit_scope(&principal),
                audit,
                "audit entries of {name}"
            );
        }
    }
    // The organizations table has no creator column: an organization row is
    // "organization = its own id, creator = none". The list shows exactly the viewable ones.
    for principal in [SUPER, ADMIN_A, USER_B, USER_NONE] {
        for id in [ORG_A, ORG_B, ORG_MISSING] {
            let org_row = Resource::new(Some(id), None);
            assert_eq!(
                Policy::DOCUMENTED
                    .organization_scope(&principal)
                    .contains(&org_row),
                Policy::DOCUMENTED
                    .authorize_org(&principal, OrgAct::View(id))
                    .is_allowed(),
                "{principal:?} listing organization {id}"
            );
        }
    }
}
