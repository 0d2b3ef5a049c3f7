//! The invariants that the fuzz targets in `fuzz/` check, as a library, so that the same
//! checks run under libFuzzer (`cargo fuzz run …`) and in an ordinary test that replays the
//! saved corpus (`fuzz/corpus/<target>/*`) on every `cargo test`.
//!
//! Each check takes the raw bytes a fuzzer produced and returns `Err` with a description of
//! the broken invariant; it never panics on its own account (a panic inside the code under
//! test is still a finding). The fuzz targets turn an `Err` into a crash.
//!
//! * [`engine`]: arbitrary principals, resources, actions, organization acts and user acts
//!   against the §3 invariants of `orgtenancy-core`, under both policies.
//! * `json` (feature `server`): arbitrary bytes decoded as the request bodies of the
//!   reference server.
//! * `token` (feature `server`): the access-token verifier given arbitrary strings, damaged
//!   real tokens and forgeries (`alg: none`, other algorithms and keys, expired, missing claims).

pub mod engine;
#[cfg(feature = "server")]
pub mod json;
#[cfg(feature = "server")]
pub mod token;

/// A broken invariant, described for the person reading the crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

/// The result of one check.
pub type Checked = Result<(), Violation>;

/// `Err(Violation)` with `message` unless `holds`.
pub(crate) fn ensure(holds: bool, message: impl FnOnce() -> String) -> Checked {
    if holds {
        Ok(())
    } else {
        Err(Violation(message()))
    }
}
