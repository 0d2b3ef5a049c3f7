//! # orgtenancy-benches
//!
//! The SPEC.md §3 resource decision (rules 0–7, documented policy) taken by three engines over
//! one small input type, so the agreement test and the criterion bench run the same code:
//!
//! * [`orgtenancy_decide`]: [`orgtenancy_core::Policy::DOCUMENTED`], a `const fn` on `Copy` data;
//! * [`cedar_decide`]: the hierarchy written as Cedar policies ([`cedar::POLICIES`]) over
//!   `User` and `Resource` entities built for each request, as an integration would build
//!   them; [`cedar_decide_prepared`] asks with entities and request built beforehand;
//! * [`casbin_decide`]: a casbin model ([`casbin::MODEL`]) whose policy rows are the role table
//!   and whose matcher holds the attribute conditions; [`casbin_decide_prepared`] asks with the
//!   request values converted beforehand.
//!
//! [`Input::all`] enumerates the finite input space of §3 (31,104 cases) and [`agreement`]
//! compares the three engines on it; [`Input::mix`] is the fixed, seeded mix the bench times.
//!
//! ```
//! use orgtenancy_benches::{CasbinEngine, CedarEngine, Input, agreement};
//!
//! let cedar = CedarEngine::new()?;
//! let casbin = CasbinEngine::new()?;
//! let report = agreement(&cedar, &casbin, Input::all().take(500));
//! assert_eq!(report.checked, 500);
//! assert!(report.disagreements.is_empty());
//! # Ok::<(), orgtenancy_benches::EngineError>(())
//! ```

pub mod casbin;
pub mod cedar;
mod input;

pub use crate::casbin::{CasbinEngine, CasbinPrepared, casbin_decide, casbin_decide_prepared};
pub use crate::cedar::{CedarEngine, CedarPrepared, cedar_decide, cedar_decide_prepared};
pub use crate::input::{Act, Creator, Flag, FlagSet, Input, Org};

use orgtenancy_core::Policy;

/// Something an engine could not do: build its policies, its entities or its request, or
/// evaluate without an error.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Cedar refused a policy, the schema, an entity or a request, or reported an evaluation
    /// error in its diagnostics.
    #[error("cedar: {0}")]
    Cedar(String),
    /// casbin refused the model or a policy row, or failed to evaluate its matcher.
    #[error("casbin: {0}")]
    Casbin(#[from] ::casbin::Error),
    /// The runtime needed to build the casbin enforcer could not start.
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// The principal's user id in every case; the "other" creator is [`OTHER_USER_ID`].
pub const PRINCIPAL_ID: i64 = 7;
/// The id of a creator who is not the principal.
pub const OTHER_USER_ID: i64 = 8;

/// The decision of `orgtenancy-core` under the documented policy.
pub fn orgtenancy_decide(input: &Input) -> bool {
    Policy::DOCUMENTED
        .authorize(&input.principal(), input.act.action(), &input.resource())
        .is_allowed()
}

/// The three engines' answers on one input that they do not all agree on (or that an engine
/// could not answer).
#[derive(Debug)]
pub struct Disagreement {
    /// The input.
    pub input: Input,
    /// orgtenancy-core's answer.
    pub orgtenancy: bool,
    /// Cedar's answer, with entities built for the request.
    pub cedar: Result<bool, String>,
    /// Cedar's answer, with entities and request built beforehand.
    pub cedar_prepared: Result<bool, String>,
    /// casbin's answer.
    pub casbin: Result<bool, String>,
    /// casbin's answer, with the request values converted beforehand.
    pub casbin_prepared: Result<bool, String>,
}

/// What [`agreement`] found.
#[derive(Debug, Default)]
pub struct Agreement {
    /// How many inputs were compared.
    pub checked: usize,
    /// How many of them orgtenancy-core allowed.
    pub allowed: usize,
    /// Every input on which an engine answered differently or failed.
    pub disagreements: Vec<Disagreement>,
}

/// Asks every engine (both Cedar and both casbin variants) about every input and collects
/// the inputs on which they differ from orgtenancy-core.
pub fn agreement(
    cedar: &CedarEngine,
    casbin: &CasbinEngine,
    inputs: impl IntoIterator<Item = Input>,
) -> Agreement {
    let mut report = Agreement::default();
    for input in inputs {
        report.checked += 1;
        let expected = orgtenancy_decide(&input);
        report.allowed += usize::from(expected);
        let cedar_answer = cedar_decide(cedar, &input).map_err(|e| e.to_string());
        let cedar_prepared = cedar
            .prepare(&input)
            .and_then(|prepared| cedar_decide_prepared(cedar, &prepared))
            .map_err(|e| e.to_string());
        let casbin_answer = casbin_decide(casbin, &input).map_err(|e| e.to_string());
        let casbin_prepared = casbin
            .prepare(&input)
            .and_then(|prepared| casbin_decide_prepared(casbin, &prepared))
            .map_err(|e| e.to_string());
        let agrees = [
            &cedar_answer,
            &cedar_prepared,
            &casbin_answer,
            &casbin_prepared,
        ]
        .iter()
        .all(|answer| matches!(answer, Ok(allowed) if *allowed == expected));
        if !agrees {
            report.disagreements.push(Disagreement {
                input,
                orgtenancy: expected,
                cedar: cedar_answer,
                cedar_prepared,
                casbin: casbin_answer,
                casbin_prepared,
            });
        }
    }
    report
}
