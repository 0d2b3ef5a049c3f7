//! `/certificates`: leaf certificates (SPEC §9), every allow/deny from
//! [`orgtenancy_core::Policy::authorize`] with the row's organization and creator.
//!
//! | operation | decision |
//! |---|---|
//! | `POST /certificates/?ca_id=N` | `Write(can_create_cert)` on the issuing CA |
//! | `GET /certificates/` | the caller's `Scope` as SQL (filters narrow it, never widen it) |
//! | `GET /certificates/{id}` | `Read` on the certificate |
//! | `POST /certificates/{id}/revoke` | `Write(can_revoke_cert)` on the certificate; 409 the second time |
//! | `GET /certificates/{id}/private-key` | `Write(can_export_private_key)` on the certificate, audited; the key is read in the transaction that re-checks the row |
//!
//! Issuing, revoking and exporting run through [`decided`]: the store writes only while the
//! row it rests on (the issuing CA, the certificate) still has the organization and creator
//! the engine saw, else the handler reads and asks again. SANs are checked by
//! [`crate::pki::san`] before anything is signed.

use std::sync::Arc;

use orgtenancy_core::Action;
use orgtenancy_server_store::{
    Certificate, CertificateAuthority, CertificateFilter, CertificateStatus, NewCertificate,
};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use zeroize::Zeroizing;

use crate::{
    ApiTags,
    capabilities::{CAN_CREATE_CERT, CAN_REVOKE_CERT},
    cas::open_pem,
    context::{Caller, Context},
    error::ApiError,
    extract::{Authenticated, Limit, Skip, page},
    payload::JsonBody,
    pki::{
        crl::RevocationReason,
        san,
        x509::{self, IssuerMaterial, KeyAlgorithm, LeafKind, LeafRequest, Subject},
    },
    resources::{
        CertCreate, CertOut, RevokeRequest, StatusName, blocking, ca_key_context, ca_resource,
        cert_key_context, cert_resource, decided,
    },
};

/// Issuing from a CA needs `can_create_cert` on the CA.
const ISSUE: Action = Action::Write(CAN_CREATE_CERT);

