//! Request bodies: a size limit, and JSON and form payloads that tell a malformed body (400)
//! from a well-formed one whose fields fail validation (422).
//!
//! poem-openapi's own `Json` reports both as 400; the documented API answers 422 when a field
//! is missing, has the wrong type or fails a validator, so the server uses these instead.

use std::sync::Arc;

use poem::{
    Endpoint, Request, RequestBody, Response, http::StatusCode, web::headers::HeaderMapExt,
};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    payload::{ParsePayload, Payload},
    registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use serde::de::DeserializeOwned;

use crate::{error::ApiError, hostile};

mod explain;
mod form;
mod serialized;

pub(crate) use form::decode as decode_form;
pub(crate) use serialized::{Serialized, rfc3339};

/// A JSON request body of type `T`: malformed JSON is 400, a value that does not fit `T`
/// (missing field, wrong type, failed validator) is 422, another content type is 415.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        content_type.parse::<mime::Mime>().is_ok_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        })
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = read(request, body).await?;
        let value = if data.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&hostile::surrogates_as_nul(&data))
                .map_err(|error| ApiError::bad_request(format!("malformed JSON: {error}")))?
        };
        hostile::json(&value)?;
        if value.is_null() && T::IS_REQUIRED {
            return Err(ApiError::unprocessable("a JSON request body is required").into());
        }
        match T::parse_from_json(Some(value.clone())) {
            Ok(parsed) => Ok(JsonBody(parsed)),
            Err(error) => {
                Err(ApiError::unprocessable(unfit::<T>(&value, error.into_message())).into())
            }
        }
    }
}

impl<'a, T: ParseFromJSON> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(request_meta::<Self>())
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(content_type) if Self::check_content_type(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            // An optional body may be left out altogether, without a content type.
            None if !T::IS_REQUIRED => <Self as ParsePayload>::from_request(request, body).await,
            _ => Err(unsupported_media_type("application/json")),
        }
    }
}

/// An `application/x-www-form-urlencoded` body of type `T` (used by the OAuth2 token
/// endpoint); a missing field, a value that is not UTF-8 or holds a NUL, or a wrong value is
/// 422 naming the field, an empty body is 422 naming every required field, another content
/// type is 415.
#[derive(Debug, Clone)]
pub struct FormBody<T>(pub T);

impl<T: Type> Payload for FormBody<T> {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";

    fn check_content_type(content_type: &str) -> bool {
        content_type.parse::<mime::Mime>().is_ok_and(|mime| {
            mime.type_() == "application" && mime.subtype() == "x-www-form-urlencoded"
        })
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// What a form type declares about its fields, checked before it is parsed: the required
/// ones (so a form missing several is answered with all their names at once) and the
/// longest value of each.
pub trait FormFields {
    /// The names of the required fields.
    const REQUIRED: &'static [&'static str];
    /// The most characters each named field may have.
    const MAX_CHARS: &'static [(&'static str, usize)];
}

impl<T: DeserializeOwned + FormFields + Send> ParsePayload for FormBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = read(request, body).await?;
        Ok(FormBody(parse_form(&data)?))
    }
}

fn parse_form<T: DeserializeOwned + FormFields>(data: &[u8]) -> Result<T, ApiError> {
    let fields = form::decode(data)?;
    let missing: Vec<String> = T::REQUIRED
        .iter()
        .filter(|name| !fields.iter().any(|(field, _)| field == *name))
        .map(|name| format!("`{name}`"))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "missing form field{}: {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    for (field, value) in &fields {
        let limit = T::MAX_CHARS.iter().find(|(name, _)| name == field);
        if let Some((_, max)) = limit.filter(|(_, max)| value.chars().count() > *max) {
            return Err(ApiError::unprocessable(crate::validate::too_long(
                field, *max,
            )));
        }
    }
    serde_urlencoded::from_bytes(data)
        .map_err(|error| ApiError::unprocessable(format!("invalid form: {error}")))
}

impl<'a, T: DeserializeOwned + FormFields + Type> ApiExtractor<'a> for FormBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(request_meta::<Self>())
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(content_type) if Self::check_content_type(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            // No body at all: say which fields are missing rather than which type.
            None => {
                let data = read(request, body).await?;
                if !data.iter().all(u8::is_ascii_whitespace) {
                    return Err(unsupported_media_type("application/x-www-form-urlencoded"));
                }
                Ok(FormBody(parse_form(&[])?))
            }
            _ => Err(unsupported_media_type("application/x-www-form-urlencoded")),
        }
    }
}

/// Why `value` does not fit `T`, naming the field (see [`explain`]); else the parser's own
/// message without its `failed to parse "Type":` prefixes.
fn unfit<T: Type>(value: &serde_json::Value, message: String) -> String {
    let mut registry = Registry::new();
    T::register(&mut registry);
    explain::explain(value, &T::schema_ref(), &registry).unwrap_or_else(|| plain(&message))
}

/// A parse error's message without poem's `failed to parse "Type":` prefixes and
/// `(occurred while parsing "Type")` suffixes.
pub(crate) fn plain(message: &str) -> String {
    let mut rest = message;
    while let Some(tail) = rest.strip_prefix("failed to parse \"") {
        match tail.split_once("\": ") {
            Some((_, after)) => rest = after,
            None => break,
        }
    }
    let rest = rest
        .split(" (occurred while parsing")
        .next()
        .unwrap_or(rest);
    rest.trim_end_matches('.').to_owned()
}

fn request_meta<P: ParsePayload + Payload>() -> MetaRequest {
    MetaRequest {
        description: None,
        content: vec![MetaMediaType {
            content_type: P::CONTENT_TYPE,
            schema: P::schema_ref(),
        }],
        required: P::IS_REQUIRED,
    }
}

fn unsupported_media_type(expected: &str) -> poem::Error {
    ApiError::UnsupportedMediaType(poem_openapi::payload::Json(crate::error::ErrorBody {
        detail: format!("expected a request body of type `{expected}`"),
    }))
    .into()
}

async fn read(request: &Request, body: &mut RequestBody) -> poem::Result<Vec<u8>> {
    <Vec<u8> as poem::FromRequest>::from_request(request, body).await
}

/// Middleware that refuses request bodies over `max_bytes` with 413, whether or not the
/// client declared a `Content-Length`, by buffering at most `max_bytes` of the body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit {
    pub(crate) max_bytes: usize,
}

impl BodyLimit {
    pub(crate) async fn apply<E: Endpoint>(
        self,
        next: Arc<E>,
        mut request: Request,
    ) -> poem::Result<Response> {
        let declared = request
            .headers()
            .typed_get::<poem::web::headers::ContentLength>();
        if declared.is_some_and(|length| length.0 > self.max_bytes as u64) {
            return Err(too_large());
        }
        let body = request.take_body();
        let bytes = body
            .into_bytes_limit(self.max_bytes)
            .await
            .map_err(|error| match error {
                poem::error::ReadBodyError::PayloadTooLarge => too_large(),
                other => poem::Error::from_string(other.to_string(), StatusCode::BAD_REQUEST),
            })?;
        request.set_body(bytes);
        Ok(poem::IntoResponse::into_response(next.call(request).await?))
    }
}

fn too_large() -> poem::Error {
    poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE)
}
