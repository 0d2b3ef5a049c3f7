//! Issuing a certificate, the act between the handlers (`POST /certificates/`, `sign-csr`,
//! `renew`) and the store: sign with the CA's key off the async runtime — for a new key the
//! server makes, or for the key of a verified CSR — seal the key when it is kept, and store
//! while the CA still has the facts the issue was decided on.

use orgtenancy_core::Action;
use orgtenancy_server_store::{
    Certificate, CertificateAuthority, NewCertificate, NewCertificateKey,
};
use zeroize::Zeroizing;

use crate::{
    capabilities::CAN_CREATE_CERT,
    cas::signing_key,
    context::{Caller, Context},
    error::ApiError,
    pki::{
        csr::{self, VerifiedCsr},
        x509::{self, IssuerMaterial, LeafRequest, Signed},
    },
    resources::{blocking, ca_resource, cert_key_context, decided},
};

/// Issuing from a CA needs `can_create_cert` on the CA.
pub(crate) const ISSUE: Action = Action::Write(CAN_CREATE_CERT);

/// Whose key the certificate certifies.
pub(crate) enum KeyPlan {
    /// A key the server makes; `keep`: sealed and kept (else handed out once and dropped).
    Generate {
        /// Whether the server keeps the key.
        keep: bool,
    },
    /// The key of a CSR, held by its requester.
    Csr(Box<VerifiedCsr>),
}

/// A certificate to issue from a CA the caller may issue from.
pub(crate) struct Issue {
    /// Subject, purpose, SANs, validity (and the key algorithm when the server makes it).
    pub(crate) request: LeafRequest,
    /// Whose key.
    pub(crate) key: KeyPlan,
    /// The certificate a renewal replaces.
    pub(crate) renewed_from_id: Option<i64>,
}

/// What was signed: the certificate, and the new key when the server made one.
struct Signing {
    signed: Signed,
    key: Option<Zeroizing<String>>,
}

/// Issues `issue` from `ca` (already decided: [`ISSUE`] on it) for `caller`: in the caller's
/// organization, the caller its creator. Returns the stored certificate and the key the
/// server made, if it made one.
pub(crate) async fn issue(
    ctx: &Context,
    caller: &Caller,
    ca: &CertificateAuthority,
    issue: Issue,
) -> Result<(Certificate, Option<Zeroizing<String>>), ApiError> {
    if !ca.allow_leaf_certs {
        return Err(ApiError::conflict(
            "this CA does not issue leaf certificates",
        ));
    }
    let request = LeafRequest {
        published: ctx.published_at(ca),
        ..issue.request
    };
    let (key_type, key_size) = match &issue.key {
        KeyPlan::Generate { .. } => (request.key.key_type(), request.key.key_size()),
        KeyPlan::Csr(csr) => (csr.facts().key_type, csr.facts().key_size),
    };
    let keep = matches!(issue.key, KeyPlan::Generate { keep: true });
    let from_csr = matches!(issue.key, KeyPlan::Csr(_));
    let signing = sign(ctx, ca, &request, issue.key).await?;
    let stored_key = match (&signing.key, keep) {
        (Some(key), true) => NewCertificateKey::Sealed(
            ctx.keys
                .seal(
                    key.as_bytes(),
                    &cert_key_context(ca.id, &signing.signed.serial_number),
                )
                .map_err(|error| ApiError::internal(&error))?,
        ),
        _ if from_csr => NewCertificateKey::HeldByRequester,
        _ => NewCertificateKey::NotKept,
    };
    let principal = caller.principal();
    let new = NewCertificate {
        ca_id: ca.id,
        common_name: request.subject.common_name.trim().to_owned(),
        subject_dn: signing.signed.subject_dn,
        certificate_type: request.kind.as_str().to_owned(),
        serial_number: signing.signed.serial_number,
        key_type: key_type.to_owned(),
        key_size: i64::from(key_size),
        valid_days: i64::from(request.valid_days),
        not_before: signing.signed.not_before,
        not_after: signing.signed.not_after,
        san_dns_names: request.dns_names,
        san_ip_addresses: request
            .ip_addresses
            .iter()
            .map(ToString::to_string)
            .collect(),
        san_email_addresses: request.email_addresses,
        certificate_pem: signing.signed.certificate_pem,
        key: stored_key,
        organization_id: principal.organization,
        created_by_user_id: Some(principal.id),
        renewed_from_id: issue.renewed_from_id,
    };
    let cert = store_issued(ctx, caller, ca, new).await?;
    Ok((cert, signing.key))
}

/// Signs `request` with the key of `ca`, off the async runtime.
async fn sign(
    ctx: &Context,
    ca: &CertificateAuthority,
    request: &LeafRequest,
    key: KeyPlan,
) -> Result<Signing, ApiError> {
    let ca_key = signing_key(ctx, ca).await?;
    let ca_pem = ca.certificate_pem.clone();
    let leaf = request.clone();
    blocking(move || {
        let issuer = IssuerMaterial {
            certificate_pem: &ca_pem,
            private_key_pem: &ca_key,
        };
        match key {
            KeyPlan::Generate { .. } => {
                let issued = x509::issue_leaf(&issuer, &leaf)?;
                Ok(Signing {
                    key: Some(issued.private_key_pem),
                    signed: Signed {
                        certificate_pem: issued.certificate_pem,
                        serial_number: issued.serial_number,
                        subject_dn: issued.subject_dn,
                        not_before: issued.not_before,
                        not_after: issued.not_after,
                    },
                })
            }
            KeyPlan::Csr(csr) => Ok(Signing {
                signed: csr::issue_for_csr(&issuer, &csr, &leaf)?,
                key: None,
            }),
        }
    })
    .await
}

/// Stores the signed certificate while its CA still has the facts the issue was decided
/// on; if it moved meanwhile, the engine decides again on the CA as it is now (the
/// signature does not depend on the CA's organization, so nothing is signed twice).
async fn store_issued(
    ctx: &Context,
    caller: &Caller,
    ca: &CertificateAuthority,
    new: NewCertificate,
) -> Result<Certificate, ApiError> {
    let (actor, ca_id) = (&caller.actor(), ca.id);
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
