//! The engine's names and small values, pinned one by one: the spelling of every reason (one
//! spelling, the serde form, everywhere), its description and rule, the role names, the
//! capability-set operations. Tables, so that a changed name or a mutated operation fails a
//! row that says which.

use std::collections::HashSet;

use orgtenancy_core::{
    Capability, CapabilitySet, Census, Decision, OrgId, Principal, Reason, Resource, Role,
    UserChange, UserId,
};

/// Every reason with its wire name, its §3 rule and its description.
const REASONS: [(Reason, &str, Option<u8>, &str); 21] = [
    (
        Reason::Inactive,
        "inactive",
        Some(0),
        "the account is inactive",
    ),
    (
        Reason::Superuser,
        "superuser",
        Some(1),
        "superusers may do everything",
    ),
    (
        Reason::Creator,
        "creator",
        Some(2),
        "the creator of a resource keeps access to it",
    ),
    (
        Reason::NoOrganization,
        "no_organization",
        Some(3),
        "resources outside any organization are superuser-only",
    ),
    (
        Reason::OtherOrganization,
        "other_organization",
        Some(4),
        "the resource belongs to another organization",
    ),
    (
        Reason::OrganizationAdmin,
        "organization_admin",
        Some(5),
        "admins have full access inside their organization",
    ),
    (
        Reason::MemberRead,
        "member_read",
        Some(6),
        "members may read inside their organization",
    ),
    (
        Reason::Capability,
        "capability",
        Some(7),
        "the action needs a capability flag",
    ),
    (
        Reason::RoleRequired,
        "role_required",
        None,
        "the action needs a higher role",
    ),
    (
        Reason::RolePermits,
        "role_permits",
        None,
        "the user's role permits the action",
    ),
    (
        Reason::NotMember,
        "not_member",
        None,
        "not a member of this organization",
    ),
    (
        Reason::TargetInOtherOrganization,
        "target_in_other_organization",
        None,
        "the user belongs to another organization",
    ),
    (
        Reason::TargetIsSuperuser,
        "target_is_superuser",
        None,
        "only a superuser may act on a superuser",
    ),
    (
        Reason::SelfService,
        "self_service",
        None,
        "users may manage their own account",
    ),
    (
        Reason::FieldNotPermitted,
        "field_not_permitted",
        None,
        "a requested field may not be changed by this user",
    ),
    (
        Reason::SelfLockout,
        "self_lockout",
        None,
        "a superuser may not demote, deactivate or delete itself",
    ),
    (
        Reason::LastSuperuser,
        "last_superuser",
        None,
        "the last active superuser may not be demoted, deactivated or deleted",
    ),
    (
        Reason::TargetMissing,
        "target_missing",
        None,
        "no such user or resource",
    ),
    (
        Reason::Bootstrap,
        "bootstrap",
        None,
        "the first user may be created by anyone",
    ),
    (
        Reason::OpenRegistration,
        "open_registration",
        None,
        "open registration allows creating a plain user",
    ),
    (
        Reason::Anonymous,
        "anonymous",
        None,
        "authentication is required",
    ),
];

#[test]
fn every_reason_has_one_name_its_rule_and_its_description() {
    assert_eq!(Reason::ALL.len(), REASONS.len());
    for (index, (reason, name, rule, description)) in REASONS.into_iter().enumerate() {
        assert_eq!(
            Reason::ALL.get(index),
            Some(&reason),
            "Reason::ALL[{index}]"
        );
        assert_eq!(reason.as_str(), name, "{reason:?}");
        assert_eq!(reason.to_string(), name, "{reason:?} Display");
        assert_eq!(reason.rule(), rule, "{reason:?} rule");
        assert_eq!(reason.describe(), description, "{reason:?} description");
        // The serde spelling is the same name (AuthZEN and logs use `as_str`).
        #[cfg(feature = "serde")]
        assert_eq!(
            serde_json::to_value(reason).unwrap_or_default(),
            serde_json::json!(name),
            "{reason:?} serde"
        );
    }
    let names: HashSet<_> = Reason::ALL.iter().map(|reason| reason.as_str()).collect();
    assert_eq!(names.len(), Reason::ALL.len(), "reason names are distinct");
}

#[cfg(feature = "serde")]
#[test]
fn decisions_serialize_with_the_reason_name() {
    let decision = Decision::deny(Reason::TargetIsSuperuser);
    let json = serde_json::to_value(decision).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({"effect": "deny", "reason": "target_is_superuser"})
    );
}

#[test]
fn decisions_say_allow_or_deny() {
    assert!(Decision::allow(Reason::Creator).is_allowed());
    assert!(!Decision::allow(Reason::Creator).is_denied());
    assert!(Decision::deny(Reason::Creator).is_denied());
    assert!(!Decision::deny(Reason::Creator).is_allowed());
}

