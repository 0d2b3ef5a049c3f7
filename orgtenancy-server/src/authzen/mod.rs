//! The OpenID AuthZEN Authorization API 1.0 on the reference server: the server as a policy
//! decision point that any AuthZEN client or gateway can ask.
//!
//! | endpoint | what |
//! |---|---|
//! | `POST /access/v1/evaluation` | one decision: `{"decision": bool, "context": {"rule", "reason", …}}` |
//! | `POST /access/v1/evaluations` | a batch with top-level defaults and `options.evaluations_semantic` |
//! | `POST /access/v1/search/subject`, `/search/resource`, `/search/action` | the §11 searches, complete and keyset-paged ([`search`]) |
//! | `GET /access/v1/openapi.json` | this API's OpenAPI document |
//! | `GET /.well-known/authzen-configuration` | the PDP metadata |
//!
//! The subject is a user of the server, the resource a CA, certificate or organization, read
//! from the store; every decision comes from [`orgtenancy_core::Policy`] ([`evaluate`]).
//! Callers authenticate with the same bearer tokens as `/api/v1`, and may ask only about
//! subjects they may view and resources they may read.

mod evaluate;
pub(crate) mod model;
mod page;
mod question;
mod search;
pub(crate) mod search_model;

use std::sync::Arc;

use poem::{Request, Route, get, handler};
use poem_openapi::{ApiResponse, OpenApi, OpenApiService, Tags, param::Header, payload::Json};

use crate::{
    VERSION,
    authzen::{
        evaluate::Evaluator,
        model::{
            DecisionOut, EvaluationItem, EvaluationRequest, EvaluationsOut, EvaluationsRequest,
            Metadata, Semantic,
        },
        question::{Question, parse},
        search_model::{
            ActionSearchRequest, ActionsOut, EntitiesOut, ResourceSearchRequest,
            SubjectSearchRequest,
        },
    },
    context::Context,
    error::ApiError,
    extract::Authenticated,
    payload::JsonBody,
};

/// Where the access evaluation API is served.
pub const ACCESS_PREFIX: &str = "/access/v1";
/// Where the PDP metadata is served.
pub const METADATA_PATH: &str = "/.well-known/authzen-configuration";

#[derive(Tags)]
enum AuthzenTags {
    /// AuthZEN 1.0 access evaluation: ask the server for decisions.
    Authzen,
}

