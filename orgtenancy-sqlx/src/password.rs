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
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString, rand_core::OsRng},
};

use crate::{StoreError, StoreResult};

/// The argon2id PHC string of `password`, with a fresh random salt.
///
/// Fails with [`StoreError::Invalid`] only for a password argon2 cannot take (longer than
/// 4 GiB).
pub fn hash(password: &str) -> StoreResult<String> {
    Hasher::new().hash(password)
}

/// Whether `password` matches the PHC string `phc`. A malformed `phc` matches nothing.
///
/// The parameters are read from `phc`, so hashes made with older parameters still verify.
pub fn verify(password: &str, phc: &str) -> bool {
    Hasher::new().verify(password, phc)
}

/// Burns the time of one [`verify`], for a login whose username does not exist, so that the
/// response time does not tell whether a username is taken. Always "fails".
pub fn dummy_verify(password: &str) {
    Hasher::new().dummy_verify(password);
}

/// Hashing and verification that keep argon2's working memory (19 MiB with the default
/// parameters) between calls, for a long-lived worker thread: a server that allocated and
/// freed it per login left its memory to the allocator's mercy (RSS grew with each login).
///
/// The functions of this module are the same operations with a fresh `Hasher` each time.
/// argon2 still does all of the hashing; this only lends it the memory
/// ([`Argon2::hash_password_into_with_memory`]) and compares outputs in constant time
/// ([`Output`]'s `PartialEq`).
#[derive(Debug, Default)]
pub struct Hasher {
    blocks: Vec<Block>,
}

impl Hasher {
    /// A hasher holding no memory yet; the first hash allocates it.
    pub fn new() -> Hasher {
        Hasher::default()
    }

    /// As [`hash`].
    pub fn hash(&mut self, password: &str) -> StoreResult<String> {
        let cannot = || StoreError::Invalid {
            field: "password",
            message: "cannot be hashed".to_owned(),
        };
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|_| cannot())?;
        let params = Params::default();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.compute(&argon2, &params, password, salt_raw, &mut out)
            .ok_or_else(cannot)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|_| cannot())?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|_| cannot())?),
        };
        Ok(phc.to_string())
    }

    /// As [`verify`].
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(version) => version.unwrap_or_default(),
            Err(_) => return false,
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        self.compute(&argon2, &params, password, salt_raw, &mut out)
            .and_then(|()| Output::new(&out).ok())
            .is_some_and(|computed| computed == expected)
    }

    /// As [`dummy_verify`].
    pub fn dummy_verify(&mut self, password: &str) {
        if let Some(phc) = dummy_phc() {
            let _ = self.verify(password, phc);
        }
    }

    /// Runs argon2 into `out` on the kept memory. Parameters above the defaults (an old hash
    /// made with more memory) get memory of their own for this call only.
    fn compute(
        &mut self,
        argon2: &Argon2<'_>,
        params: &Params,
        password: &str,
        salt: &[u8],
        out: &mut [u8],
    ) -> Option<()> {
        let needed = params.block_count();
        if needed > Params::default().block_count() {
            let mut own = vec![Block::default(); needed];
            return argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut own[..])
                .ok();
        }
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        let blocks = self.blocks.get_mut(..needed)?;
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
            .ok()
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

    /// The kept-memory path agrees with argon2's own `PasswordHasher`/`PasswordVerifier`,
    /// both ways, including hashes made with other parameters and variants.
    #[test]
    fn agrees_with_the_argon2_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let mut hasher = Hasher::new();
        let ours = hasher.hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"correct horsf", &parsed)
                .is_err()
        );
        let small = Params::new(1024, 1, 1, Some(16)).unwrap();
        let big = Params::new(Params::DEFAULT_M_COST * 2, 1, 1, None).unwrap();
        for (algorithm, params) in [
            (Algorithm::Argon2id, Params::default()),
            (Algorithm::Argon2i, small.clone()),
            (Algorithm::Argon2d, small),
            (Algorithm::Argon2id, big),
        ] {
            let theirs = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(b"pw", &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            assert!(hasher.verify("pw", &theirs), "{theirs}");
            assert!(!hasher.verify("pW", &theirs), "{theirs}");
        }
        // The kept memory is the default size, not the big hash's.
        assert_eq!(hasher.blocks.len(), Params::default().block_count());
        for bad in [
            "",
            "$argon2id$",
            "$scrypt$ln=1,r=8,p=1$c2FsdA$aGFzaA",
            &ours[..ours.len() - 4],
        ] {
            assert!(!hasher.verify("correct horse", bad), "{bad}");
        }
    }
}
