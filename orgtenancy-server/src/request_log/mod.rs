//! One log line per request (SPEC §13), the outermost middleware of [`crate::app`].
//!
//! Every log line written while a request runs carries the request's context: its id, method
//! and path, and, once known, `user_id` (recorded by the authentication,
//! `Context::authenticate`) and `reason` and `rule` (recorded by a denial, `ApiError::denied`:
//! the engine's `Reason` and its §3 rule number when it has one). When the response is ready
//! one event logs `status` and `latency_ms`, so that line holds them all, in text and JSON
//! formats alike. `/healthz` logs at debug (load balancers poll it); server errors at warn.
//!
//! Where the context lives depends on the log format in use:
//! - With this crate's formatters ([`RequestText`], [`RequestJson`], which the binary uses),
//!   it is a task-local value the formatter reads: no span is made per request. A `request`
//!   span with six fields cost a sixth of a request's CPU time under load (benches/README.md),
//!   mostly in allocations that the two worker threads contended for.
//! - Otherwise (an application that embeds the route with its own subscriber), it is the
//!   fields of a `request` span, as tracing's own formatters expect; the lines are the same.
//!
//! The request id is the client's `X-Request-ID` when it sent a usable one (1–128 visible
//! ASCII characters), else a fresh one; either way it is set on the response.

mod context;
mod format;

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, StatusCode},
};
use tracing::{Instrument, field::Empty};

use context::RequestContext;
pub(crate) use context::{note_denial, note_user};
pub use format::{RequestJson, RequestText};

/// The header that carries a request's id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest client-sent id kept; a longer one is replaced by a fresh id.
const MAX_REQUEST_ID: usize = 128;

/// The path answered by the health check, logged at debug only.
const HEALTH_PATH: &str = "/healthz";

/// The client's id if usable, else a fresh one.
fn request_id(request: &Request) -> String {
    let sent = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=MAX_REQUEST_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
        });
    match sent {
        Some(id) => id.to_owned(),
        None => fresh_id(),
    }
}

/// 32 hex digits: 8 random bytes drawn once per process, then a counter. Unique within the
/// process and, by the random part, across processes; an id is for correlating log lines,
/// not a secret, so a request does not pay for a `getrandom` call. If the OS's generator
/// fails, the random part is the start time.
fn fresh_id() -> String {
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let process = *PROCESS.get_or_init(|| {
        let mut bytes = [0u8; 8];
        match getrandom::fill(&mut bytes) {
            Ok(()) => u64::from_be_bytes(bytes),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    elapsed.as_secs() << 30 ^ u64::from(elapsed.subsec_nanos())
                }),
        }
    });
    let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{process:016x}{sequence:016x}")
}

/// The middleware: see the module documentation.
pub(crate) async fn log_request<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if context::formatter_reads_context() {
        let request_context = RequestContext {
            id,
            method,
            path,
            user_id: Cell::new(None),
            reason: Cell::new(None),
        };
        return Ok(context::scope(request_context, async move {
            let mut response = respond(next, request).await;
            context::with_context(|request| {
                finish(&request.id, &request.path, &mut response, started)
            });
            response
        })
        .await);
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        path = %path,
        user_id = Empty,
        reason = Empty,
        rule = Empty,
    );
    let mut response = respond(next, request).instrument(span.clone()).await;
    span.in_scope(|| finish(&id, &path, &mut response, started));
    Ok(response)
}

async fn respond<E: Endpoint>(next: E, request: Request) -> Response {
    match next.call(request).await {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    }
}

/// Sets the id on the response and logs the request's line.
fn finish(id: &str, path: &str, response: &mut Response, started: Instant) {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    log_line(path, response.status(), latency_ms);
}

fn log_line(path: &str, status: StatusCode, latency_ms: f64) {
    let status = status.as_u16();
    if path == HEALTH_PATH {
        tracing::debug!(status, latency_ms, "request");
    } else if status >= 500 {
        tracing::warn!(status, latency_ms, "request");
    } else {
        tracing::info!(status, latency_ms, "request");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(value: &str) -> Request {
        Request::builder().header(REQUEST_ID_HEADER, value).finish()
    }

    #[test]
    fn a_usable_client_id_is_kept_else_one_is_made() {
        assert_eq!(request_id(&with_header("abc-123")), "abc-123");
        for unusable in ["", "with space", &"x".repeat(MAX_REQUEST_ID + 1)] {
            let id = request_id(&with_header(unusable));
            assert_eq!(id.len(), 32, "{unusable:?} gave {id}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(fresh_id(), fresh_id());
    }
}
