//! The hierarchy as Cedar policies.
//!
//! Each rule is one policy. Rule 0 is a `forbid`, which in Cedar overrides every `permit`;
//! rules 1, 2, 5, 6 and 7 are `permit`s; rules 3 and 4 need no policy, because Cedar denies
//! when no `permit` applies and every later `permit` asks for the same organization on both
//! sides. Rule 7 is one `permit` per write action, naming the flag it needs. Optional
//! attributes (`org`, `creator`) are absent when unset and guarded with `has`, so no policy
//! ever errors; [`cedar_decide`] treats an evaluation error as a failure rather than a deny,
//! so the agreement test would notice one.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, Response, RestrictedExpression, Schema, ValidationMode, Validator,
};

use crate::{Act, EngineError, Input, Org, PRINCIPAL_ID};

/// The policies, one per rule of §3 (rules 3 and 4 are Cedar's default deny).
pub const POLICIES: &str = r#"
// Rule 0: an inactive principal is denied everything (a forbid overrides every permit).
@id("0-inactive")
forbid (principal, action, resource) unless { principal.active };

// Rule 1: superusers may do everything.
@id("1-superuser")
permit (principal, action, resource) when { principal.role == "superuser" };

// Rule 2: the creator keeps access, wherever it or the resource has moved (documented policy).
@id("2-creator")
permit (principal, action, resource)
when { resource has creator && resource.creator == principal };

// Rules 3 and 4 deny by default: every permit below needs both sides in one organization.

// Rule 5: admins have full access inside their organization.
@id("5-admin")
permit (principal, action, resource)
when {
  principal.role == "admin" &&
  principal has org && resource has org && principal.org == resource.org
};

// Rule 6: members read inside their organization.
@id("6-read")
permit (principal, action == Action::"read", resource)
when { principal has org && resource has org && principal.org == resource.org };

// Rule 7: a write needs the flag that names it.
@id("7-create_ca")
permit (principal, action == Action::"create_ca", resource)
when {
  principal.flags.contains("can_create_ca") &&
  principal has org && resource has org && principal.org == resource.org
};

@id("7-create_cert")
permit (principal, action == Action::"create_cert", resource)
when {
  principal.flags.contains("can_create_cert") &&
  principal has org && resource has org && principal.org == resource.org
};

@id("7-revoke_cert")
permit (principal, action == Action::"revoke_cert", resource)
when {
  principal.flags.contains("can_revoke_cert") &&
  principal has org && resource has org && principal.org == resource.org
};

@id("7-export_private_key")
permit (principal, action == Action::"export_private_key", resource)
when {
  principal.flags.contains("can_export_private_key") &&
  principal has org && resource has org && principal.org == resource.org
};

@id("7-delete_ca")
permit (principal, action == Action::"delete_ca", resource)
when {
  principal.flags.contains("can_delete_ca") &&
  principal has org && resource has org && principal.org == resource.org
};
"#;

/// The schema the policies are written against (checked by [`CedarEngine::validate`]; the
/// decision path itself runs schema-less, as most integrations do after validating once).
pub const SCHEMA: &str = r#"
entity Org;
entity User {
  role: String,
  active: Bool,
  org?: Org,
  flags: Set<String>,
};
entity Resource {
  org?: Org,
  creator?: User,
};
action read, create_ca, create_cert, revoke_cert, export_private_key, delete_ca
  appliesTo { principal: [User], resource: [Resource] };
"#;

/// The resource's id in every request: the decision depends only on its attributes.
const RESOURCE_ID: &str = "1";

/// A parsed policy set, the entity type names and the action uids, built once.
#[derive(Debug)]
pub struct CedarEngine {
    policies: PolicySet,
    authorizer: Authorizer,
    user_type: EntityTypeName,
    resource_type: EntityTypeName,
    org_type: EntityTypeName,
    /// The uids of [`Act::ALL`], in that order.
    actions: Vec<EntityUid>,
}

/// A request and its entities, built ahead of time by [`CedarEngine::prepare`].
#[derive(Debug)]
pub struct CedarPrepared {
    request: Request,
    entities: Entities,
}

fn cedar_err(error: impl std::fmt::Display) -> EngineError {
    EngineError::Cedar(error.to_string())
}

impl CedarEngine {
    /// Parses [`POLICIES`] and the type names.
    pub fn new() -> Result<CedarEngine, EngineError> {
        CedarEngine::with_policies(POLICIES)
    }

