//! `/users`: accounts, with every allow/deny from [`orgtenancy_core::Policy::authorize_user`].

use std::sync::Arc;

use orgtenancy_core::{
    CapabilitySet, Census, Decision, MissingUserAct, OrgId, Policy, Principal, Reason, Role,
    UserAct, UserChange, UserId,
};
use orgtenancy_sqlx::{Conflict, NewUser, StoreError, User, UserPatch};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::MaybeUndefined,
};

use crate::{
    ApiTags,
    context::{Caller, Context, OptionalToken, Target, decide_again},
    error::ApiError,
    extract::{Authenticated, Limit, Skip, page},
    payload::JsonBody,
    schema::{UserCreate, UserOut, UserUpdate},
    validate,
};

/// The user operations.
pub(crate) struct UsersApi {
    pub(crate) ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum CreatedUser {
    /// The new user.
    #[oai(status = 201)]
    Created(Json<UserOut>),
}

#[derive(ApiResponse)]
enum OneUser {
    /// The user.
    #[oai(status = 200)]
    Ok(Json<UserOut>),
}

#[derive(ApiResponse)]
enum UserList {
    /// One page of users, by id.
    #[oai(status = 200)]
    Ok(Json<Vec<UserOut>>),
}

#[derive(ApiResponse)]
enum DeletedUser {
    /// The user is deleted.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// Create a user
    ///
    /// The very first user may be created by anyone, with any role (bootstrap). Afterwards
    /// admins and superusers are created by a superuser; a plain user by a superuser, by an
    /// admin (into its own organization or none), or anonymously when open registration is
    /// on. Setting capability flags, or `is_active: false`, needs the right to change them on
    /// the new user (so an inactive user is created by a superuser; the first user is active).
    #[oai(path = "/users", method = "post", operation_id = "create_user")]
    async fn create(
        &self,
        auth: OptionalToken,
        body: JsonBody<UserCreate>,
    ) -> Result<CreatedUser, ApiError> {
        let caller = self.ctx.authenticate_optional(&auth).await?;
        let body = body.0;
        validate::username(body.username.as_str())?;
        let role: Role = body.role.into();
        let organization = body.organization_id.map(OrgId);
        let capabilities = body.flags().to_set();
        let first_user = self.ctx.store.has_no_users().await?;
        let principal = caller.as_ref().map(|caller| caller.principal());
        let new_user = NewUserFacts {
            role,
            organization,
            capabilities,
            active: body.is_active,
        };
        allow_create(&self.ctx.policy, principal.as_ref(), new_user, first_user)?;
        if let Some(organization) = organization {
            self.ctx.require_organization(organization).await?;
        }
        let password_hash = self.ctx.passwords.hash(body.password.into_string()).await?;
        let new = NewUser {
            username: body.username.into_string(),
            email: body.email.0,
            password_hash,
            role,
            is_active: body.is_active,
            organization_id: organization,
            capabilities,
        };
        let actor = caller
            .as_ref()
            .map(|caller| caller.actor())
            .unwrap_or_default();
        let user = self.ctx.store.create_user(&actor, new, first_user).await?;
        Ok(CreatedUser::Created(Json(user.into())))
    }

    /// List all users (superuser)
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    async fn list(
        &self,
        Authenticated(caller): Authenticated,
        skip: Query<Skip>,
        limit: Query<Limit>,
    ) -> Result<UserList, ApiError> {
        self.allow(&caller, UserAct::List)?;
        let users = self.ctx.store.list_users(page(skip.0, limit.0)).await?;
        Ok(UserList::Ok(Json(
            users.into_iter().map(UserOut::from).collect(),
        )))
    }

    /// The current user
    #[oai(path = "/users/me", method = "get", operation_id = "read_current_user")]
    async fn me(&self, Authenticated(caller): Authenticated) -> Result<OneUser, ApiError> {
        Ok(OneUser::Ok(Json(caller.user.into())))
    }

