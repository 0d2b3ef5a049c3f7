//! An existing poem application with its own routes mounts the tenancy API next to them.
//!
//! `orgtenancy_server::app` returns one poem endpoint serving `/api/v1/...`, the OpenAPI
//! document at `/api/v1/openapi.json`, docs at `/docs` and `/healthz`; the application nests
//! it at `/` and keeps its own routes (here `GET /hello`), which take precedence.
//!
//! * `cargo run -p orgtenancy-examples --example mount_in_poem_app` serves on
//!   `127.0.0.1:8000` (or `$BIND`) until Ctrl-C, on an in-memory database.
//! * `... --example mount_in_poem_app -- --smoke` sends a few requests through the
//!   combined application in process (no network), checks the answers and exits: 0 when
//!   they are right, non-zero otherwise. CI runs this.

use std::error::Error;

use orgtenancy_server::{ServerConfig, app};
use poem::{
    Endpoint, EndpointExt, Route, Server, get, handler, http::StatusCode, listener::TcpListener,
    test::TestClient,
};

/// The application's own route.
#[handler]
fn hello() -> &'static str {
    "hello from the host application"
}

/// The host application: its own routes, and the tenancy API beside them.
async fn application() -> Result<impl Endpoint, Box<dyn Error>> {
    // The tenancy tables and the server's own (CAs, certificates, login throttle).
    let store = orgtenancy_server_store::connect("sqlite::memory:").await?;
    let tenancy = app(store, ServerConfig::default()).await?;
    Ok(Route::new()
        .at("/hello", get(hello))
        .nest("/", tenancy)
        .map_to_response())
}

/// Requests the application must answer, with the status and a piece of the body expected.
const CHECKS: [(&str, StatusCode, &str); 4] = [
    ("/hello", StatusCode::OK, "hello from the host application"),
    ("/healthz", StatusCode::OK, "\"ok\""),
    ("/api/v1/openapi.json", StatusCode::OK, "\"openapi\""),
    // Tenancy routes are protected as usual: no token, no organizations.
    ("/api/v1/organizations", StatusCode::UNAUTHORIZED, "detail"),
];

async fn smoke() -> Result<(), Box<dyn Error>> {
    let client = TestClient::new(application().await?);
    let mut wrong = 0_usize;
    for (path, status, needle) in CHECKS {
        let response = client.get(path).send().await;
        let got = response.0.status();
        let body = response.0.into_body().into_string().await?;
        let ok = got == status && body.contains(needle);
        if !ok {
            wrong += 1;
        }
        println!(
            "{mark} GET {path:<24} {got} (expected {status}, body containing {needle})",
            mark = if ok { "ok   " } else { "WRONG" },
        );
    }
    if wrong == 0 {
        println!("the host routes and the tenancy API answer side by side");
        Ok(())
    } else {
        Err(format!("{wrong} requests answered wrongly").into())
    }
}

async fn serve() -> Result<(), Box<dyn Error>> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    println!("serving on http://{bind} (GET /hello, /docs, /api/v1/...); Ctrl-C stops");
    Server::new(TcpListener::bind(bind))
        .run_with_graceful_shutdown(
            application().await?,
            async {
                // If the signal handler cannot be installed, stop rather than serve forever.
                let _ = tokio::signal::ctrl_c().await;
            },
            None,
        )
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    if std::env::args().any(|arg| arg == "--smoke") {
        smoke().await
    } else {
        serve().await
    }
}
