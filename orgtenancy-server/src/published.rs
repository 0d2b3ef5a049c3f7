//! The public PKI files of SPEC §10, outside `/api/v1` and without authentication: relying
//! parties (TLS clients checking a chain, `openssl`, browsers) fetch a CA's certificate and
//! its CRL here, at the URLs its certificates name (`pki::crl::name_published`).
//!
//! | file | content |
//! |---|---|
//! | `GET /crl/{slug}` | the CA's CRL, DER (`application/pkix-crl`) |
//! | `GET /crl/{slug}.pem` | the same CRL, PEM (`application/x-pem-file`) |
//! | `GET /ca/{slug}.crt` | the CA's certificate, DER (`application/pkix-cert`) |
//! | `GET /ca/{slug}.pem` | the same certificate, PEM (`application/x-pem-file`) |
//!
//! No decision of the engine is involved, on purpose: these files are public by design. They
//! expose nothing but a CA's certificate (which every certificate it issued names and every
//! TLS peer sends anyway) and its revocation list (serial numbers, times and reasons) — no
//! key, no organization, no creator, no subject of an issued certificate. The slug must be
//! the CA's exactly (its name and id, [`slug`]); a wrong, renamed or malformed slug and a
//! missing or deleted CA are all the same 404, so the files tell nothing about which ids
//! exist beyond what a certificate already names.

mod crl;

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD};
use orgtenancy_server_store::CertificateAuthority;
use poem::{
    EndpointExt, IntoResponse, Request, Response, Route, get, handler, http::header, web::Data,
};

use crate::{
    context::Context,
    error::ApiError,
    pki::{crl::slug, published::PublishedAt},
};

/// How long HTTP caches may keep a CA certificate, in seconds: it never changes (a renamed CA
/// has another slug; a deleted one answers 404 once the cache expires).
pub(crate) const CERTIFICATE_MAX_AGE: u32 = 86_400;

/// How long HTTP caches may keep a CRL, in seconds: short, so that a revocation reaches
/// relying parties that fetch through a cache within five minutes (the server itself signs a
/// new CRL as soon as a revocation is made, [`crl::REFRESH`]).
pub(crate) const CRL_MAX_AGE: u32 = 300;

/// The one answer for every file that is not there.
const NO_SUCH_FILE: &str = "no such CA file";

/// Mounts the public files on `route`.
pub(crate) fn mount(route: Route, ctx: Arc<Context>) -> Route {
    route
        .at("/crl/:file", get(crl_file).data(Arc::clone(&ctx)))
        .at("/ca/:file", get(ca_file).data(ctx))
}

/// `GET /crl/{slug}` (DER) and `GET /crl/{slug}.pem`.
#[handler]
async fn crl_file(request: &Request, Data(ctx): Data<&Arc<Context>>) -> Result<Response, ApiError> {
    let file = file_name(request)?;
    let (name, pem) = match file.strip_suffix(".pem") {
        Some(name) => (name, true),
        None => (file, false),
    };
    let ca = ca_named(ctx, name).await?;
    let crl = crl::current(ctx, &ca).await?;
    Ok(if pem {
        served(
            pem_of("X509 CRL", &crl.der),
            "application/x-pem-file",
            CRL_MAX_AGE,
        )
    } else {
        served(crl.der, "application/pkix-crl", CRL_MAX_AGE)
    })
}

/// `GET /ca/{slug}.crt` (DER) and `GET /ca/{slug}.pem`.
#[handler]
async fn ca_file(request: &Request, Data(ctx): Data<&Arc<Context>>) -> Result<Response, ApiError> {
    let file = file_name(request)?;
    if let Some(name) = file.strip_suffix(".pem") {
        let ca = ca_named(ctx, name).await?;
        let pem = ca.certificate_pem;
        return Ok(served(pem, "application/x-pem-file", CERTIFICATE_MAX_AGE));
    }
    let name = file
        .strip_suffix(".crt")
        .ok_or_else(|| ApiError::not_found(NO_SUCH_FILE))?;
    let ca = ca_named(ctx, name).await?;
    let der = der_of(&ca.certificate_pem)?;
    Ok(served(der, "application/pkix-cert", CERTIFICATE_MAX_AGE))
}

/// The file asked for, percent-decoded (a name that does not decode to UTF-8 is no file).
fn file_name(request: &Request) -> Result<&str, ApiError> {
    request
        .raw_path_param("file")
        .ok_or_else(|| ApiError::not_found(NO_SUCH_FILE))
}

/// The CA whose slug is `name` exactly; 404 for anything else.
async fn ca_named(ctx: &Context, name: &str) -> Result<CertificateAuthority, ApiError> {
    let id = id_of(name).ok_or_else(|| ApiError::not_found(NO_SUCH_FILE))?;
    let ca = match ctx.store.get_ca(id).await {
        Ok(ca) => ca,
        Err(orgtenancy_sqlx::StoreError::NotFound(_)) => {
            return Err(ApiError::not_found(NO_SUCH_FILE));
        }
        Err(error) => return Err(error.into()),
    };
    if slug(&ca.name, ca.id) != name {
        return Err(ApiError::not_found(NO_SUCH_FILE));
    }
    Ok(ca)
}

/// The id a slug ends with (`…-{id}`, or the id alone for a name without letters or
/// digits): ASCII digits only, a positive `i64`.
fn id_of(name: &str) -> Option<i64> {
    let digits = name.rsplit('-').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

/// A public file: its bytes, content type and how long caches may keep it.
fn served(body: impl Into<poem::Body>, content_type: &'static str, max_age: u32) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, format!("public, max-age={max_age}"))
        .body(body)
        .into_response()
}

/// The DER of a stored PEM certificate.
fn der_of(pem: &str) -> Result<Vec<u8>, ApiError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|error| ApiError::internal(&format!("stored certificate: {error}")))?;
    Ok(pem.contents)
}

/// `der` as PEM with `label` (RFC 7468: base64 in lines of 64 characters).
fn pem_of(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for (at, c) in body.chars().enumerate() {
        if at > 0 && at % 64 == 0 {
            pem.push('\n');
        }
        pem.push(c);
    }
    pem.push_str(&format!("\n-----END {label}-----\n"));
    pem
}

impl Context {
    /// Where the certificate and CRL of `ca` are published: under its own `crl_base_url`,
    /// else under the server's public base URL, else nowhere known (`None`).
    pub(crate) fn published_at(&self, ca: &CertificateAuthority) -> Option<PublishedAt> {
        let base = ca
            .crl_base_url
            .as_deref()
            .or(self.public_base_url.as_deref())?;
        Some(PublishedAt::of(base, &ca.name, ca.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_slugs() {
        assert_eq!(id_of("issuing-a-4"), Some(4));
        assert_eq!(id_of("7"), Some(7));
        assert_eq!(id_of("a-04"), Some(4)); // the slug comparison then refuses it
        for bad in [
            "",
            "-",
            "issuing-a",
            "a-+4",
            "a-4x",
            "a--4 ",
            "a-0",
            "a-99999999999999999999",
        ] {
            assert_eq!(id_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn pem_lines() {
        let pem = pem_of("X509 CRL", &[0u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN X509 CRL-----"));
        assert_eq!(lines.get(1).map(|l| l.len()), Some(64));
        assert_eq!(lines.last(), Some(&"-----END X509 CRL-----"));
        assert!(pem.ends_with("-----\n"));
    }
}
