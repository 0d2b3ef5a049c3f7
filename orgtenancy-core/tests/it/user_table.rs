//! SPEC.md §5: every row of the user endpoint table, with the field-level PATCH rules,
//! bootstrap, open registration, self-lockout and the isolation holes we close there.

use orgtenancy_core::{
    CapabilitySet, MissingUserAct, OrgId, Policy, Principal, Reason, Role, UserAct, UserChange,
};

use crate::support::*;

const OPEN: Policy = Policy {
    open_registration: true,
    ..Policy::DOCUMENTED
};

fn create(role: Role, organization: Option<OrgId>) -> UserAct {
    UserAct::Create {
        role,
        organization,
        first_user: false,
    }
}

fn set_up(role: Role, organization: Option<OrgId>, active: bool) -> UserAct {
    UserAct::SetUpNewUser {
        role,
        organization,
        active,
    }
}

fn first(role: Role, organization: Option<OrgId>) -> UserAct {
    UserAct::Create {
        role,
        organization,
        first_user: true,
    }
}

fn patch(actor: Principal, user: Principal, change: UserChange) -> Ask {
    usr(actor, UserAct::Update { user, change })
}

fn email() -> UserChange {
    UserChange::NONE.with_email()
}

fn password() -> UserChange {
    UserChange::NONE.with_password()
}

fn flags(capabilities: CapabilitySet) -> UserChange {
    UserChange::NONE.with_capabilities(capabilities)
}

fn role(role: Role) -> UserChange {
    UserChange::NONE.with_role(role)
}

fn active(active: bool) -> UserChange {
    UserChange::NONE.with_active(active)
}

fn move_to(organization: Option<OrgId>) -> UserChange {
    UserChange::NONE.with_organization(organization)
}

