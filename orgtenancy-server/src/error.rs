//! Errors as clients see them: a status and `{"detail": "..."}`, nothing else.
//!
//! Two places produce them. Handlers return [`ApiError`] (documented in the OpenAPI
//! document); [`StoreError`]s become `ApiError`s in the one `From` impl below. Everything
//! else poem or poem-openapi fails with is rewritten by the outermost middleware
//! (`json_errors.rs`), so no response ever carries poem's plain-text errors.

use orgtenancy_core::{Decision, Reason};
use orgtenancy_sqlx::{Entity, StoreError};
use poem::http::StatusCode;
use poem_openapi::{ApiResponse, Object, payload::Json};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub detail: String,
}

/// How long a client should wait before retrying when the database is busy or unavailable
/// (or a request timed out), in seconds: busy moments are short, and a client that retries
/// meets the database's own queue (the busy timeout, the pool's acquire timeout).
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The value of `WWW-Authenticate` on every 401.
pub(crate) const BEARER_CHALLENGE: &str = "Bearer";

/// Every error an operation can answer with.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed (for example, its JSON does not parse).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid credentials were presented.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// The caller may not do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The thing asked for does not exist.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The change conflicts with the current state (a duplicate, a non-empty organization).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The request body is larger than the server accepts.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The request body has a content type the operation does not accept.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A field fails validation.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many failed logins; retry later.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// The request's headers are larger than the server accepts.
    #[oai(status = 431)]
    HeadersTooLarge(Json<ErrorBody>),
    /// An unexpected server-side failure (details are only logged).
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database is busy or unavailable, or the request took too long; retry later.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

/// The longest detail sent, in characters: a message quoting a client's value (a
/// megabyte-long name, say) is cut here rather than echoed back whole.
pub const MAX_DETAIL_CHARS: usize = 512;

fn body(detail: impl Into<String>) -> Json<ErrorBody> {
    let mut detail = detail.into();
    if let Some((cut, _)) = detail.char_indices().nth(MAX_DETAIL_CHARS) {
        detail.truncate(cut);
        detail.push('…');
    }
    Json(ErrorBody { detail })
}

/// The 403 detail of every denial about where a row is (see [`ApiError::denied`]).
pub const OUTSIDE_ORGANIZATION: &str =
    "not allowed: the target is outside your organization or does not exist";

impl ApiError {
    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest(body(detail))
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::Unauthorized(body(detail), BEARER_CHALLENGE.to_owned())
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::Forbidden(body(detail))
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::NotFound(body(detail))
    }

    /// 409.
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::Conflict(body(detail))
    }

    /// 422.
    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::Unprocessable(body(detail))
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_seconds: u64) -> ApiError {
        ApiError::TooManyRequests(body(detail), retry_after_seconds)
    }

    /// 500; the cause is logged here and never shown to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::Internal(body("internal server error"))
    }

    /// 503 with `Retry-After`.
    pub fn unavailable() -> ApiError {
        ApiError::Unavailable(
            body("the service is temporarily unavailable"),
            RETRY_AFTER_SECONDS,
        )
    }

    /// 503 with `Retry-After`, for a request that took longer than the server allows.
    pub fn timed_out() -> ApiError {
        ApiError::Unavailable(
            body("the request took too long; try again later"),
            RETRY_AFTER_SECONDS,
        )
    }

    /// 431.
    pub fn headers_too_large(detail: impl Into<String>) -> ApiError {
        ApiError::HeadersTooLarge(body(detail))
    }

    /// The error for a denied [`Decision`]: 401 when the engine says authentication is
    /// missing, 403 otherwise. The reason (and its §3 rule) goes into the request's log line
    /// ([`crate::request_log`]), and is given to the client as the detail.
    pub fn denied(decision: Decision) -> ApiError {
        crate::request_log::note_denial(decision.reason);
        match decision.reason {
            Reason::Anonymous => ApiError::unauthorized(decision.reason.describe()),
            // One text for every "outside your organization" denial: a missing row is
            // described to the engine as one outside any organization, so distinct texts
            // would tell a caller which ids exist in other tenants.
            Reason::NoOrganization
            | Reason::OtherOrganization
            | Reason::NotMember
            | Reason::TargetInOtherOrganization
            // Nor which ids are superusers or missing (issue 11, item 5).
            | Reason::TargetIsSuperuser
            | Reason::TargetMissing => ApiError::forbidden(OUTSIDE_ORGANIZATION),
            reason => ApiError::forbidden(reason.describe()),
        }
    }

    /// `Ok` when the engine allowed, else [`ApiError::denied`]: the one way handlers turn a
    /// decision into a result.
    pub fn unless_allowed(decision: Decision) -> Result<(), ApiError> {
        if decision.is_denied() {
            return Err(ApiError::denied(decision));
        }
        Ok(())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(..) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The detail text.
    pub fn detail(&self) -> &str {
        match self {
            ApiError::BadRequest(b)
            | ApiError::Unauthorized(b, _)
            | ApiError::Forbidden(b)
            | ApiError::NotFound(b)
            | ApiError::Conflict(b)
            | ApiError::PayloadTooLarge(b)
            | ApiError::UnsupportedMediaType(b)
            | ApiError::Unprocessable(b)
            | ApiError::TooManyRequests(b, _)
            | ApiError::HeadersTooLarge(b)
            | ApiError::Internal(b)
            | ApiError::Unavailable(b, _) => &b.0.detail,
        }
    }

    /// The error for `status`, for failures that come from poem itself; `Err(detail)` for a
    /// status with no variant (405, 406, 411, ...), which `json_errors` keeps as it is.
    pub(crate) fn for_status(status: StatusCode, detail: String) -> Result<ApiError, String> {
        Ok(match status {
            StatusCode::BAD_REQUEST => ApiError::bad_request(detail),
            StatusCode::UNAUTHORIZED => ApiError::unauthorized(detail),
            StatusCode::FORBIDDEN => ApiError::forbidden(detail),
            StatusCode::NOT_FOUND => ApiError::not_found(detail),
            StatusCode::CONFLICT => ApiError::conflict(detail),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(body(detail)),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(body(detail)),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::unprocessable(detail),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::headers_too_large(detail),
            StatusCode::SERVICE_UNAVAILABLE => ApiError::unavailable(),
            status if status.is_server_error() => ApiError::Internal(body(detail)),
            _ => return Err(detail),
        })
    }
}

