//! `/audit-logs`: reading the append-only audit log (SPEC §6). There is no operation that
//! changes or deletes entries.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use orgtenancy_core::{OrgAct, UserId};
use orgtenancy_sqlx::AuditFilter;
use poem_openapi::{ApiResponse, OpenApi, param::Query, payload::Json};

use crate::{
    ApiTags,
    context::{BearerToken, Context, default_limit, page},
    error::ApiError,
    schema::AuditEntryOut,
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
        auth: BearerToken,
        /// Only entries with this action, e.g. `org_delete`.
        action: Query<Option<String>>,
        /// Only entries by this user.
        user_id: Query<Option<i64>>,
        /// Only entries about this kind of resource, e.g. `organization`.
        resource_type: Query<Option<String>>,
        /// Only entries about the resource with this id.
        resource_id: Query<Option<String>>,
        /// Only entries at or after this time (RFC 3339; a date or a time without offset is UTC).
        since: Query<Option<String>>,
        /// Only entries at or before this time (RFC 3339; a date or a time without offset is UTC).
        until: Query<Option<String>>,
        /// Rows to skip.
        #[oai(default)]
        skip: Query<u64>,
        /// Rows to return (1–1000).
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "1000"))
        )]
        limit: Query<u32>,
    ) -> Result<AuditList, ApiError> {
        let caller = self.ctx.authenticate(&auth).await?;
        let principal = caller.principal();
        let decision = self
            .ctx
            .policy
            .authorize_org(&principal, OrgAct::ReadAuditLog);
        if decision.is_denied() {
            return Err(ApiError::denied(decision));
        }
        let filter = AuditFilter {
            action: action.0,
            user_id: user_id.0.map(UserId),
            resource_type: resource_type.0,
            resource_id: resource_id.0,
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
}

/// A time filter: RFC 3339, or a date-time without offset (UTC), or a date (midnight UTC).
fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
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
    Err(ApiError::unprocessable(format!(
        "invalid {field}: expected an ISO 8601 date or date-time, got `{text}`"
    )))
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
}
