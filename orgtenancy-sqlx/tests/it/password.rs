//! argon2id password hashing.

use orgtenancy_sqlx::password;

#[test]
fn hash_and_verify() {
    let phc = password::hash("correct horse").expect("hash");
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(password::verify("correct horse", &phc));
    assert!(!password::verify("correct horsE", &phc));
    assert!(!password::verify("", &phc));
    let again = password::hash("correct horse").expect("hash");
    assert_ne!(again, phc, "a fresh salt each time");
    assert!(password::verify("correct horse", &again));
}

#[test]
fn malformed_hashes_match_nothing() {
    for phc in [
        "",
        "plain",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB",
    ] {
        assert!(!password::verify("anything", phc), "{phc:?}");
    }
}

#[test]
fn odd_passwords() {
    for plain in ["", " ", "ünïcødé 🔑", &"x".repeat(10_000)] {
        let phc = password::hash(plain).expect("hash");
        assert!(password::verify(plain, &phc));
    }
}
