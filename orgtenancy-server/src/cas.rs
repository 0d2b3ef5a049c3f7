//! `/cas`: certificate authorities (SPEC §9), every allow/deny from
//! [`orgtenancy_core::Policy::authorize`] with the row's organization and creator.
//!
//! | operation | decision |
//! |---|---|
//! | `POST /cas/` (root) | `Write(can_create_ca)` on `Resource { organization: caller's, creator: none }` |
//! | `POST /cas/` (intermediate) | the same, plus `Read` on the parent; the parent must be in the caller's organization (409); stored only while the parent still has the facts decided on |
//! | `GET /cas/` | the caller's `Scope` as SQL |
//! | `GET /cas/{id}` | `Read` on the CA |
//! | `DELETE /cas/{id}` | `Write(can_delete_ca)` on the CA; 409 while it has child CAs or certificates |
//! | `GET /cas/{id}/private-key` | `Write(can_export_private_key)` on the CA, audited; the key is read in the transaction that re-checks the row |
//! | `PATCH /cas/{id}` | `Write(can_create_ca)` on `Resource { organization: none, creator: none }`: rule 1 (superuser) allows, rule 3 denies everyone else; audited for the target organization and every organization a moved row left |
//!
//! Every write (and key export) decided on a row runs through [`decided`]: the store writes
//! only while the row still has the organization and creator the engine saw, else the handler
//! reads the row and asks the engine again (a CA moved to another tenant meanwhile: 403).

use std::sync::Arc;

use orgtenancy_core::{Action, OrgId, Resource};
use orgtenancy_server_store::{CertificateAuthority, NewCertificateAuthority};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use zeroize::Zeroizing;

use crate::{
    ApiTags,
    capabilities::{CAN_CREATE_CA, CAN_DELETE_CA, CAN_EXPORT_PRIVATE_KEY},
    context::{Caller, Context},
    error::ApiError,
    extract::{Authenticated, Limit, Skip, page},
    payload::JsonBody,
    pki::x509::{self, CaRequest, IssuerMaterial, KeyAlgorithm, Subject},
    resources::{
        CaAssign, CaCreate, CaOut, MISSING, blocking, ca_key_context, ca_resource, decided,
    },
    validate,
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

fn subject_of(body: &CaCreate) -> Result<Subject, ApiError> {
    let subject = match (&body.subject_dn, &body.common_name) {
        (Some(dn), _) => Subject::parse_dn(dn.as_str())?,
        (None, Some(cn)) => {
            let subject = Subject {
                common_name: cn.as_str().to_owned(),
                organization: body.organization.as_ref().map(|o| o.as_str().to_owned()),
                country: body.country.as_ref().map(|c| c.as_str().to_owned()),
                ..Subject::default()
            };
            subject.validate()?;
            subject
        }
        (None, None) => {
            return Err(ApiError::unprocessable(
                "invalid subject_dn: give `subject_dn` or `common_name`",
            ));
        }
    };
    Ok(subject)
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
        let body = body.0;
        let name = validate::organization_name(body.name.as_str())?;
        let description = body.description.as_ref().map(|d| d.as_str().to_owned());
        if let Some(description) = &description {
            validate::description(description)?;
        }
        let subject = subject_of(&body)?;
        let key = KeyAlgorithm::parse(body.key_type.as_str(), body.key_size)?;
        let request = CaRequest {
            subject,
            key,
            valid_days: body.valid_days,
            path_length: body.path_length,
        };
        let parent = match body.parent_ca_id {
            None => None,
            Some(id) => {
                let parent = parent_for(&self.ctx, &caller, id).await?;
                let sealed = self.ctx.store.ca_signing_key(parent.id).await?;
                let key = self.open(&sealed, &parent)?;
                Some((parent, key))
            }
        };
        let parent_id = parent.as_ref().map(|(ca, _)| ca.id);
        let parent_facts = parent.as_ref().map(|(ca, _)| ca_resource(ca));
        let (issued, sealed) = self.sign(request, parent).await?;
        let path_length = x509::path_length_of(&issued.certificate_pem)?;
        let new = NewCertificateAuthority {
            name,
            description,
            subject_dn: issued.subject_dn,
            key_type: key.key_type().to_owned(),
            key_size: i64::from(key.key_size()),
            valid_days: i64::from(body.valid_days),
            parent_ca_id: parent_id,
            path_length: path_length.map(i64::from),
            allow_leaf_certs: body.allow_leaf_certs,
            serial_number: issued.serial_number,
            certificate_pem: issued.certificate_pem,
            encrypted_private_key: sealed,
            not_before: issued.not_before,
            not_after: issued.not_after,
            organization_id: principal.organization,
            created_by_user_id: Some(principal.id),
        };
        let ca = self.store_created(&caller, new, parent_facts).await?;
        Ok(CreatedCa::Created(Json(ca.into())))
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
        let mut chain = Vec::new();
        let mut next = ca.parent_ca_id;
        while let Some(parent) = next {
            if chain.len() >= MAX_CHAIN {
                break;
            }
            let parent = self.ctx.store.get_ca(parent).await?;
            // Not a denial of the request: the chain just ends here.
            let decision =
                self.ctx
                    .policy
                    .authorize(&caller.principal(), Action::Read, &ca_resource(&parent));
            if decision.is_denied() {
                break;
            }
            next = parent.parent_ca_id;
            chain.push(parent.certificate_pem);
        }
        let mut out = CaOut::from(ca);
        out.chain = Some(chain);
        Ok(OneCa::Ok(Json(out)))
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
        let (ctx, caller, actor, id) = (&self.ctx, &caller, &caller.actor(), id.0);
        // The key is read with the re-check, in one transaction: it is the key of the row the
        // engine allowed.
        let (ca, sealed) = decided(move || async move {
            let ca = ctx
                .ca_for(caller, id, Action::Write(CAN_EXPORT_PRIVATE_KEY))
                .await?;
            Ok(ctx
                .store
                .export_ca_key(actor, ca.id, ca_resource(&ca))
                .await)
        })
        .await?;
        let key = self.open(&sealed, &ca)?;
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
        // Superuser only, asked of the engine: an organization-less resource nobody created
        // is writable by rule 1 alone (rule 3 denies every other principal).
        self.ctx
            .allow_resource(&caller, Action::Write(CAN_CREATE_CA), &MISSING)?;
        let ca = self.ctx.ca_for(&caller, id.0, Action::Read).await?;
        let organization = OrgId(body.0.organization_id);
        self.ctx.require_organization(organization).await?;
        let (ca, _moved) = self
            .ctx
            .store
            .assign_ca_organization(&caller.actor(), ca.id, organization, body.0.cascade)
            .await?;
        Ok(OneCa::Ok(Json(ca.into())))
    }
}

