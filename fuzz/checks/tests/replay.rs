//! Replays the saved fuzz corpus (`fuzz/corpus/<target>/*`) through the same checks the fuzz
//! targets run, so every CI run re-checks every input the fuzzer ever kept.

use std::{fs, io, path::PathBuf};

use orgtenancy_fuzz_checks::Checked;

/// The files of one target's corpus, sorted by path.
fn corpus(target: &str) -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(target);
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let data = fs::read(&path)?;
        files.push((path, data));
    }
    files.sort();
    Ok(files)
}

/// Runs `check` on every corpus file of `target`; the number of files, or every violation.
fn replay(target: &str, check: fn(&[u8]) -> Checked) -> Result<usize, String> {
    let files = corpus(target).map_err(|error| format!("cannot read the corpus: {error}"))?;
    let failures: Vec<String> = files
        .iter()
        .filter_map(|(path, data)| {
            check(data)
                .err()
                .map(|violation| format!("{}: {violation}", path.display()))
        })
        .collect();
    if failures.is_empty() {
        println!("{target}: {} inputs replayed", files.len());
        Ok(files.len())
    } else {
        Err(failures.join("\n"))
    }
}

#[test]
fn engine_corpus_holds_the_invariants() {
    let replayed = replay("engine", orgtenancy_fuzz_checks::engine::check_bytes).unwrap();
    assert!(replayed > 0, "the saved corpus is empty; run fuzz/run.sh");
}

#[test]
fn empty_and_short_inputs_are_checked_too() {
    for len in 0..64_u8 {
        let data: Vec<u8> = (0..len)
            .map(|i| i.wrapping_mul(37).wrapping_add(len))
            .collect();
        assert_eq!(orgtenancy_fuzz_checks::engine::check_bytes(&data), Ok(()));
    }
}

#[cfg(feature = "server")]
#[test]
fn json_bodies_corpus_is_decoded_without_panics() {
    let replayed = replay("json_bodies", orgtenancy_fuzz_checks::json::check_bytes).unwrap();
    assert!(replayed > 0, "the saved corpus is empty; run fuzz/run.sh");
}

#[cfg(feature = "server")]
#[test]
fn token_corpus_is_never_accepted_unless_signed() {
    let replayed = replay("token", orgtenancy_fuzz_checks::token::check_bytes).unwrap();
    assert!(replayed > 0, "the saved corpus is empty; run fuzz/run.sh");
}

/// The check itself must be able to fail: its independent signature test tells a token
/// signed with the key from one that is not.
#[cfg(feature = "server")]
#[test]
fn token_check_tells_signed_from_unsigned() {
    use orgtenancy_fuzz_checks::token::{KEY, signed_with};
    use orgtenancy_server::fuzzing::AccessTokenVerifier;

    let verifier = AccessTokenVerifier::new(KEY).unwrap();
    let token = verifier.issue(7, "alice").unwrap();
    assert!(signed_with(&token, KEY));
    assert!(!signed_with(
        &token,
        b"another key of at least thirty-two bytes"
    ));
    let (prefix, _) = token.rsplit_once('.').unwrap();
    assert!(!signed_with(&format!("{prefix}."), KEY));
    assert_eq!(verifier.verify(&token).unwrap().user_id, 7);
    for len in 0..64_u8 {
        let data: Vec<u8> = (0..len)
            .map(|i| i.wrapping_mul(53).wrapping_add(len))
            .collect();
        assert_eq!(orgtenancy_fuzz_checks::token::check_bytes(&data), Ok(()));
    }
}
