//! # orgtenancy-server
//!
//! The reference HTTP server of orgtenancy, on poem + poem-openapi: the organizations,
//! users, authentication and audit-log API of SPEC §4–§7 and the certificate authorities and
//! certificates of §9, as a library that builds one poem
//! endpoint, and a thin `orgtenancy-server` binary that configures and serves it.
//!
//! ```no_run
//! use std::sync::Arc;
//! use orgtenancy_server::{ServerConfig, app};
//!
//! # async fn run(store: Arc<dyn orgtenancy_server_store::ServerStore>) -> Result<(), Box<dyn std::error::Error>> {
//! let api = app(store, ServerConfig::default()).await?;
//! // Serve it alone, or mount it inside an application's own route:
//! let route = poem::Route::new().nest("/", api);
//! poem::Server::new(poem::listener::TcpListener::bind("127.0.0.1:8000")).run(route).await?;
//! # Ok(()) }
//! ```
//!
//! ## Architecture
//!
//! A request flows through four layers, each in its own module:
//!
//! 1. **Middleware** ([`app`]): JSON errors outermost ([`error`]), trailing-slash
//!    normalisation (collection paths answer with and without the slash, no redirects), a
//!    request-body size limit ([`payload`]), a header size limit and a request timeout
//!    (`limits`), security headers on every response ([`headers`]), one log line per request
//!    with its id and user ([`request_log`]).
//! 2. **Operations** (`auth`, `users`, `organizations`, `audit`, `cas`, `certificates`): one `#[OpenApi]` struct per
//!    area, holding the shared `Context` in a field. Each handler is thin: authenticate (the
//!    user is re-read from the store on every request), ask `orgtenancy-core` for a
//!    `Decision`, call the `Store`, map the result. No handler decides a permission itself:
//!    every allow and deny comes from [`orgtenancy_core::Policy`].
//! 3. **Errors** ([`error`]): one `From<StoreError>` maps storage errors to statuses; one
//!    middleware turns every other failure (poem's 404/405, parse errors, missing tokens)
//!    into `{"detail": ...}`.
//! 4. **Storage**: only through the [`ServerStore`]
//!    trait (the tenancy [`orgtenancy_sqlx::Store`], and the PKI tables and login throttle of
//!    `orgtenancy-server-store`); this crate has no SQL.
//!
//! The five capability flags of the PKI server live in [`capabilities`]; X.509 issuing and
//! the encryption of private keys at rest in [`pki`]. CA and certificate handlers ask the
//! engine with the row's `organization_id` and `created_by_user_id`; creating asks about the
//! *target context* (the caller's organization, no creator), so the creator rule never
//! grants creation; adoption (`PATCH /cas/{id}`) asks about an organization-less resource
//! nobody created, which only a superuser may write (rule 1). Tokens (HS256 JWTs
//! and hashed, rotating refresh tokens) in a private `tokens` module; its access-token
//! verifier alone is public in [`fuzzing`], for the fuzz target and the benchmarks.

mod audit;
mod auth;
mod authzen;
pub mod capabilities;
#[cfg(test)]
mod captured;
mod cas;
mod certificates;
mod config;
mod context;
pub mod error;
mod exports;
mod extract;
pub mod fuzzing;
pub mod headers;
mod hostile;
mod json_errors;
mod limits;
mod lockouts;
pub mod operate;
mod organizations;
mod params;
mod passwords;
pub mod payload;
pub mod pki;
mod published;
pub mod request_log;
mod resources;
mod schema;
pub mod text;
mod throttle;
mod tokens;
mod users;
mod validate;
pub mod wire;

use std::sync::Arc;

use orgtenancy_server_store::ServerStore;
use orgtenancy_sqlx::StoreError;
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
    endpoint::BoxEndpoint,
    get, handler,
    http::Method,
    middleware::{NormalizePath, TrailingSlash},
};
use poem_openapi::{OpenApiService, Tags, payload::Json};

pub use config::ServerConfig;
pub use lockouts::LockoutCleared;
pub use resources::{
    CaAssign, CaCreate, CaOut, CertCreate, CertOut, CertificateTypeName, CsrSign, KeyTypeName,
    Renew, RevokeRequest, StatusName,
};
pub use schema::{
    AuditEntryOut, Health, LogoutRequest, OrganizationCreate, OrganizationOut, OrganizationUpdate,
    RefreshRequest, RoleName, ServiceInfo, TokenForm, TokenOut, UserCreate, UserOut, UserUpdate,
};

