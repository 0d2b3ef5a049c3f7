//! Fuzz target `token`: the reference server's access-token verifier given arbitrary strings,
//! damaged real tokens and forged ones (see `orgtenancy_fuzz_checks::token`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(violation) = orgtenancy_fuzz_checks::token::check_bytes(data) {
        // A broken invariant is a crash for libFuzzer, which saves the input.
        #[expect(clippy::panic, reason = "libFuzzer reports a panic as a finding")]
        {
            panic!("{violation}");
        }
    }
});
