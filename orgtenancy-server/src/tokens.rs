//! Access tokens (HS256 JWTs) and refresh tokens (random, stored only as a SHA-256 hash).
//!
//! Claims: `sub` (username), `id`, `role`, `exp`, `iat`, `jti` as SPEC §5 lists, plus
//! `iat_us`, the issue time in microseconds. `iat` has one-second granularity, too coarse to
//! order a token against a password change or a sign-out in the same second; the rule is
//! "a token is rejected when `iat_us` is before the user's `tokens_valid_after`", so a token
//! issued after the change, even in the same second, is accepted, and one issued before it
//! is not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use orgtenancy_sqlx::User;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes of randomness in a generated signing key, a refresh token and a token id.
pub(crate) const SIGNING_KEY_BYTES: usize = 32;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// The username.
    pub sub: String,
    /// The user id.
    pub id: i64,
    /// The role at issue time (informational; every request re-reads the user).
    pub role: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// Issue time, microseconds since the epoch (orders the token against invalidations).
    pub iat_us: i64,
    /// A random token id, used to revoke this one token at logout.
    pub jti: String,
}

impl Claims {
    /// When the token expires.
    pub(crate) fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Why a bearer token was refused (all become 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    /// Expired.
    #[error("the token has expired")]
    Expired,
    /// Bad signature, malformed, wrong algorithm, missing claims.
    #[error("the token is invalid")]
    Invalid,
}

/// Why a token could not be issued (a server-side failure, never the client's).
#[derive(Debug, thiserror::Error)]
pub(crate) enum IssueError {
    /// The operating system's random number generator failed.
    #[error("no randomness available: {0}")]
    Random(#[from] getrandom::Error),
    /// Encoding the JWT failed.
    #[error("cannot encode the token: {0}")]
    Encode(#[from] jsonwebtoken::errors::Error),
}

/// Issues and checks tokens with one HS256 key.
pub(crate) struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
    verified: Mutex<HashMap<Box<str>, Arc<Claims>>>,
}

/// How many verified access tokens are remembered; when full, all are forgotten.
const VERIFIED_TOKENS: usize = 1024;

impl Tokens {
    pub(crate) fn new(
        key: &[u8],
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Result<Tokens, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Ok(Tokens {
            encoding: EncodingKey::from_secret(key)?,
            decoding: DecodingKey::from_secret(key)?,
            validation,
            access_ttl,
            refresh_ttl,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// A new access token for `user`, issued now.
    pub(crate) fn issue_access(&self, user: &User) -> Result<String, IssueError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.access_ttl).unwrap_or(chrono::Duration::MAX);
        let expires = now
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let claims = Claims {
            sub: user.username.clone(),
            id: user.id.0,
            role: user.role.as_str().to_owned(),
            exp: expires.timestamp(),
            iat: now.timestamp(),
            iat_us: now.timestamp_micros(),
            jti: random_token()?,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of `token` if its signature, algorithm and expiry are good.
    ///
    /// Tokens whose signature verified are remembered by their exact text, so a client's next
    /// request skips the HMAC and the JSON (≈ 4 µs of its CPU time): whether a token's
    /// signature and claims are good depends only on its text and this key, and expiry is
    /// checked again each time, as jsonwebtoken does (`exp` before now, in seconds). Nothing
    /// from the database is remembered: revocation and the user are read per request.
    pub(crate) fn verify_access(&self, token: &str) -> Result<Arc<Claims>, TokenError> {
        self.verify_access_at(token, jsonwebtoken::get_current_timestamp())
    }

    fn verify_access_at(&self, token: &str, now: u64) -> Result<Arc<Claims>, TokenError> {
        let remembered = self.verified().get(token).cloned();
        if let Some(claims) = remembered {
            return match u64::try_from(claims.exp) {
                Ok(exp) if exp >= now => Ok(claims),
                _ => Err(TokenError::Expired),
            };
        }
        let claims = match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Arc::new(data.claims),
            Err(error) => {
                return match error.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => Err(TokenError::Expired),
                    _ => Err(TokenError::Invalid),
                };
            }
        };
        let mut verified = self.verified();
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(token.into(), Arc::clone(&claims));
        Ok(claims)
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<Claims>>> {
        // A panic under the lock leaves whole entries: each was verified before insertion.
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When a refresh token issued now expires.
    pub(crate) fn refresh_expiry(&self) -> DateTime<Utc> {
        let ttl = chrono::Duration::from_std(self.refresh_ttl).unwrap_or(chrono::Duration::MAX);
        Utc::now()
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Whether a token issued at `issued_at_us` (microseconds) predates `valid_after`.
pub(crate) fn issued_before(issued_at_us: i64, valid_after: DateTime<Utc>) -> bool {
    issued_at_us < valid_after.timestamp_micros()
}

/// `SIGNING_KEY_BYTES` random bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes() -> Result<Vec<u8>, getrandom::Error> {
    let mut bytes = vec![0u8; SIGNING_KEY_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// A random URL-safe token (refresh tokens, token ids): 32 bytes, base64url.
pub(crate) fn random_token() -> Result<String, IssueError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes()?))
}

/// A new refresh token and the hash to store for it.
pub(crate) fn new_refresh_token() -> Result<(String, String), IssueError> {
    let token = random_token()?;
    let hash = hash_refresh_token(&token);
    Ok((token, hash))
}

/// The stored form of a refresh token: its SHA-256, hex.
pub(crate) fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token().unwrap();
        let (b, _) = new_refresh_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(hash_a.len(), 64);
        assert_eq!(hash_refresh_token(&a), hash_a);
    }

    fn tokens() -> Tokens {
        let day = Duration::from_secs(86_400);
        Tokens::new(b"0123456789abcdef0123456789abcdef", day, day).expect("key")
    }

    fn user() -> User {
        User {
            id: orgtenancy_core::UserId(7),
            username: "alice".to_owned(),
            email: "alice@example.com".to_owned(),
            password_hash: String::new(),
            role: orgtenancy_core::Role::User,
            organization_id: None,
            capabilities: orgtenancy_core::CapabilitySet::EMPTY,
            is_active: true,
            tokens_valid_after: DateTime::<Utc>::MIN_UTC,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_remembered_token_still_expires_and_no_other_text_passes_for_it() {
        let tokens = tokens();
        let token = tokens.issue_access(&user()).expect("issued");
        let first = tokens.verify_access(&token).expect("valid");
        let again = tokens.verify_access(&token).expect("still valid");
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second answer is the remembered one"
        );
        let exp = u64::try_from(first.exp).expect("positive");
        assert!(tokens.verify_access_at(&token, exp).is_ok());
        assert_eq!(
            tokens.verify_access_at(&token, exp + 1).err(),
            Some(TokenError::Expired)
        );
        let mut tampered = token.clone();
        let last = tampered.pop().expect("a signature");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(
            tokens.verify_access(&tampered).err(),
            Some(TokenError::Invalid)
        );
        let other_key = Tokens::new(
            b"another key, another key, another",
            Duration::ZERO,
            Duration::ZERO,
        )
        .expect("key");
        assert_eq!(
            other_key.verify_access(&token).err(),
            Some(TokenError::Invalid)
        );
    }

    #[test]
    fn the_remembered_tokens_are_bounded() {
        let tokens = tokens();
        for _ in 0..VERIFIED_TOKENS + 5 {
            let token = tokens.issue_access(&user()).expect("issued");
            assert!(tokens.verify_access(&token).is_ok());
        }
        assert!(tokens.verified().len() <= VERIFIED_TOKENS);
        assert!(!tokens.verified().is_empty());
    }

    #[test]
    fn same_second_ordering_uses_microseconds() {
        let valid_after = DateTime::from_timestamp(100, 500_000_000).unwrap();
        assert!(issued_before(100_400_000, valid_after));
        assert!(!issued_before(100_600_000, valid_after));
    }
}