#[rustfmt::skip]
#[test]
fn creating_users_follows_the_table() {
    let (a, b) = (Some(ORG_A), Some(ORG_B));
    let rows = [
        // The very first user: anyone, any role.
        row("bootstrap: anonymous superuser", anon(Policy::DOCUMENTED, first(Role::Superuser, None)), ALLOW, Reason::Bootstrap),
        row("bootstrap: anonymous admin in an org", anon(Policy::DOCUMENTED, first(Role::Admin, a)), ALLOW, Reason::Bootstrap),
        row("bootstrap: anonymous plain user", anon(Policy::STRICT, first(Role::User, None)), ALLOW, Reason::Bootstrap),
        row("bootstrap: with open registration", anon(OPEN, first(Role::Superuser, None)), ALLOW, Reason::Bootstrap),
        // Afterwards, anonymous: only with registration on, and only a plain user without org.
        row("anonymous, registration off", anon(Policy::DOCUMENTED, create(Role::User, None)), DENY, Reason::Anonymous),
        row("anonymous, registration off, strict", anon(Policy::STRICT, create(Role::User, None)), DENY, Reason::Anonymous),
        row("anonymous, registration on", anon(OPEN, create(Role::User, None)), ALLOW, Reason::OpenRegistration),
        row("anonymous, registration on, admin role", anon(OPEN, create(Role::Admin, None)), DENY, Reason::Anonymous),
        row("anonymous, registration on, superuser role", anon(OPEN, create(Role::Superuser, None)), DENY, Reason::Anonymous),
        row("anonymous, registration on, into an org", anon(OPEN, create(Role::User, a)), DENY, Reason::Anonymous),
        // Admin and superuser roles need a superuser.
        row("superuser creates a superuser", usr(SUPER, create(Role::Superuser, None)), ALLOW, Reason::Superuser),
        row("superuser creates an admin in an org", usr(SUPER, create(Role::Admin, b)), ALLOW, Reason::Superuser),
        row("superuser creates a user in any org", usr(SUPER_A, create(Role::User, b)), ALLOW, Reason::Superuser),
        row("admin creates an admin", usr(ADMIN_A, create(Role::Admin, a)), DENY, Reason::RoleRequired),
        row("admin creates a superuser", usr(ADMIN_A, create(Role::Superuser, None)), DENY, Reason::RoleRequired),
        // A plain user: an admin, into its own organization or none.
        row("admin creates a user in its org", usr(ADMIN_A, create(Role::User, a)), ALLOW, Reason::OrganizationAdmin),
        row("admin creates a user without org", usr(ADMIN_A, create(Role::User, None)), ALLOW, Reason::RolePermits),
        row("admin without org creates a user without org", usr(ADMIN_NONE, create(Role::User, None)), ALLOW, Reason::RolePermits),
        // Closed hole: creating inside an organization needs its membership management.
        row("isolation: admin creates a user in another org", usr(ADMIN_A, create(Role::User, b)), DENY, Reason::NotMember),
        row("isolation: admin without org creates a user in an org", usr(ADMIN_NONE, create(Role::User, a)), DENY, Reason::NotMember),
        row("user creates a user", usr(USER_A, create(Role::User, a)), DENY, Reason::RoleRequired),
        row("user creates a user without org", usr(USER_A, create(Role::User, None)), DENY, Reason::RoleRequired),
        row("inactive superuser creates", usr(SUPER.with_active(false), create(Role::User, None)), DENY, Reason::Inactive),
        // Flags or an inactive state on the new user: as the same change of a user one has.
        row("set-up: superuser, inactive admin", usr(SUPER, set_up(Role::Admin, b, false)), ALLOW, Reason::Superuser),
        row("set-up: admin, flags in its org", usr(ADMIN_A, set_up(Role::User, a, true)), ALLOW, Reason::OrganizationAdmin),
        row("set-up: admin, inactive in its org", usr(ADMIN_A, set_up(Role::User, a, false)), DENY, Reason::FieldNotPermitted),
        row("set-up: admin, flags without org", usr(ADMIN_A, set_up(Role::User, None, true)), DENY, Reason::TargetInOtherOrganization),
        row("set-up: admin, flags in another org", usr(ADMIN_A, set_up(Role::User, b, true)), DENY, Reason::TargetInOtherOrganization),
        row("set-up: admin without org, flags without org", usr(ADMIN_NONE, set_up(Role::User, None, true)), DENY, Reason::TargetInOtherOrganization),
        row("set-up: user, flags in its org", usr(USER_A, set_up(Role::User, a, true)), DENY, Reason::RoleRequired),
        row("set-up: anonymous, registration on", anon(OPEN, set_up(Role::User, None, true)), DENY, Reason::Anonymous),
        row("set-up: inactive superuser", usr(SUPER.with_active(false), set_up(Role::User, a, true)), DENY, Reason::Inactive),
        row("inactive admin creates", usr(ADMIN_A.with_active(false), create(Role::User, a)), DENY, Reason::Inactive),
    ];
    check_table("§5 POST /users/", &rows);
}

