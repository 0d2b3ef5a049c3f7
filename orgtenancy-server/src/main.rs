//! `orgtenancy-server`: parses its configuration, connects to the database (running the
//! embedded migrations), builds the API with [`orgtenancy_server::app`] and serves it until
//! SIGINT or SIGTERM, finishing the requests in flight.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, ValueEnum};
use orgtenancy_core::{CreatorAccess, Policy};
use orgtenancy_server::{ServerConfig, app};
use poem::{Server, listener::TcpListener};
use tracing_subscriber::EnvFilter;

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
        env = "ORGTENANCY_DATABASE_URL",
        default_value = "sqlite://orgtenancy.db?mode=rwc"
    )]
    database_url: String,

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

    /// Log filter, e.g. `info` or `warn,orgtenancy_server=debug` (tracing EnvFilter syntax).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log_level: String,

    /// Log format.
    #[arg(long, env = "ORGTENANCY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
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
            ..ServerConfig::default()
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
    let listener = TcpListener::bind(cli.bind.clone());
    tracing::info!(bind = %cli.bind, version = orgtenancy_server::VERSION, "orgtenancy-server starting");
    Server::new(listener)
        .run_with_graceful_shutdown(api, shutdown_signal(), Some(SHUTDOWN_GRACE))
        .await
        .map_err(|error| format!("cannot serve on {}: {error}", cli.bind))?;
    tracing::info!("stopped");
    Ok(())
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "orgtenancy-server failed");
            eprintln!("orgtenancy-server: {error}");
            ExitCode::FAILURE
        }
    }
}
