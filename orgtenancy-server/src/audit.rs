//! `/audit-logs`: reading the append-only audit log (SPEC §6), and verifying its
//! tamper-evident chain. There is no operation that changes or deletes entries.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use orgtenancy_core::{OrgAct, Principal, UserId};
use orgtenancy_sqlx::{AuditChainReport, AuditFilter, ChainBreak, ChainBreakReason};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Query, payload::Json};

use crate::{
    ApiTags,
    context::{Caller, Context},
    error::ApiError,
    extract::{Authenticated, Limit, Skip, page},
    hostile,
    schema::AuditEntryOut,
    validate,
};

/// The audit-log operations.
pub(crate) struct AuditApi {
    pub(crate) ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum AuditList {
    /// One page of entries the caller may read, by id.
    #[oai(status = 200)]
    Ok(Json<Vec<AuditEntryOut>>),
}

#[derive(ApiResponse)]
enum AuditVerify {
    /// The verification ran; `ok` says whether the chain is intact, `first_broken` where not.
    #[oai(status = 200)]
    Ok(Json<AuditChainOut>),
}

/// The result of verifying the audit log's hash chain.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuditChainReport")]
pub(crate) struct AuditChainOut {
    /// Whether the whole chain is intact.
    pub ok: bool,
    /// Chained entries found intact (up to the first break).
    pub entries_checked: u64,
    /// Entries written before the chain existed (before the upgrade that added it); their
    /// content is not covered.
    pub unchained_entries: u64,
    /// The newest chained entry according to the chain head.
    #[oai(nullable)]
    pub head_id: Option<i64>,
    /// Its SHA-256 hash (hex). Recording it outside the database lets a later verification
    /// notice even a rewrite of the whole chain.
    pub head_hash: String,
    /// The first broken link, in id order.
    #[oai(nullable)]
    pub first_broken: Option<ChainBreakOut>,
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuditChainBreak")]
pub(crate) struct ChainBreakOut {
    /// The audit entry at which the chain breaks (for a deleted entry: the one after it; for
    /// deleted newest entries: the newest the chain head names).
    pub id: i64,
    /// Why.
    pub reason: ChainBreakReasonOut,
    /// The reason, for a person.
    pub detail: String,
}

/// Why the chain breaks at an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "AuditChainBreakReason", rename_all = "snake_case")]
pub(crate) enum ChainBreakReasonOut {
    /// The entry was changed: its fields do not match its hash.
    HashMismatch,
    /// The entry does not link to the one before it: an entry was deleted, inserted or moved.
    PrevHashMismatch,
    /// The entry has no hash although the chain had started.
    Unhashed,
    /// The chain does not end at the recorded head: the newest entries were deleted.
    HeadMismatch,
}

impl From<ChainBreak> for ChainBreakOut {
    fn from(broken: ChainBreak) -> ChainBreakOut {
        let reason = match broken.reason {
            ChainBreakReason::HashMismatch => ChainBreakReasonOut::HashMismatch,
            ChainBreakReason::PrevHashMismatch => ChainBreakReasonOut::PrevHashMismatch,
            ChainBreakReason::Unhashed => ChainBreakReasonOut::Unhashed,
            // A reason added to the store later is at least a broken head.
            _ => ChainBreakReasonOut::HeadMismatch,
        };
        ChainBreakOut {
            id: broken.id,
            reason,
            detail: broken.reason.describe().to_owned(),
        }
    }
}

impl From<AuditChainReport> for AuditChainOut {
    fn from(report: AuditChainReport) -> AuditChainOut {
        AuditChainOut {
            ok: report.ok,
            entries_checked: report.entries_checked,
            unchained_entries: report.unchained_entries,
            head_id: report.head_id,
            head_hash: report.head_hash,
            first_broken: report.first_broken.map(ChainBreakOut::from),
        }
    }
}

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditApi {
    /// List audit-log entries
    ///
    /// A superuser reads all entries, an admin those of its own organization (none when it
    /// has no organization), a user none (403). Filters only narrow that scope.
    #[oai(path = "/audit-logs", method = "get", operation_id = "list_audit_logs")]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per documented query filter"
    )]
    async fn list(
        &self,
        Authenticated(caller): Authenticated,
        /// Only entries with this action, e.g. `org_delete`.
        action: Query<Option<String>>,
        /// Only entries by this user.
        user_id: Query<Option<i64>>,
        /// Only entries about this kind of resource, e.g. `organization`.
        resource_type: Query<Option<String>>,
        /// Only entries about the resource with this id.
        resource_id: Query<Option<i64>>,
        /// Only entries at or after this time (RFC 3339; a date or a time without offset is UTC).
        since: Query<Option<String>>,
        /// Only entries at or before this time (RFC 3339; a date or a time without offset is UTC).
        until: Query<Option<String>>,
        skip: Query<Skip>,
        limit: Query<Limit>,
    ) -> Result<AuditList, ApiError> {
        let principal = self.reader(&caller)?;
        let filter = AuditFilter {
            action: filter_text("action", action.0)?,
            user_id: user_id.0.map(UserId),
            resource_type: filter_text("resource_type", resource_type.0)?,
            resource_id: resource_id.0.map(|id| id.to_string()),
            since: since
                .0
                .as_deref()
                .map(|text| parse_time("since", text))
                .transpose()?,
            until: until
                .0
                .as_deref()
                .map(|text| parse_time("until", text))
                .transpose()?,
        };
        let scope = self.ctx.policy.audit_scope(&principal);
        let entries = self
            .ctx
            .store
            .list_audit(scope, filter, page(skip.0, limit.0))
            .await?;
        Ok(AuditList::Ok(Json(
            entries.into_iter().map(AuditEntryOut::from).collect(),
        )))
    }

