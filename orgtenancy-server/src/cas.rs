//! `/cas`: certificate authorities (SPEC §9), every allow/deny from
//! [`orgtenancy_core::Policy::authorize`] with the row's organization and creator.
//!
//! | operation | decision |
//! |---|---|
//! | `POST /cas/` (root) | `Write(can_create_ca)` on `Resource { organization: caller's, creator: none }` |
//! | `POST /cas/` (intermediate) | the same, plus `Read` on the parent; the parent must be in the caller's organization (409); stored only while the parent still has the facts decided on |
//! | `GET /cas/` | the caller's `Scope` as SQL |
//! | `GET /cas/{id}` | `Read` on the CA |
//! | `GET /cas/{id}/chain` | `Read` on the CA; each parent listed while the caller may read it |
//! | `GET /cas/{id}/children` | `Read` on the CA; its children in the caller's `Scope` as SQL |
//! | `DELETE /cas/{id}` | `Write(can_delete_ca)` on the CA; 409 while it has child CAs or certificates |
//! | `GET /cas/{id}/private-key` | `Write(can_export_private_key)` on the CA, audited; the key is read in the transaction that re-checks the row |
//! | `PATCH /cas/{id}` | `OrgAct::MoveResources` into the target organization (superuser only: it crosses tenants), then `Read` on the CA; audited for the target organization and every organization a moved row left |
//!
//! Every write (and key export) decided on a row runs through [`decided`]: the store writes
//! only while the row still has the organization and creator the engine saw, else the handler
//! reads the row and asks the engine again (a CA moved to another tenant meanwhile: 403).

mod create;

pub(crate) use create::{open_ca_key, signing_key};

use std::sync::Arc;

use orgtenancy_core::{Action, OrgAct, OrgId, Resource};
use orgtenancy_server_store::CertificateAuthority;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use zeroize::Zeroizing;

use crate::{
    ApiTags,
    capabilities::{CAN_CREATE_CA, CAN_DELETE_CA},
    context::{Caller, Context},
    error::ApiError,
    extract::{Authenticated, Limit, Skip, page},
    payload::JsonBody,
    resources::{CaAssign, CaCreate, CaOut, ca_resource, decided},
};

/// Deepest chain `GET /cas/{id}` follows (a guard against a corrupt parent cycle).
const MAX_CHAIN: usize = 32;

/// The CA operations.
pub(crate) struct CasApi {
    pub(crate) ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum CreatedCa {
    /// The new CA.
    #[oai(status = 201)]
    Created(Json<CaOut>),
}

#[derive(ApiResponse)]
enum OneCa {
    /// The CA.
    #[oai(status = 200)]
    Ok(Json<CaOut>),
}

#[derive(ApiResponse)]
enum CaList {
    /// The CAs the caller may read, by id.
    #[oai(status = 200)]
    Ok(Json<Vec<CaOut>>),
}

#[derive(ApiResponse)]
enum DeletedCa {
    /// The CA is deleted.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "ApiTags::CertificateAuthorities")]
impl CasApi {
    /// Create a CA (admin, superuser, or a user with `can_create_ca`)
    ///
    /// A root, or an intermediate signed by `parent_ca_id` (which the caller must be able to
    /// read and which must belong to the caller's organization). The CA belongs to the
    /// caller's organization and records the caller as its creator.
    #[oai(path = "/cas", method = "post", operation_id = "create_ca")]
    async fn create(
        &self,
        Authenticated(caller): Authenticated,
        body: JsonBody<CaCreate>,
    ) -> Result<CreatedCa, ApiError> {
        let principal = caller.principal();
        // The target context: the caller's organization, no creator yet (the creator rule
        // must not let anyone create).
        self.ctx.allow_resource(
            &caller,
            Action::Write(CAN_CREATE_CA),
            &Resource::new(principal.organization, None),
        )?;
        let plan = create::plan(body.0)?;
        let (ca, key) = create::create_ca(&self.ctx, &caller, plan).await?;
        let mut out = CaOut::from(ca);
        out.private_key = Some(key.as_str().to_owned());
        Ok(CreatedCa::Created(Json(out)))
    }

    /// List the CAs the caller may read
    ///
    /// Superuser: all; others: their organization's CAs and the ones they created (the
    /// engine's scope, applied in SQL).
    #[oai(path = "/cas", method = "get", operation_id = "list_cas")]
    async fn list(
        &self,
        Authenticated(caller): Authenticated,
        skip: Query<Skip>,
        limit: Query<Limit>,
    ) -> Result<CaList, ApiError> {
        let scope = self.ctx.policy.scope(&caller.principal());
        let cas = self
            .ctx
            .store
            .list_cas(scope, page(skip.0, limit.0))
            .await?;
        Ok(CaList::Ok(Json(cas.into_iter().map(CaOut::from).collect())))
    }

