//! Field checks the schema's validators cannot express (trimming, control characters);
//! each failure is a 422 naming the field.

use crate::{
    error::ApiError,
    schema::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS},
};

/// A username: 1–255 characters, no surrounding whitespace, no control characters.
pub(crate) fn username(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "invalid username: must not be empty",
        ));
    }
    if name.trim() != name {
        return Err(ApiError::unprocessable(
            "invalid username: must not start or end with whitespace",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid username: must not contain control characters",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::unprocessable(
            "invalid username: at most 255 characters",
        ));
    }
    Ok(())
}

/// An organization name, trimmed: 1–255 characters after trimming.
pub(crate) fn organization_name(name: &str) -> Result<String, ApiError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(ApiError::unprocessable("invalid name: must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::unprocessable(
            "invalid name: at most 255 characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An organization description: at most 4096 characters.
pub(crate) fn description(text: &str) -> Result<(), ApiError> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::unprocessable(
            "invalid description: at most 4096 characters",
        ));
    }
    Ok(())
}
