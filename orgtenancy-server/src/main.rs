//! `orgtenancy-server`: parses its configuration, connects to the database (running the
//! embedded migrations), builds the API with [`orgtenancy_server::app`] and serves it until
//! SIGINT or SIGTERM, finishing the requests in flight, then checkpoints SQLite's WAL into
//! the database file. The one-off commands and the start-up line live in
//! [`orgtenancy_server::operate`].

use std::{process::ExitCode, sync::Arc, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};
use orgtenancy_core::{CreatorAccess, Policy};
use orgtenancy_server::wire::JsonProtocolErrors;
use orgtenancy_server::{ServerConfig, app, operate, request_log};
use orgtenancy_sqlx::{SqlStore, Store as _};
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

    /// The absolute `http(s)://` URL relying parties reach this server at: certificates of a
    /// CA without its own `crl_base_url` name their CRL and issuer certificate under it
    /// (`/crl/{slug}`, `/ca/{slug}.crt`). Unset: they name none.
    #[arg(long, env = "ORGTENANCY_PUBLIC_BASE_URL", value_parser = parse_public_base_url)]
    public_base_url: Option<String>,

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
    /// broken entry is printed), 2 when it cannot be verified (no database, no audit log).
    /// The database is opened read-only and never created or migrated.
    VerifyAudit,
    /// Create a superuser (also when the database already has users) and exit; the password
    /// is the first line of standard input (at least 8 characters). Audited as
    /// `user_create` by `orgtenancy-server create-superuser`. Exit 1 when the username or
    /// email is taken.
    CreateSuperuser {
        /// The new superuser's username.
        #[arg(long)]
        username: String,
        /// The new superuser's email address.
        #[arg(long)]
        email: String,
    },
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

fn parse_public_base_url(text: &str) -> Result<String, String> {
    orgtenancy_server::pki::published::base_url(text).map_err(|error| error.to_string())
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
            public_base_url: self.public_base_url.clone(),
        }
    }
}

/// Sets up logging to standard error. The lines are formatted where they happen and written
/// in batches by a thread of their own ([`operate::log_writer`]: one `write` per batch and no
/// wake-up per line); none is ever dropped, a full buffer makes the logging request wait.
/// Keep the guard until exit: its drop writes what is still buffered.
fn init_logging(cli: &Cli) -> Result<operate::log_writer::FlushGuard, String> {
    operate::check_log_filter(&cli.log_level)?;
    let filter = EnvFilter::try_new(&cli.log_level)
        .map_err(|error| format!("invalid --log-level `{}`: {error}", cli.log_level))?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = operate::log_writer::BatchedWriter::new(std::io::stderr())
        .map_err(|error| format!("cannot start the log writer: {error}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    // The formatters that read each request's context from the request itself, not a span.
    let result = match cli.log_format {
        LogFormat::Text => builder
            .event_format(request_log::RequestText::new())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .event_format(request_log::RequestJson::new())
            .try_init(),
    };
    result.map_err(|error| format!("cannot set up logging: {error}"))?;
    Ok(guard)
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

/// Opens the database (creating it, and migrating the tenancy tables and the server's own)
/// within [`operate::STARTUP_TIMEOUT`]; an error names it (password redacted) and says why.
async fn open_database(url: &str) -> Result<SqlStore, String> {
    orgtenancy_server_store::open_within(url, operate::STARTUP_TIMEOUT)
        .await
        .map_err(|error| {
            format!(
                "cannot open the database {}: {error}",
                operate::redact_url(url)
            )
        })
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = cli.server_config();
    let policy = config.policy;
    let store = open_database(&cli.database_url).await?;
    let on_database = |error: &dyn std::fmt::Display| {
        format!(
            "cannot start on the database {}: {error}",
            operate::redact_url(&cli.database_url)
        )
    };
    let no_users = store
        .has_no_users()
        .await
        .map_err(|error| on_database(&error))?;
    let api = app(Arc::new(store.clone()), config)
        .await
        .map_err(|error| on_database(&error))?;
    let acceptor = TcpListener::bind(cli.bind.clone())
        .into_acceptor()
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", cli.bind))?;
    operate::log_startup(&operate::Startup {
        bind: &cli.bind,
        database_url: &cli.database_url,
        policy: &policy,
        no_users,
    });
    // Requests hyper cannot parse are answered with JSON too (see `wire`).
    let served = Server::new_with_acceptor(JsonProtocolErrors(acceptor))
        .idle_timeout(Duration::from_secs(cli.idle_timeout_seconds))
        .run_with_graceful_shutdown(api, shutdown_signal(), Some(SHUTDOWN_GRACE))
        .await
        .map_err(|error| format!("cannot serve on {}: {error}", cli.bind));
    // Everything committed moves from the WAL into the .db file: a copy of it alone is whole.
    if let Err(error) = store.checkpoint().await {
        tracing::warn!(%error, "cannot checkpoint the SQLite database");
    }
    store.close().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// `create-superuser`: see [`Command::CreateSuperuser`].
async fn create_superuser(database_url: &str, username: &str, email: &str) -> Result<(), String> {
    let password = operate::read_password(&mut std::io::stdin().lock())?;
    let store = open_database(database_url).await?;
    let created = operate::create_superuser(&store, username, email, password).await;
    let _ = store.checkpoint().await;
    store.close().await;
    let user = created?;
    println!("created superuser `{}` (id {})", user.username, user.id);
    Ok(())
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let _log_writer = match init_logging(&cli) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("orgtenancy-server: {error}");
            return ExitCode::FAILURE;
        }
    };
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
    let outcome = match cli.command.take() {
        Some(Command::VerifyAudit) => {
            return runtime.block_on(operate::verify_audit(&cli.database_url));
        }
        Some(Command::CreateSuperuser { username, email }) => {
            runtime.block_on(create_superuser(&cli.database_url, &username, &email))
        }
        None => runtime.block_on(run(cli)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "orgtenancy-server failed");
            eprintln!("orgtenancy-server: {error}");
            ExitCode::FAILURE
        }
    }
}
