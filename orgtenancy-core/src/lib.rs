//! # orgtenancy-core
//!
//! The tenancy model and permission engine of orgtenancy: organizations isolate tenants,
//! users hold one of three [`Role`]s and a set of application-defined [`Capability`] flags,
//! and a fixed hierarchy decides who may do what.
//!
//! The key design decision: **the engine is pure and infallible.** Every question is a `const
//! fn` of plain `Copy` data — no I/O, no allocation, no `async`, no error path — and every
//! answer is a [`Decision`] that names the rule that decided it, so callers can log and
//! explain a refusal. Storage and the HTTP server never re-implement a rule; they ask here.
//!
//! ## Asking for a decision
//!
//! ```
//! use orgtenancy_core::{Action, Capability, CapabilitySet, OrgId, Policy, Principal, Reason,
//!                       Resource, Role, UserId};
//!
//! // The application names its own capabilities.
//! const CAN_ISSUE: Capability = Capability::of::<0>();
//!
//! let acme = OrgId(1);
//! let alice = Principal::new(UserId(10), Role::User, Some(acme))
//!     .with_capabilities(CapabilitySet::EMPTY.with(CAN_ISSUE));
//! let ca = Resource::new(Some(acme), Some(UserId(11)));
//!
//! let decision = Policy::DOCUMENTED.authorize(&alice, Action::Write(CAN_ISSUE), &ca);
//! assert!(decision.is_allowed());
//! assert_eq!(decision.reason, Reason::Capability);
//! assert_eq!(decision.reason.rule(), Some(7));
//! ```
//!
//! ## API themes
//!
//! * Resources (§3): [`Policy::authorize`] and the listing [`Scope`] from [`Policy::scope`].
//! * Search (§11), both directions as data storage renders to SQL: the resources a principal
//!   may do any [`Action`] on ([`Policy::scope_for`], a [`Scope`]), and the principals allowed
//!   an action on a resource ([`Policy::principals_allowed`], a [`PrincipalSet`]).
//! * Organizations and the audit log (§4, §6): [`Policy::authorize_org`] with an [`OrgAct`] —
//!   among them one organization's audit log, verifying the whole chain, managing members in
//!   general, and moving (adopting) resources across tenants — [`Policy::organization_scope`],
//!   [`Policy::audit_scope`].
//! * A resource id no row has: [`Policy::authorize_missing_resource`], answered like another
//!   tenant's resource so that ids reveal nothing.
//! * Users (§5): [`Policy::authorize_user`] with a [`UserAct`] and a field-level [`UserChange`];
//!   [`Policy::authorize_user_among`] with the [`Census`] that keeps the last active superuser;
//!   [`Policy::authorize_missing_user`] for acts on an id no user has.
//!
//! ## Names
//!
//! Each [`Reason`] has one spelling, [`Reason::as_str`] (snake_case): its `Display`, its serde
//! form, and what a server should put in logs and on the wire. [`Reason::ALL`] lists them.
//!
//! ## Stability
//!
//! The facts ([`Principal`], [`Resource`], [`UserChange`], [`Census`]), the acts ([`Action`],
//! [`OrgAct`], [`UserAct`], [`MissingUserAct`]) and [`Reason`] are `#[non_exhaustive]`: build
//! facts with their constructors and `with_…` methods, and match acts and reasons with a
//! wildcard arm, so that a fact, an act or a reason added later is not a breaking change.
//! The same holds for [`PrincipalSet`] and its parts ([`CreatorGrant`], [`MemberGrant`],
//! [`Members`]): read their fields, and give an unknown [`Members`] variant a deny.
//!
//! ## Features
//!
//! * `serde`: `Serialize`/`Deserialize` for the ids, [`Role`], [`CapabilitySet`], [`Decision`],
//!   [`Reason`], [`Scope`] and [`Policy`].
#![forbid(unsafe_code)]
#![no_std]

mod capability;
mod decision;
mod facts;
mod ids;
mod missing;
mod org_acts;
mod policy;
mod principals;
mod role;
mod scope;
mod user_acts;
mod user_change;

pub use capability::{Capability, CapabilitySet};
pub use decision::{Decision, Effect, Reason};
pub use facts::{Principal, Resource};
pub use ids::{OrgId, UserId};
pub use missing::MissingUserAct;
pub use org_acts::OrgAct;
pub use policy::{Action, CreatorAccess, Policy, authorize};
pub use principals::{CreatorGrant, MemberGrant, Members, PrincipalSet};
pub use role::Role;
pub use scope::Scope;
pub use user_acts::{Census, UserAct};
pub use user_change::UserChange;