#[test]
fn roles_have_one_lowercase_name() {
    let table = [
        (Role::User, "user"),
        (Role::Admin, "admin"),
        (Role::Superuser, "superuser"),
    ];
    assert_eq!(Role::ALL, table.map(|(role, _)| role));
    for (role, name) in table {
        assert_eq!(role.as_str(), name);
        assert_eq!(role.to_string(), name);
        assert_eq!(Role::parse(name), Some(role));
        #[cfg(feature = "serde")]
        assert_eq!(
            serde_json::to_value(role).unwrap_or_default(),
            serde_json::json!(name)
        );
    }
    for refused in ["", "User", "ADMIN", "root", "superuser ", "xyz"] {
        assert_eq!(Role::parse(refused), None, "{refused:?}");
    }
}

#[test]
fn ids_display_as_their_number() {
    assert_eq!(UserId(42).to_string(), "42");
    assert_eq!(OrgId(-7).to_string(), "-7");
}

const A: Capability = Capability::of::<0>();
const B: Capability = Capability::of::<3>();
const TOP: Capability = Capability::of::<31>();

#[test]
fn capability_sets_add_remove_and_compare_bit_by_bit() {
    // (start, operation, expected mask)
    let ab = CapabilitySet::from_bits(0b1001);
    let cases: [(&str, CapabilitySet, u32); 9] = [
        ("with A", CapabilitySet::EMPTY.with(A), 0b1),
        ("with B", CapabilitySet::EMPTY.with(B), 0b1000),
        ("with A twice", CapabilitySet::EMPTY.with(A).with(A), 0b1),
        ("with TOP", CapabilitySet::EMPTY.with(TOP), 1 << 31),
        ("AB without A", ab.without(A), 0b1000),
        ("AB without TOP", ab.without(TOP), 0b1001),
        ("EMPTY without A", CapabilitySet::EMPTY.without(A), 0),
        ("set B false", ab.set(B, false), 0b1),
        ("set TOP true", ab.set(TOP, true), 0b1001 | 1 << 31),
    ];
    for (name, got, bits) in cases {
        assert_eq!(got.bits(), bits, "{name}");
    }
    assert_eq!([A, B].into_iter().collect::<CapabilitySet>(), ab);
    assert_eq!(Capability::new(31).map(Capability::bit), Some(31));
    assert_eq!(Capability::new(32), None);
}

#[test]
fn subsets_are_decided_by_every_bit() {
    let a = CapabilitySet::EMPTY.with(A);
    let b = CapabilitySet::EMPTY.with(B);
    let ab = a.with(B);
    let cases = [
        (CapabilitySet::EMPTY, ab, true),
        (a, ab, true),
        (ab, ab, true),
        (ab, a, false),
        (a, b, false),
        (b, a, false),
        (a, CapabilitySet::EMPTY, false),
        (CapabilitySet::EMPTY.with(TOP), ab, false),
    ];
    for (small, large, subset) in cases {
        assert_eq!(small.is_subset_of(large), subset, "{small:?} ⊆ {large:?}");
    }
}

#[test]
fn facts_are_built_field_by_field() {
    let base = Principal::new(UserId(5), Role::User, Some(OrgId(1)));
    let moved = base.with_organization(Some(OrgId(3)));
    assert_eq!(moved.organization, Some(OrgId(3)));
    assert_eq!(base.with_organization(None).organization, None);
    assert_eq!(base.with_role(Role::Admin).role, Role::Admin);
    assert!(!base.with_active(false).active && base.active);
    let flags = CapabilitySet::EMPTY.with(A);
    assert_eq!(base.with_capabilities(flags).capabilities, flags);
    // Each builder sets its own field and no other.
    assert_eq!(
        (moved.id, moved.role, moved.capabilities, moved.active),
        (base.id, base.role, base.capabilities, base.active)
    );

    let resource = Resource::new(Some(OrgId(1)), Some(UserId(9)));
    let adopted = resource.with_organization(Some(OrgId(2)));
    assert_eq!(
        (adopted.organization, adopted.creator),
        (Some(OrgId(2)), Some(UserId(9)))
    );

    let none = UserChange::NONE;
    assert_eq!(none, UserChange::default());
    let rows: [(&str, UserChange); 6] = [
        ("email", none.with_email()),
        ("password", none.with_password()),
        ("capabilities", none.with_capabilities(flags)),
        ("role", none.with_role(Role::Admin)),
        ("active", none.with_active(false)),
        ("organization", none.with_organization(None)),
    ];
    for (name, change) in rows {
        let set = [
            change.email,
            change.password,
            change.capabilities == Some(flags),
            change.role == Some(Role::Admin),
            change.active == Some(false),
            change.organization == Some(None),
        ];
        let expected: Vec<bool> = [
            "email",
            "password",
            "capabilities",
            "role",
            "active",
            "organization",
        ]
        .iter()
        .map(|field| *field == name)
        .collect();
        assert_eq!(set.to_vec(), expected, "{name}");
    }
    assert_eq!(Census::new(false), Census::NO_OTHER_SUPERUSER);
    assert_eq!(Census::new(true), Census::OTHER_SUPERUSER);
}
