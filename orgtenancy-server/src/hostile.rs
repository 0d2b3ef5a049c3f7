//! Text that one of the databases would mishandle, refused before any handler sees it.
//!
//! PostgreSQL cannot store a NUL character in `text` (it fails the statement, which would be
//! a 5xx), while SQLite stores it and then miscounts (`length()` stops at the NUL). JSON can
//! also carry an unpaired UTF-16 surrogate escape (`"\ud800"`), which is no character at all.
//! No field of this API has a use for either, so every JSON body, form and text query
//! parameter is checked here, the same way on both backends, and refused with a 422 that
//! names the field.

use std::{borrow::Cow, sync::Arc};

use poem::{Endpoint, IntoResponse, Request, Response};
use serde_json::Value;

use crate::error::ApiError;

/// Middleware that refuses a query string with a parameter that is not UTF-8 text or holds a
/// NUL character (422 naming the parameter), before any operation parses it: poem decodes
/// query strings lossily, which would silently turn bad bytes into U+FFFD.
pub(crate) async fn query_text<E: Endpoint>(
    next: Arc<E>,
    request: Request,
) -> poem::Result<Response> {
    if let Some(query) = request.uri().query() {
        crate::payload::decode_form(query.as_bytes())?;
    }
    Ok(next.call(request).await?.into_response())
}

/// The one message for both kinds of unstorable text.
const UNSTORABLE: &str = "must not contain a NUL character or an unpaired surrogate";

/// 422 when `value` (of the field `field`) holds a NUL character.
pub(crate) fn text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(unstorable(field));
    }
    Ok(())
}

/// 422 for `field`.
pub(crate) fn unstorable(field: &str) -> ApiError {
    ApiError::unprocessable(format!("invalid {field}: {UNSTORABLE}"))
}

/// The JSON text with every unpaired surrogate escape (`\ud800` without its partner)
/// replaced by `\u0000`, which has the same length: serde_json refuses the first as malformed
/// JSON without saying where, while the second parses and [`json`] then names its field.
pub(crate) fn surrogates_as_nul(data: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut at = 0;
    while let Some(offset) = data.get(at..).and_then(memchr_backslash) {
        let start = at + offset;
        match escape_at(data, start) {
            Escape::Unpaired => {
                let buffer = out.get_or_insert_with(|| data.to_vec());
                if let Some(slot) = buffer.get_mut(start..start + 6) {
                    slot.copy_from_slice(br"\u0000");
                }
                at = start + 6;
            }
            Escape::Pair => at = start + 12,
            Escape::Other => at = start + 2,
        }
    }
    out.map_or(Cow::Borrowed(data), Cow::Owned)
}

fn memchr_backslash(data: &[u8]) -> Option<usize> {
    data.iter().position(|&byte| byte == b'\\')
}

enum Escape {
    /// `\uD800`–`\uDBFF` followed by `\uDC00`–`\uDFFF`: one character.
    Pair,
    /// A surrogate escape without its partner.
    Unpaired,
    /// Any other escape (two bytes, or a `\u` escape of a real character).
    Other,
}

/// What the escape starting with the backslash at `start` is. Backslashes occur only inside
/// strings in well-formed JSON, so no string tracking is needed; malformed JSON fails to
/// parse afterwards whatever this does.
fn escape_at(data: &[u8], start: usize) -> Escape {
    let Some(unit) = unicode_escape(data, start) else {
        return Escape::Other;
    };
    match unit {
        0xD800..=0xDBFF => match unicode_escape(data, start + 6) {
            Some(0xDC00..=0xDFFF) => Escape::Pair,
            _ => Escape::Unpaired,
        },
        0xDC00..=0xDFFF => Escape::Unpaired,
        _ => Escape::Other,
    }
}

/// The code unit of a `\uXXXX` escape at `start`, if there is one.
fn unicode_escape(data: &[u8], start: usize) -> Option<u16> {
    let escape = data.get(start..start + 6)?;
    if escape.get(..2)? != br"\u" {
        return None;
    }
    let hex = std::str::from_utf8(escape.get(2..)?).ok()?;
    u16::from_str_radix(hex, 16).ok()
}

/// 422 naming the first field (as a path like `subject.id` or `san_dns_names[1]`) whose
/// name or string value holds a NUL character.
pub(crate) fn json(value: &Value) -> Result<(), ApiError> {
    match nul_path(value) {
        Some(path) if path.is_empty() => Err(unstorable("body")),
        Some(path) => Err(unstorable(&path)),
        None => Ok(()),
    }
}

fn nul_path(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            nul_path(item).map(|rest| format!("[{index}]{}", dotted(&rest)))
        }),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            if name.contains('\0') {
                return Some(name.replace('\0', "\\u0000"));
            }
            nul_path(item).map(|rest| format!("{name}{}", dotted(&rest)))
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// `rest` as the tail of a path: `.field` or `[index]`.
fn dotted(rest: &str) -> Cow<'_, str> {
    if rest.is_empty() || rest.starts_with('[') {
        Cow::Borrowed(rest)
    } else {
        Cow::Owned(format!(".{rest}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(text: &str) -> String {
        String::from_utf8(surrogates_as_nul(text.as_bytes()).into_owned()).unwrap_or_default()
    }

    #[test]
    fn unpaired_surrogates_become_nul_escapes() {
        let rows = [
            (r#"{"a": "\ud800"}"#, r#"{"a": "\u0000"}"#),
            (r#"{"a": "x\udfffy"}"#, r#"{"a": "x\u0000y"}"#),
            (r#"{"a": "\ud800\u0041"}"#, r#"{"a": "\u0000\u0041"}"#),
            (r#"{"a": "\ud83d\ude00"}"#, r#"{"a": "\ud83d\ude00"}"#),
            (r#"{"a": "\\ud800"}"#, r#"{"a": "\\ud800"}"#),
            (r#"{"a": "\u00e9\n"}"#, r#"{"a": "\u00e9\n"}"#),
            (r#"{"a": "\ud800"#, r#"{"a": "\u0000"#),
            (r#"{"a": "\u"}"#, r#"{"a": "\u"}"#),
        ];
        for (input, expected) in rows {
            assert_eq!(marked(input), expected, "{input}");
        }
    }

    #[test]
    fn names_the_field_holding_a_nul() {
        let rows = [
            (serde_json::json!({"name": "a\u{0}"}), Some("name")),
            (
                serde_json::json!({"subject": {"id": "\u{0}"}}),
                Some("subject.id"),
            ),
            (
                serde_json::json!({"san_dns_names": ["ok", "b\u{0}"]}),
                Some("san_dns_names[1]"),
            ),
            (
                serde_json::json!({"evaluations": [{"subject": {"id": "\u{0}"}}]}),
                Some("evaluations[0].subject.id"),
            ),
            (serde_json::json!({"k\u{0}": 1}), Some("k\\u0000")),
            (serde_json::json!("\u{0}"), Some("")),
            (serde_json::json!({"name": "fine", "n": [1, null]}), None),
        ];
        for (value, expected) in rows {
            assert_eq!(nul_path(&value).as_deref(), expected, "{value}");
        }
    }
}
