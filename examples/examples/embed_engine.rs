//! A wiki embeds the engine: it declares its own capabilities, keeps users and pages in its
//! own storage, and asks `orgtenancy-core` before every act. Each decision is printed with
//! the rule that decided it and checked against what the wiki expects; a wrong answer makes
//! the example exit non-zero.
//!
//! Run with `cargo run -p orgtenancy-examples --example embed_engine`.

use std::process::ExitCode;

use orgtenancy_core::{
    Action, Capability, CapabilitySet, Decision, Effect, OrgAct, OrgId, Policy, Principal, Reason,
    Resource, Role, Scope, UserId,
};

/// Edit a page somebody else wrote.
const EDIT_PAGE: Capability = Capability::of::<0>();
/// Protect a page against further edits.
const PROTECT_PAGE: Capability = Capability::of::<1>();
/// Delete a page for good.
const DELETE_PAGE: Capability = Capability::of::<2>();

/// The wiki's tenants.
const ENGINEERING: OrgId = OrgId(1);
const MARKETING: OrgId = OrgId(2);

/// One question the wiki asks, and the answer it expects.
struct Case {
    who: &'static str,
    what: &'static str,
    decision: Decision,
    expected: (Effect, Reason),
}

fn case(
    who: &'static str,
    what: &'static str,
    decision: Decision,
    expected: (Effect, Reason),
) -> Case {
    Case {
        who,
        what,
        decision,
        expected,
    }
}

const ALLOW: Effect = Effect::Allow;
const DENY: Effect = Effect::Deny;

fn main() -> ExitCode {
    let root = Principal::new(UserId(1), Role::Superuser, None);
    let lead = Principal::new(UserId(2), Role::Admin, Some(ENGINEERING));
    let writer = Principal::new(UserId(3), Role::User, Some(ENGINEERING))
        .with_capabilities(CapabilitySet::EMPTY.with(EDIT_PAGE));
    let reader = Principal::new(UserId(4), Role::User, Some(ENGINEERING));
    let marketer = Principal::new(UserId(5), Role::Admin, Some(MARKETING));
    let departed = reader.with_active(false);
    // The writer moved to marketing after writing the runbook.
    let moved_writer = writer.with_organization(Some(MARKETING));

    let runbook = Resource::new(Some(ENGINEERING), Some(writer.id));
    let roadmap = Resource::new(Some(ENGINEERING), Some(lead.id));
    let site_notice = Resource::new(None, Some(root.id));

    let wiki = Policy::DOCUMENTED;
    let strict = Policy::STRICT;
    let cases = [
        case(
            "root",
            "delete the site notice",
            wiki.authorize(&root, Action::Write(DELETE_PAGE), &site_notice),
            (ALLOW, Reason::Superuser),
        ),
        case(
            "lead",
            "read the site notice",
            wiki.authorize(&lead, Action::Read, &site_notice),
            (DENY, Reason::NoOrganization),
        ),
        case(
            "lead",
            "delete the runbook",
            wiki.authorize(&lead, Action::Write(DELETE_PAGE), &runbook),
            (ALLOW, Reason::OrganizationAdmin),
        ),
        case(
            "writer",
            "edit the roadmap",
            wiki.authorize(&writer, Action::Write(EDIT_PAGE), &roadmap),
            (ALLOW, Reason::Capability),
        ),
        case(
            "writer",
            "protect the roadmap",
            wiki.authorize(&writer, Action::Write(PROTECT_PAGE), &roadmap),
            (DENY, Reason::Capability),
        ),
        case(
            "writer",
            "delete own runbook",
            wiki.authorize(&writer, Action::Write(DELETE_PAGE), &runbook),
            (ALLOW, Reason::Creator),
        ),
        case(
            "reader",
            "read the roadmap",
            wiki.authorize(&reader, Action::Read, &roadmap),
            (ALLOW, Reason::MemberRead),
        ),
        case(
            "reader",
            "edit the roadmap",
            wiki.authorize(&reader, Action::Write(EDIT_PAGE), &roadmap),
            (DENY, Reason::Capability),
        ),
        case(
            "departed",
            "read the roadmap",
            wiki.authorize(&departed, Action::Read, &roadmap),
            (DENY, Reason::Inactive),
        ),
        case(
            "marketer",
            "read the roadmap",
            wiki.authorize(&marketer, Action::Read, &roadmap),
            (DENY, Reason::OtherOrganization),
        ),
        case(
            "moved",
            "edit own runbook (documented)",
            wiki.authorize(&moved_writer, Action::Write(EDIT_PAGE), &runbook),
            (ALLOW, Reason::Creator),
        ),
        case(
            "moved",
            "edit own runbook (strict)",
            strict.authorize(&moved_writer, Action::Write(EDIT_PAGE), &runbook),
            (DENY, Reason::OtherOrganization),
        ),
        case(
            "marketer",
            "rename engineering",
            wiki.authorize_org(&marketer, OrgAct::Update(ENGINEERING)),
            (DENY, Reason::NotMember),
        ),
        case(
            "lead",
            "rename engineering",
            wiki.authorize_org(&lead, OrgAct::Update(ENGINEERING)),
            (ALLOW, Reason::OrganizationAdmin),
        ),
        case(
            "lead",
            "pull the marketer into engineering",
            wiki.authorize_org(
                &lead,
                OrgAct::AddMember {
                    organization: ENGINEERING,
                    user: marketer,
                },
            ),
            (DENY, Reason::TargetInOtherOrganization),
        ),
    ];

    let mut wrong = 0_usize;
    for Case {
        who,
        what,
        decision,
        expected,
    } in &cases
    {
        let verdict = match decision.effect {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        };
        let rule = decision
            .reason
            .rule()
            .map_or_else(|| "org/user rule".to_owned(), |n| format!("rule {n}"));
        let ok = (decision.effect, decision.reason) == *expected;
        if !ok {
            wrong += 1;
        }
        println!(
            "{mark} {who:<9} {what:<36} {verdict:<5} ({rule}: {})",
            decision.reason.describe(),
            mark = if ok { "ok   " } else { "WRONG" },
        );
    }

    // Lists: the wiki turns a scope into its own WHERE clause (see `scope_on_own_table`).
    let scopes = [
        ("root", wiki.scope(&root), Scope::All),
        (
            "reader",
            wiki.scope(&reader),
            Scope::OrganizationOrCreator {
                organization: ENGINEERING,
                creator: reader.id,
            },
        ),
        (
            "reader",
            strict.scope(&reader),
            Scope::Organization(ENGINEERING),
        ),
        ("departed", wiki.scope(&departed), Scope::Nothing),
    ];
    for (who, scope, expected) in scopes {
        let ok = scope == expected;
        if !ok {
            wrong += 1;
        }
        println!(
            "{mark} {who:<9} listing scope: {scope:?}",
            mark = if ok { "ok   " } else { "WRONG" },
        );
    }

    if wrong == 0 {
        println!("all {} decisions as expected", cases.len() + 4);
        ExitCode::SUCCESS
    } else {
        eprintln!("{wrong} decisions differ from what the wiki expects");
        ExitCode::FAILURE
    }
}
