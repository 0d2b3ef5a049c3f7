//! `/auth`: the OAuth2 password flow, refresh-token rotation, logout and sign-out everywhere.

use std::sync::Arc;

use orgtenancy_server_store::ThrottleKind;
use orgtenancy_sqlx::{Actor, Logout, NewAuditEntry, StoreError, User};
use poem::Request;
use poem_openapi::{ApiResponse, OpenApi, payload::Json};

use crate::{
    ApiTags,
    context::Context,
    error::ApiError,
    extract::Authenticated,
    payload::{FormBody, JsonBody},
    schema::{LogoutRequest, RefreshRequest, TokenForm, TokenOut},
    throttle::{Admission, Throttled},
    tokens::{hash_refresh_token, new_refresh_token},
};

/// Longest username kept in a `login_failure` audit entry.
const MAX_AUDITED_USERNAME: usize = 255;

/// The authentication operations.
pub(crate) struct AuthApi {
    pub(crate) ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum TokenResponse {
    /// A new access token and refresh token.
    #[oai(status = 200)]
    Ok(Json<TokenOut>),
}

#[derive(ApiResponse)]
enum DoneResponse {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// Left out (or left empty in a form) the grant type means `password`, the only one there is.
fn check_grant_type(grant_type: Option<&str>) -> Result<(), ApiError> {
    if grant_type.is_some_and(|grant| !grant.is_empty() && grant != "password") {
        return Err(ApiError::bad_request(
            "unsupported grant_type: only `password` is supported (or leave grant_type out)",
        ));
    }
    Ok(())
}

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Log in (OAuth2 password flow)
    ///
    /// Form-encoded `username` and `password`. Wrong credentials, an unknown username and an
    /// inactive account all answer 401 with `WWW-Authenticate: Bearer`, after the same work.
    /// Attempts are limited per username and per client address within a window (shared by
    /// every server process); over a limit, 429 with `Retry-After` until the window ends.
    #[oai(path = "/auth/token", method = "post", operation_id = "login")]
    async fn token(
        &self,
        request: &Request,
        form: FormBody<TokenForm>,
    ) -> Result<TokenResponse, ApiError> {
        let form = form.0;
        check_grant_type(form.grant_type.as_deref())?;
        let throttle = &self.ctx.throttle;
        let address = throttle.client_address(request);
        let attempt = match throttle
            .admit(self.ctx.store.as_ref(), &form.username, &address)
            .await?
        {
            Admission::Admitted(attempt) => attempt,
            Admission::Throttled(throttled) => {
                return Err(self.refuse(&form.username, throttled).await?);
            }
        };
        let user = match self.ctx.store.get_user_by_username(&form.username).await {
            Ok(user) => Some(user),
            Err(StoreError::NotFound(_)) => None,
            Err(other) => return Err(other.into()),
        };
        // One verification whether or not the user exists: an unknown username is checked
        // against a dummy hash with the parameters of real ones, so it costs the same.
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        let matches = self.ctx.passwords.verify(form.password, stored).await?;
        match user {
            Some(user) if matches && user.is_active => {
                throttle.succeeded(self.ctx.store.as_ref(), attempt).await?;
                let tokens = self.issue(&user).await?;
                self.audit_login(&user, "login_success", None).await?;
                Ok(TokenResponse::Ok(Json(tokens)))
            }
            user => {
                let detail = match &user {
                    Some(_) if matches => "inactive account",
                    _ => "wrong username or password",
                };
                self.audit_failure(&form.username, user.as_ref(), detail)
                    .await?;
                Err(ApiError::unauthorized("incorrect username or password"))
            }
        }
    }

