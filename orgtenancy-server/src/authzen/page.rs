//! Search pages (SPEC §11): the limit, and the opaque token that names where the next page
//! starts — the last id (or action name) the page before looked at, so that following the
//! tokens returns every match exactly once even while rows are added (keyset paging).
//!
//! A token is the URL-safe base64 (no padding) of `v1:<cursor>`; the version lets its form
//! change without old tokens being misread. Anything else is 422.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use orgtenancy_sqlx::KeysetPage;

use crate::{
    authzen::search_model::{PageIn, PageOut},
    error::ApiError,
};

/// Results per page when the request names no limit.
pub(crate) const DEFAULT_LIMIT: u32 = 100;
/// The largest page.
pub(crate) const MAX_LIMIT: u32 = 1000;

const VERSION: &str = "v1:";

/// A checked page request: the cursor the token named (`None`: the first page), the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageAsk {
    pub(crate) after: Option<String>,
    pub(crate) limit: u32,
}

impl PageAsk {
    /// The page `page` asks for; 422 for a bad token or a limit outside 1–1000.
    pub(crate) fn parse(page: Option<&PageIn>) -> Result<PageAsk, ApiError> {
        let page = page.cloned().unwrap_or_default();
        let limit = match page.limit {
            None => DEFAULT_LIMIT,
            Some(limit) => u32::try_from(limit)
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| {
                    ApiError::unprocessable(format!(
                        "invalid page.limit `{limit}`: expected 1 to {MAX_LIMIT}"
                    ))
                })?,
        };
        let after = match page.token.as_ref().map(|token| token.as_str()) {
            None | Some("") => None,
            Some(token) => Some(decode(token).ok_or_else(bad_token)?),
        };
        Ok(PageAsk { after, limit })
    }

    /// The keyset page over ids; 422 when the token does not name an id.
    pub(crate) fn keyset(&self) -> Result<KeysetPage, ApiError> {
        let after = match &self.after {
            None => None,
            Some(cursor) => Some(id(cursor).ok_or_else(bad_token)?),
        };
        Ok(KeysetPage {
            after,
            limit: self.limit,
        })
    }

    /// The limit as a length.
    pub(crate) fn len(&self) -> usize {
        usize::try_from(self.limit).unwrap_or(usize::MAX)
    }
}

/// The page of a keyset search that looked at `scanned` rows, the last with id `last`: a
/// token for the rows after it while the page was full, else the last page.
pub(crate) fn after_id(page: &KeysetPage, scanned: usize, last: Option<i64>) -> PageOut {
    let full = u32::try_from(scanned).is_ok_and(|scanned| scanned >= page.limit);
    match last {
        Some(last) if full => next(&last.to_string()),
        _ => last_page(),
    }
}

/// A page followed by the results after `cursor`.
pub(crate) fn next(cursor: &str) -> PageOut {
    PageOut {
        next_token: URL_SAFE_NO_PAD.encode(format!("{VERSION}{cursor}")),
    }
}

/// The last page: an empty `next_token`.
pub(crate) fn last_page() -> PageOut {
    PageOut {
        next_token: String::new(),
    }
}

fn decode(token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let cursor = text.strip_prefix(VERSION)?;
    (!cursor.is_empty()).then(|| cursor.to_owned())
}

/// A row id: digits only, fitting an `i64`.
fn id(cursor: &str) -> Option<i64> {
    if !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    cursor.parse().ok()
}

fn bad_token() -> ApiError {
    ApiError::unprocessable("invalid page.token: pass the `next_token` of the previous page")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;

    fn ask(token: Option<&str>, limit: Option<i64>) -> Result<PageAsk, ApiError> {
        let page = PageIn {
            token: token.map(|t| Text(t.to_owned())),
            limit,
        };
        PageAsk::parse(Some(&page))
    }

    #[test]
    fn tokens_round_trip() {
        let token = next("42").next_token;
        let page = ask(Some(&token), Some(3)).expect("valid");
        assert_eq!(page.keyset().expect("an id").after, Some(42));
        assert_eq!(page.limit, 3);
        assert_eq!(PageAsk::parse(None).expect("valid").limit, DEFAULT_LIMIT);
    }

    #[test]
    fn bad_pages_are_refused() {
        for limit in [0, -1, 1001, i64::MAX] {
            assert_eq!(ask(None, Some(limit)).expect_err("limit").status(), 422);
        }
        for token in ["!!", "djE6", "eDo0Mg", "djE6eA"] {
            let refused = ask(Some(token), None).and_then(|page| page.keyset());
            assert_eq!(refused.expect_err(token).status(), 422, "{token}");
        }
    }
}
