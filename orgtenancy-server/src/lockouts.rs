//! `DELETE /auth/lockouts/{username}`: a superuser forgets a username's failed logins, so
//! its owner may log in again before the window ends (SPEC §13). The engine decides
//! ([`UserAct::ClearLoginLockout`]); the store forgets the count and audits
//! `login_lockout_clear` in one transaction.

use std::sync::Arc;

use orgtenancy_core::UserAct;
use orgtenancy_sqlx::{StoreError, User};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::{
    ApiTags, context::Context, error::ApiError, extract::Authenticated, throttle::username_key,
};

/// The lockout operations.
pub(crate) struct LockoutsApi {
    pub(crate) ctx: Arc<Context>,
}

/// What a lockout clearing did.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct LockoutCleared {
    /// The username, as the login limits count it (lowercased).
    pub username: String,
    /// How many counted login attempts were forgotten (0 when none were counted).
    pub cleared_attempts: u32,
}

#[derive(ApiResponse)]
enum ClearResponse {
    /// The username's count is gone; its owner may log in again at once.
    #[oai(status = 200)]
    Ok(Json<LockoutCleared>),
}

#[OpenApi(tag = "ApiTags::Auth")]
impl LockoutsApi {
    /// Clear a username's login lockout (superuser)
    ///
    /// Forgets the login attempts counted against `username` in the current window (the
    /// per-username limit, `--max-login-failures`), so the next login is checked at once
    /// instead of answering 429. The per-address count is left as it is. Audited as
    /// `login_lockout_clear` (resource type `user`, the user's id and organization when the
    /// username has an account; the username in the detail). Superuser only (403 otherwise); also allowed for a username that has
    /// no account or no count.
    #[oai(
        path = "/auth/lockouts/:username",
        method = "delete",
        operation_id = "clear_login_lockout"
    )]
    async fn clear(
        &self,
        Authenticated(caller): Authenticated,
        /// The username whose failed logins are forgotten.
        username: Path<String>,
    ) -> Result<ClearResponse, ApiError> {
        let decision = self
            .ctx
            .policy
            .authorize_user(Some(&caller.principal()), UserAct::ClearLoginLockout);
        ApiError::unless_allowed(decision)?;
        let key = username_key(&username.0);
        // The count is kept per lowercased username: the account is the one spelt as asked,
        // else the lowercase one.
        let user = match self.user_named(&username.0).await? {
            Some(user) => Some(user),
            None => self.user_named(&key).await?,
        };
        let cleared = self
            .ctx
            .store
            .clear_login_lockout(&caller.actor(), &key, user.as_ref())
            .await?;
        Ok(ClearResponse::Ok(Json(LockoutCleared {
            username: key,
            cleared_attempts: cleared,
        })))
    }
}

impl LockoutsApi {
    async fn user_named(&self, username: &str) -> Result<Option<User>, ApiError> {
        match self.ctx.store.get_user_by_username(username).await {
            Ok(user) => Ok(Some(user)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }
}
