//! A CA's current CRL, signed on demand and kept (`PkiStore::publish_crl`) so that most
//! requests serve the kept one without touching the CA's key.
//!
//! The choice, in two numbers:
//!
//! * **Refresh interval: [`REFRESH`] (1 hour).** The kept CRL is served while it lists as many
//!   revoked certificates as the CA has now (revocations are never undone and certificates
//!   are never deleted, so the same count is the same list) and was signed less than an hour
//!   ago. A revocation is therefore in the very next CRL served; the hourly re-signing only
//!   moves `thisUpdate`/`nextUpdate` forward, so a relying party that fetched a CRL recently
//!   always holds one that is far from its `nextUpdate`.
//! * **Validity: [`VALIDITY`] (7 days)** from `thisUpdate` to `nextUpdate`. A relying party
//!   that cannot reach the server keeps accepting the last CRL it fetched for up to a week
//!   (the CA/Browser Forum's limit for subscriber CRLs is 10 days); one that can fetches a
//!   fresh one whenever its cache says so (`Cache-Control: max-age`, [`super::CRL_MAX_AGE`]).
//!
//! A new CRL has the kept one's number plus one (or 1), lists every revoked serial with its
//! revocation time and reason (a missing reason is `unspecified`), is signed off the async
//! runtime, and is offered to the store, which keeps it only when its number is greater than
//! the kept one's: when two requests sign at once, both serve the CRL the store kept, and the
//! CRL numbers of a CA only grow.

use chrono::{DateTime, Duration, Utc};
use orgtenancy_server_store::{CertificateAuthority, PublishedCrl, RevokedCertificate};

use crate::{
    cas::signing_key,
    context::Context,
    error::ApiError,
    pki::{
        crl::{CrlPeriod, RevocationReason, RevokedEntry, sign_crl},
        x509::IssuerMaterial,
    },
    resources::blocking,
};

/// How long a kept CRL is served while no certificate of its CA was revoked since.
pub(crate) const REFRESH: Duration = Duration::hours(1);

/// From `thisUpdate` to `nextUpdate` of every CRL signed.
pub(crate) const VALIDITY: Duration = Duration::days(7);

/// The CRL of `ca` to serve now: the kept one while it is current, else a new one.
pub(super) async fn current(
    ctx: &Context,
    ca: &CertificateAuthority,
) -> Result<PublishedCrl, ApiError> {
    let kept = ctx.store.published_crl(ca.id).await?;
    // Counted first: the list is read only when a new CRL is signed.
    let count = ctx.store.count_revoked(ca.id).await?;
    let now = Utc::now();
    let number = match kept {
        Some(kept) if is_current(&kept, count, now) => return Ok(kept),
        Some(kept) => kept
            .number
            .checked_add(1)
            .ok_or_else(|| ApiError::internal(&"the CRL number is exhausted"))?,
        None => 1,
    };
    let period = CrlPeriod {
        number: u64::try_from(number).map_err(|error| ApiError::internal(&error))?,
        this_update: now,
        next_update: now + VALIDITY,
    };
    let revoked = ctx.store.revoked_certificates(ca.id).await?;
    // The count kept is the list's (a revocation committed after the count is listed).
    let revoked_count = i64::try_from(revoked.len()).map_err(|error| ApiError::internal(&error))?;
    let der = sign(ctx, ca, period, entries(ca, revoked)).await?;
    let crl = PublishedCrl {
        number,
        revoked_count,
        this_update: period.this_update,
        next_update: period.next_update,
        der,
    };
    Ok(ctx.store.publish_crl(ca.id, crl).await?)
}

/// Whether `kept` may be served at `now` to list `revoked_count` revoked certificates.
fn is_current(kept: &PublishedCrl, revoked_count: i64, now: DateTime<Utc>) -> bool {
    kept.revoked_count == revoked_count && now - kept.this_update < REFRESH
}

/// The CRL entries of the revoked certificates of `ca`.
fn entries(ca: &CertificateAuthority, revoked: Vec<RevokedCertificate>) -> Vec<RevokedEntry> {
    revoked
        .into_iter()
        .map(|cert| {
            let reason = match cert.reason.as_deref().map(RevocationReason::parse) {
                None => RevocationReason::Unspecified,
                Some(Ok(reason)) => reason,
                Some(Err(_)) => {
                    // Revocations are checked before they are stored; listed all the same.
                    tracing::warn!(ca_id = ca.id, serial = %cert.serial_number,
                                   "stored revocation reason unknown; listed as unspecified");
                    RevocationReason::Unspecified
                }
            };
            RevokedEntry {
                serial_number: cert.serial_number,
                revoked_at: cert.revoked_at,
                reason,
            }
        })
        .collect()
}

/// Signs the CRL with the key of `ca`, off the async runtime; its DER.
async fn sign(
    ctx: &Context,
    ca: &CertificateAuthority,
    period: CrlPeriod,
    entries: Vec<RevokedEntry>,
) -> Result<Vec<u8>, ApiError> {
    let key = signing_key(ctx, ca).await?;
    let certificate_pem = ca.certificate_pem.clone();
    let signed = blocking(move || {
        let issuer = IssuerMaterial {
            certificate_pem: &certificate_pem,
            private_key_pem: &key,
        };
        sign_crl(&issuer, period, &entries)
    })
    .await?;
    Ok(signed.der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_crl_is_current_for_its_count_and_an_hour() {
        let now = Utc::now();
        let kept = PublishedCrl {
            number: 3,
            revoked_count: 2,
            this_update: now - Duration::minutes(59),
            next_update: now + Duration::days(6),
            der: vec![],
        };
        assert!(is_current(&kept, 2, now));
        assert!(!is_current(&kept, 3, now));
        assert!(!is_current(&kept, 2, now + Duration::minutes(1)));
    }
}