    /// Read a CA with its chain (never its key)
    ///
    /// A CA the caller may not read is 403 whether or not it exists; a superuser gets 404
    /// for a missing id. The chain lists the parents' certificates upwards and ends before
    /// the first parent the caller may not read: after an adoption without cascade the
    /// parent can belong to another tenant (or none), and its certificate is its row.
    #[oai(path = "/cas/:id", method = "get", operation_id = "read_ca")]
    async fn get(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<OneCa, ApiError> {
        let ca = self.ctx.ca_for(&caller, id.0, Action::Read).await?;
        let chain = readable_ancestors(&self.ctx, &caller, &ca)
            .await?
            .into_iter()
            .map(|parent| parent.certificate_pem)
            .collect();
        let mut out = CaOut::from(ca);
        out.chain = Some(chain);
        Ok(OneCa::Ok(Json(out)))
    }

    /// A CA and its issuers up to the root
    ///
    /// The CA first, then each parent upwards, as far as the caller may read them (the list
    /// ends before the first parent it may not read). 403/404 for the CA as for `GET`.
    #[oai(
        path = "/cas/:id/chain",
        method = "get",
        operation_id = "read_ca_chain"
    )]
    async fn chain(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<CaList, ApiError> {
        let ca = self.ctx.ca_for(&caller, id.0, Action::Read).await?;
        let ancestors = readable_ancestors(&self.ctx, &caller, &ca).await?;
        let chain = std::iter::once(ca).chain(ancestors).map(CaOut::from);
        Ok(CaList::Ok(Json(chain.collect())))
    }

    /// The CAs a CA signed, that the caller may read
    ///
    /// Its direct children in the caller's scope, by id, paged. 403/404 for the CA as for
    /// `GET`.
    #[oai(
        path = "/cas/:id/children",
        method = "get",
        operation_id = "list_ca_children"
    )]
    async fn children(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        skip: Query<Skip>,
        limit: Query<Limit>,
    ) -> Result<CaList, ApiError> {
        let ca = self.ctx.ca_for(&caller, id.0, Action::Read).await?;
        let scope = self.ctx.policy.scope(&caller.principal());
        let children = self
            .ctx
            .store
            .list_child_cas(ca.id, scope, page(skip.0, limit.0))
            .await?;
        Ok(CaList::Ok(Json(
            children.into_iter().map(CaOut::from).collect(),
        )))
    }

    /// Delete a CA (admin, superuser, or a user with `can_delete_ca`)
    ///
    /// 409 while it has child CAs or issued certificates.
    #[oai(path = "/cas/:id", method = "delete", operation_id = "delete_ca")]
    async fn delete(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<DeletedCa, ApiError> {
        let (ctx, caller, actor, id) = (&self.ctx, &caller, &caller.actor(), id.0);
        decided(move || async move {
            let ca = ctx.ca_for(caller, id, Action::Write(CAN_DELETE_CA)).await?;
            Ok(ctx.store.delete_ca(actor, ca.id, ca_resource(&ca)).await)
        })
        .await?;
        Ok(DeletedCa::NoContent)
    }

    /// Export a CA's private key (admin, superuser, or a user with `can_export_private_key`)
    ///
    /// Audit-logged (`ca_export_private_key`).
    #[oai(
        path = "/cas/:id/private-key",
        method = "get",
        operation_id = "export_ca_private_key"
    )]
    async fn private_key(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<OneCa, ApiError> {
        let (ca, key) = crate::exports::ca_key(&self.ctx, &caller, id.0).await?;
        let mut out = CaOut::from(ca);
        out.private_key = Some(key.as_str().to_owned());
        Ok(OneCa::Ok(Json(out)))
    }

    /// Adopt a CA into an organization (superuser)
    ///
    /// With `cascade: true` every descendant CA and every certificate issued by the moved CAs
    /// moves too, in one transaction; without it only this CA moves. Audit-logged
    /// (`ca_assign_org`). A missing organization is 404.
    #[oai(
        path = "/cas/:id",
        method = "patch",
        operation_id = "assign_ca_organization"
    )]
    async fn assign(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        body: JsonBody<CaAssign>,
    ) -> Result<OneCa, ApiError> {
        let organization = OrgId(body.0.organization_id);
        self.ctx
            .allow_org(&caller, OrgAct::MoveResources(organization))?;
        let ca = self.ctx.ca_for(&caller, id.0, Action::Read).await?;
        self.ctx.require_organization(organization).await?;
        let (ca, _moved) = self
            .ctx
            .store
            .assign_ca_organization(&caller.actor(), ca.id, organization, body.0.cascade)
            .await?;
        Ok(OneCa::Ok(Json(ca.into())))
    }
}

/// The parents of `ca` upwards, ending before the first the caller may not read: after an
/// adoption without cascade a parent can belong to another tenant (or none). Not a denial of
/// the request: the chain just ends there.
pub(crate) async fn readable_ancestors(
    ctx: &Context,
    caller: &Caller,
    ca: &CertificateAuthority,
) -> Result<Vec<CertificateAuthority>, ApiError> {
    let principal = caller.principal();
    let mut chain = Vec::new();
    let mut next = ca.parent_ca_id;
    while let Some(parent) = next {
        if chain.len() >= MAX_CHAIN {
            break;
        }
        let parent = ctx.store.get_ca(parent).await?;
        let read = ctx
            .policy
            .authorize(&principal, Action::Read, &ca_resource(&parent));
        if read.is_denied() {
            break;
        }
        next = parent.parent_ca_id;
        chain.push(parent);
    }
    Ok(chain)
}

/// Opens a sealed PEM key; a failure (wrong key-encryption key, tampered row) is a 500.
pub(crate) fn open_pem(
    ctx: &Context,
    sealed: &[u8],
    context: &str,
) -> Result<Zeroizing<String>, ApiError> {
    let bytes = ctx
        .keys
        .open(sealed, context)
        .map_err(|error| ApiError::internal(&error))?;
    let text = std::str::from_utf8(&bytes).map_err(|error| ApiError::internal(&error))?;
    Ok(Zeroizing::new(text.to_owned()))
}
