//! The three searches of SPEC §11, each answered by `orgtenancy-core` and paged by keyset:
//!
//! - **resource search**: CAs and certificates are the rows of the subject's scope for the
//!   action (`Policy::scope_for`), rendered to SQL by the store; organizations are the rows of
//!   the subject's organization scope (every organization act needs membership, or a
//!   superuser), each decided by `authorize_org` as evaluation decides it;
//! - **subject search**: the users of the engine's `principals_allowed` for the action on the
//!   row (for an organization act: of reading it, every act needing that), each decided again
//!   by the engine as evaluation decides it;
//! - **action search**: every action name of the resource's type, evaluated.
//!
//! The caller's limits, as for evaluation (`evaluate.rs`): the subject of a resource or action
//! search must be a user the caller may view, and the resource of a subject or action search
//! one it may read (else 403, or 404 for a missing one asked by a superuser). A resource
//! search returns only rows also in the caller's own read scope (its organization scope for
//! organizations); a subject search returns only users the caller may view
//! (`authorize_user(caller, View)`). That last filter runs on the page the store returned, so
//! a page may hold fewer results than `limit` while `next_token` still leads on: the token
//! names the last row the page looked at, and the union of the pages stays exact.

use orgtenancy_core::{Action, OrgId, Policy, Principal, UserAct};
use orgtenancy_sqlx::KeysetPage;

use crate::{
    authzen::{
        evaluate::{Evaluator, Lookup, decide, decide_org},
        model::EvaluationError,
        page::{PageAsk, after_id, last_page, next},
        question::{
            Act, OrgAction, ResourceKind, action_names, check_subject_type, parse_act,
            parse_resource_id, parse_resource_kind, parse_subject_id,
        },
        search_model::{
            ActionOut, ActionSearchRequest, ActionsOut, EntitiesOut, EntityOut,
            ResourceSearchRequest, SubjectSearchRequest,
        },
    },
    context::{Caller, Context},
    error::ApiError,
    text::Text,
};

/// Resource search: the rows of `resource.type` the subject may do `action` on.
pub(crate) async fn resources(
    ctx: &Context,
    caller: &Caller,
    body: &ResourceSearchRequest,
) -> Result<EntitiesOut, ApiError> {
    check_subject_type(body.subject.kind.as_str())?;
    let subject = parse_subject_id(required("subject.id", body.subject.id.as_ref())?)?;
    let kind = parse_resource_kind(body.resource.kind.as_str())?;
    absent("resource.id", "resource", body.resource.id.as_ref())?;
    let act = parse_act(body.action.name.as_str(), kind)?;
    let page = PageAsk::parse(body.page.as_ref())?.keyset()?;
    let subject = shown(Evaluator::new(ctx, caller).subject(&subject).await?)?;
    let (policy, me) = (ctx.policy, caller.principal());
    let found = match (kind, act) {
        (ResourceKind::Ca, Act::Resource(action)) => {
            let scope = policy.scope_for(&subject, action);
            let rows = ctx.store.search_cas(scope, policy.scope(&me), page).await?;
            Found::every(rows.iter().map(|ca| ca.id).collect())
        }
        (ResourceKind::Certificate, Act::Resource(action)) => {
            let scope = policy.scope_for(&subject, action);
            let rows = ctx
                .store
                .search_certificates(scope, policy.scope(&me), page);
            Found::every(rows.await?.iter().map(|cert| cert.id).collect())
        }
        (_, Act::Organization(org_action)) => {
            organizations(ctx, (&subject, org_action), &me, page).await?
        }
        (_, Act::Resource(_)) => return Err(ApiError::unprocessable("invalid action.name")),
    };
    let kind_name = match kind {
        ResourceKind::Ca => "ca",
        ResourceKind::Certificate => "certificate",
        ResourceKind::Organization => "organization",
    };
    Ok(EntitiesOut {
        results: found.ids.iter().map(|id| entity(kind_name, *id)).collect(),
        page: after_id(&page, found.scanned.len(), found.scanned.last().copied()),
    })
}

/// The ids a keyset page looked at, and those of them in the answer.
struct Found {
    scanned: Vec<i64>,
    ids: Vec<i64>,
}

impl Found {
    /// A page whose every row is in the answer.
    fn every(ids: Vec<i64>) -> Found {
        Found {
            scanned: ids.clone(),
            ids,
        }
    }
}

/// The organizations of the subject's organization scope that the caller may read too (a
/// page of them), and of those the ones the engine lets the subject do `act` on.
async fn organizations(
    ctx: &Context,
    (subject, act): (&Principal, OrgAction),
    caller: &Principal,
    page: KeysetPage,
) -> Result<Found, ApiError> {
    let policy = ctx.policy;
    let candidates = policy.organization_scope(subject);
    let within = policy.organization_scope(caller);
    let rows = ctx.store.search_organizations(candidates, within, page);
    let scanned: Vec<OrgId> = rows.await?.iter().map(|org| org.id).collect();
    let ids = scanned
        .iter()
        .filter(|org| decide_org(&policy, subject, **org, act).is_allowed())
        .map(|org| org.0)
        .collect();
    Ok(Found {
        scanned: scanned.iter().map(|org| org.0).collect(),
        ids,
    })
}