/// The AuthZEN operations.
struct AuthzenApi {
    ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum EvaluationResponse {
    /// The decision (a deny when the subject or resource cannot be seen; see `context.error`).
    #[oai(status = 200)]
    Ok(
        Json<DecisionOut>,
        #[oai(header = "X-Request-ID")] Option<String>,
    ),
}

#[derive(ApiResponse)]
enum EvaluationsResponse {
    /// The decisions, in request order.
    #[oai(status = 200)]
    Ok(
        Json<EvaluationsOut>,
        #[oai(header = "X-Request-ID")] Option<String>,
    ),
}

#[derive(ApiResponse)]
enum EntitiesResponse {
    /// One page of results in id order; `page.next_token` leads to the next (empty: the last).
    #[oai(status = 200)]
    Ok(
        Json<EntitiesOut>,
        #[oai(header = "X-Request-ID")] Option<String>,
    ),
}

#[derive(ApiResponse)]
enum ActionsResponse {
    /// One page of action names; `page.next_token` leads to the next (empty: the last).
    #[oai(status = 200)]
    Ok(
        Json<ActionsOut>,
        #[oai(header = "X-Request-ID")] Option<String>,
    ),
}

#[OpenApi(tag = "AuthzenTags::Authzen")]
impl AuthzenApi {
    /// Access evaluation: may this user do this to this CA, certificate or organization?
    ///
    /// The subject must be a user the caller may view and the resource one it may read; if
    /// not, the decision is `false` with `context.error` (403, the same for a missing one;
    /// 404 for a missing one asked by a superuser). Unknown types, action names or
    /// non-numeric resource ids are 422.
    #[oai(
        path = "/evaluation",
        method = "post",
        operation_id = "authzen_evaluation"
    )]
    async fn evaluation(
        &self,
        Authenticated(caller): Authenticated,
        /// Echoed in the response.
        #[oai(name = "X-Request-ID")]
        request_id: Header<Option<String>>,
        body: JsonBody<EvaluationRequest>,
    ) -> Result<EvaluationResponse, ApiError> {
        let body = body.0;
        let question = parse(&body.subject, &body.action, &body.resource)?;
        let answer = Evaluator::new(&self.ctx, &caller).answer(&question).await?;
        Ok(EvaluationResponse::Ok(Json(answer), request_id.0))
    }

    /// Access evaluations: several questions in one request
    ///
    /// Top-level `subject`, `action`, `resource` are defaults for each entry of
    /// `evaluations` (at most 100). `options.evaluations_semantic`: `execute_all` (default)
    /// answers every entry; `deny_on_first_deny` and `permit_on_first_permit` stop after
    /// the first deny or permit and answer only the entries evaluated. Without entries the
    /// request is one evaluation and the answer one decision. Every entry is checked
    /// before any is evaluated: one bad entry makes the request 422.
    #[oai(
        path = "/evaluations",
        method = "post",
        operation_id = "authzen_evaluations"
    )]
    async fn evaluations(
        &self,
        Authenticated(caller): Authenticated,
        /// Echoed in the response.
        #[oai(name = "X-Request-ID")]
        request_id: Header<Option<String>>,
        body: JsonBody<EvaluationsRequest>,
    ) -> Result<EvaluationsResponse, ApiError> {
        let body = body.0;
        let semantic = body
            .options
            .as_ref()
            .and_then(|options| options.evaluations_semantic)
            .unwrap_or_default();
        let items = body.evaluations.as_deref().unwrap_or_default();
        let mut evaluator = Evaluator::new(&self.ctx, &caller);
        if items.is_empty() {
            let question = single(&body)?;
            let answer = evaluator.answer(&question).await?;
            let out = EvaluationsOut {
                evaluations: None,
                decision: Some(answer.decision),
                context: Some(answer.context),
            };
            return Ok(EvaluationsResponse::Ok(Json(out), request_id.0));
        }
        let questions = items
            .iter()
            .enumerate()
            .map(|(index, item)| with_defaults(&body, item, index))
            .collect::<Result<Vec<_>, _>>()?;
        let answers = answer_all(&mut evaluator, &questions, semantic).await?;
        let out = EvaluationsOut {
            evaluations: Some(answers),
            decision: None,
            context: None,
        };
        Ok(EvaluationsResponse::Ok(Json(out), request_id.0))
    }

    /// Subject search: every user who may do this to this CA, certificate or organization
    ///
    /// `subject` is `{"type": "user"}` (no id), `resource` has its id. The resource must be
    /// one the caller may read (else 403; 404 for a missing one asked by a superuser), and
    /// only users the caller may view are returned. Pages are in id order: pass
    /// `page.next_token` as `page.token` (`page.limit` 1–1000, default 100); a page may hold
    /// fewer results than the limit while `next_token` is not empty. Unknown types or action
    /// names, a `subject.id`, a missing `resource.id`, a bad token or limit: 422.
    #[oai(
        path = "/search/subject",
        method = "post",
        operation_id = "authzen_search_subject"
    )]
    async fn search_subject(
        &self,
        Authenticated(caller): Authenticated,
        /// Echoed in the response.
        #[oai(name = "X-Request-ID")]
        request_id: Header<Option<String>>,
        body: JsonBody<SubjectSearchRequest>,
    ) -> Result<EntitiesResponse, ApiError> {
        let answer = search::subjects(&self.ctx, &caller, &body.0).await?;
        Ok(EntitiesResponse::Ok(Json(answer), request_id.0))
    }

    /// Resource search: every CA, certificate or organization this user may do this to
    ///
    /// `subject` has its id (a user the caller may view, else 403; 404 for a missing one
    /// asked by a superuser), `resource` is `{"type": …}` (no id). Only rows the caller may
    /// read itself are returned. Pages as in subject search. Unknown types or action names,
    /// a `resource.id`, a missing `subject.id`, a bad token or limit: 422.
    #[oai(
        path = "/search/resource",
        method = "post",
        operation_id = "authzen_search_resource"
    )]
    async fn search_resource(
        &self,
        Authenticated(caller): Authenticated,
        /// Echoed in the response.
        #[oai(name = "X-Request-ID")]
        request_id: Header<Option<String>>,
        body: JsonBody<ResourceSearchRequest>,
    ) -> Result<EntitiesResponse, ApiError> {
        let answer = search::resources(&self.ctx, &caller, &body.0).await?;
        Ok(EntitiesResponse::Ok(Json(answer), request_id.0))
    }

    /// Action search: every action name this user may do to this CA, certificate or
    /// organization
    ///
    /// Both `subject` and `resource` have their ids and the caller's limits of evaluation.
    /// Names come in the order of the README's table; pages as in subject search.
    #[oai(
        path = "/search/action",
        method = "post",
        operation_id = "authzen_search_action"
    )]
    async fn search_action(
        &self,
        Authenticated(caller): Authenticated,
        /// Echoed in the response.
        #[oai(name = "X-Request-ID")]
        request_id: Header<Option<String>>,
        body: JsonBody<ActionSearchRequest>,
    ) -> Result<ActionsResponse, ApiError> {
        let answer = search::actions(&self.ctx, &caller, &body.0).await?;
        Ok(ActionsResponse::Ok(Json(answer), request_id.0))
    }
}