use crate::{
    audit::AuditApi, auth::AuthApi, cas::CasApi, certificates::CertificatesApi, context::Context,
    organizations::OrganizationsApi, passwords::Passwords, payload::BodyLimit,
    pki::keycrypt::KeyCipher, throttle::LoginThrottle, tokens::Tokens, users::UsersApi,
};

/// The name `GET /` reports.
pub const SERVICE_NAME: &str = "orgtenancy-server";
/// The version `GET /` and the OpenAPI document report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The name under which the generated JWT signing key is kept in the store.
pub const SIGNING_KEY_SECRET: &str = "jwt_signing_key";
/// The shortest signing key accepted, in bytes.
pub const MIN_SIGNING_KEY_BYTES: usize = 32;
/// The name under which the generated key-encryption key (private keys at rest) is kept.
pub const KEY_ENCRYPTION_KEY_SECRET: &str = "key_encryption_key";
/// Where the API is served.
pub const API_PREFIX: &str = "/api/v1";

/// The endpoint [`app`] builds.
pub type App = BoxEndpoint<'static, Response>;

/// Why the API could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// Reading or storing the signing key failed.
    #[error("cannot load the signing key: {0}")]
    Store(#[from] StoreError),
    /// The operating system's random number generator failed.
    #[error("cannot generate a signing key: {0}")]
    Random(String),
    /// The signing key cannot be used.
    #[error("cannot use the signing key: {0}")]
    Key(String),
    /// The key-encryption key is not 32 bytes.
    #[error("the key-encryption key must be exactly 32 bytes")]
    BadKeyEncryptionKey,
    /// A configured signing key is too short.
    #[error("the signing key must be at least {MIN_SIGNING_KEY_BYTES} bytes long")]
    WeakSigningKey,
}

#[derive(Tags)]
enum ApiTags {
    /// Log in, refresh, log out.
    Auth,
    /// User accounts.
    Users,
    /// Organizations (tenants) and their membership.
    Organizations,
    /// The audit log.
    Audit,
    /// Certificate authorities (the reference server's resources).
    CertificateAuthorities,
    /// Certificates issued by the certificate authorities.
    Certificates,
}

/// Builds the whole API over `store`: the operations under `/api/v1`, the OpenAPI document
/// at `/api/v1/openapi.json`, interactive docs at `/docs`, `/healthz` and `/`. The store's
/// database needs both crates' tables: open it with [`orgtenancy_server_store::connect`] (or
/// run [`orgtenancy_server_store::migrate`] on an `orgtenancy_sqlx::SqlStore`).
///
/// With no signing key configured, the key stored in the database is used, generated with
/// the OS's CSPRNG on first start ([`SIGNING_KEY_SECRET`]).
pub async fn app(store: Arc<dyn ServerStore>, config: ServerConfig) -> Result<App, AppError> {
    let key = match config.signing_key.clone() {
        Some(key) if key.len() < MIN_SIGNING_KEY_BYTES => return Err(AppError::WeakSigningKey),
        Some(key) => key,
        None => stored_secret(store.as_ref(), SIGNING_KEY_SECRET).await?,
    };
    let key_encryption_key = match config.key_encryption_key.clone() {
        Some(key) => key,
        None => stored_secret(store.as_ref(), KEY_ENCRYPTION_KEY_SECRET).await?,
    };
    let keys = KeyCipher::new(&key_encryption_key).map_err(|_| AppError::BadKeyEncryptionKey)?;
    let ctx = Arc::new(Context {
        keys,
        store: Arc::clone(&store),
        policy: config.policy,
        tokens: Tokens::new(&key, config.access_token_ttl, config.refresh_token_ttl)
            .map_err(|error| AppError::Key(error.to_string()))?,
        throttle: LoginThrottle::new(&config),
        passwords: Passwords::new(config.password_workers),
        public_base_url: config.public_base_url.clone(),
    });
    let api = OpenApiService::new(apis(&ctx), "orgtenancy", VERSION)
        .description(
            "Multi-tenant organizations, users and audit log of the orgtenancy reference server.",
        )
        .server(API_PREFIX);
    let params = Arc::new(params::PathParams::from_spec(API_PREFIX, &api.spec()));
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let route = Route::new()
        .at(format!("{API_PREFIX}/openapi.json"), spec)
        .nest(API_PREFIX, api)
        .nest("/docs", docs)
        .at(
            "/healthz",
            get(poem::endpoint::make(move |_| health(Arc::clone(&store)))),
        )
        .at("/", get(root));
    // The AuthZEN access evaluation API (`/access/v1`) and its PDP metadata.
    // The context as request data too, for the checker of `extract::Authenticated`.
    let route = authzen::mount(route, Arc::clone(&ctx));
    // The public PKI files: CRLs and CA certificates, without authentication.
    let route = published::mount(route, Arc::clone(&ctx)).data(ctx);
    Ok(with_middleware(route, &config, params))
}