/// The certificate operations.
pub(crate) struct CertificatesApi {
    pub(crate) ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum CreatedCert {
    /// The new certificate.
    #[oai(status = 201)]
    Created(Json<CertOut>),
}

#[derive(ApiResponse)]
enum OneCert {
    /// The certificate.
    #[oai(status = 200)]
    Ok(Json<CertOut>),
}

#[derive(ApiResponse)]
enum CertList {
    /// The certificates the caller may read, by id.
    #[oai(status = 200)]
    Ok(Json<Vec<CertOut>>),
}

fn subject_of(body: &CertCreate) -> Result<Subject, ApiError> {
    let cn = body.common_name.as_str();
    let Some(dn) = &body.subject_dn else {
        let subject = Subject {
            common_name: cn.to_owned(),
            ..Subject::default()
        };
        subject.validate()?;
        return Ok(subject);
    };
    let has_cn = dn
        .as_str()
        .split(',')
        .any(|part| part.trim().to_ascii_uppercase().starts_with("CN="));
    let dn = if has_cn {
        dn.as_str().to_owned()
    } else {
        format!("CN={cn},{}", dn.as_str())
    };
    Ok(Subject::parse_dn(&dn)?)
}

/// The leaf to sign, from the request: subject, purpose, key and subject alternative names,
/// all checked (422 naming the field).
fn leaf_request(body: &CertCreate) -> Result<LeafRequest, ApiError> {
    let request = LeafRequest {
        subject: subject_of(body)?,
        kind: LeafKind::parse(body.certificate_type.as_str())?,
        dns_names: san::dns_names(body.san_dns_names.iter().map(|name| name.as_str()))?,
        ip_addresses: san::ip_addresses(body.san_ip_addresses.iter().map(|ip| ip.as_str()))?,
        email_addresses: san::email_addresses(
            body.san_email_addresses.iter().map(|email| email.as_str()),
        )?,
        key: KeyAlgorithm::parse(body.key_type.as_str(), body.key_size)?,
        valid_days: body.valid_days,
    };
    // Here, so that the stored SANs are the certificate's.
    Ok(request.named_by_common_name()?)
}

#[OpenApi(tag = "ApiTags::Certificates")]
impl CertificatesApi {
    /// Issue a certificate (admin, superuser, or a user with `can_create_cert`)
    ///
    /// From the CA given as `?ca_id=` (or `ca_id` in the body). The certificate belongs to the
    /// caller's organization and records the caller as its creator. DNS names follow RFC 1035
    /// and RFC 5280 (a wildcard only as the whole leftmost label, never directly under a
    /// public suffix such as `*.com`); IP addresses go in `san_ip_addresses` only. A server
    /// certificate without SANs is named by its common name, which must then be a DNS name.
    #[oai(
        path = "/certificates",
        method = "post",
        operation_id = "issue_certificate"
    )]
    async fn issue(
        &self,
        Authenticated(caller): Authenticated,
        /// The issuing CA.
        ca_id: Query<Option<i64>>,
        body: JsonBody<CertCreate>,
    ) -> Result<CreatedCert, ApiError> {
        let body = body.0;
        let Some(ca_id) = ca_id.0.or(body.ca_id) else {
            return Err(ApiError::unprocessable(
                "invalid ca_id: the issuing CA is required",
            ));
        };
        let ca = self.ctx.ca_for(&caller, ca_id, ISSUE).await?;
        if !ca.allow_leaf_certs {
            return Err(ApiError::conflict(
                "this CA does not issue leaf certificates",
            ));
        }
        let request = leaf_request(&body)?;
        let (new, key) = self.sign(&caller, &ca, request, body.valid_days).await?;
        let cert = self.store_issued(&caller, &ca, new).await?;
        let mut out = CertOut::from(cert);
        // The requester gets the key the server made for it, unless it asked not to.
        if body.include_private_key != Some(false) {
            out.private_key = Some(key.as_str().to_owned());
        }
        Ok(CreatedCert::Created(Json(out)))
    }
    /// List the certificates the caller may read
    ///
    /// The engine's scope, narrowed by `ca_id` and `status`.
    #[oai(
        path = "/certificates",
        method = "get",
        operation_id = "list_certificates"
    )]
    async fn list(
        &self,
        Authenticated(caller): Authenticated,
        /// Only certificates issued by this CA.
        ca_id: Query<Option<i64>>,
        /// Only `valid` or only `revoked` certificates.
        status: Query<Option<StatusName>>,
        skip: Query<Skip>,
        limit: Query<Limit>,
    ) -> Result<CertList, ApiError> {
        let scope = self.ctx.policy.scope(&caller.principal());
        let filter = CertificateFilter {
            ca_id: ca_id.0,
            status: status.0.map(|status| match status {
                StatusName::Valid => CertificateStatus::Valid,
                StatusName::Revoked => CertificateStatus::Revoked,
            }),
        };
        let certs = self
            .ctx
            .store
            .list_certificates(scope, filter, page(skip.0, limit.0))
            .await?;
        Ok(CertList::Ok(Json(
            certs.into_iter().map(CertOut::from).collect(),
        )))
    }

    /// Read a certificate (never its key)
    #[oai(
        path = "/certificates/:id",
        method = "get",
        operation_id = "read_certificate"
    )]
    async fn get(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<OneCert, ApiError> {
        let cert = self
            .ctx
            .certificate_for(&caller, id.0, Action::Read)
            .await?;
        Ok(OneCert::Ok(Json(cert.into())))
    }

    /// Revoke a certificate (admin, superuser, or a user with `can_revoke_cert`)
    ///
    /// Audit-logged (`cert_revoke`); 409 when it is already revoked.
    #[oai(
        path = "/certificates/:id/revoke",
        method = "post",
        operation_id = "revoke_certificate"
    )]
    async fn revoke(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        body: JsonBody<RevokeRequest>,
    ) -> Result<OneCert, ApiError> {
        // One of RFC 5280's reasons, stored by its name (the CRL lists its code).
        let reason = body
            .0
            .reason
            .map(|reason| RevocationReason::parse(reason.as_str()))
            .transpose()?
            .map(|reason| reason.as_str().to_owned());
        let (ctx, caller, actor, reason, id) = (&self.ctx, &caller, &caller.actor(), &reason, id.0);
        let cert = decided(move || async move {
            let action = Action::Write(CAN_REVOKE_CERT);
            let cert = ctx.certificate_for(caller, id, action).await?;
            let facts = cert_resource(&cert);
            let reason = reason.clone();
            Ok(ctx
                .store
                .revoke_certificate(actor, cert.id, facts, reason)
                .await)
        })
        .await?;
        Ok(OneCert::Ok(Json(cert.into())))
    }

    /// Export a certificate's private key (admin, superuser, or a user with
    /// `can_export_private_key`)
    ///
    /// Audit-logged (`cert_export_private_key`).
    #[oai(
        path = "/certificates/:id/private-key",
        method = "get",
        operation_id = "export_certificate_private_key"
    )]
    async fn private_key(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<OneCert, ApiError> {
        let (cert, key) = crate::exports::certificate_key(&self.ctx, &caller, id.0).await?;
        let mut out = CertOut::from(cert);
        out.private_key = Some(key.as_str().to_owned());
        Ok(OneCert::Ok(Json(out)))
    }
}

