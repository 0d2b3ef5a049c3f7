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
    /// Login attempts per username (case-insensitive) within
    /// [`ServerConfig::login_failure_window`] before further attempts get 429 (default 10; 0:
    /// no limit). Counted in the database, so every server process on it shares the count; a
    /// successful login clears it.
    pub max_login_failures: u32,
    /// Login attempts per client address within the window before further attempts get 429
    /// (default 100, larger because many users can share an address; 0: no limit). A
    /// successful login gives its own attempt back but does not clear the earlier failures.
    pub max_login_failures_per_address: u32,
    /// The window over which login attempts are counted (default 15 minutes); it begins with
    /// the first attempt and a new one begins with the first attempt after it ends.
    pub login_failure_window: Duration,
    /// Take the client's address from the rightmost `X-Forwarded-For` entry instead of the
    /// peer's address (default off). Turn it on only behind a reverse proxy that always sets
    /// the header: otherwise clients choose the address they are counted under.
    pub trust_forwarded_for: bool,
    /// The most bytes of request headers (names and values) accepted (default 16 KiB);
    /// more gets 431.
    pub max_header_bytes: usize,
    /// How long a request may take, body upload included, before it is answered 503 with
    /// `Retry-After` (default 30 seconds).
    pub request_timeout: Duration,
    /// Threads that hash and verify passwords (default 1). Each keeps argon2id's 19 MiB for
    /// the app's lifetime and verifies ≈ 30 passwords a second on one core; logins beyond
    /// them wait in a queue, so a flood of logins cannot take more cores or memory than this.
    pub password_workers: usize,
    /// The absolute `http(s)://` URL under which this server is reachable by relying parties
    /// (no trailing slash): certificates issued by a CA without its own `crl_base_url` point
    /// their CRL distribution point and AIA caIssuers URL under it (`{base}/crl/{slug}`,
    /// `{base}/ca/{slug}.crt`). `None`: such certificates carry neither (a certificate must
    /// not name a URL nobody can reach).
    pub public_base_url: Option<String>,
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
            max_login_failures_per_address: 100,
            login_failure_window: Duration::from_secs(15 * 60),
            trust_forwarded_for: false,
            max_header_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(30),
            password_workers: 1,
            public_base_url: None,
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
            .field(
                "max_login_failures_per_address",
                &self.max_login_failures_per_address,
            )
            .field("login_failure_window", &self.login_failure_window)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("password_workers", &self.password_workers)
            .field("public_base_url", &self.public_base_url)
            .finish()
    }
}
