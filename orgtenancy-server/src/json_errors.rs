//! The outermost middleware: every error response is JSON.
//!
//! Handlers answer with [`ApiError`]s, which are JSON already. Everything else poem or
//! poem-openapi fails with (unknown route, wrong method, unparsable parameter, wrong content
//! type, missing token) is rewritten here into the same `{"detail": ...}` shape, so no
//! response ever carries poem's plain-text errors.

use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{StatusCode, header},
};

use crate::{error::ApiError, params::PathParams};

/// The response for any error poem or a handler produced, always JSON.
fn error_response(error: poem::Error, path: &str, params: &PathParams) -> Response {
    if error.is_from_response() {
        // An `ApiError` (or another `ApiResponse`) turned into a `poem::Error`: already JSON.
        return error.into_response();
    }
    if let Some(detail) = params.describe(path, &error) {
        return ApiError::unprocessable(detail).into_response();
    }
    let (status, detail) = classify(&error);
    match ApiError::for_status(status, detail) {
        Ok(error) => error.into_response(),
        Err(detail) => plain_json(status, &detail),
    }
}

/// The status and detail for an error that did not come from a handler (unparsable path and
/// query parameters are 422s described by [`PathParams`] before this).
fn classify(error: &poem::Error) -> (StatusCode, String) {
    let status = error.status();
    let detail = match status {
        _ if status.is_server_error() => {
            tracing::error!(error = %error, "internal error");
            "internal server error".to_owned()
        }
        StatusCode::NOT_FOUND => "not found".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed".to_owned(),
        StatusCode::UNAUTHORIZED => "not authenticated".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "request body too large".to_owned(),
        _ => error.to_string(),
    };
    (status, detail)
}

fn plain_json(status: StatusCode, detail: &str) -> Response {
    let text = serde_json::json!({ "detail": detail }).to_string();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(text)
}

/// Outermost middleware: turns every error (and every non-JSON error response) into the
/// `{"detail": ...}` shape with the right status; poem's own 404 and 405 included.
pub(crate) async fn json_errors<E: Endpoint>(
    next: E,
    request: Request,
    params: Arc<PathParams>,
) -> poem::Result<Response> {
    let path = request.uri().path().to_owned();
    match next.call(request).await {
        Ok(output) => {
            let response = output.into_response();
            let status = response.status();
            if status.is_client_error() || status.is_server_error() {
                if is_json(&response) {
                    return Ok(response);
                }
                return Ok(error_response(
                    poem::Error::from_status(status),
                    &path,
                    &params,
                ));
            }
            Ok(response)
        }
        Err(error) => Ok(error_response(error, &path, &params)),
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}