/// Subject search: the users who may do `action` on the resource, that the caller may view.
pub(crate) async fn subjects(
    ctx: &Context,
    caller: &Caller,
    body: &SubjectSearchRequest,
) -> Result<EntitiesOut, ApiError> {
    check_subject_type(body.subject.kind.as_str())?;
    absent("subject.id", "subject", body.subject.id.as_ref())?;
    let kind = parse_resource_kind(body.resource.kind.as_str())?;
    let resource = parse_resource_id(kind, required("resource.id", body.resource.id.as_ref())?)?;
    let act = parse_act(body.action.name.as_str(), kind)?;
    let page = PageAsk::parse(body.page.as_ref())?.keyset()?;
    let row = shown(Evaluator::new(ctx, caller).row(resource).await?)?;
    let policy = ctx.policy;
    let candidates = match act {
        Act::Resource(action) => policy.principals_allowed(action, &row),
        Act::Organization(_) => policy.principals_allowed(Action::Read, &row),
    };
    let users = ctx.store.list_users_allowed(candidates, page).await?;
    let (me, ask) = (caller.principal(), resource.ask(act));
    let results = users
        .iter()
        .map(|user| user.principal())
        .filter(|user| may_view(&policy, &me, user))
        .filter(|user| decide(&policy, user, &row, ask).is_allowed())
        .map(|user| entity("user", user.id.0))
        .collect();
    let last = users.last().map(|user| user.id.0);
    Ok(EntitiesOut {
        results,
        page: after_id(&page, users.len(), last),
    })
}

/// Action search: the action names of the resource's type the subject may do on it.
pub(crate) async fn actions(
    ctx: &Context,
    caller: &Caller,
    body: &ActionSearchRequest,
) -> Result<ActionsOut, ApiError> {
    check_subject_type(body.subject.kind.as_str())?;
    let subject = parse_subject_id(required("subject.id", body.subject.id.as_ref())?)?;
    let kind = parse_resource_kind(body.resource.kind.as_str())?;
    let resource = parse_resource_id(kind, required("resource.id", body.resource.id.as_ref())?)?;
    let page = PageAsk::parse(body.page.as_ref())?;
    let names = action_names(kind);
    let start = match &page.after {
        None => 0,
        Some(after) => names
            .iter()
            .position(|name| name == after)
            .map(|at| at + 1)
            .ok_or_else(|| ApiError::unprocessable("invalid page.token: no such action"))?,
    };
    let mut evaluator = Evaluator::new(ctx, caller);
    let subject = shown(evaluator.subject(&subject).await?)?;
    let row = shown(evaluator.row(resource).await?)?;
    let allowed: Vec<&str> = names
        .iter()
        .skip(start)
        .filter(|name| {
            parse_act(name, kind).is_ok_and(|act| {
                decide(&ctx.policy, &subject, &row, resource.ask(act)).is_allowed()
            })
        })
        .copied()
        .collect();
    let more = allowed.len() > page.len();
    let results: Vec<ActionOut> = allowed
        .into_iter()
        .take(page.len())
        .map(|name| ActionOut {
            name: name.to_owned(),
        })
        .collect();
    let page = match results.last() {
        Some(last) if more => next(&last.name),
        _ => last_page(),
    };
    Ok(ActionsOut { results, page })
}

/// Whether `caller` may view `user` (a subject search shows no one else).
fn may_view(policy: &Policy, caller: &Principal, user: &Principal) -> bool {
    policy
        .authorize_user(Some(caller), UserAct::View(*user))
        .is_allowed()
}

fn entity(kind: &str, id: i64) -> EntityOut {
    EntityOut {
        kind: kind.to_owned(),
        id: id.to_string(),
    }
}

/// The subject or row evaluation found, or its error as the response (403, 404).
fn shown<T>(lookup: Lookup<T>) -> Result<T, ApiError> {
    lookup.map_err(|EvaluationError { status, message }| match status {
        404 => ApiError::not_found(message),
        _ => ApiError::forbidden(message),
    })
}

/// The id `field` holds; 422 when it is absent or empty.
fn required<'a>(field: &str, id: Option<&'a Text>) -> Result<&'a str, ApiError> {
    match id.map(Text::as_str) {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(ApiError::unprocessable(format!(
            "`{field}` is required in this search"
        ))),
    }
}

/// 422 when `field` holds an id: the search finds the `what` ids.
fn absent(field: &str, what: &str, id: Option<&Text>) -> Result<(), ApiError> {
    match id {
        None => Ok(()),
        Some(_) => Err(ApiError::unprocessable(format!(
            "`{field}` does not belong in a {what} search: it finds the {what}s"
        ))),
    }
}
