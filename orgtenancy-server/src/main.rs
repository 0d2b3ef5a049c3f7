//! `orgtenancy-server`: parses its configuration, connects to the database (running the
//! embedded migrations), builds the API with [`orgtenancy_server::app`] and serves it until
//! SIGINT or SIGTERM, finishing the requests in flight.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};
use orgtenancy_core::{CreatorAccess, Policy};
use orgtenancy_server::wire::JsonProtocolErrors;
use orgtenancy_server::{ServerConfig, app};
use poem::{
    Server,
    listener::{Listener, TcpListener},
};
use tracing_subscriber::EnvFilter;

/// With the `mimalloc` feature: faster allocation for more resident memory (benches/README.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The orgtenancy reference server: organizations, users, authentication and audit log
/// over HTTP, on SQLite (default) or PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "orgtenancy-server", version, about, long_about = None)]
struct Cli {
    /// Database URL: `sqlite://FILE?mode=rwc` (created on first start) or `postgres://...`.
    #[arg(
        long,
        global = true,
        env = "ORGTENANCY_DATABASE_URL",
        default_value = "sqlite://orgtenancy.db?mode=rwc"
    )]
    database_url: String,

    /// What to do instead of serving the API.
    #[command(subcommand)]
    command: Option<Command>,

    /// Address to listen on.
    #[arg(long, env = "ORGTENANCY_BIND", default_value = "127.0.0.1:8000")]
    bind: String,

    /// HS256 key for access tokens (at least 32 bytes). Default: a random key generated on
    /// first start and kept in the database, shared by every process using it.
    #[arg(long, env = "ORGTENANCY_SIGNING_KEY", hide_env_values = true)]
    signing_key: Option<String>,

    /// AES-256 key that encrypts CA and certificate private keys at rest: 32 bytes as base64
    /// or hex. Default: a random key generated on first start and kept in the database.
    #[arg(long, env = "ORGTENANCY_KEY_ENCRYPTION_KEY", hide_env_values = true,
          value_parser = parse_key_encryption_key)]
    key_encryption_key: Option<KeyEncryptionKey>,

    /// Lifetime of access tokens, in minutes.
    #[arg(long, env = "ORGTENANCY_ACCESS_TOKEN_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=525_600))]
    access_token_minutes: u64,

    /// Lifetime of refresh tokens, in hours.
    #[arg(long, env = "ORGTENANCY_REFRESH_TOKEN_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=87_600))]
    refresh_token_hours: u64,

    /// Let anonymous callers register plain users with no organization.
    #[arg(long, env = "ORGTENANCY_OPEN_REGISTRATION")]
    open_registration: bool,

    /// Strict isolation: a resource's creator keeps access to it only while both are in the
    /// same organization (default: the documented hierarchy, creators keep access).
    #[arg(long, env = "ORGTENANCY_STRICT_ISOLATION")]
    strict_isolation: bool,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "ORGTENANCY_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,

    /// Largest accepted request headers (names and values together), in bytes; more gets 431.
    #[arg(long, env = "ORGTENANCY_MAX_HEADER_BYTES", default_value_t = 16 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=400 * 1024))]
    max_header_bytes: u64,

    /// Longest a request may take (reading its body included) before it is answered 503 with
    /// `Retry-After`, in seconds.
    #[arg(long, env = "ORGTENANCY_REQUEST_TIMEOUT_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout_seconds: u64,

    /// A connection on which nothing is read or written for this many seconds is closed.
    #[arg(long, env = "ORGTENANCY_IDLE_TIMEOUT_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_timeout_seconds: u64,

    /// Login attempts per username within the window before further ones get 429 (0: no
    /// limit). Counted in the database, shared by every server process on it.
    #[arg(long, env = "ORGTENANCY_MAX_LOGIN_FAILURES", default_value_t = 10)]
    max_login_failures: u32,

    /// Login attempts per client address within the window before further ones get 429 (0: no
    /// limit).
    #[arg(
        long,
        env = "ORGTENANCY_MAX_LOGIN_FAILURES_PER_ADDRESS",
        default_value_t = 100
    )]
    max_login_failures_per_address: u32,

    /// The window over which login attempts are counted, in minutes.
    #[arg(long, env = "ORGTENANCY_LOGIN_FAILURE_WINDOW_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=10_080))]
    login_failure_window_minutes: u64,

    /// Count login attempts under the client address in the rightmost `X-Forwarded-For`
    /// entry instead of the peer's. Only behind a reverse proxy that always sets the header.
    #[arg(long, env = "ORGTENANCY_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,

    /// Threads that hash and verify passwords (argon2id). Each keeps 19 MiB while the server
    /// runs and verifies about 30 passwords a second; logins beyond them wait in a queue.
    #[arg(long, env = "ORGTENANCY_PASSWORD_WORKERS", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=64))]
    password_workers: u8,

    /// Log filter, e.g. `info` or `warn,orgtenancy_server=debug` (tracing EnvFilter syntax).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log_level: String,

    /// Log format.
    #[arg(long, env = "ORGTENANCY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// A one-off task run instead of the server.
