//! The AuthZEN 1.0 documents: access evaluation requests and responses, the batch request
//! with its defaults and options, and the PDP metadata.
//!
//! `properties` and `context` are accepted (they must be JSON objects) and ignored: every
//! fact a decision uses is read from the store, never taken from the request.

use std::collections::HashMap;

use poem_openapi::{Enum, Object, types::Example};
use serde_json::Value;

use crate::text::Text;

/// Free-form JSON attributes (`properties`, `context`): accepted, not used.
pub type Attributes = HashMap<String, Value>;

/// Who the question is about: `{"type": "user", "id": "<user id or username>"}`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuthzenSubject", skip_serializing_if_is_none)]
pub struct SubjectIn {
    /// Always `user`.
    #[oai(rename = "type", validator(max_length = 64))]
    pub kind: Text,
    /// The user's id (digits), or else its username.
    #[oai(validator(max_length = 255))]
    pub id: Text,
    /// Ignored: the user's facts come from the store.
    pub properties: Option<Attributes>,
}

/// What the question is about: `{"type": "ca" | "certificate" | "organization", "id": "<id>"}`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuthzenResource", skip_serializing_if_is_none)]
pub struct ResourceIn {
    /// `ca`, `certificate` or `organization`.
    #[oai(rename = "type", validator(max_length = 64))]
    pub kind: Text,
    /// The row's id (digits).
    #[oai(validator(max_length = 255))]
    pub id: Text,
    /// Ignored: the row's facts come from the store.
    pub properties: Option<Attributes>,
}

/// The act asked about, by name (see the README's table of action names).
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuthzenAction", skip_serializing_if_is_none)]
pub struct ActionIn {
    /// `read`, a capability name (`can_delete_ca`, …) or an organization act (`update`, …).
    #[oai(validator(max_length = 255))]
    pub name: Text,
    /// Ignored.
    pub properties: Option<Attributes>,
}

/// One access evaluation request (AuthZEN §6.1).
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "AuthzenEvaluationRequest",
    example,
    skip_serializing_if_is_none
)]
pub struct EvaluationRequest {
    /// The user whose access is asked about.
    pub subject: SubjectIn,
    /// The act.
    pub action: ActionIn,
    /// The CA, certificate or organization.
    pub resource: ResourceIn,
    /// Ignored.
    pub context: Option<Attributes>,
}

/// One entry of a batch; absent members take the request's top-level defaults.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuthzenEvaluationItem", skip_serializing_if_is_none)]
pub struct EvaluationItem {
    /// Overrides the default subject.
    pub subject: Option<SubjectIn>,
    /// Overrides the default action.
    pub action: Option<ActionIn>,
    /// Overrides the default resource.
    pub resource: Option<ResourceIn>,
    /// Ignored.
    pub context: Option<Attributes>,
}

/// How a batch is run (AuthZEN §7.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
#[oai(rename = "AuthzenEvaluationsSemantic", rename_all = "snake_case")]
pub enum Semantic {
    /// Evaluate every entry and answer them all (the default).
    #[default]
    ExecuteAll,
    /// Stop after the first deny; answer the entries evaluated so far.
    DenyOnFirstDeny,
    /// Stop after the first permit; answer the entries evaluated so far.
    PermitOnFirstPermit,
}

/// Options of a batch; unknown options are ignored.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuthzenEvaluationsOptions", skip_serializing_if_is_none)]
pub struct EvaluationsOptions {
    /// `execute_all` (default), `deny_on_first_deny` or `permit_on_first_permit`.
    pub evaluations_semantic: Option<Semantic>,
}

/// A batch of access evaluations (AuthZEN §7.1). Without `evaluations` (or with an empty
/// array) it is one evaluation of the top-level members.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "AuthzenEvaluationsRequest",
    example,
    skip_serializing_if_is_none
)]
pub struct EvaluationsRequest {
    /// The default subject.
    pub subject: Option<SubjectIn>,
    /// The default action.
    pub action: Option<ActionIn>,
    /// The default resource.
    pub resource: Option<ResourceIn>,
    /// Ignored.
    pub context: Option<Attributes>,
    /// The evaluations, answered in this order (at most 100: each costs store reads).
    #[oai(validator(max_items = 100))]
    pub evaluations: Option<Vec<EvaluationItem>>,
    /// How to run them.
    pub options: Option<EvaluationsOptions>,
}

