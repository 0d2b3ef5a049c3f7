//! Path and query parameters that fail to parse, described by their documented names.
//!
//! poem-openapi calls path parameters `param0`, `param1`, … internally, so its message reads
//! `failed to parse path param0`. The server knows every path template from its own OpenAPI
//! document; matching the request's path against them gives each parameter its documented
//! name (`id`, `user_id`) and the value that failed.

use poem_openapi::error::{ParseParamError, ParsePathError};

use crate::payload::plain;

/// One segment of a path template.
#[derive(Debug)]
enum Part {
    Literal(String),
    Param(String),
}

/// The path templates of an OpenAPI document, under its prefix.
#[derive(Debug, Default)]
pub(crate) struct PathParams {
    templates: Vec<Vec<Part>>,
}

impl PathParams {
    /// The templates of `spec` (the JSON document), each under `prefix`.
    pub(crate) fn from_spec(prefix: &str, spec: &str) -> PathParams {
        let document: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let templates = document
            .get("paths")
            .and_then(serde_json::Value::as_object)
            .map(|paths| {
                paths
                    .keys()
                    .map(|path| parts(&format!("{prefix}{path}")))
                    .collect()
            })
            .unwrap_or_default();
        PathParams { templates }
    }

    /// The 422 detail for a parameter error of a request to `path`, if `error` is one.
    pub(crate) fn describe(&self, path: &str, error: &poem::Error) -> Option<String> {
        if let Some(error) = error.downcast_ref::<ParseParamError>() {
            return Some(format!("invalid {}: {}", error.name, plain(&error.reason)));
        }
        let error = error.downcast_ref::<ParsePathError>()?;
        let index: usize = error.name.strip_prefix("param")?.parse().ok()?;
        let Some((name, value)) = self.param(path, index) else {
            return Some(format!("invalid path parameter: {}", plain(&error.reason)));
        };
        let value: String = value.chars().take(64).collect();
        Some(format!(
            "invalid {name}: `{value}` is not a valid id ({})",
            plain(&error.reason)
        ))
    }

    /// The name and value of the `index`-th parameter of the template `path` matches.
    fn param<'a>(&'a self, path: &'a str, index: usize) -> Option<(&'a str, &'a str)> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let template = self.templates.iter().find(|template| {
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| match part {
                        Part::Literal(literal) => literal == segment,
                        Part::Param(_) => true,
                    })
        })?;
        template
            .iter()
            .zip(&segments)
            .filter_map(|(part, segment)| match part {
                Part::Param(name) => Some((name.as_str(), *segment)),
                Part::Literal(_) => None,
            })
            .nth(index)
    }
}

fn parts(template: &str) -> Vec<Part> {
    template
        .trim_end_matches('/')
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Part::Param(name.to_owned()),
                None => Part::Literal(segment.to_owned()),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parameters_by_their_template() {
        let spec = r#"{"paths": {"/organizations/{id}": {}, "/organizations/{id}/users/{user_id}": {},
                       "/users/me": {}, "/users/{id}": {}}}"#;
        let params = PathParams::from_spec("/api/v1", spec);
        let rows = [
            ("/api/v1/organizations/abc", 0, Some(("id", "abc"))),
            ("/api/v1/organizations/1/users/x", 1, Some(("user_id", "x"))),
            ("/api/v1/organizations/1/users/x/", 0, Some(("id", "1"))),
            ("/api/v1/users/abc", 0, Some(("id", "abc"))),
            ("/api/v1/nope/abc", 0, None),
        ];
        for (path, index, expected) in rows {
            assert_eq!(params.param(path, index), expected, "{path} {index}");
        }
        assert_eq!(
            plain(r#"failed to parse "integer(int64)": invalid digit found in string"#),
            "invalid digit found in string"
        );
    }
}