#[derive(Debug, Subcommand)]
enum Command {
    /// Verify the audit log's hash chain and exit: 0 when intact, 1 when broken (the first
    /// broken entry is printed), 2 when it cannot be verified.
    VerifyAudit,
}

/// A parsed `--key-encryption-key` (a newtype: clap treats a bare `Vec` as many values).
#[derive(Clone)]
struct KeyEncryptionKey(Vec<u8>);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(<redacted>)")
    }
}

fn parse_key_encryption_key(text: &str) -> Result<KeyEncryptionKey, String> {
    orgtenancy_server::pki::keycrypt::parse_key(text)
        .map(KeyEncryptionKey)
        .map_err(|error| error.to_string())
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Cli {
    fn server_config(&self) -> ServerConfig {
        let creator_access = if self.strict_isolation {
            CreatorAccess::SameOrganization
        } else {
            CreatorAccess::Anywhere
        };
        ServerConfig {
            signing_key: self.signing_key.as_ref().map(|key| key.as_bytes().to_vec()),
            key_encryption_key: self.key_encryption_key.as_ref().map(|key| key.0.clone()),
            access_token_ttl: Duration::from_secs(self.access_token_minutes.saturating_mul(60)),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_hours.saturating_mul(3600)),
            policy: Policy {
                creator_access,
                open_registration: self.open_registration,
            },
            max_body_bytes: self.max_body_bytes,
            max_header_bytes: usize::try_from(self.max_header_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            max_login_failures: self.max_login_failures,
            max_login_failures_per_address: self.max_login_failures_per_address,
            login_failure_window: Duration::from_secs(
                self.login_failure_window_minutes.saturating_mul(60),
            ),
            trust_forwarded_for: self.trust_forwarded_for,
            password_workers: usize::from(self.password_workers),
        }
    }
}

fn init_logging(cli: &Cli) -> Result<(), String> {
    let filter = EnvFilter::try_new(&cli.log_level)
        .map_err(|error| format!("invalid --log-level `{}`: {error}", cli.log_level))?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let result = match cli.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|error| format!("cannot set up logging: {error}"))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = cli.server_config();
    let store = orgtenancy_sqlx::connect(&cli.database_url)
        .await
        .map_err(|error| format!("cannot open the database: {error}"))?;
    let api = app(store, config)
        .await
        .map_err(|error| error.to_string())?;
    let acceptor = TcpListener::bind(cli.bind.clone())
        .into_acceptor()
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", cli.bind))?;
    tracing::info!(bind = %cli.bind, version = orgtenancy_server::VERSION, "orgtenancy-server starting");
    // Requests hyper cannot parse are answered with JSON too (see `wire`).
    Server::new_with_acceptor(JsonProtocolErrors(acceptor))
        .idle_timeout(Duration::from_secs(cli.idle_timeout_seconds))
        .run_with_graceful_shutdown(api, shutdown_signal(), Some(SHUTDOWN_GRACE))
        .await
        .map_err(|error| format!("cannot serve on {}: {error}", cli.bind))?;
    tracing::info!("stopped");
    Ok(())
}

/// `verify-audit`: prints the chain's state on stdout; see [`Command::VerifyAudit`].
async fn verify_audit(database_url: &str) -> ExitCode {
    const CANNOT_VERIFY: u8 = 2;
    let report = match orgtenancy_sqlx::connect_existing(database_url).await {
        Ok(store) => store.verify_audit_chain().await,
        Err(error) => Err(error),
    };
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            eprintln!("orgtenancy-server: cannot verify the audit chain: {error}");
            return ExitCode::from(CANNOT_VERIFY);
        }
    };
    let head = report
        .head_id
        .map_or_else(|| "none".to_owned(), |id| id.to_string());
    match report.first_broken {
        None => {
            println!(
                "audit chain intact: {} entries checked, {} older entries before the chain; \
                 head entry {head}, hash {}",
                report.entries_checked, report.unchained_entries, report.head_hash
            );
            ExitCode::SUCCESS
        }
        Some(broken) => {
            println!(
                "audit chain BROKEN at entry {} ({}): {}; {} entries intact before it",
                broken.id,
                broken.reason.code(),
                broken.reason.describe(),
                report.entries_checked
            );
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = init_logging(&cli) {
        eprintln!("orgtenancy-server: {error}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("orgtenancy-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::VerifyAudit) = cli.command {
        return runtime.block_on(verify_audit(&cli.database_url));
    }
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "orgtenancy-server failed");
            eprintln!("orgtenancy-server: {error}");
            ExitCode::FAILURE
        }
    }
}
