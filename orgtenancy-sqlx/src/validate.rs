//! Checks of input before it reaches the database. The limits are public constants, which the
//! server takes for its own checks; the messages are worded as the server words its own
//! ("at most N characters"), so a refusal reads the same whichever layer made it.
//!
//! The store runs them on everything it writes; an application runs the public ones on the
//! values of its own tables, so that text is stored and compared alike on both backends and a
//! bad value is [`StoreError::Invalid`] naming the field, never a database error.

use chrono::{DateTime, Datelike, Utc};

use crate::{AuditFilter, KeysetPage, NewAuditEntry, Page, StoreError, StoreResult};

/// The longest organization name, in characters (after trimming).
pub const MAX_ORGANIZATION_NAME: usize = 255;
/// The longest organization description, in characters.
pub const MAX_DESCRIPTION: usize = 4096;
/// The longest username and email, in characters.
pub const MAX_USERNAME: usize = 255;
/// The largest page.
pub const MAX_PAGE: u32 = 1000;

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

/// The years a stored or compared time may have: PostgreSQL's timestamps begin in 4713 BC,
/// and SQLite compares ISO 8601 text, which orders wrongly past year 9999.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Text both backends store and compare alike: no NUL character (PostgreSQL refuses it in
/// `text`, SQLite stores it but its `length()` and comparisons stop there).
pub fn text(field: &'static str, value: &str) -> StoreResult<()> {
    if value.contains('\0') {
        return Err(invalid(field, "must not contain a NUL character"));
    }
    Ok(())
}

fn time(field: &'static str, value: Option<DateTime<Utc>>) -> StoreResult<()> {
    match value {
        Some(time) if !YEARS.contains(&time.year()) => {
            Err(invalid(field, "the year must be between 1 and 9999"))
        }
        _ => Ok(()),
    }
}

/// An audit filter whose values both backends can compare.
pub(crate) fn audit_filter(filter: &AuditFilter) -> StoreResult<()> {
    let texts = [
        ("action", &filter.action),
        ("resource_type", &filter.resource_type),
        ("resource_id", &filter.resource_id),
    ];
    for (field, value) in texts {
        if let Some(value) = value {
            text(field, value)?;
        }
    }
    time("since", filter.since)?;
    time("until", filter.until)
}

/// An audit entry both backends can store.
pub(crate) fn audit_entry(entry: &NewAuditEntry) -> StoreResult<()> {
    not_empty("action", &entry.action)?;
    let texts = [
        ("action", Some(&entry.action)),
        ("username", entry.actor.username.as_ref()),
        ("resource_type", entry.resource_type.as_ref()),
        ("resource_id", entry.resource_id.as_ref()),
        ("detail", entry.detail.as_ref()),
    ];
    for (field, value) in texts {
        if let Some(value) = value {
            text(field, value)?;
        }
    }
    Ok(())
}

/// The organization name to store: trimmed, 1–255 characters (see [`name`]).
pub(crate) fn organization_name(name: &str) -> StoreResult<String> {
    self::name(name)
}

/// A name as the store keeps organization names (field `name`): no NUL, trimmed, 1–255
/// ([`MAX_ORGANIZATION_NAME`]) characters; returns the trimmed name to store.
pub fn name(name: &str) -> StoreResult<String> {
    text("name", name)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_ORGANIZATION_NAME {
        return Err(invalid(
            "name",
            format!("at most {MAX_ORGANIZATION_NAME} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// A description as the store keeps organizations' (field `description`): no NUL, at most
/// 4096 ([`MAX_DESCRIPTION`]) characters.
pub fn description(description: Option<&str>) -> StoreResult<()> {
    if let Some(value) = description {
        text("description", value)?;
    }
    match description {
        Some(text) if text.chars().count() > MAX_DESCRIPTION => Err(invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        )),
        _ => Ok(()),
    }
}

/// A username or email: not blank, at most 255 characters. Stored as given.
pub(crate) fn identifier(field: &'static str, value: &str) -> StoreResult<()> {
    text(field, value)?;
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_USERNAME {
        return Err(invalid(field, format!("at most {MAX_USERNAME} characters")));
    }
    Ok(())
}

pub(crate) fn password_hash(hash: &str) -> StoreResult<()> {
    if hash.is_empty() {
        return Err(invalid("password", "must not be empty"));
    }
    Ok(())
}

pub(crate) fn not_empty(field: &'static str, value: &str) -> StoreResult<()> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    Ok(())
}

/// `(limit, offset)` of `page` for SQL (bind both): the limit 1–1000 ([`MAX_PAGE`]), else
/// `Invalid` (field `limit`); a skip beyond `i64` is `Invalid` (field `skip`).
pub fn page(page: Page) -> StoreResult<(i64, i64)> {
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let Ok(skip) = i64::try_from(page.skip) else {
        return Err(invalid("skip", "is too large"));
    };
    Ok((i64::from(page.limit), skip))
}

/// `page` checked for [`Sql::keyset`](crate::statement::Sql::keyset): the limit 1–1000
/// ([`MAX_PAGE`]), else `Invalid` (field `limit`).
pub fn keyset_page(page: KeysetPage) -> StoreResult<KeysetPage> {
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(page)
}
