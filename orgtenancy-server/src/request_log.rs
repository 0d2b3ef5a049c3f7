//! One log line per request (SPEC §13), the outermost middleware of [`crate::app`].
//!
//! Each request runs inside a `request` span that carries its id, method and path; fields
//! left empty at first are filled in while it runs: `user_id` by the authentication
//! (`Context::authenticate`), `reason` and `rule` by a denial (`ApiError::denied`, the engine's
//! `Reason` and its §3 rule number when it has one). When the response is ready one event
//! in that span logs `status` and `latency_ms`, so the line holds them all, in text and JSON
//! formats alike. `/healthz` logs at debug (load balancers poll it); server errors at warn.
//!
//! The request id is the client's `X-Request-ID` when it sent a usable one (1–128 visible
//! ASCII characters), else 16 random bytes in hex; either way it is set on the response.

use std::time::Instant;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, StatusCode},
};
use tracing::{Instrument, field::Empty};

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

/// 16 random bytes in hex; a clock-and-counter id if the OS's generator fails (an id is for
/// correlating log lines, not a secret).
fn fresh_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        bytes = nanos.to_be_bytes();
    }
    // One string, not one per byte: this runs for every request.
    let mut id = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        for digit in [byte >> 4, byte & 0x0f] {
            id.extend(char::from_digit(u32::from(digit), 16));
        }
    }
    id
}

/// The middleware: see the module documentation.
pub(crate) async fn log_request<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let id = request_id(&request);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        path = %path,
        user_id = Empty,
        reason = Empty,
        rule = Empty,
    );
    let started = Instant::now();
    let outcome = next.call(request).instrument(span.clone()).await;
    let mut response = match outcome {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| log_line(&path, response.status(), latency_ms));
    Ok(response)
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