#[rustfmt::skip]
#[test]
fn reading_users_follows_the_table() {
    let rows = [
        // GET /users/ — superuser.
        row("list: superuser", usr(SUPER, UserAct::List), ALLOW, Reason::Superuser),
        row("list: admin", usr(ADMIN_A, UserAct::List), DENY, Reason::RoleRequired),
        row("list: user", usr(USER_A, UserAct::List), DENY, Reason::RoleRequired),
        row("list: inactive superuser", usr(SUPER.with_active(false), UserAct::List), DENY, Reason::Inactive),
        row("clear a login lockout: superuser", usr(SUPER, UserAct::ClearLoginLockout), ALLOW, Reason::Superuser),
        row("clear a login lockout: admin", usr(ADMIN_A, UserAct::ClearLoginLockout), DENY, Reason::RoleRequired),
        row("clear a login lockout: user", usr(USER_A, UserAct::ClearLoginLockout), DENY, Reason::RoleRequired),
        row("clear a login lockout: inactive superuser", usr(SUPER.with_active(false), UserAct::ClearLoginLockout), DENY, Reason::Inactive),
        row("clear a login lockout: anonymous", anon(OPEN, UserAct::ClearLoginLockout), DENY, Reason::Anonymous),
        // GET /users/me — any active user (as viewing oneself).
        row("me: user", usr(USER_A, UserAct::View(USER_A)), ALLOW, Reason::SelfService),
        row("me: user without org", usr(USER_NONE, UserAct::View(USER_NONE)), ALLOW, Reason::SelfService),
        row("me: admin", usr(ADMIN_A, UserAct::View(ADMIN_A)), ALLOW, Reason::SelfService),
        row("me: superuser", usr(SUPER, UserAct::View(SUPER)), ALLOW, Reason::Superuser),
        row("me: inactive user", usr(USER_A.with_active(false), UserAct::View(USER_A.with_active(false))), DENY, Reason::Inactive),
        // GET /users/{id} — self; superuser any; admin: members of its own organization.
        row("view: superuser, user of any org", usr(SUPER, UserAct::View(USER_B)), ALLOW, Reason::Superuser),
        row("view: superuser, another superuser", usr(SUPER_A, UserAct::View(SUPER)), ALLOW, Reason::Superuser),
        row("view: admin, member", usr(ADMIN_A, UserAct::View(USER_A)), ALLOW, Reason::OrganizationAdmin),
        row("view: admin, fellow admin", usr(ADMIN_A, UserAct::View(ADMIN_A2)), ALLOW, Reason::OrganizationAdmin),
        row("view: admin, inactive member", usr(ADMIN_A, UserAct::View(USER_A.with_active(false))), ALLOW, Reason::OrganizationAdmin),
        row("view: user, colleague", usr(USER_A, UserAct::View(USER_A2)), DENY, Reason::RoleRequired),
        // Closed holes: other tenants' users and superusers.
        row("isolation: admin views a user of another org", usr(ADMIN_A, UserAct::View(USER_B)), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin views an admin of another org", usr(ADMIN_A, UserAct::View(ADMIN_B)), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin views a user without org", usr(ADMIN_A, UserAct::View(USER_NONE)), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin without org views a user without org", usr(ADMIN_NONE, UserAct::View(USER_NONE)), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin views a superuser", usr(ADMIN_A, UserAct::View(SUPER)), DENY, Reason::TargetIsSuperuser),
        row("isolation: admin views a superuser of its org", usr(ADMIN_A, UserAct::View(SUPER_A)), DENY, Reason::TargetIsSuperuser),
    ];
    check_table("§5 GET /users", &rows);
}

