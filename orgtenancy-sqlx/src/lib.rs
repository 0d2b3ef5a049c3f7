//! # orgtenancy-sqlx
//!
//! Storage of the orgtenancy tenancy model over sqlx.
#![forbid(unsafe_code)]

mod error;
mod model;
mod store;

pub use error::{Conflict, Entity, StoreError, StoreResult};
pub use model::*;
pub use store::Store;
