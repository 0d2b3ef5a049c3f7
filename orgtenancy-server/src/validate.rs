//! Field limits and their messages, in one place: the limits the checks here use, taken from
//! the store's where the store has one ([`USERNAME`], [`NAME`], [`DESCRIPTION`], [`PASSWORD`]),
//! and the one wording of each refusal ([`too_long`], [`too_short`], [`empty`]) that the
//! schema validation, the form parser, the audit filters and the checks below all use. Each
//! failure is a 422 naming the field.
//!
//! poem-openapi wants literals in `#[oai(validator(...))]`, so the schemas repeat the numbers;
//! the table of this module's tests lists every limited field of every request schema, holds
//! each schema to it, and it to the constants above.

use orgtenancy_sqlx::{MAX_DESCRIPTION, MAX_ORGANIZATION_NAME, MAX_USERNAME};

use crate::error::ApiError;

/// A text field's length limits, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextLimit {
    /// The field's name, as in the messages.
    pub(crate) field: &'static str,
    /// The fewest characters.
    pub(crate) min: usize,
    /// The most characters.
    pub(crate) max: usize,
}

const fn limit(field: &'static str, min: usize, max: usize) -> TextLimit {
    TextLimit { field, min, max }
}

/// A username (the store's limit).
pub(crate) const USERNAME: TextLimit = limit("username", 1, MAX_USERNAME);
/// A password.
pub(crate) const PASSWORD: TextLimit = limit("password", 8, 1024);
/// An organization's or a CA's name (the store's limit).
pub(crate) const NAME: TextLimit = limit("name", 1, MAX_ORGANIZATION_NAME);
/// An organization's or a CA's description (the store's limit).
pub(crate) const DESCRIPTION: TextLimit = limit("description", 0, MAX_DESCRIPTION);
/// "invalid {field}: at most {max} characters".
pub(crate) fn too_long(field: &str, max: usize) -> String {
    format!("invalid {field}: at most {max} characters")
}

/// "invalid {field}: at least {min} character(s)".
pub(crate) fn too_short(field: &str, min: usize) -> String {
    let unit = if min == 1 { "character" } else { "characters" };
    format!("invalid {field}: at least {min} {unit}")
}

/// "invalid {field}: must not be empty".
pub(crate) fn empty(field: &str) -> String {
    format!("invalid {field}: must not be empty")
}

fn refuse(message: String) -> ApiError {
    ApiError::unprocessable(message)
}