#[rustfmt::skip]
#[test]
fn patching_users_follows_the_table() {
    let (a, b) = (Some(ORG_A), Some(ORG_B));
    let some_flags = caps(&[CAN_CREATE_CA, CAN_REVOKE_CERT]);
    let flagged_a = USER_A.with_capabilities(some_flags);
    let both = UserChange::NONE.with_email().with_password();
    let rows = [
        // Self: email and password.
        row("self: email", patch(USER_A, USER_A, email()), ALLOW, Reason::SelfService),
        row("self: password", patch(USER_A, USER_A, password()), ALLOW, Reason::SelfService),
        row("self: email and password", patch(USER_A, USER_A, both), ALLOW, Reason::SelfService),
        row("self: nothing (every field absent)", patch(USER_A, USER_A, UserChange::default()), ALLOW, Reason::SelfService),
        row("self without org: email", patch(USER_NONE, USER_NONE, email()), ALLOW, Reason::SelfService),
        row("self, admin without org: password", patch(ADMIN_NONE, ADMIN_NONE, password()), ALLOW, Reason::SelfService),
        row("self: own flags", patch(USER_A, USER_A, flags(some_flags)), DENY, Reason::FieldNotPermitted),
        row("self: own role", patch(USER_A, USER_A, role(Role::Admin)), DENY, Reason::FieldNotPermitted),
        row("self: deactivate", patch(USER_A, USER_A, active(false)), DENY, Reason::FieldNotPermitted),
        row("self: leave the org (null)", patch(USER_A, USER_A, move_to(None)), DENY, Reason::FieldNotPermitted),
        row("self: move to another org", patch(USER_A, USER_A, move_to(b)), DENY, Reason::FieldNotPermitted),
        row("self without org: join an org", patch(USER_NONE, USER_NONE, move_to(a)), DENY, Reason::FieldNotPermitted),
        row("self: email plus own role", patch(USER_A, USER_A, email().with_role(Role::Superuser)), DENY, Reason::FieldNotPermitted),
        // A field set to its current value is not a change.
        row("self: flags unchanged", patch(flagged_a, flagged_a, flags(some_flags)), ALLOW, Reason::SelfService),
        row("self: role unchanged", patch(USER_A, USER_A, role(Role::User)), ALLOW, Reason::SelfService),
        row("self: org unchanged", patch(USER_A, USER_A, move_to(a)), ALLOW, Reason::SelfService),
        row("self without org: org null, unchanged", patch(USER_NONE, USER_NONE, move_to(None)), ALLOW, Reason::SelfService),
        row("self: active unchanged", patch(USER_A, USER_A, active(true)), ALLOW, Reason::SelfService),
        row("user patches a colleague", patch(USER_A, USER_A2, email()), DENY, Reason::RoleRequired),
        row("inactive self", patch(USER_A.with_active(false), USER_A.with_active(false), email()), DENY, Reason::Inactive),
        // Admin of the user's organization: email, password, flags; never role, active, org.
        row("admin: member's email", patch(ADMIN_A, USER_A, email()), ALLOW, Reason::OrganizationAdmin),
        row("admin: member's password", patch(ADMIN_A, USER_A, password()), ALLOW, Reason::OrganizationAdmin),
        row("admin: member's flags", patch(ADMIN_A, USER_A, flags(some_flags)), ALLOW, Reason::OrganizationAdmin),
        row("admin: member's flags cleared", patch(ADMIN_A, flagged_a, flags(CapabilitySet::EMPTY)), ALLOW, Reason::OrganizationAdmin),
        row("admin: fellow admin's email", patch(ADMIN_A, ADMIN_A2, email()), ALLOW, Reason::OrganizationAdmin),
        row("admin: own email", patch(ADMIN_A, ADMIN_A, email()), ALLOW, Reason::OrganizationAdmin),
        row("admin: member's role", patch(ADMIN_A, USER_A, role(Role::Admin)), DENY, Reason::FieldNotPermitted),
        row("admin: own role", patch(ADMIN_A, ADMIN_A, role(Role::Superuser)), DENY, Reason::FieldNotPermitted),
        row("admin: deactivate a member", patch(ADMIN_A, USER_A, active(false)), DENY, Reason::FieldNotPermitted),
        row("admin: reactivate a member", patch(ADMIN_A, USER_A.with_active(false), active(true)), DENY, Reason::FieldNotPermitted),
        row("admin: member's org to null", patch(ADMIN_A, USER_A, move_to(None)), DENY, Reason::FieldNotPermitted),
        row("admin: member's org to another", patch(ADMIN_A, USER_A, move_to(b)), DENY, Reason::FieldNotPermitted),
        row("admin: member's org unchanged", patch(ADMIN_A, USER_A, email().with_organization(a)), ALLOW, Reason::OrganizationAdmin),
        row("admin: email plus role", patch(ADMIN_A, USER_A, email().with_role(Role::Admin)), DENY, Reason::FieldNotPermitted),
        // Closed holes: another organization's users, any superuser.
        row("isolation: admin, email of a user of another org", patch(ADMIN_A, USER_B, email()), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin, password of a user of another org", patch(ADMIN_A, USER_B, password()), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin, flags of a user of another org", patch(ADMIN_A, USER_B, flags(some_flags)), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin, email of a user without org", patch(ADMIN_A, USER_NONE, email()), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin, email of an admin of another org", patch(ADMIN_A, ADMIN_B, email()), DENY, Reason::TargetInOtherOrganization),
        row("isolation: admin, password of a superuser", patch(ADMIN_A, SUPER, password()), DENY, Reason::TargetIsSuperuser),
        row("isolation: admin, email of a superuser of its org", patch(ADMIN_A, SUPER_A, email()), DENY, Reason::TargetIsSuperuser),
        row("isolation: admin, flags of a superuser of its org", patch(ADMIN_A, SUPER_A, flags(some_flags)), DENY, Reason::TargetIsSuperuser),
        // Superuser: everything, on anyone but its own role and active state.
        row("superuser: email of anyone", patch(SUPER, USER_B, email()), ALLOW, Reason::Superuser),
        row("superuser: flags", patch(SUPER, USER_A, flags(some_flags)), ALLOW, Reason::Superuser),
        row("superuser: promote to superuser", patch(SUPER, USER_A, role(Role::Superuser)), ALLOW, Reason::Superuser),
        row("superuser: demote another superuser", patch(SUPER, SUPER_A, role(Role::User)), ALLOW, Reason::Superuser),
        row("superuser: deactivate another superuser", patch(SUPER, SUPER_A, active(false)), ALLOW, Reason::Superuser),
        row("superuser: move a user between orgs", patch(SUPER, USER_A, move_to(b)), ALLOW, Reason::Superuser),
        row("superuser: org to null", patch(SUPER, USER_A, move_to(None)), ALLOW, Reason::Superuser),
        row("superuser: own email", patch(SUPER, SUPER, email()), ALLOW, Reason::Superuser),
        row("superuser: own org", patch(SUPER, SUPER, move_to(a)), ALLOW, Reason::Superuser),
        row("superuser: own role unchanged", patch(SUPER, SUPER, role(Role::Superuser)), ALLOW, Reason::Superuser),
        row("superuser: own active unchanged", patch(SUPER, SUPER, active(true)), ALLOW, Reason::Superuser),
        row("self-lockout: superuser demotes itself to admin", patch(SUPER, SUPER, role(Role::Admin)), DENY, Reason::SelfLockout),
        row("self-lockout: superuser demotes itself to user", patch(SUPER_A, SUPER_A, role(Role::User)), DENY, Reason::SelfLockout),
        row("self-lockout: superuser deactivates itself", patch(SUPER, SUPER, active(false)), DENY, Reason::SelfLockout),
        row("self-lockout: email plus deactivation", patch(SUPER, SUPER, email().with_active(false)), DENY, Reason::SelfLockout),
        row("inactive superuser", patch(SUPER.with_active(false), USER_A, email()), DENY, Reason::Inactive),
    ];
    check_table("§5 PATCH /users/{id}", &rows);
}

