//! Creating a CA, the act between the `POST /cas` handler and the store: the checked request
//! ([`plan`]), then [`create_ca`] — the parent's decision and key, signing off the async
//! runtime, sealing the new key, and storing while the parent still has the facts decided on.

use orgtenancy_core::{Action, Resource};
use orgtenancy_server_store::{CertificateAuthority, NewCertificateAuthority};
use zeroize::Zeroizing;

use crate::{
    cas::open_pem,
    context::{Caller, Context},
    error::ApiError,
    pki::{
        published,
        x509::{self, CaRequest, IssuerMaterial, KeyAlgorithm, Subject},
    },
    resources::{CaCreate, blocking, ca_key_context, ca_resource, decided},
    validate,
};

/// A CA creation request, every field checked.
pub(crate) struct CaPlan {
    name: String,
    description: Option<String>,
    request: CaRequest,
    parent_ca_id: Option<i64>,
    allow_leaf_certs: bool,
    crl_base_url: Option<String>,
}

/// Checks the body of `POST /cas`: 422 naming the field for anything wrong.
pub(crate) fn plan(body: CaCreate) -> Result<CaPlan, ApiError> {
    let name = validate::organization_name(body.name.as_str())?;
    let description = body.description.as_ref().map(|d| d.as_str().to_owned());
    if let Some(description) = &description {
        validate::description(description)?;
    }
    let request = CaRequest {
        subject: subject_of(&body)?,
        key: KeyAlgorithm::parse(body.key_type.as_str(), body.key_size)?,
        valid_days: body.valid_days,
        path_length: body.path_length,
        published: None,
    };
    let crl_base_url = body
        .crl_base_url
        .as_ref()
        .map(|url| published::base_url(url.as_str()))
        .transpose()?;
    Ok(CaPlan {
        name,
        description,
        request,
        parent_ca_id: body.parent_ca_id,
        allow_leaf_certs: body.allow_leaf_certs,
        crl_base_url,
    })
}

fn subject_of(body: &CaCreate) -> Result<Subject, ApiError> {
    match (&body.subject_dn, &body.common_name) {
        (Some(dn), _) => Ok(Subject::parse_dn(dn.as_str())?),
        (None, Some(cn)) => {
            let subject = Subject {
                common_name: cn.as_str().to_owned(),
                organization: body.organization.as_ref().map(|o| o.as_str().to_owned()),
                country: body.country.as_ref().map(|c| c.as_str().to_owned()),
                ..Subject::default()
            };
            subject.validate()?;
            Ok(subject)
        }
        (None, None) => Err(ApiError::unprocessable(
            "invalid subject_dn: give `subject_dn` or `common_name`",
        )),
    }
}

/// Creates the CA of `plan` for `caller` (whose right to create one the handler asked the
/// engine): in the caller's organization, the caller its creator. Returns the CA and its new
/// private key, which the creator gets in the answer (as from FastPKI).
pub(crate) async fn create_ca(
    ctx: &Context,
    caller: &Caller,
    plan: CaPlan,
) -> Result<(CertificateAuthority, Zeroizing<String>), ApiError> {
    let parent = match plan.parent_ca_id {
        None => None,
        Some(id) => {
            let parent = parent_for(ctx, caller, id).await?;
            let key = signing_key(ctx, &parent).await?;
            Some((parent, key))
        }
    };
    let parent_facts = parent.as_ref().map(|(ca, _)| ca_resource(ca));
    let key = plan.request.key;
    let valid_days = plan.request.valid_days;
    let request = CaRequest {
        // An intermediate names where its parent publishes its CRL and certificate.
        published: parent.as_ref().and_then(|(ca, _)| ctx.published_at(ca)),
        ..plan.request
    };
    let (issued, sealed) = sign(ctx, request, parent).await?;
    let private_key = issued.private_key_pem.clone();
    let path_length = x509::path_length_of(&issued.certificate_pem)?;
    let principal = caller.principal();
    let new = NewCertificateAuthority {
        name: plan.name,
        description: plan.description,
        subject_dn: issued.subject_dn,
        key_type: key.key_type().to_owned(),
        key_size: i64::from(key.key_size()),
        valid_days: i64::from(valid_days),
        parent_ca_id: plan.parent_ca_id,
        path_length: path_length.map(i64::from),
        allow_leaf_certs: plan.allow_leaf_certs,
        serial_number: issued.serial_number,
        certificate_pem: issued.certificate_pem,
        encrypted_private_key: sealed,
        not_before: issued.not_before,
        not_after: issued.not_after,
        organization_id: principal.organization,
        created_by_user_id: Some(principal.id),
        crl_base_url: plan.crl_base_url,
    };
    let ca = store_created(ctx, caller, new, parent_facts).await?;
    Ok((ca, private_key))
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

/// Signs the new CA (self-signed, or by `parent` with its opened key) off the async runtime,
/// and seals its key.
async fn sign(
    ctx: &Context,
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
    let sealed = ctx
        .keys
        .seal(
            issued.private_key_pem.as_bytes(),
            &ca_key_context(parent_id, &issued.serial_number),
        )
        .map_err(|error| ApiError::internal(&error))?;
    Ok((issued, sealed))
}

/// Stores the new CA while its parent (if any) still has the facts decided on; if the parent
/// moved meanwhile, decides again on it as it is now (the certificate, already signed, does
/// not depend on the parent's organization).
async fn store_created(
    ctx: &Context,
    caller: &Caller,
    new: NewCertificateAuthority,
    parent_facts: Option<Resource>,
) -> Result<CertificateAuthority, ApiError> {
    let actor = &caller.actor();
    let mut decided_on = Some(parent_facts);
    decided(move || {
        let first = decided_on.take();
        let new = new.clone();
        async move {
            let facts = match (first, new.parent_ca_id) {
                (Some(facts), _) => facts,
                (None, None) => None,
                (None, Some(parent)) => Some(ca_resource(&parent_for(ctx, caller, parent).await?)),
            };
            Ok(ctx.store.create_ca(actor, new, facts).await)
        }
    })
    .await
}

/// The private key of `ca`, read from the store and opened, to sign with (not audited:
/// nothing leaves the server).
pub(crate) async fn signing_key(
    ctx: &Context,
    ca: &CertificateAuthority,
) -> Result<Zeroizing<String>, ApiError> {
    let sealed = ctx.store.ca_signing_key(ca.id).await?;
    open_ca_key(ctx, &sealed, ca)
}

/// Opens the sealed key of `ca`.
pub(crate) fn open_ca_key(
    ctx: &Context,
    sealed: &[u8],
    ca: &CertificateAuthority,
) -> Result<Zeroizing<String>, ApiError> {
    let context = ca_key_context(ca.parent_ca_id, &ca.serial_number);
    open_pem(ctx, sealed, &context)
}