    /// An engine over other policies than [`POLICIES`] (to check that the agreement test
    /// notices a wrong one).
    pub fn with_policies(policies: &str) -> Result<CedarEngine, EngineError> {
        let policies = PolicySet::from_str(policies).map_err(cedar_err)?;
        let action_type = EntityTypeName::from_str("Action").map_err(cedar_err)?;
        let actions = Act::ALL
            .iter()
            .map(|act| {
                EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(act.name()))
            })
            .collect();
        Ok(CedarEngine {
            policies,
            authorizer: Authorizer::new(),
            user_type: EntityTypeName::from_str("User").map_err(cedar_err)?,
            resource_type: EntityTypeName::from_str("Resource").map_err(cedar_err)?,
            org_type: EntityTypeName::from_str("Org").map_err(cedar_err)?,
            actions,
        })
    }

    /// Validates [`POLICIES`] against [`SCHEMA`] in strict mode.
    pub fn validate(&self) -> Result<(), EngineError> {
        let (schema, _warnings) = Schema::from_cedarschema_str(SCHEMA).map_err(cedar_err)?;
        let result = Validator::new(schema).validate(&self.policies, ValidationMode::Strict);
        if result.validation_passed() {
            Ok(())
        } else {
            Err(cedar_err(result))
        }
    }

    fn user_uid(&self, id: i64) -> EntityUid {
        EntityUid::from_type_name_and_id(self.user_type.clone(), EntityId::new(id.to_string()))
    }

    fn org_uid(&self, org: Org) -> EntityUid {
        EntityUid::from_type_name_and_id(self.org_type.clone(), EntityId::new(org.id().to_string()))
    }

    fn action_uid(&self, act: Act) -> Result<EntityUid, EngineError> {
        Act::ALL
            .iter()
            .position(|a| *a == act)
            .and_then(|i| self.actions.get(i))
            .cloned()
            .ok_or_else(|| EngineError::Cedar(format!("no action `{}`", act.name())))
    }

    /// Builds the principal and resource entities and the request, as an integration does on
    /// every request from the facts it has just read.
    pub fn prepare(&self, input: &Input) -> Result<CedarPrepared, EngineError> {
        let principal = self.user_uid(PRINCIPAL_ID);
        let mut user_attrs = HashMap::with_capacity(4);
        user_attrs.insert(
            "role".to_owned(),
            RestrictedExpression::new_string(input.role.as_str().to_owned()),
        );
        user_attrs.insert(
            "active".to_owned(),
            RestrictedExpression::new_bool(input.active),
        );
        if let Some(org) = input.principal_org {
            user_attrs.insert(
                "org".to_owned(),
                RestrictedExpression::new_entity_uid(self.org_uid(org)),
            );
        }
        user_attrs.insert(
            "flags".to_owned(),
            RestrictedExpression::new_set(
                input
                    .flags
                    .iter()
                    .map(|flag| RestrictedExpression::new_string(flag.name().to_owned())),
            ),
        );
        let user = Entity::new(principal.clone(), user_attrs, HashSet::new()).map_err(cedar_err)?;

        let resource = EntityUid::from_type_name_and_id(
            self.resource_type.clone(),
            EntityId::new(RESOURCE_ID),
        );
        let mut resource_attrs = HashMap::with_capacity(2);
        if let Some(org) = input.resource_org {
            resource_attrs.insert(
                "org".to_owned(),
                RestrictedExpression::new_entity_uid(self.org_uid(org)),
            );
        }
        if let Some(creator) = input.creator.id() {
            resource_attrs.insert(
                "creator".to_owned(),
                RestrictedExpression::new_entity_uid(self.user_uid(creator)),
            );
        }
        let resource_entity =
            Entity::new(resource.clone(), resource_attrs, HashSet::new()).map_err(cedar_err)?;

        let entities = Entities::from_entities([user, resource_entity], None).map_err(cedar_err)?;
        let request = Request::new(
            principal,
            self.action_uid(input.act)?,
            resource,
            Context::empty(),
            None,
        )
        .map_err(cedar_err)?;
        Ok(CedarPrepared { request, entities })
    }
}

fn allowed(response: &Response) -> Result<bool, EngineError> {
    if let Some(error) = response.diagnostics().errors().next() {
        return Err(cedar_err(error));
    }
    Ok(response.decision() == Decision::Allow)
}

/// Cedar's decision, building the entities and the request for this input first (the cost a
/// real integration pays on every request).
pub fn cedar_decide(engine: &CedarEngine, input: &Input) -> Result<bool, EngineError> {
    let prepared = engine.prepare(input)?;
    cedar_decide_prepared(engine, &prepared)
}

/// Cedar's decision on a request and entities built beforehand: the evaluation alone.
pub fn cedar_decide_prepared(
    engine: &CedarEngine,
    prepared: &CedarPrepared,
) -> Result<bool, EngineError> {
    allowed(&engine.authorizer.is_authorized(
        &prepared.request,
        &engine.policies,
        &prepared.entities,
    ))
}