#[rustfmt::skip]
#[test]
fn deleting_users_follows_the_table() {
    let rows = [
        row("superuser deletes a user", usr(SUPER, UserAct::Delete(USER_B)), ALLOW, Reason::Superuser),
        row("superuser deletes an admin", usr(SUPER_A, UserAct::Delete(ADMIN_A)), ALLOW, Reason::Superuser),
        row("superuser deletes another superuser", usr(SUPER, UserAct::Delete(SUPER_A)), ALLOW, Reason::Superuser),
        row("self-lockout: superuser deletes itself", usr(SUPER, UserAct::Delete(SUPER)), DENY, Reason::SelfLockout),
        row("self-lockout: superuser with org deletes itself", usr(SUPER_A, UserAct::Delete(SUPER_A)), DENY, Reason::SelfLockout),
        row("admin deletes a member", usr(ADMIN_A, UserAct::Delete(USER_A)), DENY, Reason::RoleRequired),
        row("admin deletes itself", usr(ADMIN_A, UserAct::Delete(ADMIN_A)), DENY, Reason::RoleRequired),
        row("user deletes itself", usr(USER_A, UserAct::Delete(USER_A)), DENY, Reason::RoleRequired),
        row("inactive superuser", usr(SUPER.with_active(false), UserAct::Delete(USER_A)), DENY, Reason::Inactive),
    ];
    check_table("§5 DELETE /users/{id}", &rows);
}

