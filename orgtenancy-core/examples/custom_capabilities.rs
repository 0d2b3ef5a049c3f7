//! An application that declares its own capabilities and asks the engine for decisions.
//!
//! The engine knows nothing of what a capability means: this document publishing app names
//! three of its own, grants them to plain users, and gets back decisions that say which rule
//! of the hierarchy decided — ready to log or to show in a refusal.
//!
//! Run with `cargo run -p orgtenancy-core --example custom_capabilities`.

use orgtenancy_core::{
    Action, Capability, CapabilitySet, Decision, OrgAct, OrgId, Policy, Principal, Resource, Role,
    UserId,
};

/// Publish a draft so readers see it.
const PUBLISH: Capability = Capability::of::<0>();
/// Edit a document somebody else wrote.
const EDIT_OTHERS: Capability = Capability::of::<1>();
/// Delete a document for good.
const DELETE: Capability = Capability::of::<2>();

const NEWSROOM: OrgId = OrgId(1);
const RIVAL_PAPER: OrgId = OrgId(2);

fn show(who: &str, what: &str, decision: Decision) {
    let verdict = if decision.is_allowed() {
        "allow"
    } else {
        "deny "
    };
    let rule = match decision.reason.rule() {
        Some(n) => format!("rule {n}"),
        None => "org rule".to_owned(),
    };
    println!(
        "{who:<8} {what:<34} {verdict}  ({rule}: {})",
        decision.reason.describe()
    );
}

fn main() {
    let editor = Principal::new(UserId(1), Role::Admin, Some(NEWSROOM));
    let reporter = Principal::new(UserId(2), Role::User, Some(NEWSROOM))
        .with_capabilities(CapabilitySet::EMPTY.with(PUBLISH));
    let intern = Principal::new(UserId(3), Role::User, Some(NEWSROOM));
    let spy = Principal::new(UserId(4), Role::Admin, Some(RIVAL_PAPER));

    let own_draft = Resource::new(Some(NEWSROOM), Some(reporter.id));
    let editorial = Resource::new(Some(NEWSROOM), Some(editor.id));

    let policy = Policy::DOCUMENTED;
    show(
        "reporter",
        "publish the editorial",
        policy.authorize(&reporter, Action::Write(PUBLISH), &editorial),
    );
    show(
        "reporter",
        "edit the editorial",
        policy.authorize(&reporter, Action::Write(EDIT_OTHERS), &editorial),
    );
    show(
        "reporter",
        "delete own draft",
        policy.authorize(&reporter, Action::Write(DELETE), &own_draft),
    );
    show(
        "intern",
        "read the editorial",
        policy.authorize(&intern, Action::Read, &editorial),
    );
    show(
        "intern",
        "publish the editorial",
        policy.authorize(&intern, Action::Write(PUBLISH), &editorial),
    );
    show(
        "editor",
        "delete the reporter's draft",
        policy.authorize(&editor, Action::Write(DELETE), &own_draft),
    );
    show(
        "spy",
        "read the editorial",
        policy.authorize(&spy, Action::Read, &editorial),
    );
    show(
        "spy",
        "rename the newsroom",
        policy.authorize_org(&spy, OrgAct::Update(NEWSROOM)),
    );

    // The reporter moves to the rival paper: the documented policy lets a creator keep its
    // drafts; strict isolation does not.
    let moved = reporter.with_organization(Some(RIVAL_PAPER));
    show(
        "moved",
        "read own old draft (documented)",
        Policy::DOCUMENTED.authorize(&moved, Action::Read, &own_draft),
    );
    show(
        "moved",
        "read own old draft (strict)",
        Policy::STRICT.authorize(&moved, Action::Read, &own_draft),
    );

    // Lists are filtered in the database, from a scope value.
    println!("intern's listing scope: {:?}", policy.scope(&intern));
}