impl CertificatesApi {
    /// Signs `request` with the key of `ca`, off the async runtime, and seals the new key.
    async fn sign(
        &self,
        caller: &Caller,
        ca: &CertificateAuthority,
        request: LeafRequest,
        valid_days: u32,
    ) -> Result<(NewCertificate, Zeroizing<String>), ApiError> {
        let sealed_ca_key = self.ctx.store.ca_signing_key(ca.id).await?;
        let ca_key = open_pem(
            &self.ctx,
            &sealed_ca_key,
            &ca_key_context(ca.parent_ca_id, &ca.serial_number),
        )?;
        let ca_pem = ca.certificate_pem.clone();
        let leaf = request.clone();
        let issued = blocking(move || {
            let issuer = IssuerMaterial {
                certificate_pem: &ca_pem,
                private_key_pem: &ca_key,
            };
            x509::issue_leaf(&issuer, &leaf)
        })
        .await?;
        let sealed = self
            .ctx
            .keys
            .seal(
                issued.private_key_pem.as_bytes(),
                &cert_key_context(ca.id, &issued.serial_number),
            )
            .map_err(|error| ApiError::internal(&error))?;
        let key = issued.private_key_pem.clone();
        Ok((
            new_certificate(caller, ca, request, valid_days, issued, sealed),
            key,
        ))
    }

    /// Stores the signed certificate while its CA still has the facts the issue was decided
    /// on; if it moved meanwhile, the engine decides again on the CA as it is now (the
    /// signature does not depend on the CA's organization, so nothing is signed twice).
    async fn store_issued(
        &self,
        caller: &Caller,
        ca: &CertificateAuthority,
        new: NewCertificate,
    ) -> Result<Certificate, ApiError> {
        let (ctx, actor, ca_id) = (&self.ctx, &caller.actor(), ca.id);
        let mut decided_on = Some(ca_resource(ca));
        decided(move || {
            let first = decided_on.take();
            let new = new.clone();
            async move {
                let issuer = match first {
                    Some(facts) => facts,
                    None => ca_resource(&ctx.ca_for(caller, ca_id, ISSUE).await?),
                };
                Ok(ctx.store.create_certificate(actor, new, issuer).await)
            }
        })
        .await
    }
}

/// The store's row for a certificate signed by `ca` for `caller`: in the caller's
/// organization, the caller its creator.
fn new_certificate(
    caller: &Caller,
    ca: &CertificateAuthority,
    request: LeafRequest,
    valid_days: u32,
    issued: x509::Issued,
    sealed: Vec<u8>,
) -> NewCertificate {
    let principal = caller.principal();
    NewCertificate {
        ca_id: ca.id,
        common_name: request.subject.common_name.trim().to_owned(),
        subject_dn: issued.subject_dn,
        certificate_type: request.kind.as_str().to_owned(),
        serial_number: issued.serial_number,
        key_type: request.key.key_type().to_owned(),
        key_size: i64::from(request.key.key_size()),
        valid_days: i64::from(valid_days),
        not_before: issued.not_before,
        not_after: issued.not_after,
        san_dns_names: request.dns_names,
        san_ip_addresses: request
            .ip_addresses
            .iter()
            .map(ToString::to_string)
            .collect(),
        certificate_pem: issued.certificate_pem,
        encrypted_private_key: sealed,
        organization_id: principal.organization,
        created_by_user_id: Some(principal.id),
    }
}
