//! `/organizations`: tenants and their membership (SPEC §4), with every allow/deny from
//! [`orgtenancy_core::Policy::authorize_org`].

use std::sync::Arc;

use orgtenancy_core::{Decision, MissingUserAct, OrgAct, OrgId, Reason, UserId};
use orgtenancy_sqlx::{NewOrganization, OrganizationPatch};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::MaybeUndefined,
};

use crate::{
    ApiTags,
    context::{Caller, Context, Target, decide_again},
    error::ApiError,
    extract::{Authenticated, Limit, Skip, page},
    payload::{JsonBody, Serialized},
    schema::{OrganizationCreate, OrganizationOut, OrganizationUpdate, UserOut},
    text::Text,
    validate,
};

/// The organization operations.
pub(crate) struct OrganizationsApi {
    pub(crate) ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum CreatedOrganization {
    /// The new organization.
    #[oai(status = 201)]
    Created(Json<OrganizationOut>),
}

#[derive(ApiResponse)]
enum OneOrganization {
    /// The organization.
    #[oai(status = 200)]
    Ok(Serialized<OrganizationOut>),
}

#[derive(ApiResponse)]
enum OrganizationList {
    /// The organizations the caller may see, by id.
    #[oai(status = 200)]
    Ok(Serialized<Vec<OrganizationOut>>),
}

#[derive(ApiResponse)]
enum DeletedOrganization {
    /// The organization is deleted.
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
enum Member {
    /// The user, as updated.
    #[oai(status = 200)]
    Ok(Json<UserOut>),
}

#[derive(ApiResponse)]
enum MemberList {
    /// One page of the organization's members, by id.
    #[oai(status = 200)]
    Ok(Serialized<Vec<UserOut>>),
}

#[OpenApi(tag = "ApiTags::Organizations")]
impl OrganizationsApi {
    /// Create an organization (admin or superuser)
    ///
    /// Does not change the creator's own membership. A duplicate name is 409.
    #[oai(
        path = "/organizations",
        method = "post",
        operation_id = "create_organization"
    )]
    async fn create(
        &self,
        Authenticated(caller): Authenticated,
        body: JsonBody<OrganizationCreate>,
    ) -> Result<CreatedOrganization, ApiError> {
        self.ctx.allow_org(&caller, OrgAct::Create)?;
        let body = body.0;
        let name = validate::organization_name(body.name.as_str())?;
        let description = body.description.map(Text::into_string);
        if let Some(description) = &description {
            validate::description(description)?;
        }
        let new = NewOrganization { name, description };
        let org = self
            .ctx
            .store
            .create_organization(&caller.actor(), new)
            .await?;
        Ok(CreatedOrganization::Created(Json(org.into())))
    }

