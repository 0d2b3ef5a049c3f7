//! Runnable examples of embedding orgtenancy; the code is in `examples/`, one file each.
//!
//! * `embed_engine`: an application declares its own capabilities and asks
//!   `orgtenancy-core` for decisions.
//! * `scope_on_own_table`: `orgtenancy_sqlx::push_scope` filters the application's own
//!   table in SQL, and the rows listed are exactly those `authorize(p, Read, r)` allows.
//! * `mount_in_poem_app`: the tenancy API mounted inside an existing poem application next
//!   to its own routes.
//!
//! Run one with `cargo run -p orgtenancy-examples --example <name>`. Each checks its own
//! results and exits non-zero on a wrong one, so CI runs them all (see `.ci/run`).
//! This library is empty: it exists only so the package has a target besides its examples.
