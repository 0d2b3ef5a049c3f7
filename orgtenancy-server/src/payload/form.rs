//! Decoding of `application/x-www-form-urlencoded` bodies that refuses what the usual lossy
//! decoders let through: a percent-encoded byte sequence that is not UTF-8 (which would
//! otherwise become U+FFFD and silently change a username) and a NUL character.

use crate::{error::ApiError, hostile};

/// The body's `(name, value)` pairs, decoded; 422 naming the field for bad text.
pub(crate) fn decode(data: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    data.split(|&byte| byte == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&byte| byte == b'=') {
                Some(at) => (pair.get(..at), pair.get(at + 1..)),
                None => (Some(pair), None),
            };
            let name = text(name.unwrap_or_default(), None)?;
            let value = text(value.unwrap_or_default(), Some(&name))?;
            Ok((name, value))
        })
        .collect()
}

/// One decoded part; `field` names the field for a value (`None` for a name).
fn text(part: &[u8], field: Option<&str>) -> Result<String, ApiError> {
    let spaced: Vec<u8> = part
        .iter()
        .map(|&byte| if byte == b'+' { b' ' } else { byte })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    let field = field.unwrap_or("form field name");
    let decoded = String::from_utf8(bytes)
        .map_err(|_| ApiError::unprocessable(format!("invalid {field}: must be UTF-8 text")))?;
    hostile::text(field, &decoded)?;
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_refuses_bad_text() {
        let pairs = decode(b"username=a+b%21&password=p%C3%A9&empty=&flag").unwrap_or_default();
        let expected = [
            ("username", "a b!"),
            ("password", "pé"),
            ("empty", ""),
            ("flag", ""),
        ];
        assert_eq!(pairs.len(), expected.len());
        for ((name, value), (want_name, want_value)) in pairs.iter().zip(expected) {
            assert_eq!((name.as_str(), value.as_str()), (want_name, want_value));
        }
        let refused = [
            (&b"username=root%00"[..], "invalid username:"),
            (b"username=%ED%A0%80", "invalid username: must be UTF-8"),
            (b"password=%FF", "invalid password: must be UTF-8"),
            (b"us%00er=x", "invalid form field name:"),
        ];
        for (body, detail) in refused {
            let error = decode(body).err().map(|error| error.detail().to_owned());
            assert!(
                error
                    .as_deref()
                    .is_some_and(|text| text.starts_with(detail)),
                "{body:?}: {error:?}"
            );
        }
    }
}
