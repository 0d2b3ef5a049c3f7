//! Fuzz target `engine`: arbitrary principals, resources, actions, organization acts and
//! user acts against the §3 invariants (see `orgtenancy_fuzz_checks::engine::check_input`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = orgtenancy_fuzz_checks::engine::check_bytes(data) {
        // A broken invariant is a crash for libFuzzer, which saves the input.
        #[expect(clippy::panic, reason = "libFuzzer reports a panic as a finding")]
        {
            panic!("{violation}");
        }
    }
});
