//! Answering questions: read the subject and the row from the store, check that the caller
//! may see both, and ask `orgtenancy-core`. No rule is decided here.
//!
//! Visibility, so that answers reveal nothing the caller could not read itself:
//! - the subject must be a user the caller may view (`authorize_user(caller, View)`);
//! - the resource must be one the caller may read (`authorize(caller, Read)` for CAs and
//!   certificates, `authorize_org(caller, View)` for organizations).
//!
//! A missing subject or resource is put to the engine exactly as the REST handlers do
//! (`MissingUserAct::View`; `authorize_missing_resource`), so a
//! caller who may see everything (a superuser) learns it is missing (404) and anyone else gets
//! the same 403 for "missing" and "not visible", with the same message.

use std::collections::HashMap;

use orgtenancy_core::{
    Action, CreatorAccess, Decision, MissingUserAct, OrgAct, OrgId, Policy, Principal, Resource,
    UserAct,
};
use orgtenancy_sqlx::StoreError;

use crate::{
    authzen::{
        model::{DecisionContext, DecisionOut, EvaluationError},
        question::{Ask, OrgAction, Question, ResourceRef, SubjectRef},
    },
    context::{Caller, Context},
    error::ApiError,
    resources::{ca_resource, cert_resource},
};

const SUBJECT_HIDDEN: &str = "the subject does not exist or the caller may not view it";
const SUBJECT_MISSING: &str = "the subject does not exist";
const RESOURCE_HIDDEN: &str = "the resource does not exist or the caller may not read it";
const RESOURCE_MISSING: &str = "the resource does not exist";

pub(crate) type Lookup<T> = Result<T, EvaluationError>;

/// Answers the questions of one request for one caller; subjects and rows are read once
/// per request however many evaluations name them.
pub(crate) struct Evaluator<'a> {
    ctx: &'a Context,
    caller: Principal,
    subjects: HashMap<SubjectRef, Lookup<Principal>>,
    /// The engine's facts about each row (an organization: itself, no creator).
    rows: HashMap<ResourceRef, Lookup<Resource>>,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(ctx: &'a Context, caller: &Caller) -> Evaluator<'a> {
        Evaluator {
            ctx,
            caller: caller.principal(),
            subjects: HashMap::new(),
            rows: HashMap::new(),
        }
    }

    /// The answer to `question`: the engine's decision, or a deny carrying the error that
    /// stopped the evaluation. `Err` only when the store fails (the whole request fails).
    pub(crate) async fn answer(&mut self, question: &Question) -> Result<DecisionOut, ApiError> {
        let subject = self.subject(&question.subject).await?;
        let row = self.row(question.ask.resource()).await?;
        Ok(match (subject, row) {
            (Err(error), _) | (_, Err(error)) => refused(error),
            (Ok(subject), Ok(row)) => {
                self.decided(decide(&self.ctx.policy, &subject, &row, question.ask))
            }
        })
    }

    pub(crate) async fn subject(
        &mut self,
        subject: &SubjectRef,
    ) -> Result<Lookup<Principal>, ApiError> {
        if let Some(known) = self.subjects.get(subject) {
            return Ok(known.clone());
        }
        let read = match subject {
            SubjectRef::Id(id) => self.ctx.store.get_user(*id).await,
            SubjectRef::Username(name) => self.ctx.store.get_user_by_username(name).await,
        };
        let found = match read {
            Ok(user) => Some(user.principal()),
            Err(StoreError::NotFound(_)) => None,
            Err(other) => return Err(other.into()),
        };
        // A missing subject is the engine's own question, as in the REST handlers.
        let policy = &self.ctx.policy;
        let view = match found {
            Some(facts) => policy.authorize_user(Some(&self.caller), UserAct::View(facts)),
            None => policy.authorize_missing_user(&self.caller, MissingUserAct::View),
        };
        let lookup = visible(found, view, SUBJECT_MISSING, SUBJECT_HIDDEN);
        self.subjects.insert(subject.clone(), lookup.clone());
        Ok(lookup)
    }

    pub(crate) async fn row(
        &mut self,
        resource: ResourceRef,
    ) -> Result<Lookup<Resource>, ApiError> {
        if let Some(known) = self.rows.get(&resource) {
            return Ok(known.clone());
        }
        let policy = self.ctx.policy;
        let (found, read) = match resource {
            ResourceRef::Ca(id) => {
                let found =
                    absent_if_missing(self.ctx.store.get_ca(id).await)?.map(|ca| ca_resource(&ca));
                (found, may_read(&policy, &self.caller, found))
            }
            ResourceRef::Certificate(id) => {
                let found = absent_if_missing(self.ctx.store.get_certificate(id).await)?
                    .map(|cert| cert_resource(&cert));
                (found, may_read(&policy, &self.caller, found))
            }
            ResourceRef::Organization(id) => {
                let found = absent_if_missing(self.ctx.store.get_organization(id).await)?
                    .map(|_| Resource::new(Some(id), None));
                let read = policy.authorize_org(&self.caller, OrgAct::View(id));
                (found, read)
            }
        };
        let lookup = visible(found, read, RESOURCE_MISSING, RESOURCE_HIDDEN);
        self.rows.insert(resource, lookup.clone());
        Ok(lookup)
    }

    /// The response for an engine decision, naming the rule and the policy.
    fn decided(&self, decision: Decision) -> DecisionOut {
        DecisionOut {
            decision: decision.is_allowed(),
            context: DecisionContext {
                rule: decision.reason.rule(),
                reason: Some(decision.reason.as_str().to_owned()),
                description: Some(decision.reason.describe().to_owned()),
                policy: Some(policy_name(self.ctx.policy.creator_access).to_owned()),
                error: None,
            },
        }
    }
}