/// Why one evaluation could not be answered (its decision is then `false`).
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenEvaluationError")]
pub struct EvaluationError {
    /// The HTTP status the same failure has in the REST API (403, 404).
    pub status: u16,
    /// What went wrong, for a person.
    pub message: String,
}

/// Why the decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenDecisionContext")]
pub struct DecisionContext {
    /// The SPEC §3 rule (0–7) that decided, when the deciding reason is one of them.
    #[oai(skip_serializing_if_is_none)]
    pub rule: Option<u8>,
    /// The engine's `Reason`, e.g. `OrganizationAdmin`.
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    /// The reason in words.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// The server's policy: `documented` or `strict` (creator access limited to the
    /// resource's current organization).
    #[oai(skip_serializing_if_is_none)]
    pub policy: Option<String>,
    /// Set when the evaluation could not be answered (subject or resource not visible).
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<EvaluationError>,
}

/// One access evaluation response (AuthZEN §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenEvaluationResponse")]
pub struct DecisionOut {
    /// Whether the act is permitted.
    pub decision: bool,
    /// The deciding rule, or the error.
    pub context: DecisionContext,
}

/// The answer to a batch (AuthZEN §7.2): `evaluations` in request order (fewer when a
/// short-circuit semantic stopped early), or, for a request without entries, one decision.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenEvaluationsResponse")]
pub struct EvaluationsOut {
    /// One answer per evaluation done.
    #[oai(skip_serializing_if_is_none)]
    pub evaluations: Option<Vec<DecisionOut>>,
    /// The decision, when the request had no `evaluations`.
    #[oai(skip_serializing_if_is_none)]
    pub decision: Option<bool>,
    /// Its context, when the request had no `evaluations`.
    #[oai(skip_serializing_if_is_none)]
    pub context: Option<DecisionContext>,
}

/// The PDP metadata document (`GET /.well-known/authzen-configuration`).
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenConfiguration")]
pub struct Metadata {
    /// The base URL the document was asked for.
    pub policy_decision_point: String,
    /// `POST` one access evaluation here.
    pub access_evaluation_endpoint: String,
    /// `POST` a batch of access evaluations here.
    pub access_evaluations_endpoint: String,
    /// `POST` a subject search here.
    pub search_subject_endpoint: String,
    /// `POST` a resource search here.
    pub search_resource_endpoint: String,
    /// `POST` an action search here.
    pub search_action_endpoint: String,
}

// The examples of the request bodies in the OpenAPI document (what the docs UI prefills):
// the ids are placeholders for a user, CA and certificate that exist.

fn subject_example() -> SubjectIn {
    SubjectIn {
        kind: Text("user".to_owned()),
        id: Text("2".to_owned()),
        properties: None,
    }
}

fn resource_example(kind: &str) -> ResourceIn {
    ResourceIn {
        kind: Text(kind.to_owned()),
        id: Text("1".to_owned()),
        properties: None,
    }
}

fn action_example(name: &str) -> ActionIn {
    ActionIn {
        name: Text(name.to_owned()),
        properties: None,
    }
}

impl Example for EvaluationRequest {
    fn example() -> Self {
        EvaluationRequest {
            subject: subject_example(),
            action: action_example("can_create_cert"),
            resource: resource_example("ca"),
            context: None,
        }
    }
}

impl Example for EvaluationsRequest {
    fn example() -> Self {
        let item = |action: &str, kind: &str| EvaluationItem {
            subject: None,
            action: Some(action_example(action)),
            resource: Some(resource_example(kind)),
            context: None,
        };
        EvaluationsRequest {
            subject: Some(subject_example()),
            action: None,
            resource: None,
            context: None,
            evaluations: Some(vec![
                item("read", "ca"),
                item("can_revoke_cert", "certificate"),
                item("update", "organization"),
            ]),
            options: Some(EvaluationsOptions {
                evaluations_semantic: Some(Semantic::ExecuteAll),
            }),
        }
    }
}
