//! The engine's facts about a row, loading a row under a decision, the read-decide-write loop,
//! and running the CPU-heavy X.509 work off the async runtime.

use std::future::Future;

use orgtenancy_core::{Action, Resource};
use orgtenancy_server_store::{
    CERTIFICATE, CERTIFICATE_AUTHORITY, Certificate, CertificateAuthority,
};
use orgtenancy_sqlx::{StoreError, StoreResult};

use crate::{
    context::{Caller, Context, decide_again},
    error::{self, ApiError},
    pki::x509::PkiError,
};

/// The engine's facts about a CA row.
pub(crate) fn ca_resource(ca: &CertificateAuthority) -> Resource {
    Resource::new(ca.organization_id, ca.created_by_user_id)
}

/// The engine's facts about a certificate row.
pub(crate) fn cert_resource(cert: &Certificate) -> Resource {
    Resource::new(cert.organization_id, cert.created_by_user_id)
}

/// The context for sealing a CA's key: binds the ciphertext to the issuer and serial.
pub(crate) fn ca_key_context(parent: Option<i64>, serial: &str) -> String {
    format!("ca:{}:{serial}", parent.unwrap_or(0))
}

/// The context for sealing a certificate's key.
pub(crate) fn cert_key_context(ca: i64, serial: &str) -> String {
    format!("cert:{ca}:{serial}")
}

impl Context {
    /// Loads CA `id` and asks the engine about `action` on it. A missing id is the engine's
    /// `authorize_missing_resource`: 404 for a superuser, the same 403 as another tenant's
    /// row for anyone else, so ids reveal nothing.
    pub(crate) async fn ca_for(
        &self,
        caller: &Caller,
        id: i64,
        action: Action,
    ) -> Result<CertificateAuthority, ApiError> {
        match self.store.get_ca(id).await {
            Ok(ca) => {
                self.allow_resource(caller, action, &ca_resource(&ca))?;
                Ok(ca)
            }
            Err(StoreError::NotFound(_)) => {
                self.allow_missing(caller)?;
                Err(error::not_found(CERTIFICATE_AUTHORITY))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Loads certificate `id` and asks the engine about `action` on it (missing: as
    /// [`Context::ca_for`]).
    pub(crate) async fn certificate_for(
        &self,
        caller: &Caller,
        id: i64,
        action: Action,
    ) -> Result<Certificate, ApiError> {
        match self.store.get_certificate(id).await {
            Ok(cert) => {
                self.allow_resource(caller, action, &cert_resource(&cert))?;
                Ok(cert)
            }
            Err(StoreError::NotFound(_)) => {
                self.allow_missing(caller)?;
                Err(error::not_found(CERTIFICATE))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The engine's decision on `action` over `resource`, as `Ok` or the 403 for its deny.
    pub(crate) fn allow_resource(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
    ) -> Result<(), ApiError> {
        ApiError::unless_allowed(self.policy.authorize(&caller.principal(), action, resource))
    }

    /// The engine's decision on acting on a resource id that no row has.
    pub(crate) fn allow_missing(&self, caller: &Caller) -> Result<(), ApiError> {
        ApiError::unless_allowed(self.policy.authorize_missing_resource(&caller.principal()))
    }
}

/// An X.509 failure as HTTP: a bad field 422, an issuer that cannot issue this 409, unreadable
/// stored material 500.
impl From<PkiError> for ApiError {
    fn from(error: PkiError) -> ApiError {
        match error {
            PkiError::Invalid { .. } => ApiError::unprocessable(error.to_string()),
            PkiError::IssuerRefuses(message) => ApiError::conflict(message),
            PkiError::Corrupt => ApiError::internal(&error),
        }
    }
}

/// Runs read-decide-write rounds until one settles. Each `round` reads the row, asks the engine
/// (a denial or a failed read ends it: the outer error) and writes with the facts it decided
/// on; the store writes only while the row still has them, else `Conflict::Changed`, and the
/// next round reads and decides again (up to the attempts of [`decide_again`], then 409).
pub(crate) async fn decided<T, Fut>(mut round: impl FnMut() -> Fut) -> Result<T, ApiError>
where
    Fut: Future<Output = Result<StoreResult<T>, ApiError>>,
{
    let mut attempts = 0;
    loop {
        let written = round().await?;
        attempts += 1;
        match written {
            Err(error) if decide_again(&error, attempts) => {}
            written => return written.map_err(ApiError::from),
        }
    }
}

/// Runs CPU-heavy X.509 work (key generation, signing) on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PkiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ApiError::internal(&error))?
        .map_err(ApiError::from)
}
