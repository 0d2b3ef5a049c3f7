//! The hierarchy as a casbin model: ABAC over request structs, with the role table as policy.
//!
//! The request is `(sub, obj, act)`: `sub` a struct with the principal's `id`, `role`,
//! `active`, `org` (empty when none) and `flags`; `obj` a struct with the resource's `org` and
//! `creator` (empty when none); `act` the action's name. Each policy row says which role may do
//! which action within which reach (`any`, `creator`, `org`), and which flag it needs (`none`
//! for no flag); the matcher checks the row against the request's attributes, and the effect
//! allows when some row matches.
//!
//! Rule 0 is the matcher's leading `r.sub.active`. Rules 3 and 4 are the `org` reach: it needs
//! a resource organization equal to the principal's. No row denies, so the "first rule that
//! applies" order of §3 and casbin's "some row allows" give the same answers: every deny rule
//! of §3 only ever stops rules below it that need what it rules out.

use casbin::rhai::Dynamic;
use casbin::rhai::serde::to_dynamic;
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use serde::Serialize;

use crate::{EngineError, Input, PRINCIPAL_ID};

/// The casbin model (no files at runtime: it is parsed from this string).
pub const MODEL: &str = r#"
[request_definition]
r = sub, obj, act

[policy_definition]
p = role, act, reach, flag

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub.active \
  && (p.role == "*" || p.role == r.sub.role) \
  && (p.act == "*" || p.act == r.act) \
  && (p.flag == "none" || p.flag in r.sub.flags) \
  && (p.reach == "any" \
      || (p.reach == "creator" && r.obj.creator != "" && r.obj.creator == r.sub.id) \
      || (p.reach == "org" && r.obj.org != "" && r.obj.org == r.sub.org))
"#;

/// The policy rows: `role, act, reach, flag`.
pub const POLICY: [[&str; 4]; 9] = [
    // Rule 1: superusers, everything, everywhere.
    ["superuser", "*", "any", "none"],
    // Rule 2: anyone, on what they created.
    ["*", "*", "creator", "none"],
    // Rule 5: admins, everything, in their organization.
    ["admin", "*", "org", "none"],
    // Rule 6: users read in their organization.
    ["user", "read", "org", "none"],
    // Rule 7: users write in their organization with the flag the write names.
    ["user", "create_ca", "org", "can_create_ca"],
    ["user", "create_cert", "org", "can_create_cert"],
    ["user", "revoke_cert", "org", "can_revoke_cert"],
    [
        "user",
        "export_private_key",
        "org",
        "can_export_private_key",
    ],
    ["user", "delete_ca", "org", "can_delete_ca"],
];

/// An enforcer over [`MODEL`] and [`POLICY`], built once.
pub struct CasbinEngine {
    enforcer: Enforcer,
}

impl std::fmt::Debug for CasbinEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CasbinEngine").finish_non_exhaustive()
    }
}

/// The principal as the request's `sub`.
#[derive(Debug, Serialize, Hash)]
struct Subject {
    id: String,
    role: &'static str,
    active: bool,
    org: String,
    flags: Vec<&'static str>,
}

/// The resource as the request's `obj`.
#[derive(Debug, Serialize, Hash)]
struct Object {
    org: String,
    creator: String,
}

/// Request values converted ahead of time by [`CasbinEngine::prepare`].
#[derive(Debug, Clone)]
pub struct CasbinPrepared {
    values: Vec<Dynamic>,
}

impl CasbinEngine {
    /// Parses [`MODEL`] and loads [`POLICY`] into an in-memory adapter, on a current-thread
    /// tokio runtime (casbin's set-up is async; enforcing is not).
    pub fn new() -> Result<CasbinEngine, EngineError> {
        CasbinEngine::with_model(MODEL, &POLICY)
    }

    /// An engine over another model and other rows than [`MODEL`] and [`POLICY`] (to check
    /// that the agreement test notices a wrong one).
    pub fn with_model(model: &str, policy: &[[&str; 4]]) -> Result<CasbinEngine, EngineError> {
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let enforcer = runtime.block_on(async {
            let model = DefaultModel::from_str(model).await?;
            let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await?;
            let rows = policy
                .iter()
                .map(|row| row.iter().map(|field| (*field).to_owned()).collect())
                .collect();
            enforcer.add_policies(rows).await?;
            Ok::<Enforcer, casbin::Error>(enforcer)
        })?;
        Ok(CasbinEngine { enforcer })
    }

    /// Converts the request values to the script engine's values ahead of time.
    pub fn prepare(&self, input: &Input) -> Result<CasbinPrepared, EngineError> {
        let (sub, obj, act) = request(input);
        let values = vec![
            to_dynamic(sub).map_err(casbin::Error::from)?,
            to_dynamic(obj).map_err(casbin::Error::from)?,
            Dynamic::from(act),
        ];
        Ok(CasbinPrepared { values })
    }
}

fn request(input: &Input) -> (Subject, Object, &'static str) {
    let sub = Subject {
        id: PRINCIPAL_ID.to_string(),
        role: input.role.as_str(),
        active: input.active,
        org: input
            .principal_org
            .map(|org| org.id().to_string())
            .unwrap_or_default(),
        flags: input.flags.iter().map(|flag| flag.name()).collect(),
    };
    let obj = Object {
        org: input
            .resource_org
            .map(|org| org.id().to_string())
            .unwrap_or_default(),
        creator: input
            .creator
            .id()
            .map(|id| id.to_string())
            .unwrap_or_default(),
    };
    (sub, obj, input.act.name())
}

/// casbin's decision, building the request structs for this input first (they are converted
/// to script values inside `enforce`, as in any casbin ABAC integration).
pub fn casbin_decide(engine: &CasbinEngine, input: &Input) -> Result<bool, EngineError> {
    Ok(engine.enforcer.enforce(request(input))?)
}

/// casbin's decision on request values converted beforehand (the values are still cloned,
/// because `enforce` takes them by value).
pub fn casbin_decide_prepared(
    engine: &CasbinEngine,
    prepared: &CasbinPrepared,
) -> Result<bool, EngineError> {
    Ok(engine.enforcer.enforce(prepared.values.clone())?)
}
