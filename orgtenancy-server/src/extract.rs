//! What operations extract before their handler runs: the authenticated caller and the page.
//!
//! [`Authenticated`] is the bearer security scheme with a checker: poem-openapi verifies the
//! token and re-reads the user before the handler is called, so a handler that takes one
//! never sees a request that should be a 401. [`Skip`] and [`Limit`] carry the paging rules
//! (defaults, bounds, descriptions, error messages) once, for every list operation.
//!
//! Operations that also serve anonymous callers keep [`OptionalToken`](crate::context::OptionalToken):
//! poem-openapi answers an enum of schemes with its fallback whenever a member fails, so a
//! checked member would turn an invalid token into "anonymous" instead of a 401.

use std::{borrow::Cow, sync::Arc};

use orgtenancy_sqlx::{MAX_PAGE, Page};
use poem::{IntoResponse, Request};
use poem_openapi::{
    SecurityScheme,
    auth::Bearer,
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};

use crate::context::{Caller, Context, TokenScope};

/// The caller behind a valid bearer token; anything else is a 401 before the handler runs.
#[derive(SecurityScheme)]
#[oai(
    rename = "OAuth2PasswordBearer",
    ty = "oauth2",
    flows(password(token_url = "/api/v1/auth/token", scopes = "TokenScope")),
    checker = "authenticated"
)]
pub(crate) struct Authenticated(pub(crate) Caller);

/// The checker of [`Authenticated`]: [`Context::authenticate_bearer`] on the request's context.
async fn authenticated(request: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let ctx = request.data::<Arc<Context>>().ok_or_else(|| {
        poem::Error::from_string("no context", poem::http::StatusCode::INTERNAL_SERVER_ERROR)
    })?;
    ctx.authenticate_bearer(&bearer)
        .await
        .map_err(|error| poem::Error::from_response(error.into_response()))
}

/// Default page size.
pub(crate) const DEFAULT_LIMIT: u32 = 100;

/// The `skip` query parameter: rows to skip (default 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Skip(pub(crate) u64);

/// The `limit` query parameter: rows to return, 1–[`MAX_PAGE`] (default [`DEFAULT_LIMIT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit(pub(crate) u32);

/// The page the two parameters ask for.
pub(crate) fn page(skip: Skip, limit: Limit) -> Page {
    Page {
        skip: skip.0,
        limit: limit.0,
    }
}

impl Type for Skip {
    const IS_REQUIRED: bool = false;
    type RawValueType = u64;
    type RawElementValueType = u64;

    fn name() -> Cow<'static, str> {
        "skip".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("Rows to skip."),
            default: Some(0.into()),
            minimum: Some(0.0),
            ..MetaSchema::new_with_format("integer", "uint64")
        }))
    }

    fn as_raw_value(&self) -> Option<&u64> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a u64> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for Skip {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        value
            .parse()
            .map(Skip)
            .map_err(|_| ParseError::custom("must be a whole number of 0 or more"))
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        values: I,
    ) -> ParseResult<Self> {
        match values.into_iter().next() {
            Some(value) => Self::parse_from_parameter(value.as_ref()),
            None => Ok(Skip::default()),
        }
    }
}

impl Type for Limit {
    const IS_REQUIRED: bool = false;
    type RawValueType = u32;
    type RawElementValueType = u32;

    fn name() -> Cow<'static, str> {
        "limit".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("Rows to return (1–1000)."),
            default: Some(DEFAULT_LIMIT.into()),
            minimum: Some(1.0),
            maximum: Some(f64::from(MAX_PAGE)),
            ..MetaSchema::new_with_format("integer", "uint32")
        }))
    }

    fn as_raw_value(&self) -> Option<&u32> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a u32> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for Limit {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        match value.parse::<u32>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(Limit(limit)),
            _ => Err(ParseError::custom(format!(
                "must be a whole number from 1 to {MAX_PAGE}"
            ))),
        }
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        values: I,
    ) -> ParseResult<Self> {
        match values.into_iter().next() {
            Some(value) => Self::parse_from_parameter(value.as_ref()),
            None => Ok(Limit(DEFAULT_LIMIT)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_bounds() {
        let none: [&str; 0] = [];
        assert_eq!(Skip::parse_from_parameters(none).ok(), Some(Skip(0)));
        assert_eq!(
            Limit::parse_from_parameters(none).ok(),
            Some(Limit(DEFAULT_LIMIT))
        );
        assert_eq!(Limit::parse_from_parameter("1").ok(), Some(Limit(1)));
        assert_eq!(Limit::parse_from_parameter("1000").ok(), Some(Limit(1000)));
        for bad in ["0", "1001", "-1", "ten", ""] {
            assert!(Limit::parse_from_parameter(bad).is_err(), "limit {bad}");
        }
        for bad in ["-1", "1.5", "x"] {
            assert!(Skip::parse_from_parameter(bad).is_err(), "skip {bad}");
        }
        assert_eq!(Skip::parse_from_parameter("7").ok(), Some(Skip(7)));
    }
}
