//! Integration tests of the permission engine, as one test binary.
//!
//! * [`matrix`], [`org_table`], [`user_table`]: one data row per row of the SPEC.md §3
//!   permission matrix and of the §4 and §5 endpoint tables (plus the isolation rules we close
//!   there), each checked for effect *and* reason by a single checker function.
//! * [`exhaustive`]: the whole finite input space of resource decisions, against an oracle
//!   written from the SPEC text that shares no code with the engine.
//! * [`search`]: both directions of the §11 search — the resources a principal may do any
//!   action on, the principals allowed an action on a resource — over the same whole space,
//!   against `authorize` and the same oracle.
//! * [`missing`]: acts on a missing user id answer like acts on any user out of reach.
//! * [`names`]: every reason's one spelling, rule and description; role names; capability sets.
//! * [`props`]: proptest properties — isolation, inactive principals, monotonicity,
//!   scope/decision agreement, admin isolation on organizations and users.
//!
//! The reference server's five capability flags live in [`support`]: the core does not know
//! them.

mod exhaustive;
mod matrix;
mod missing;
mod names;
mod org_table;
mod props;
mod search;
mod support;
mod user_table;