/// The parent of a new intermediate: readable by the caller and in the caller's organization
/// (a chain stays in one tenant).
async fn parent_for(
    ctx: &Context,
    caller: &Caller,
    id: i64,
) -> Result<CertificateAuthority, ApiError> {
    let parent = ctx.ca_for(caller, id, Action::Read).await?;
    if parent.organization_id != caller.principal().organization {
        return Err(ApiError::conflict(
            "the parent CA belongs to another organization; a chain stays in one",
        ));
    }
    Ok(parent)
}

impl CasApi {
    /// Signs the new CA (self-signed, or by `parent` with its opened key) off the async
    /// runtime, and seals its key.
    async fn sign(
        &self,
        request: CaRequest,
        parent: Option<(CertificateAuthority, Zeroizing<String>)>,
    ) -> Result<(x509::Issued, Vec<u8>), ApiError> {
        let parent_id = parent.as_ref().map(|(ca, _)| ca.id);
        let issued = blocking(move || match &parent {
            None => x509::issue_root(&request),
            Some((ca, key)) => x509::issue_intermediate(
                &IssuerMaterial {
                    certificate_pem: &ca.certificate_pem,
                    private_key_pem: key,
                },
                &request,
            ),
        })
        .await?;
        let sealed = self
            .ctx
            .keys
            .seal(
                issued.private_key_pem.as_bytes(),
                &ca_key_context(parent_id, &issued.serial_number),
            )
            .map_err(|error| ApiError::internal(&error))?;
        Ok((issued, sealed))
    }

    /// Stores the new CA while its parent (if any) still has the facts decided on; if the
    /// parent moved meanwhile, decides again on it as it is now (the certificate, already
    /// signed, does not depend on the parent's organization).
    async fn store_created(
        &self,
        caller: &Caller,
        new: NewCertificateAuthority,
        parent_facts: Option<Resource>,
    ) -> Result<CertificateAuthority, ApiError> {
        let (ctx, actor) = (&self.ctx, &caller.actor());
        let mut decided_on = Some(parent_facts);
        decided(move || {
            let first = decided_on.take();
            let new = new.clone();
            async move {
                let facts = match (first, new.parent_ca_id) {
                    (Some(facts), _) => facts,
                    (None, None) => None,
                    (None, Some(parent)) => {
                        Some(ca_resource(&parent_for(ctx, caller, parent).await?))
                    }
                };
                Ok(ctx.store.create_ca(actor, new, facts).await)
            }
        })
        .await
    }

    /// Opens the sealed key of `ca`.
    fn open(
        &self,
        sealed: &[u8],
        ca: &CertificateAuthority,
    ) -> Result<Zeroizing<String>, ApiError> {
        let context = ca_key_context(ca.parent_ca_id, &ca.serial_number);
        open_pem(&self.ctx, sealed, &context)
    }
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
