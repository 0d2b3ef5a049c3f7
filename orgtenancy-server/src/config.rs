//! What the server is configured with; the binary fills it from flags and the environment.

use std::time::Duration;

use orgtenancy_core::Policy;

/// Configuration of the API built by [`crate::app`].
#[derive(Clone)]
pub struct ServerConfig {
    /// The HS256 key that signs access tokens. `None`: use the key stored in the database
    /// under [`crate::SIGNING_KEY_SECRET`], generating and storing one on first start, so
    /// restarts and several processes on one database accept each other's tokens.
    pub signing_key: Option<Vec<u8>>,
    /// The 32-byte AES-256-GCM key that encrypts CA and certificate private keys at rest.
    /// `None`: use the key stored in the database under [`crate::KEY_ENCRYPTION_KEY_SECRET`],
    /// generated on first start (a database dump then holds both; configure the key outside
    /// the database so a dump alone reveals nothing).
    pub key_encryption_key: Option<Vec<u8>>,
    /// Lifetime of access tokens (default 15 minutes).
    pub access_token_ttl: Duration,
    /// Lifetime of refresh tokens (default 24 hours).
    pub refresh_token_ttl: Duration,
    /// The engine's settings: the reach of the creator rule (strict isolation) and whether
    /// anonymous callers may register plain users (default: documented policy, closed).
    pub policy: Policy,
    /// The largest request body accepted, in bytes (default 1 MiB); larger bodies get 413.
    pub max_body_bytes: usize,
    /// Failed logins per username within [`ServerConfig::login_failure_window`] before
    /// further attempts get 429 (default 10).
    pub max_login_failures: u32,
    /// The window over which failed logins are counted (default 15 minutes).
    pub login_failure_window: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            signing_key: None,
            key_encryption_key: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(24 * 60 * 60),
            policy: Policy::DOCUMENTED,
            max_body_bytes: 1024 * 1024,
            max_login_failures: 10,
            login_failure_window: Duration::from_secs(15 * 60),
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "key_encryption_key",
                &self.key_encryption_key.as_ref().map(|_| "<redacted>"),
            )
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("policy", &self.policy)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_login_failures", &self.max_login_failures)
            .field("login_failure_window", &self.login_failure_window)
            .finish()
    }
}