    /// Verify the audit log's hash chain
    ///
    /// Walks the whole log in id order and checks every entry's hash (over all its fields
    /// and its predecessor's hash), every link, and that the chain ends at the recorded head;
    /// reports the first break. The engine's `OrgAct::VerifyAuditChain`: the chain covers
    /// every organization's entries, so a superuser may; admins and users get 403.
    #[oai(
        path = "/audit-logs/verify",
        method = "get",
        operation_id = "verify_audit_chain"
    )]
    async fn verify(&self, Authenticated(caller): Authenticated) -> Result<AuditVerify, ApiError> {
        self.ctx.allow_org(&caller, OrgAct::VerifyAuditChain)?;
        let report = self.ctx.store.verify_audit_chain().await?;
        if let Some(broken) = report.first_broken {
            tracing::warn!(
                id = broken.id,
                reason = broken.reason.code(),
                "the audit chain is broken"
            );
        }
        Ok(AuditVerify::Ok(Json(report.into())))
    }
}

/// The longest text filter, in characters (no action or resource type is longer).
const MAX_FILTER_CHARS: usize = 255;

/// A text filter as given, once it is text both databases can compare.
fn filter_text(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    if let Some(text) = &value {
        hostile::text(field, text)?;
        if text.chars().count() > MAX_FILTER_CHARS {
            return Err(ApiError::unprocessable(validate::too_long(
                field,
                MAX_FILTER_CHARS,
            )));
        }
    }
    Ok(value)
}

/// The years a time filter may name: those both databases store as given (PostgreSQL's
/// timestamps start in 4713 BC, SQLite compares ISO text, which breaks past year 9999).
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A time filter: RFC 3339, or a date-time without offset (UTC), or a date (midnight UTC),
/// in the years 1–9999.
fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    let time = parse_any_time(field, text)?;
    if !YEARS.contains(&time.year()) {
        return Err(ApiError::unprocessable(format!(
            "invalid {field}: the year must be between 1 and 9999, got {}",
            time.year()
        )));
    }
    Ok(time)
}

fn parse_any_time(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    hostile::text(field, text)?;
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(time.and_utc());
        }
    }
    if let Some(midnight) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        return Ok(midnight.and_utc());
    }
    let shown: String = text.chars().take(64).collect();
    Err(ApiError::unprocessable(format!(
        "invalid {field}: expected an ISO 8601 date or date-time, got `{shown}`"
    )))
}

impl AuditApi {
    /// The authenticated caller's facts, once the engine allows it to read audit logs.
    fn reader(&self, caller: &Caller) -> Result<Principal, ApiError> {
        let principal = caller.principal();
        self.ctx.allow_org(caller, OrgAct::ReadAuditLog)?;
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_iso_forms_clients_send() {
        for text in [
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00+02:00",
            "2024-05-01T10:00:00",
            "2024-05-01T10:00:00.123",
            "2024-05-01 10:00:00",
            "2024-05-01",
        ] {
            assert!(parse_time("since", text).is_ok(), "{text}");
        }
        assert!(parse_time("since", "yesterday").is_err());
    }

    #[test]
    fn refuses_years_the_databases_cannot_compare() {
        for text in [
            "-5000-01-01",
            "+10000-01-01",
            "0000-12-31",
            "-0001-01-01",
            "+10000-01-01T00:00:00",
        ] {
            let error = parse_time("since", text).err();
            assert!(
                error.is_some_and(|e| e.detail().starts_with("invalid since: the year")),
                "{text}"
            );
        }
        for text in ["0001-01-01", "9999-12-31T23:59:59Z"] {
            assert!(parse_time("until", text).is_ok(), "{text}");
        }
    }
}
