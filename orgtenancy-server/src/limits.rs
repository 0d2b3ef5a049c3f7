//! Limits on a request that protect the server: the size of its headers and the time it may
//! take. (The size of its body is limited in [`crate::payload`].)
//!
//! * **Headers**: hyper reads at most about 400 KiB and 100 headers before the server sees a
//!   request (more is answered 431 by hyper itself, without a body). Within that, requests
//!   whose header names and values add up to more than
//!   [`ServerConfig::max_header_bytes`](crate::ServerConfig::max_header_bytes) are refused with
//!   431 and `{"detail"}` before any handler runs.
//! * **Time**: a request that takes longer than
//!   [`ServerConfig::request_timeout`](crate::ServerConfig::request_timeout), reading its body
//!   included, is answered 503 with `Retry-After` (documented on every operation, like a busy
//!   database). The handler is dropped: a transaction it had open rolls back. A change that
//!   committed just before the deadline stays, though its client saw 503.

use std::{sync::Arc, time::Duration};

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::ApiError;

/// Bytes counted per header besides its name and value (`: ` and the line end), as on the wire.
const HEADER_OVERHEAD: usize = 4;

/// Middleware that refuses requests whose headers add up to more than `max_bytes` with 431.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderLimit {
    pub(crate) max_bytes: usize,
}

impl HeaderLimit {
    pub(crate) async fn apply<E: Endpoint>(
        self,
        next: Arc<E>,
        request: Request,
    ) -> poem::Result<Response> {
        let size = header_bytes(&request);
        if size > self.max_bytes {
            tracing::info!(size, limit = self.max_bytes, "request headers too large");
            return Err(ApiError::headers_too_large(format!(
                "request headers too large: at most {} bytes",
                self.max_bytes
            ))
            .into());
        }
        Ok(next.call(request).await?.into_response())
    }
}

fn header_bytes(request: &Request) -> usize {
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + HEADER_OVERHEAD)
        .fold(0, usize::saturating_add)
}

/// Middleware that answers 503 (with `Retry-After`) when a request takes longer than `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestTimeout {
    pub(crate) limit: Duration,
}

impl RequestTimeout {
    pub(crate) async fn apply<E: Endpoint>(
        self,
        next: Arc<E>,
        request: Request,
    ) -> poem::Result<Response> {
        let path = request.uri().path().to_owned();
        match tokio::time::timeout(self.limit, next.call(request)).await {
            Ok(result) => Ok(result?.into_response()),
            Err(_elapsed) => {
                tracing::warn!(%path, limit = ?self.limit, "request timed out");
                Err(ApiError::timed_out().into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use poem::{EndpointExt, endpoint::make, http::StatusCode, test::TestClient};

    use super::*;

    async fn status_and_detail(response: poem::test::TestResponse) -> (StatusCode, String) {
        let response = response.0;
        let status = response.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(response.headers().get("retry-after").unwrap(), "1");
        }
        let body = response.into_body().into_vec().await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        (status, body["detail"].as_str().unwrap().to_owned())
    }

    // A handler that never finishes stands in for a slow one: the outcome does not depend on
    // how fast the machine is, only on the timeout firing.
    #[tokio::test]
    async fn a_request_that_never_finishes_is_answered_503() {
        let limit = RequestTimeout {
            limit: Duration::from_millis(20),
        };
        let slow = make(|_| std::future::pending::<&'static str>())
            .around(move |next, request| limit.apply(next, request));
        let reply = TestClient::new(slow).get("/").send().await;
        let (status, detail) = status_and_detail(reply).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(detail.contains("too long"), "{detail}");
    }

    #[tokio::test]
    async fn a_quick_request_is_untouched() {
        let limit = RequestTimeout {
            limit: Duration::from_secs(600),
        };
        let quick =
            make(|_| async { "done" }).around(move |next, request| limit.apply(next, request));
        let reply = TestClient::new(quick).get("/").send().await;
        reply.assert_status_is_ok();
        reply.assert_text("done").await;
    }

    #[tokio::test]
    async fn headers_over_the_limit_are_refused_with_431() {
        let limit = HeaderLimit { max_bytes: 1024 };
        let app = make(|_| async { "ok" }).around(move |next, request| limit.apply(next, request));
        let client = TestClient::new(app);
        client
            .get("/")
            .header("x-small", "a".repeat(100))
            .send()
            .await
            .assert_status_is_ok();
        let reply = client
            .get("/")
            .header("x-large", "a".repeat(1024))
            .send()
            .await;
        reply.assert_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        let (_, detail) = status_and_detail(reply).await;
        assert!(detail.contains("1024 bytes"), "{detail}");
        // Many small headers add up.
        let mut many = client.get("/");
        for i in 0..100 {
            many = many.header(format!("x-h{i}"), "0123456789");
        }
        many.send()
            .await
            .assert_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
}