/// The answers to `questions` in order, up to where `semantic` stops.
async fn answer_all(
    evaluator: &mut Evaluator<'_>,
    questions: &[Question],
    semantic: Semantic,
) -> Result<Vec<DecisionOut>, ApiError> {
    let mut answers = Vec::with_capacity(questions.len());
    for question in questions {
        let answer = evaluator.answer(question).await?;
        let stop = match semantic {
            Semantic::ExecuteAll => false,
            Semantic::DenyOnFirstDeny => !answer.decision,
            Semantic::PermitOnFirstPermit => answer.decision,
        };
        answers.push(answer);
        if stop {
            break;
        }
    }
    Ok(answers)
}

/// The question of a batch request without entries: its top-level members, all required.
fn single(body: &EvaluationsRequest) -> Result<Question, ApiError> {
    match (&body.subject, &body.action, &body.resource) {
        (Some(subject), Some(action), Some(resource)) => parse(subject, action, resource),
        _ => Err(ApiError::unprocessable(
            "without `evaluations`, the request needs `subject`, `action` and `resource`",
        )),
    }
}

/// The question of entry `index`: its own members, else the request's defaults.
fn with_defaults(
    body: &EvaluationsRequest,
    item: &EvaluationItem,
    index: usize,
) -> Result<Question, ApiError> {
    let subject = item.subject.as_ref().or(body.subject.as_ref());
    let action = item.action.as_ref().or(body.action.as_ref());
    let resource = item.resource.as_ref().or(body.resource.as_ref());
    match (subject, action, resource) {
        (Some(subject), Some(action), Some(resource)) => {
            parse(subject, action, resource).map_err(|error| {
                ApiError::unprocessable(format!("evaluations[{index}]: {}", error.detail()))
            })
        }
        _ => Err(ApiError::unprocessable(format!(
            "evaluations[{index}]: `subject`, `action` and `resource` are required, in the \
             entry or as top-level defaults"
        ))),
    }
}

/// Adds the AuthZEN routes to `route`: the API and its OpenAPI document under
/// [`ACCESS_PREFIX`], and the PDP metadata at [`METADATA_PATH`].
pub(crate) fn mount(route: Route, ctx: Arc<Context>) -> Route {
    let api = OpenApiService::new(AuthzenApi { ctx }, "orgtenancy AuthZEN", VERSION)
        .description(
            "The OpenID AuthZEN Authorization API 1.0 of the orgtenancy reference server: \
             decisions of the tenancy hierarchy for its users, CAs, certificates and \
             organizations. Authenticate with a bearer token from `POST /api/v1/auth/token`.",
        )
        .server(ACCESS_PREFIX);
    let spec = api.spec_endpoint();
    route
        .at(format!("{ACCESS_PREFIX}/openapi.json"), spec)
        .nest(ACCESS_PREFIX, api)
        .at(METADATA_PATH, get(metadata))
}

/// The PDP metadata, with URLs on the base the client used (its `Host`, and
/// `X-Forwarded-Proto: https` from a TLS-terminating proxy), so that the document's
/// `policy_decision_point` matches the URL it was fetched from.
#[handler]
fn metadata(request: &Request) -> Result<poem::Response, ApiError> {
    let host = request
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .filter(|host| is_host(host))
        .ok_or_else(|| ApiError::bad_request("a valid `Host` header is required"))?;
    let forwarded = request
        .headers()
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok());
    let scheme = match forwarded {
        Some("https") => "https",
        Some("http") => "http",
        _ => request.scheme().as_str(),
    };
    let base = format!("{scheme}://{host}");
    let document = Metadata {
        access_evaluation_endpoint: format!("{base}{ACCESS_PREFIX}/evaluation"),
        access_evaluations_endpoint: format!("{base}{ACCESS_PREFIX}/evaluations"),
        search_subject_endpoint: format!("{base}{ACCESS_PREFIX}/search/subject"),
        search_resource_endpoint: format!("{base}{ACCESS_PREFIX}/search/resource"),
        search_action_endpoint: format!("{base}{ACCESS_PREFIX}/search/action"),
        policy_decision_point: base,
    };
    let mut response = poem::IntoResponse::into_response(Json(document));
    response.headers_mut().insert(
        poem::http::header::VARY,
        poem::http::HeaderValue::from_static("Host, X-Forwarded-Proto"),
    );
    Ok(response)
}

/// A host and optional port: letters, digits, `.`, `-`, `:` and IPv6 brackets, nothing that
/// could change the meaning of the URL built from it.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 261
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::is_host;

    #[test]
    fn hosts_are_checked() {
        for good in [
            "localhost",
            "127.0.0.1:8000",
            "[::1]:8000",
            "pdp.example.com",
        ] {
            assert!(is_host(good), "{good}");
        }
        for bad in ["", "evil.com/x", "a b", "a@b", "a?b", "a#b", "a\\b"] {
            assert!(!is_host(bad), "{bad}");
        }
    }
}