/// The single mapping of storage errors to HTTP: not found 404, conflict 409, invalid 422,
/// unavailable 503 (with `Retry-After`). A busy database (SQLite busy or locked, a
/// PostgreSQL serialization failure, deadlock or lock timeout, a pool timeout) reaches here as
/// `StoreError::Unavailable`, classified by error code in `orgtenancy-sqlx`, so it is a 503,
/// never a 500. Store messages never contain SQL or driver text.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound(entity) => ApiError::not_found(format!("{entity} not found")),
            StoreError::Conflict(conflict) => ApiError::conflict(conflict.to_string()),
            StoreError::Invalid { field, message } => {
                ApiError::unprocessable(format!("invalid {field}: {message}"))
            }
            StoreError::Unavailable => ApiError::unavailable(),
            other => ApiError::internal(&other),
        }
    }
}

/// A "not found" for `entity`, worded like the store's.
pub(crate) fn not_found(entity: Entity) -> ApiError {
    ApiError::from(StoreError::NotFound(entity))
}

#[cfg(test)]
mod tests {
    use poem::{IntoResponse, http::header};

    use super::*;

    async fn answer(error: ApiError) -> (StatusCode, Option<String>, serde_json::Value) {
        let response = error.into_response();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|value| value.to_str().unwrap().to_owned());
        let status = response.status();
        let body = response.into_body().into_vec().await.unwrap();
        (status, retry_after, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn store_errors_map_by_kind() {
        let rows = [
            (StoreError::Unavailable, 503, Some("1")),
            (StoreError::NotFound(Entity::User), 404, None),
            (
                StoreError::Conflict(orgtenancy_sqlx::Conflict::Username),
                409,
                None,
            ),
            (
                StoreError::Invalid {
                    field: "name",
                    message: "must not be empty".to_owned(),
                },
                422,
                None,
            ),
            (StoreError::Internal, 500, None),
        ];
        for (error, status, retry_after) in rows {
            let (got, header, body) = answer(ApiError::from(error.clone())).await;
            assert_eq!(got.as_u16(), status, "{error:?}");
            assert_eq!(header.as_deref(), retry_after, "{error:?}");
            assert!(body["detail"].is_string(), "{error:?}: {body}");
        }
    }

    #[tokio::test]
    async fn long_details_are_cut() {
        let value = "é".repeat(5000);
        let (_, _, body) =
            answer(ApiError::unprocessable(format!("invalid name: `{value}`"))).await;
        let detail = body["detail"].as_str().unwrap_or_default();
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(detail.starts_with("invalid name: `é") && detail.ends_with('…'));
        let (_, _, body) = answer(ApiError::unprocessable("short")).await;
        assert_eq!(body["detail"], "short");
    }

    #[tokio::test]
    async fn a_timeout_is_a_503_to_retry() {
        let (status, retry_after, body) = answer(ApiError::timed_out()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert!(body["detail"].is_string());
    }
}