    /// List organizations
    ///
    /// A superuser sees all; anyone else a list holding only its own organization, or `[]`.
    #[oai(
        path = "/organizations",
        method = "get",
        operation_id = "list_organizations"
    )]
    async fn list(
        &self,
        Authenticated(caller): Authenticated,
        skip: Query<Skip>,
        limit: Query<Limit>,
    ) -> Result<OrganizationList, ApiError> {
        self.ctx.allow_org(&caller, OrgAct::List)?;
        let scope = self.ctx.policy.organization_scope(&caller.principal());
        let orgs = self
            .ctx
            .store
            .list_organizations(scope, page(skip.0, limit.0))
            .await?;
        Ok(OrganizationList::Ok(Serialized(
            orgs.into_iter().map(OrganizationOut::from).collect(),
        )))
    }

    /// Read an organization (members; superuser any)
    ///
    /// A non-member gets 403 whether or not the organization exists; a superuser gets 404
    /// for a missing one.
    #[oai(
        path = "/organizations/:id",
        method = "get",
        operation_id = "read_organization"
    )]
    async fn get(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<OneOrganization, ApiError> {
        self.ctx.allow_org(&caller, OrgAct::View(OrgId(id.0)))?;
        let org = self.ctx.store.get_organization(OrgId(id.0)).await?;
        Ok(OneOrganization::Ok(Serialized(org.into())))
    }

    /// Change an organization (superuser, or admin of it)
    ///
    /// Absent fields stay as they are; `description: null` clears it. A duplicate name is 409.
    #[oai(
        path = "/organizations/:id",
        method = "put",
        operation_id = "update_organization"
    )]
    async fn update(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        body: JsonBody<OrganizationUpdate>,
    ) -> Result<OneOrganization, ApiError> {
        self.ctx.allow_org(&caller, OrgAct::Update(OrgId(id.0)))?;
        let body = body.0;
        let name = body
            .name
            .as_ref()
            .map(|name| validate::organization_name(name.as_str()))
            .transpose()?;
        let description = match body.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(text) => {
                validate::description(text.as_str())?;
                Some(Some(text.into_string()))
            }
        };
        let patch = OrganizationPatch { name, description };
        let org = self
            .ctx
            .store
            .update_organization(&caller.actor(), OrgId(id.0), patch)
            .await?;
        Ok(OneOrganization::Ok(Serialized(org.into())))
    }

    /// Delete an organization (superuser)
    ///
    /// 409 while it still has members or owns resources: remove them first.
    #[oai(
        path = "/organizations/:id",
        method = "delete",
        operation_id = "delete_organization"
    )]
    async fn delete(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<DeletedOrganization, ApiError> {
        self.ctx.allow_org(&caller, OrgAct::Delete(OrgId(id.0)))?;
        self.ctx
            .store
            .delete_organization(&caller.actor(), OrgId(id.0))
            .await?;
        Ok(DeletedOrganization::NoContent)
    }

    /// Add a user to an organization (superuser; admin of it)
    ///
    /// An admin may add only users in no organization (or already in its own); moving a
    /// user out of another organization is a superuser's act.
    #[oai(
        path = "/organizations/:id/users/:user_id",
        method = "post",
        operation_id = "add_user_to_organization"
    )]
    async fn add_member(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<Member, ApiError> {
        let organization = OrgId(id.0);
        // The store adds the user only while it still has the facts decided on; when a
        // concurrent change came first, read and decide again.
        let mut attempts = 0;
        let user = loop {
            let target = self.ctx.target(UserId(user_id.0)).await?;
            let missing = MissingUserAct::AddMember(organization);
            ApiError::unless_allowed(self.decide(&caller, &target, missing, |user| {
                OrgAct::AddMember { organization, user }
            }))?;
            // A missing organization is 404 (not a conflict), checked before the user.
            self.ctx.require_organization(organization).await?;
            let seen = target.found()?.principal();
            let added = self
                .ctx
                .store
                .add_member_if(&caller.actor(), organization, &seen)
                .await;
            attempts += 1;
            match added {
                Err(error) if decide_again(&error, attempts) => continue,
                added => break added?,
            }
        };
        Ok(Member::Ok(Json(user.into())))
    }

    /// Remove a user from an organization (superuser; admin of it)
    ///
    /// 404 when the user is not a member of the organization.
    #[oai(
        path = "/organizations/:id/users/:user_id",
        method = "delete",
        operation_id = "remove_user_from_organization"
    )]
    async fn remove_member(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<Member, ApiError> {
        let organization = OrgId(id.0);
        // As for adding: the store removes the user only while it still has the facts
        // decided on (a concurrent promotion to superuser makes the admin decide again).
        let mut attempts = 0;
        let user = loop {
            let target = self.ctx.target(UserId(user_id.0)).await?;
            let missing = MissingUserAct::RemoveMember(organization);
            let decision = self.decide(&caller, &target, missing, |user| OrgAct::RemoveMember {
                organization,
                user,
            });
            if decision.is_denied() {
                return Err(removal_denied(decision));
            }
            let seen = target.found()?.principal();
            let removed = self
                .ctx
                .store
                .remove_member_if(&caller.actor(), organization, &seen)
                .await;
            attempts += 1;
            match removed {
                Err(error) if decide_again(&error, attempts) => continue,
                removed => break removed?,
            }
        };
        Ok(Member::Ok(Json(user.into())))
    }

    /// List the members of an organization (members; superuser any)
    #[oai(
        path = "/organizations/:id/users",
        method = "get",
        operation_id = "list_organization_users"
    )]
    async fn members(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        skip: Query<Skip>,
        limit: Query<Limit>,
    ) -> Result<MemberList, ApiError> {
        let organization = OrgId(id.0);
        self.ctx
            .allow_org(&caller, OrgAct::ListMembers(organization))?;
        // A superuser asking about a missing organization gets 404, not an empty list.
        self.ctx.require_organization(organization).await?;
        let users = self
            .ctx
            .store
            .list_members(organization, page(skip.0, limit.0))
            .await?;
        Ok(MemberList::Ok(Serialized(
            users.into_iter().map(UserOut::from).collect(),
        )))
    }
}

impl OrganizationsApi {
    /// The engine's decision on the membership act `found` builds for an existing user, or
    /// on `missing` for an id no user has.
    fn decide(
        &self,
        caller: &Caller,
        target: &Target,
        missing: MissingUserAct,
        found: impl FnOnce(orgtenancy_core::Principal) -> OrgAct,
    ) -> Decision {
        let policy = &self.ctx.policy;
        let principal = caller.principal();
        target.decide(policy, &principal, missing, |user| {
            policy.authorize_org(&principal, found(user.principal()))
        })
    }
}

/// A denied removal: when the engine refuses because the user is not a member of the
/// organization (or no such user exists, which must look the same), SPEC §4 answers 404;
/// every other reason is 403.
fn removal_denied(decision: Decision) -> ApiError {
    match decision.reason {
        Reason::TargetInOtherOrganization | Reason::TargetMissing => {
            tracing::info!(reason = ?decision.reason, "request denied");
            ApiError::not_found("the user is not a member of this organization")
        }
        _ => ApiError::denied(decision),
    }
}