/// A username: 1–255 characters, no surrounding whitespace, no control characters.
pub(crate) fn username(name: &str) -> Result<(), ApiError> {
    let field = USERNAME.field;
    if name.trim().is_empty() {
        return Err(refuse(empty(field)));
    }
    if name.trim() != name {
        return Err(refuse(format!(
            "invalid {field}: must not start or end with whitespace"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(refuse(format!(
            "invalid {field}: must not contain control characters"
        )));
    }
    if name.chars().count() > USERNAME.max {
        return Err(refuse(too_long(field, USERNAME.max)));
    }
    Ok(())
}

/// An organization's or a CA's name, trimmed: 1–255 characters after trimming.
pub(crate) fn organization_name(name: &str) -> Result<String, ApiError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(refuse(empty(NAME.field)));
    }
    if trimmed.chars().count() > NAME.max {
        return Err(refuse(too_long(NAME.field, NAME.max)));
    }
    Ok(trimmed.to_owned())
}

/// A description: at most 4096 characters.
pub(crate) fn description(text: &str) -> Result<(), ApiError> {
    if text.chars().count() > DESCRIPTION.max {
        return Err(refuse(too_long(DESCRIPTION.field, DESCRIPTION.max)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use poem_openapi::{registry::Registry, types::Type};

    use super::*;
    use crate::{
        authzen::model::EvaluationsRequest,
        resources::{CaAssign, CaCreate, CertCreate, CsrSign, Renew, RevokeRequest},
        schema::{
            LogoutRequest, OrganizationCreate, OrganizationUpdate, RefreshRequest, UserCreate,
            UserUpdate,
        },
    };

    /// Every limited text field of the request schemas: `(schema, property, limit)`.
    const SCHEMA_LIMITS: &[(&str, &str, TextLimit)] = &[
        ("OrganizationCreate", "name", NAME),
        ("OrganizationCreate", "description", DESCRIPTION),
        ("OrganizationUpdate", "name", NAME),
        ("UserCreate", "username", USERNAME),
        ("UserCreate", "password", PASSWORD),
        ("UserUpdate", "password", PASSWORD),
        (
            "RefreshRequest",
            "refresh_token",
            limit("refresh_token", 1, 1024),
        ),
        (
            "LogoutRequest",
            "refresh_token",
            limit("refresh_token", 0, 1024),
        ),
        ("CertificateAuthorityCreate", "name", NAME),
        (
            "CertificateAuthorityCreate",
            "subject_dn",
            limit("subject_dn", 0, 1024),
        ),
        (
            "CertificateAuthorityCreate",
            "common_name",
            limit("common_name", 0, 128),
        ),
        (
            "CertificateAuthorityCreate",
            "organization",
            limit("organization", 0, 128),
        ),
        ("CertificateAuthorityCreate", "description", DESCRIPTION),
        (
            "CertificateAuthorityCreate",
            "crl_base_url",
            limit("crl_base_url", 0, 2048),
        ),
        (
            "CertificateCreate",
            "common_name",
            limit("common_name", 1, 64),
        ),
        (
            "CertificateCreate",
            "subject_dn",
            limit("subject_dn", 0, 1024),
        ),
        ("CertificateRevoke", "reason", limit("reason", 0, 1024)),
        ("CertificateSignCsr", "csr", limit("csr", 1, 65536)),
        ("CertificateSignCsr", "ca_name", limit("ca_name", 1, 255)),
        (
            "CertificateSignCsr",
            "common_name",
            limit("common_name", 1, 64),
        ),
        (
            "CertificateSignCsr",
            "subject_dn",
            limit("subject_dn", 0, 1024),
        ),
        ("CertificateRenew", "csr", limit("csr", 1, 65536)),
        ("AuthzenSubject", "type", limit("type", 0, 64)),
        ("AuthzenSubject", "id", limit("id", 0, 255)),
        ("AuthzenResource", "type", limit("type", 0, 64)),
        ("AuthzenResource", "id", limit("id", 0, 255)),
        ("AuthzenAction", "name", limit("name", 0, 255)),
    ];

    fn request_schemas() -> Registry {
        let mut registry = Registry::new();
        OrganizationCreate::register(&mut registry);
        OrganizationUpdate::register(&mut registry);
        UserCreate::register(&mut registry);
        UserUpdate::register(&mut registry);
        RefreshRequest::register(&mut registry);
        LogoutRequest::register(&mut registry);
        CaCreate::register(&mut registry);
        CaAssign::register(&mut registry);
        CertCreate::register(&mut registry);
        RevokeRequest::register(&mut registry);
        CsrSign::register(&mut registry);
        Renew::register(&mut registry);
        EvaluationsRequest::register(&mut registry);
        registry
    }

    /// Every length limit of every request schema is the table's, and every row of the
    /// table is a limit some schema has.
    #[test]
    fn the_schemas_say_what_the_table_says() {
        let registry = request_schemas();
        let mut seen = Vec::new();
        for (schema_name, schema) in &registry.schemas {
            for (property, field) in &schema.properties {
                let poem_openapi::registry::MetaSchemaRef::Inline(field) = field else {
                    continue;
                };
                if field.max_length.is_none() && field.min_length.is_none() {
                    continue;
                }
                let row = SCHEMA_LIMITS
                    .iter()
                    .find(|(s, p, _)| s == schema_name && p == property);
                let Some((_, _, limit)) = row else {
                    panic!("{schema_name}.{property} has a length limit the table lacks");
                };
                assert_eq!(
                    field.max_length,
                    Some(limit.max),
                    "{schema_name}.{property}"
                );
                assert_eq!(
                    field.min_length.unwrap_or(0),
                    limit.min,
                    "{schema_name}.{property}"
                );
                assert_eq!(limit.field, *property, "{schema_name}.{property}");
                seen.push((schema_name.to_string(), property.to_string()));
            }
        }
        for (schema, property, _) in SCHEMA_LIMITS {
            assert!(
                seen.iter().any(|(s, p)| s == schema && p == property),
                "the table names {schema}.{property}, which has no such limit"
            );
        }
    }

    #[test]
    fn the_checks_use_the_store_limits_and_one_wording() {
        assert_eq!(NAME.max, MAX_ORGANIZATION_NAME);
        let long = "x".repeat(NAME.max + 1);
        let message = |error: ApiError| error.detail().to_owned();
        assert_eq!(
            organization_name(&long).map_err(message),
            Err(too_long("name", 255))
        );
        assert_eq!(
            organization_name("  acme ").map_err(message),
            Ok("acme".to_owned())
        );
        assert_eq!(
            username(&"u".repeat(256)).map_err(message),
            Err("invalid username: at most 255 characters".to_owned())
        );
        assert_eq!(username(" ").map_err(message), Err(empty("username")));
        assert_eq!(
            description(&"d".repeat(4097)).map_err(message),
            Err(too_long("description", 4096))
        );
        assert_eq!(
            too_short("password", 8),
            "invalid password: at least 8 characters"
        );
        assert_eq!(too_short("name", 1), "invalid name: at least 1 character");
    }
}
