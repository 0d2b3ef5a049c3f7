//! `/certificates`: leaf certificates (SPEC §9), every allow/deny from
//! [`orgtenancy_core::Policy::authorize`] with the row's organization and creator.
//!
//! | operation | decision |
//! |---|---|
//! | `POST /certificates/?ca_id=N` | `Write(can_create_cert)` on the issuing CA |
//! | `POST /certificates/sign-csr` | `Write(can_create_cert)` on the CA (by id, or by name within the caller's `Scope`) |
//! | `POST /certificates/{id}/renew` | `Read` on the certificate, then `Write(can_create_cert)` on its CA; audited `cert_renew` |
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
    CERTIFICATE_AUTHORITY, Certificate, CertificateAuthority, CertificateFilter, CertificateStatus,
    KeySource,
};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use zeroize::Zeroizing;

use self::issue::{ISSUE, Issue, KeyPlan};
use crate::{
    ApiTags,
    capabilities::CAN_REVOKE_CERT,
    context::{Caller, Context},
    error::{ApiError, not_found},
    extract::{Authenticated, Limit, Skip, page},
    payload::JsonBody,
    pki::{crl::RevocationReason, csr::VerifiedCsr},
    resources::{
        CertCreate, CertOut, CsrSign, Renew, RevokeRequest, StatusName, cert_resource, decided,
    },
    text::Text,
};

mod issue;
mod requests;

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
        // The requester gets the key the server made for it, unless it asked not to; then no
        // key is kept either.
        let keep = body.include_private_key != Some(false);
        let request = requests::for_new_key(&body)?;
        let (cert, key) = issue::issue(
            &self.ctx,
            &caller,
            &ca,
            Issue {
                request,
                key: KeyPlan::Generate { keep },
                renewed_from_id: None,
            },
        )
        .await?;
        Ok(created(cert, key.filter(|_| keep)))
    }

    /// Sign a certificate signing request (admin, superuser, or a user with
    /// `can_create_cert` on the CA)
    ///
    /// The CSR's signature must verify; the certificate certifies its key (the requester
    /// keeps the private key: the answer has none, and none is kept). The CA is given by
    /// `ca_id` or by `ca_name` (exact, among the CAs the caller may read; several: 409). The
    /// subject and SANs are the body's where it gives them, else the CSR's.
    #[oai(
        path = "/certificates/sign-csr",
        method = "post",
        operation_id = "sign_certificate_request"
    )]
    async fn sign_csr(
        &self,
        Authenticated(caller): Authenticated,
        body: JsonBody<CsrSign>,
    ) -> Result<CreatedCert, ApiError> {
        let body = body.0;
        let csr = VerifiedCsr::parse(body.csr.as_str())?;
        let request = requests::for_csr(&body, &csr)?;
        let ca = self
            .issuing_ca(&caller, body.ca_id, body.ca_name.as_ref())
            .await?;
        let key = KeyPlan::Csr(Box::new(csr));
        let issue = Issue {
            request,
            key,
            renewed_from_id: None,
        };
        let (cert, _) = issue::issue(&self.ctx, &caller, &ca, issue).await?;
        Ok(created(cert, None))
    }

    /// Renew a certificate (as issuing from its CA; the caller must also read it)
    ///
    /// A new certificate from the same CA with the same subject, purpose, SANs and key
    /// algorithm, a fresh validity period and serial, and `renewed_from_id` naming the old
    /// one (which stays as it is). The key is new: made by the server and returned (and kept),
    /// or the key of the `csr` given — required when the old certificate was made from a
    /// CSR. Audit-logged (`cert_renew`).
    #[oai(
        path = "/certificates/:id/renew",
        method = "post",
        operation_id = "renew_certificate"
    )]
    async fn renew(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
        body: JsonBody<Renew>,
    ) -> Result<CreatedCert, ApiError> {
        let csr = body
            .0
            .csr
            .as_ref()
            .map(|csr| VerifiedCsr::parse(csr.as_str()))
            .transpose()?;
        let old = self
            .ctx
            .certificate_for(&caller, id.0, Action::Read)
            .await?;
        let ca = self.ctx.ca_for(&caller, old.ca_id, ISSUE).await?;
        let key = match csr {
            Some(csr) => KeyPlan::Csr(Box::new(csr)),
            None if old.key_source == KeySource::Requester => {
                return Err(ApiError::unprocessable(
                    "invalid csr: the requester holds this certificate's key; send a CSR for \
                     the new one",
                ));
            }
            None => KeyPlan::Generate { keep: true },
        };
        let issue = Issue {
            request: requests::for_renewal(&old)?,
            key,
            renewed_from_id: Some(old.id),
        };
        let (cert, key) = issue::issue(&self.ctx, &caller, &ca, issue).await?;
        Ok(created(cert, key))
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
    /// The CA a CSR is to be signed by, named by id or by name, and the decision to issue
    /// from it. A name is looked up among the CAs the caller may read: none is 404, several
    /// are 409.
    async fn issuing_ca(
        &self,
        caller: &Caller,
        ca_id: Option<i64>,
        ca_name: Option<&Text>,
    ) -> Result<CertificateAuthority, ApiError> {
        let id = match (ca_id, ca_name) {
            (Some(id), None) => id,
            (None, Some(name)) => {
                let scope = self.ctx.policy.scope(&caller.principal());
                let found = self
                    .ctx
                    .store
                    .find_cas_by_name(name.as_str(), scope)
                    .await?;
                match found.as_slice() {
                    [ca] => ca.id,
                    // As a missing id: 404 for a superuser, 403 for anyone else.
                    [] => {
                        self.ctx.allow_missing(caller)?;
                        return Err(not_found(CERTIFICATE_AUTHORITY));
                    }
                    _ => {
                        return Err(ApiError::conflict(
                            "ca_name names several certificate authorities; give ca_id",
                        ));
                    }
                }
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::unprocessable(
                    "invalid ca_name: give ca_id or ca_name, not both",
                ));
            }
            (None, None) => {
                return Err(ApiError::unprocessable(
                    "invalid ca_id: the issuing CA is required (ca_id or ca_name)",
                ));
            }
        };
        self.ctx.ca_for(caller, id, ISSUE).await
    }
}

/// The 201 answer of an issue, with the key the server made for the requester, if any.
fn created(cert: Certificate, key: Option<Zeroizing<String>>) -> CreatedCert {
    let mut out = CertOut::from(cert);
    out.private_key = key.map(|key| key.as_str().to_owned());
    CreatedCert::Created(Json(out))
}