#[rustfmt::skip]
#[test]
fn the_last_active_superuser_remains() {
    let demote = |user| UserAct::Update { user, change: role(Role::Admin) };
    let deactivate = |user| UserAct::Update { user, change: active(false) };
    let inactive_super = SUPER_A.with_active(false);
    let rows = [
        // No active superuser but the target: it stays a superuser, active, and stored.
        row("last: demote", alone(SUPER, demote(SUPER_A)), DENY, Reason::LastSuperuser),
        row("last: demote to user", alone(SUPER, UserAct::Update { user: SUPER_A, change: role(Role::User) }), DENY, Reason::LastSuperuser),
        row("last: deactivate", alone(SUPER, deactivate(SUPER_A)), DENY, Reason::LastSuperuser),
        row("last: delete", alone(SUPER, UserAct::Delete(SUPER_A)), DENY, Reason::LastSuperuser),
        row("last: email plus deactivation", alone(SUPER, UserAct::Update { user: SUPER_A, change: email().with_active(false) }), DENY, Reason::LastSuperuser),
        // Changes that keep it an active superuser are allowed.
        row("last: email", alone(SUPER, UserAct::Update { user: SUPER_A, change: email() }), ALLOW, Reason::Superuser),
        row("last: role unchanged", alone(SUPER, UserAct::Update { user: SUPER_A, change: role(Role::Superuser) }), ALLOW, Reason::Superuser),
        row("last: active unchanged", alone(SUPER, UserAct::Update { user: SUPER_A, change: active(true) }), ALLOW, Reason::Superuser),
        row("last: move to another org", alone(SUPER, UserAct::Update { user: SUPER_A, change: move_to(Some(ORG_B)) }), ALLOW, Reason::Superuser),
        // An inactive superuser or a non-superuser is not the last active superuser.
        row("inactive superuser: demote", alone(SUPER, demote(inactive_super)), ALLOW, Reason::Superuser),
        row("inactive superuser: delete", alone(SUPER, UserAct::Delete(inactive_super)), ALLOW, Reason::Superuser),
        row("admin: delete", alone(SUPER, UserAct::Delete(ADMIN_A)), ALLOW, Reason::Superuser),
        row("admin: deactivate", alone(SUPER, deactivate(ADMIN_A)), ALLOW, Reason::Superuser),
        // Self-lockout is decided first; other actors are refused for their own reasons.
        row("self: demote", alone(SUPER, demote(SUPER)), DENY, Reason::SelfLockout),
        row("self: delete", alone(SUPER, UserAct::Delete(SUPER)), DENY, Reason::SelfLockout),
        row("admin demotes it", alone(ADMIN_A, demote(SUPER_A)), DENY, Reason::TargetIsSuperuser),
        row("admin deletes it", alone(ADMIN_A, UserAct::Delete(SUPER_A)), DENY, Reason::RoleRequired),
        row("inactive superuser actor", alone(SUPER.with_active(false), UserAct::Delete(SUPER_A)), DENY, Reason::Inactive),
    ];
    check_table("§5 the last active superuser", &rows);
}

#[rustfmt::skip]
#[test]
fn acts_on_a_missing_user_follow_the_table() {
    let (a, b) = (ORG_A, ORG_B);
    let rows = [
        row("superuser views", missing(SUPER, MissingUserAct::View), ALLOW, Reason::Superuser),
        row("superuser patches", missing(SUPER_A, MissingUserAct::Update), ALLOW, Reason::Superuser),
        row("superuser deletes", missing(SUPER, MissingUserAct::Delete), ALLOW, Reason::Superuser),
        row("superuser adds", missing(SUPER, MissingUserAct::AddMember(b)), ALLOW, Reason::Superuser),
        row("superuser removes", missing(SUPER, MissingUserAct::RemoveMember(a)), ALLOW, Reason::Superuser),
        row("admin views", missing(ADMIN_A, MissingUserAct::View), DENY, Reason::TargetMissing),
        row("admin patches", missing(ADMIN_A, MissingUserAct::Update), DENY, Reason::TargetMissing),
        row("admin deletes", missing(ADMIN_A, MissingUserAct::Delete), DENY, Reason::RoleRequired),
        row("admin adds to its org", missing(ADMIN_A, MissingUserAct::AddMember(a)), DENY, Reason::TargetMissing),
        row("admin adds to another org", missing(ADMIN_A, MissingUserAct::AddMember(b)), DENY, Reason::NotMember),
        row("admin removes from its org", missing(ADMIN_A, MissingUserAct::RemoveMember(a)), DENY, Reason::TargetMissing),
        row("admin without org adds", missing(ADMIN_NONE, MissingUserAct::AddMember(a)), DENY, Reason::NotMember),
        row("user views", missing(USER_A, MissingUserAct::View), DENY, Reason::RoleRequired),
        row("user adds to its org", missing(USER_A, MissingUserAct::AddMember(a)), DENY, Reason::RoleRequired),
        row("inactive superuser views", missing(SUPER.with_active(false), MissingUserAct::View), DENY, Reason::Inactive),
    ];
    check_table("acts on a missing user", &rows);
}
