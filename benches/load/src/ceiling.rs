//! The ceiling: a bare poem server answering `GET /api/v1/organizations/{id}` with a constant
//! JSON body — no middleware, no authentication, no database. Measured by the same clients
//! in the same run as the real server, it is what the machine, poem and the load generator
//! allow at all, and every figure of the real server is quoted as a share of it.

use std::net::SocketAddr;

use poem::{
    IntoResponse, Route, Server, get, handler,
    http::header,
    listener::TcpListener,
    web::{Path, WithHeader},
};

/// The body the real server sends for a seeded organization, byte for byte in shape.
const BODY: &str = r#"{"id":1,"name":"org-0","description":"seeded for the load test","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#;

#[handler]
fn organization(Path(_id): Path<i64>) -> WithHeader<&'static str> {
    BODY.with_header(header::CONTENT_TYPE, "application/json; charset=utf-8")
}

/// Serves the constant route on `bind` until the process is stopped, on a multi-threaded
/// tokio runtime with one worker per core (as the real server's).
pub fn serve(bind: &str) -> Result<(), String> {
    let address: SocketAddr = bind.parse().map_err(|error| format!("`{bind}`: {error}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let route = Route::new().at("/api/v1/organizations/:id", get(organization));
    runtime
        .block_on(Server::new(TcpListener::bind(address)).run(route))
        .map_err(|error| error.to_string())
}
