//! The state every API struct holds: the store, the engine's policy, the token keys, and
//! the authentication of a request (the user re-read from the store every time).

use std::sync::Arc;

use orgtenancy_core::{Decision, MissingUserAct, OrgAct, OrgId, Policy, Principal, UserId};
use orgtenancy_server_store::ServerStore;
use orgtenancy_sqlx::{Actor, Conflict, Entity, StoreError, User};
use poem_openapi::{OAuthScopes, SecurityScheme, auth::Bearer};

use crate::{
    error::{self, ApiError},
    passwords::Passwords,
    pki::keycrypt::KeyCipher,
    throttle::LoginThrottle,
    tokens::{Claims, TokenError, Tokens, issued_before},
};

/// OAuth2 password flow: get a token at `POST /api/v1/auth/token`, then send it as
/// `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(
    rename = "OAuth2PasswordBearer",
    ty = "oauth2",
    flows(password(token_url = "/api/v1/auth/token", scopes = "TokenScope"))
)]
pub(crate) struct BearerToken(Bearer);

/// The scopes of the password flow. OpenAPI requires the flow to list its scopes, and
/// poem-openapi leaves out an empty list, so the one scope every token has is named.
#[derive(OAuthScopes)]
pub(crate) enum TokenScope {
    /// Everything the user's role and flags allow (a `scope` asked for is ignored).
    #[oai(rename = "api")]
    #[expect(dead_code, reason = "only documented: tokens carry no scopes")]
    Api,
}

/// A bearer token if one is sent; operations that also serve anonymous callers take this.
#[derive(SecurityScheme)]
pub(crate) enum OptionalToken {
    /// A bearer token was sent (it must be valid).
    Token(BearerToken),
    /// No `Authorization: Bearer` header.
    #[oai(fallback)]
    Anonymous,
}

/// The shared state of the API structs.
pub(crate) struct Context {
    pub(crate) store: Arc<dyn ServerStore>,
    pub(crate) policy: Policy,
    pub(crate) tokens: Tokens,
    pub(crate) throttle: LoginThrottle,
    /// Seals and opens private keys at rest.
    pub(crate) keys: KeyCipher,
    /// Hashes and verifies passwords on the app's worker threads.
    pub(crate) passwords: Passwords,
    /// Where relying parties reach the public PKI files ([`crate::ServerConfig`]).
    pub(crate) public_base_url: Option<String>,
}

/// An authenticated caller: the user as stored now, and the token it presented.
pub(crate) struct Caller {
    pub(crate) user: User,
    pub(crate) claims: std::sync::Arc<Claims>,
}

impl Caller {
    /// The engine's facts about the caller.
    pub(crate) fn principal(&self) -> Principal {
        self.user.principal()
    }

    /// The caller as the audit log records it.
    pub(crate) fn actor(&self) -> Actor {
        Actor::user(&self.user)
    }
}

/// A user an act is about, or none (the id names no user).
pub(crate) enum Target {
    Found(User),
    Missing,
}

impl Target {
    /// The engine's decision on an act about this target: `found` asks about an existing
    /// user; for a missing one the engine answers `missing` itself (a superuser is allowed
    /// and then gets 404; anyone else is refused as for a user out of its reach), so whether
    /// an id exists is never revealed to a caller who could not act on it.
    pub(crate) fn decide(
        &self,
        policy: &Policy,
        caller: &Principal,
        missing: MissingUserAct,
        found: impl FnOnce(&User) -> Decision,
    ) -> Decision {
        match self {
            Target::Found(user) => found(user),
            Target::Missing => policy.authorize_missing_user(caller, missing),
        }
    }

    /// The user, or 404 for a missing one (to call once the engine has allowed the act).
    pub(crate) fn found(self) -> Result<User, ApiError> {
        match self {
            Target::Found(user) => Ok(user),
            Target::Missing => Err(error::not_found(Entity::User)),
        }
    }
}

impl Context {
    /// The caller behind a bearer token: 401 unless the token is well signed, unexpired and
    /// not revoked, and its user still exists, is active and has not invalidated its tokens
    /// (password change, sign-out everywhere) since the token was issued.
    pub(crate) async fn authenticate(&self, token: &BearerToken) -> Result<Caller, ApiError> {
        self.authenticate_bearer(&token.0).await
    }

    /// [`Context::authenticate`] of the token itself (the checker of
    /// [`Authenticated`](crate::extract::Authenticated) calls it).
    pub(crate) async fn authenticate_bearer(&self, token: &Bearer) -> Result<Caller, ApiError> {
        let claims = self
            .tokens
            .verify_access(&token.token)
            .map_err(|error| match error {
                TokenError::Expired => ApiError::unauthorized("the token has expired"),
                TokenError::Invalid => ApiError::unauthorized("could not validate credentials"),
            })?;
        // One statement: the user as stored now and the token's revocation.
        let holder = match self
            .store
            .token_holder(UserId(claims.id), &claims.jti)
            .await
        {
            Ok(holder) => holder,
            Err(StoreError::NotFound(_)) => {
                return Err(ApiError::unauthorized("could not validate credentials"));
            }
            Err(other) => return Err(other.into()),
        };
        if holder.token_revoked {
            return Err(ApiError::unauthorized("the token has been revoked"));
        }
        let user = holder.user;
        if user.username != claims.sub {
            return Err(ApiError::unauthorized("could not validate credentials"));
        }
        if !user.is_active {
            return Err(ApiError::unauthorized("the account is inactive"));
        }
        if issued_before(claims.iat_us, user.tokens_valid_after) {
            return Err(ApiError::unauthorized(
                "the token has been invalidated; sign in again",
            ));
        }
        crate::request_log::note_user(user.id.0);
        Ok(Caller { user, claims })
    }

    /// The caller if a token was sent (an invalid one is still 401), else `None`.
    pub(crate) async fn authenticate_optional(
        &self,
        token: &OptionalToken,
    ) -> Result<Option<Caller>, ApiError> {
        match token {
            OptionalToken::Token(token) => self.authenticate(token).await.map(Some),
            OptionalToken::Anonymous => Ok(None),
        }
    }

    /// 404 unless organization `id` exists (for acts the engine has allowed).
    /// The engine's decision on the organization act `act`, as `Ok` or the error for its deny.
    pub(crate) fn allow_org(&self, caller: &Caller, act: OrgAct) -> Result<(), ApiError> {
        ApiError::unless_allowed(self.policy.authorize_org(&caller.principal(), act))
    }

    pub(crate) async fn require_organization(&self, id: OrgId) -> Result<(), ApiError> {
        self.store.get_organization(id).await?;
        Ok(())
    }

    /// The user with `id`, or [`Target::Missing`].
    pub(crate) async fn target(&self, id: UserId) -> Result<Target, ApiError> {
        match self.store.get_user(id).await {
            Ok(user) => Ok(Target::Found(user)),
            Err(StoreError::NotFound(_)) => Ok(Target::Missing),
            Err(other) => Err(other.into()),
        }
    }
}

/// How many read-decide-write rounds a handler runs before it answers 409.
const DECISION_ATTEMPTS: u32 = 5;

/// Whether `error` says the row changed between the decision and the write
/// ([`Conflict::Changed`]) and another read-decide-write round is allowed after `attempts`.
pub(crate) fn decide_again(error: &StoreError, attempts: u32) -> bool {
    matches!(error, StoreError::Conflict(Conflict::Changed)) && attempts < DECISION_ATTEMPTS
}
