//! Password hashing: argon2id with the `argon2` crate's default parameters and a random salt,
//! stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
//!
//! Every function here is deliberately slow (tens of milliseconds of CPU). Async callers must
//! run them off the runtime's worker threads, e.g. with `tokio::task::spawn_blocking`:
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let plain = String::from("correct horse battery staple");
//! let phc = tokio::task::spawn_blocking(move || orgtenancy_sqlx::password::hash(&plain)).await??;
//! assert!(tokio::task::spawn_blocking(move || {
//!     orgtenancy_sqlx::password::verify("correct horse battery staple", &phc)
//! })
//! .await?);
//! # Ok(()) }
//! ```

use std::sync::OnceLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::{StoreError, StoreResult};

/// The argon2id PHC string of `password`, with a fresh random salt.
///
/// Fails with [`StoreError::Invalid`] only for a password argon2 cannot take (longer than
/// 4 GiB).
pub fn hash(password: &str) -> StoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| StoreError::Invalid {
            field: "password",
            message: "cannot be hashed".to_owned(),
        })
}

/// Whether `password` matches the PHC string `phc`. A malformed `phc` matches nothing.
///
/// The parameters are read from `phc`, so hashes made with older parameters still verify.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Burns the time of one [`verify`], for a login whose username does not exist, so that the
/// response time does not tell whether a username is taken. Always "fails".
pub fn dummy_verify(password: &str) {
    if let Some(phc) = dummy_phc() {
        let _ = verify(password, phc);
    }
}

/// A hash of a random value with the current parameters, made once per process.
fn dummy_phc() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let secret = SaltString::generate(&mut OsRng);
            hash(secret.as_str()).ok()
        })
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The algorithm, version and cost parameters of a PHC string (everything before the salt).
    fn cost(phc: &str) -> String {
        phc.split('$').take(4).collect::<Vec<_>>().join("$")
    }

    // The dummy verification costs what a real one costs because it verifies against a hash
    // made with the same algorithm and parameters; checked on the parameters, not on a clock.
    #[test]
    fn dummy_verification_uses_the_parameters_of_real_hashes() {
        let real = hash("secret").unwrap();
        let dummy = dummy_phc().unwrap();
        assert_eq!(cost(dummy), cost(&real));
        assert!(cost(&real).starts_with("$argon2id$v=19$m="), "{real}");
        assert!(!verify("secret", dummy));
    }
}
