//! `/export`: CA and certificate files as PEM downloads (SPEC §10, FastPKI's `export`
//! commands), and the key exports the JSON endpoints share. Every allow/deny from
//! [`orgtenancy_core::Policy::authorize`]:
//!
//! | download | decision |
//! |---|---|
//! | `/export/ca/{id}/certificate`, `/export/certificate/{id}` | `Read` on the row |
//! | `/export/certificate/{id}/chain` | `Read` on the certificate; each issuer while the caller may read it |
//! | `/export/ca/{id}/private-key`, `/export/certificate/{id}/private-key` | `Write(can_export_private_key)`, audited; the key is read in the transaction that re-checks the row |

use std::sync::Arc;

use orgtenancy_core::Action;
use orgtenancy_server_store::{Certificate, CertificateAuthority};
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::PlainText};
use zeroize::Zeroizing;

use crate::{
    ApiTags,
    capabilities::CAN_EXPORT_PRIVATE_KEY,
    cas::{self, open_pem},
    context::{Caller, Context},
    error::ApiError,
    extract::Authenticated,
    pki::crl::slug,
    resources::{ca_resource, cert_key_context, cert_resource, decided},
};

/// The download operations.
pub(crate) struct ExportsApi {
    pub(crate) ctx: Arc<Context>,
}

#[derive(ApiResponse)]
enum PemFile {
    /// The PEM file, as an attachment.
    #[oai(status = 200, content_type = "application/x-pem-file")]
    Ok(
        PlainText<String>,
        /// `attachment; filename="…"`.
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

fn download(pem: impl Into<String>, filename: &str) -> PemFile {
    PemFile::Ok(
        PlainText(pem.into()),
        format!("attachment; filename=\"{filename}\""),
    )
}

#[OpenApi(tag = "ApiTags::CertificateAuthorities")]
impl ExportsApi {
    /// Download a CA's certificate (PEM)
    #[oai(
        path = "/export/ca/:id/certificate",
        method = "get",
        operation_id = "download_ca_certificate"
    )]
    async fn ca_certificate(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<PemFile, ApiError> {
        let ca = self.ctx.ca_for(&caller, id.0, Action::Read).await?;
        let name = format!("{}.pem", slug(&ca.name, ca.id));
        Ok(download(ca.certificate_pem, &name))
    }

    /// Download a CA's private key (PEM; audited)
    #[oai(
        path = "/export/ca/:id/private-key",
        method = "get",
        operation_id = "download_ca_private_key"
    )]
    async fn ca_private_key(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<PemFile, ApiError> {
        let (ca, key) = ca_key(&self.ctx, &caller, id.0).await?;
        let name = format!("{}-key.pem", slug(&ca.name, ca.id));
        Ok(download(key.as_str(), &name))
    }

    /// Download a certificate (PEM)
    #[oai(
        path = "/export/certificate/:id",
        method = "get",
        operation_id = "download_certificate"
    )]
    async fn certificate(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<PemFile, ApiError> {
        let cert = self
            .ctx
            .certificate_for(&caller, id.0, Action::Read)
            .await?;
        let name = format!("certificate-{}.pem", cert.id);
        Ok(download(cert.certificate_pem, &name))
    }

    /// Download a certificate's private key (PEM; audited)
    #[oai(
        path = "/export/certificate/:id/private-key",
        method = "get",
        operation_id = "download_certificate_private_key"
    )]
    async fn certificate_private_key(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<PemFile, ApiError> {
        let (cert, key) = certificate_key(&self.ctx, &caller, id.0).await?;
        let name = format!("certificate-{}-key.pem", cert.id);
        Ok(download(key.as_str(), &name))
    }

    /// Download a certificate with its issuers (PEM)
    ///
    /// The certificate, then each issuing CA up to the root, as far as the caller may read
    /// them (as `GET /cas/{id}/chain`).
    #[oai(
        path = "/export/certificate/:id/chain",
        method = "get",
        operation_id = "download_certificate_chain"
    )]
    async fn certificate_chain(
        &self,
        Authenticated(caller): Authenticated,
        id: Path<i64>,
    ) -> Result<PemFile, ApiError> {
        let cert = self
            .ctx
            .certificate_for(&caller, id.0, Action::Read)
            .await?;
        let mut pem = cert.certificate_pem.clone();
        let issuer = self.ctx.store.get_ca(cert.ca_id).await?;
        let read =
            self.ctx
                .policy
                .authorize(&caller.principal(), Action::Read, &ca_resource(&issuer));
        if read.is_allowed() {
            let above = cas::readable_ancestors(&self.ctx, &caller, &issuer).await?;
            for ca in std::iter::once(&issuer).chain(&above) {
                pem.push_str(&ca.certificate_pem);
            }
        }
        let name = format!("certificate-{}-chain.pem", cert.id);
        Ok(download(pem, &name))
    }
}

/// The CA `id` and its private key, for a caller the engine allows to export it; audited
/// (`ca_export_private_key`). The key is read with the re-check, in one transaction: it is
/// the key of the row the engine allowed.
pub(crate) async fn ca_key(
    ctx: &Context,
    caller: &Caller,
    id: i64,
) -> Result<(CertificateAuthority, Zeroizing<String>), ApiError> {
    let actor = &caller.actor();
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
    let key = cas::open_ca_key(ctx, &sealed, &ca)?;
    Ok((ca, key))
}

/// The certificate `id` and its private key, as [`ca_key`] (`cert_export_private_key`).
pub(crate) async fn certificate_key(
    ctx: &Context,
    caller: &Caller,
    id: i64,
) -> Result<(Certificate, Zeroizing<String>), ApiError> {
    let actor = &caller.actor();
    let (cert, sealed) = decided(move || async move {
        let action = Action::Write(CAN_EXPORT_PRIVATE_KEY);
        let cert = ctx.certificate_for(caller, id, action).await?;
        Ok(ctx
            .store
            .export_certificate_key(actor, cert.id, cert_resource(&cert))
            .await)
    })
    .await?;
    let context = cert_key_context(cert.ca_id, &cert.serial_number);
    let key = open_pem(ctx, &sealed, &context)?;
    Ok((cert, key))
}
