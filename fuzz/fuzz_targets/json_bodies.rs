//! Fuzz target `json_bodies`: arbitrary bytes decoded as every JSON (and form) request body
//! of the reference server (see `orgtenancy_fuzz_checks::json`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = orgtenancy_fuzz_checks::json::check_bytes(data) {
        // A broken invariant is a crash for libFuzzer, which saves the input.
        #[expect(clippy::panic, reason = "libFuzzer reports a panic as a finding")]
        {
            panic!("{violation}");
        }
    }
});
