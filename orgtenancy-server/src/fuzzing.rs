//! The access-token verifier on its own, for the `token` fuzz target and the benchmarks.
//!
//! A request is authenticated in two steps: the JWT itself (HS256 signature with the server's
//! key, the algorithm, the required claims, expiry), then the store (revocation, the user
//! re-read). Only the first step is exposed here, so that a fuzzer can feed it arbitrary
//! strings and a benchmark can time it alone; the server itself uses the private `tokens`
//! module behind it. This is not a stable API.

use chrono::{DateTime, Utc};
use orgtenancy_core::{CapabilitySet, Role, UserId};
use orgtenancy_sqlx::User;

use crate::tokens::{TokenError, Tokens};

/// Issues and verifies access tokens with one HS256 key, exactly as the server does
/// (default lifetime: 15 minutes).
pub struct AccessTokenVerifier {
    tokens: Tokens,
}

/// The claims of an access token that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The user id (`id`).
    pub user_id: i64,
    /// The username (`sub`).
    pub username: String,
    /// The role at issue time (`role`).
    pub role: String,
    /// Expiry, seconds since the epoch (`exp`).
    pub expires_at: i64,
    /// Issue time, microseconds since the epoch (`iat_us`).
    pub issued_at_us: i64,
}

/// Why a token was refused (the server answers 401 for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    /// Well signed but past its expiry.
    #[error("the token has expired")]
    Expired,
    /// Bad signature, malformed, wrong algorithm, missing claims.
    #[error("the token is invalid")]
    Invalid,
}

/// A key the verifier cannot use, or a token that could not be issued.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenSetupFailed(String);

impl AccessTokenVerifier {
    /// A verifier (and issuer) with the HS256 `key`.
    pub fn new(key: &[u8]) -> Result<AccessTokenVerifier, TokenSetupFailed> {
        let defaults = crate::ServerConfig::default();
        let tokens = Tokens::new(key, defaults.access_token_ttl, defaults.refresh_token_ttl)
            .map_err(|error| TokenSetupFailed(error.to_string()))?;
        Ok(AccessTokenVerifier { tokens })
    }

    /// The claims of `token` if the server would accept it before looking at the store.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenRejected> {
        match self.tokens.verify_access(token) {
            Ok(claims) => Ok(VerifiedToken {
                user_id: claims.id,
                username: claims.sub.clone(),
                role: claims.role.clone(),
                expires_at: claims.exp,
                issued_at_us: claims.iat_us,
            }),
            Err(TokenError::Expired) => Err(TokenRejected::Expired),
            Err(TokenError::Invalid) => Err(TokenRejected::Invalid),
        }
    }

    /// A token the server would issue now to the plain user `username` with id `user_id`.
    pub fn issue(&self, user_id: i64, username: &str) -> Result<String, TokenSetupFailed> {
        let now = Utc::now();
        let user = User {
            id: UserId(user_id),
            username: username.to_owned(),
            email: String::new(),
            password_hash: String::new(),
            role: Role::User,
            is_active: true,
            organization_id: None,
            capabilities: CapabilitySet::EMPTY,
            tokens_valid_after: DateTime::<Utc>::MIN_UTC,
            created_at: now,
            updated_at: now,
        };
        self.tokens
            .issue_access(&user)
            .map_err(|error| TokenSetupFailed(error.to_string()))
    }
}