    /// Read a user
    ///
    /// Oneself; a superuser any user; an admin the members of its organization (not
    /// superusers). Other tenants' users: 403.
    #[oai(path = "/users/:id", method = "get", operation_id = "read_user")]
    async fn get(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<OneUser, ApiError> {
        let target = self.ctx.target(UserId(id.0)).await?;
        let decision = self.decide(&caller, &target, MissingUserAct::View, |user| {
            UserAct::View(user.principal())
        });
        ApiError::unless_allowed(decision)?;
        Ok(OneUser::Ok(Json(target.found()?.into())))
    }

    /// Change a user
    ///
    /// Absent fields stay as they are; `organization_id: null` means no organization. Oneself:
    /// email and password. An admin of the user's organization: email, password and flags
    /// (not of superusers). A superuser: everything, except demoting or deactivating itself
    /// or the last active superuser (409). A new password or a deactivation signs the user
    /// out everywhere. A change that changes nothing is not written (nor audited).
    #[oai(path = "/users/:id", method = "patch", operation_id = "update_user")]
    async fn update(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        body: JsonBody<UserUpdate>,
    ) -> Result<OneUser, ApiError> {
        let body = body.0;
        // Hashed once, after the first allowed decision (argon2 is slow by design).
        let mut password_hash = None;
        // The store writes only while the user still has the facts decided on (so two
        // admins changing different flags both land); after a concurrent change, read
        // and decide again.
        let mut attempts = 0;
        let updated = loop {
            let target = self.ctx.target(UserId(id.0)).await?;
            let census = self.census(&target).await?;
            let change = requested_change(&body, &target);
            let decision =
                self.decide_among(&caller, &target, MissingUserAct::Update, census, |user| {
                    UserAct::Update {
                        user: user.principal(),
                        change,
                    }
                });
            allowed(decision)?;
            let user = target.found()?;
            if let Some(Some(organization)) = change.organization {
                self.ctx.require_organization(organization).await?;
            }
            if let (None, Some(password)) = (&password_hash, &body.password) {
                let password = password.clone().into_string();
                password_hash = Some(self.ctx.passwords.hash(password).await?);
            }
            let patch = patch_of(&body, change, password_hash.clone(), &user);
            let result = self
                .ctx
                .store
                .update_user(&caller.actor(), user.id, patch)
                .await;
            attempts += 1;
            match result {
                Err(error) if decide_again(&error, attempts) => continue,
                result => break result?,
            }
        };
        Ok(OneUser::Ok(Json(updated.into())))
    }

    /// Delete a user (superuser; not itself, nor the last active superuser)
    #[oai(path = "/users/:id", method = "delete", operation_id = "delete_user")]
    async fn delete(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<DeletedUser, ApiError> {
        // The store deletes only while the user still has the facts decided on.
        let mut attempts = 0;
        loop {
            let target = self.ctx.target(UserId(id.0)).await?;
            let census = self.census(&target).await?;
            let decision =
                self.decide_among(&caller, &target, MissingUserAct::Delete, census, |user| {
                    UserAct::Delete(user.principal())
                });
            allowed(decision)?;
            let seen = target.found()?.principal();
            let result = self.ctx.store.delete_user_if(&caller.actor(), &seen).await;
            attempts += 1;
            match result {
                Err(error) if decide_again(&error, attempts) => continue,
                result => break result?,
            }
        }
        Ok(DeletedUser::NoContent)
    }
}

impl UsersApi {
    /// Asks the engine about `act` by an authenticated caller; a denial becomes its error.
    fn allow(&self, caller: &Caller, act: UserAct) -> Result<(), ApiError> {
        ApiError::unless_allowed(
            self.ctx
                .policy
                .authorize_user(Some(&caller.principal()), act),
        )
    }

    /// The engine's decision on the act `found` builds for an existing target, or on
    /// `missing` for an id no user has.
    fn decide(
        &self,
        caller: &Caller,
        target: &Target,
        missing: MissingUserAct,
        found: impl FnOnce(&orgtenancy_sqlx::User) -> UserAct,
    ) -> Decision {
        self.decide_among(caller, target, missing, Census::OTHER_SUPERUSER, found)
    }

    /// [`UsersApi::decide`] given the census of the other users.
    fn decide_among(
        &self,
        caller: &Caller,
        target: &Target,
        missing: MissingUserAct,
        census: Census,
        found: impl FnOnce(&orgtenancy_sqlx::User) -> UserAct,
    ) -> Decision {
        let policy = &self.ctx.policy;
        let principal = caller.principal();
        target.decide(policy, &principal, missing, |user| {
            policy.authorize_user_among(Some(&principal), found(user), census)
        })
    }

    /// Whether an active superuser other than the target exists (the store re-checks it
    /// in the write's transaction).
    async fn census(&self, target: &Target) -> Result<Census, ApiError> {
        let Target::Found(user) = target else {
            return Ok(Census::OTHER_SUPERUSER);
        };
        let other_active_superuser = self.ctx.store.has_other_active_superuser(user.id).await?;
        Ok(Census::new(other_active_superuser))
    }
}

/// What the engine is asked about a user being created.
#[derive(Debug, Clone, Copy)]
struct NewUserFacts {
    role: Role,
    organization: Option<OrgId>,
    capabilities: CapabilitySet,
    active: bool,
}

/// The engine's decisions on creating `new_user`: the creation itself, then (after the
/// bootstrap) the flags and active state it is given.
fn allow_create(
    policy: &Policy,
    principal: Option<&Principal>,
    new_user: NewUserFacts,
    first_user: bool,
) -> Result<(), ApiError> {
    let act = UserAct::Create {
        role: new_user.role,
        organization: new_user.organization,
        first_user,
    };
    ApiError::unless_allowed(policy.authorize_user(principal, act))?;
    if first_user && !new_user.active {
        // An inactive first user would leave a system nobody can administer.
        return Err(ApiError::unprocessable(
            "invalid is_active: the first user must be active",
        ));
    }
    // Flags or an inactive state are a second question, asked after the bootstrap only.
    if first_user || (new_user.capabilities == CapabilitySet::EMPTY && new_user.active) {
        return Ok(());
    }
    let set_up = UserAct::SetUpNewUser {
        role: new_user.role,
        organization: new_user.organization,
        active: new_user.active,
    };
    ApiError::unless_allowed(policy.authorize_user(principal, set_up))
}

/// The store's patch for `change`, to be written while `user` still has the facts decided on.
fn patch_of(
    body: &UserUpdate,
    change: UserChange,
    password_hash: Option<String>,
    user: &User,
) -> UserPatch {
    UserPatch {
        email: body.email.as_ref().map(|email| email.0.clone()),
        password_hash,
        capabilities: change.capabilities,
        role: change.role,
        is_active: change.active,
        organization_id: change.organization,
        expected: Some(user.principal()),
    }
}

/// The change a PATCH body asks for, as the engine sees it against `target`.
fn requested_change(body: &UserUpdate, target: &Target) -> UserChange {
    let current = match target {
        Target::Found(user) => user.capabilities,
        Target::Missing => CapabilitySet::EMPTY,
    };
    let flag_changes = body.flag_changes();
    {
        let mut change = UserChange::NONE;
        change.email = body.email.is_some();
        change.password = body.password.is_some();
        change.capabilities = (!flag_changes.is_empty()).then(|| flag_changes.apply(current));
        change.role = body.role.map(Role::from);
        change.active = body.is_active;
        change.organization = match body.organization_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(org) => Some(Some(OrgId(org))),
        };
        change
    }
}

/// `Ok` when allowed. Refusing to remove the last active superuser is a conflict with the
/// current state (409, as the store answers when a concurrent change got there first);
/// every other denial is [`ApiError::denied`].
fn allowed(decision: Decision) -> Result<(), ApiError> {
    if decision.is_denied() && decision.reason == Reason::LastSuperuser {
        tracing::info!(reason = ?decision.reason, "request denied");
        return Err(StoreError::Conflict(Conflict::LastSuperuser).into());
    }
    ApiError::unless_allowed(decision)
}