/// The engine's decision on `ask` by `subject`, over the facts of its `row`.
pub(crate) fn decide(policy: &Policy, subject: &Principal, row: &Resource, ask: Ask) -> Decision {
    match ask {
        Ask::Ca(_, action) | Ask::Certificate(_, action) => policy.authorize(subject, action, row),
        Ask::Organization(organization, act) => decide_org(policy, subject, organization, act),
    }
}

pub(crate) fn decide_org(
    policy: &Policy,
    subject: &Principal,
    organization: OrgId,
    act: OrgAction,
) -> Decision {
    let org_act = match act {
        OrgAction::Read => OrgAct::View(organization),
        OrgAction::Update => OrgAct::Update(organization),
        OrgAction::Delete => OrgAct::Delete(organization),
        OrgAction::ListMembers => OrgAct::ListMembers(organization),
        OrgAction::ManageMembers => OrgAct::ManageMembers(organization),
        OrgAction::ReadAuditLog => OrgAct::ReadOrganizationAuditLog(organization),
    };
    policy.authorize_org(subject, org_act)
}

/// May `caller` read the row whose facts are `found` (`None`: no such row)?
fn may_read(policy: &Policy, caller: &Principal, found: Option<Resource>) -> Decision {
    match found {
        Some(facts) => policy.authorize(caller, Action::Read, &facts),
        None => policy.authorize_missing_resource(caller),
    }
}

/// `Ok` for a row that exists and may be seen; else the error: 404 for a missing row the
/// caller could have seen, 403 (one message) for a missing row or a row it may not see.
fn visible<T>(found: Option<T>, may_see: Decision, missing: &str, hidden: &str) -> Lookup<T> {
    match (found, may_see.is_allowed()) {
        (Some(found), true) => Ok(found),
        (None, true) => Err(EvaluationError {
            status: 404,
            message: missing.to_owned(),
        }),
        (_, false) => Err(EvaluationError {
            status: 403,
            message: hidden.to_owned(),
        }),
    }
}

fn absent_if_missing<T>(read: Result<T, StoreError>) -> Result<Option<T>, ApiError> {
    match read {
        Ok(row) => Ok(Some(row)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// A deny that carries `error` (AuthZEN: decisions default to closed).
fn refused(error: EvaluationError) -> DecisionOut {
    DecisionOut {
        decision: false,
        context: DecisionContext {
            rule: None,
            reason: None,
            description: None,
            policy: None,
            error: Some(error),
        },
    }
}

/// The policy's name in responses.
pub(crate) fn policy_name(creator_access: CreatorAccess) -> &'static str {
    match creator_access {
        CreatorAccess::Anywhere => "documented",
        CreatorAccess::SameOrganization => "strict",
    }
}