    /// Exchange a refresh token for new tokens
    ///
    /// The refresh token is single use: it is consumed and a new one returned.
    #[oai(
        path = "/auth/refresh",
        method = "post",
        operation_id = "refresh_token"
    )]
    async fn refresh(&self, body: JsonBody<RefreshRequest>) -> Result<TokenResponse, ApiError> {
        let old_hash = hash_refresh_token(body.0.refresh_token.as_str());
        let (new_token, new_hash) =
            new_refresh_token().map_err(|error| ApiError::internal(&error))?;
        let expires = self.ctx.tokens.refresh_expiry();
        let rotated = self
            .ctx
            .store
            .rotate_refresh_token(&old_hash, &new_hash, expires)
            .await;
        let user_id = match rotated {
            Ok(user_id) => user_id,
            Err(StoreError::NotFound(_)) => {
                return Err(ApiError::unauthorized("invalid or expired refresh token"));
            }
            Err(other) => return Err(other.into()),
        };
        let user = match self.ctx.store.get_user(user_id).await {
            Ok(user) if user.is_active => user,
            Ok(_) | Err(StoreError::NotFound(_)) => {
                self.ctx
                    .store
                    .revoke_refresh_token(user_id, &new_hash)
                    .await?;
                return Err(ApiError::unauthorized("invalid or expired refresh token"));
            }
            Err(other) => return Err(other.into()),
        };
        let access_token = self
            .ctx
            .tokens
            .issue_access(&user)
            .map_err(|error| ApiError::internal(&error))?;
        Ok(TokenResponse::Ok(Json(TokenOut {
            access_token,
            token_type: "bearer".to_owned(),
            refresh_token: new_token,
        })))
    }

    /// Log out
    ///
    /// Revokes the access token of this request and, when given, a refresh token of the user.
    /// Audited as `logout`.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        Authenticated(caller): Authenticated,
        body: JsonBody<Option<LogoutRequest>>,
    ) -> Result<DoneResponse, ApiError> {
        let refresh_token_hash = body
            .0
            .and_then(|body| body.refresh_token)
            .map(|token| hash_refresh_token(token.as_str()));
        let logout = Logout {
            jti: &caller.claims.jti,
            expires_at: caller.claims.expires_at(),
            refresh_token_hash: refresh_token_hash.as_deref(),
        };
        // The revocations and their `logout` audit entry commit together.
        self.ctx
            .store
            .logout(&caller.actor(), &caller.user, logout)
            .await?;
        Ok(DoneResponse::NoContent)
    }

    /// Sign out everywhere
    ///
    /// Rejects every access token of the user issued until now and deletes its refresh tokens.
    /// Audited as `token_invalidate`.
    #[oai(
        path = "/auth/invalidate",
        method = "post",
        operation_id = "invalidate_tokens"
    )]
    async fn invalidate(
        &self,
        Authenticated(caller): Authenticated,
    ) -> Result<DoneResponse, ApiError> {
        // Audited as `token_invalidate`, in the same transaction.
        self.ctx
            .store
            .invalidate_tokens(&caller.actor(), caller.user.id)
            .await?;
        Ok(DoneResponse::NoContent)
    }
}

impl AuthApi {
    /// The 429 for a throttled attempt. The first refusal of a window is audited as a
    /// `login_failure`; later ones are only counted, so a flood cannot grow the audit log.
    async fn refuse(&self, username: &str, throttled: Throttled) -> Result<ApiError, ApiError> {
        if throttled.first {
            let user = match self.ctx.store.get_user_by_username(username).await {
                Ok(user) => Some(user),
                Err(StoreError::NotFound(_)) => None,
                Err(other) => return Err(other.into()),
            };
            let detail = match throttled.by {
                ThrottleKind::Username => "throttled: too many login attempts for this username",
                _ => "throttled: too many login attempts from this address",
            };
            self.audit_failure(username, user.as_ref(), detail).await?;
        }
        Ok(ApiError::too_many_requests(
            "too many failed logins; try again later",
            throttled.retry_after,
        ))
    }

    async fn issue(&self, user: &User) -> Result<TokenOut, ApiError> {
        let access_token = self
            .ctx
            .tokens
            .issue_access(user)
            .map_err(|error| ApiError::internal(&error))?;
        let (refresh_token, hash) =
            new_refresh_token().map_err(|error| ApiError::internal(&error))?;
        let expires = self.ctx.tokens.refresh_expiry();
        self.ctx
            .store
            .insert_refresh_token(user.id, &hash, expires)
            .await?;
        Ok(TokenOut {
            access_token,
            token_type: "bearer".to_owned(),
            refresh_token,
        })
    }

    async fn audit_login(
        &self,
        user: &User,
        action: &str,
        detail: Option<&str>,
    ) -> Result<(), ApiError> {
        self.ctx
            .store
            .append_audit(NewAuditEntry {
                action: action.to_owned(),
                actor: Actor::user(user),
                organization_id: user.organization_id,
                resource_type: Some("user".to_owned()),
                resource_id: Some(user.id.to_string()),
                detail: detail.map(str::to_owned),
            })
            .await?;
        Ok(())
    }

    async fn audit_failure(
        &self,
        attempted: &str,
        user: Option<&User>,
        detail: &str,
    ) -> Result<(), ApiError> {
        match user {
            Some(user) => self.audit_login(user, "login_failure", Some(detail)).await,
            None => {
                let username: String = attempted.chars().take(MAX_AUDITED_USERNAME).collect();
                self.ctx
                    .store
                    .append_audit(NewAuditEntry {
                        action: "login_failure".to_owned(),
                        actor: Actor {
                            user_id: None,
                            username: Some(username),
                        },
                        organization_id: None,
                        resource_type: Some("user".to_owned()),
                        resource_id: None,
                        detail: Some(detail.to_owned()),
                    })
                    .await?;
                Ok(())
            }
        }
    }
}