/// The secret `name` from the store, generated with the OS's CSPRNG on first use.
async fn stored_secret(store: &dyn ServerStore, name: &str) -> Result<Vec<u8>, AppError> {
    let candidate = tokens::random_bytes().map_err(|error| AppError::Random(error.to_string()))?;
    Ok(store.get_or_create_secret(name, candidate).await?)
}

/// Every operation group of `/api/v1`, sharing `ctx`.
fn apis(
    ctx: &Arc<Context>,
) -> (
    AuthApi,
    UsersApi,
    OrganizationsApi,
    AuditApi,
    CasApi,
    CertificatesApi,
    exports::ExportsApi,
    lockouts::LockoutsApi,
) {
    let ctx = || Arc::clone(ctx);
    (
        AuthApi { ctx: ctx() },
        UsersApi { ctx: ctx() },
        OrganizationsApi { ctx: ctx() },
        AuditApi { ctx: ctx() },
        CasApi { ctx: ctx() },
        CertificatesApi { ctx: ctx() },
        exports::ExportsApi { ctx: ctx() },
        lockouts::LockoutsApi { ctx: ctx() },
    )
}

/// A GET's (or HEAD's) reads share one pooled connection, given back to the pool when the
/// request ends ([`orgtenancy_sqlx::one_connection`]): sqlx pings a connection each time it
/// goes back, so one return per request instead of one per read (on PostgreSQL and an
/// in-memory SQLite store; a SQLite file's reads use connections beside the pool). Every read is still its
/// own snapshot; other methods may hold a connection across slow work (argon2, key
/// generation), so they borrow one per statement as before.
async fn one_connection_for_reads<E: Endpoint>(
    next: Arc<E>,
    request: Request,
) -> poem::Result<Response> {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        orgtenancy_sqlx::one_connection(next.call(request))
            .await
            .map(IntoResponse::into_response)
    } else {
        Ok(next.call(request).await?.into_response())
    }
}

/// The middleware around every route, innermost first: reads on one connection (GET), the
/// body limit, hostile query text, path normalization, the request timeout, the header limit,
/// JSON errors, security headers and the request log.
fn with_middleware(
    route: impl Endpoint + 'static,
    config: &ServerConfig,
    params: Arc<params::PathParams>,
) -> App {
    let limit = BodyLimit {
        max_bytes: config.max_body_bytes,
    };
    let timeout = limits::RequestTimeout {
        limit: config.request_timeout,
    };
    let header_limit = limits::HeaderLimit {
        max_bytes: config.max_header_bytes,
    };
    route
        .around(one_connection_for_reads)
        // Boxed: the nested middleware types would overflow the compiler's query depth.
        .boxed()
        .around(move |next, request| limit.apply(next, request))
        .around(hostile::query_text)
        .with(NormalizePath::new(TrailingSlash::Trim))
        .around(move |next, request| timeout.apply(next, request))
        .around(move |next, request| header_limit.apply(next, request))
        .around(move |next, request| json_errors::json_errors(next, request, Arc::clone(&params)))
        .around(headers::security_headers)
        .around(request_log::log_request)
        .map_to_response()
        .boxed()
}

#[handler]
fn root() -> Json<ServiceInfo> {
    Json(ServiceInfo {
        name: SERVICE_NAME.to_owned(),
        version: VERSION.to_owned(),
    })
}

/// 200 `{"status": "ok"}` when the database answers, else 503.
async fn health(store: Arc<dyn ServerStore>) -> Response {
    match store.has_no_users().await {
        Ok(_) => Json(Health {
            status: "ok".to_owned(),
        })
        .into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            error::ApiError::unavailable().into_response()
        }
    }
}
