//! Security headers on every response: successes, errors (poem's 404 and 405 included), the
//! OpenAPI document and the interactive docs.
//!
//! * `Cache-Control: no-store`: responses carry tokens, keys and tenants' data; no cache
//!   along the way or in the browser keeps them.
//! * `X-Content-Type-Options: nosniff`: a browser takes JSON for JSON, never for a script.
//! * `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none'`: no page
//!   may frame the API or its docs (click-jacking). The policy says nothing else, so the
//!   Swagger UI at `/docs`, which loads its own scripts and styles, keeps working.
//! * `Referrer-Policy: no-referrer`: links followed from the docs do not leak the URL.

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderName, HeaderValue, header},
};

/// The headers set on every response (replacing any value set before).
pub const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// Middleware that sets [`SECURITY_HEADERS`] on every response, whatever produced it — except
/// a `Cache-Control: public, …` a handler chose: only the public PKI files (CA certificates
/// and CRLs, SPEC §10) set one, and relying parties' caches are meant to keep them.
pub(crate) async fn security_headers<E: Endpoint>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let mut response = match next.call(request).await {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    let public = headers
        .get(header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("public"));
    for (name, value) in SECURITY_HEADERS {
        if !(public && name == header::CACHE_CONTROL) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    Ok(response)
}
