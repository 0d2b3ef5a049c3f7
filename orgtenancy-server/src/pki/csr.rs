//! Certificate signing requests (PKCS#10): parsed, their signature verified, and signed by a
//! CA with the request's public key — the requester keeps its private key (SPEC §10).

use rcgen::{CertificateSigningRequestParams, PublicKeyData};

use super::x509::{
    IssuerMaterial, LeafRequest, PkiError, Signed, invalid, leaf_params, load_issuer, signed,
};

/// A CSR whose signature verified: it proves its requester holds the private key of the
/// public key it carries.
#[derive(Debug, Clone)]
pub struct VerifiedCsr {
    request: CertificateSigningRequestParams,
}

impl VerifiedCsr {
    /// Parses a PEM CSR and verifies its signature; 422 (`csr`) for anything else.
    pub fn parse(pem: &str) -> Result<VerifiedCsr, PkiError> {
        match CertificateSigningRequestParams::from_pem(pem) {
            Ok(request) => Ok(VerifiedCsr { request }),
            Err(rcgen::Error::InvalidCertificationRequestSignature) => {
                Err(invalid("csr", "its signature does not verify"))
            }
            Err(rcgen::Error::UnsupportedExtension) => Err(invalid(
                "csr",
                "it requests an extension this CA does not sign",
            )),
            Err(rcgen::Error::UnsupportedSignatureAlgorithm) => {
                Err(invalid("csr", "its signature algorithm is not supported"))
            }
            Err(_) => Err(invalid(
                "csr",
                "not a PEM certificate signing request (BEGIN CERTIFICATE REQUEST)",
            )),
        }
    }

    /// The request's public key, DER (SubjectPublicKeyInfo contents).
    pub fn public_key_der(&self) -> &[u8] {
        self.request.public_key.der_bytes()
    }
}

/// Signs, by `ca`, the certificate `request` describes for the public key of `csr`. The
/// subject, SANs, purpose and validity are the request's (checked as for a new key); of the
/// CSR only its key is taken.
pub fn issue_for_csr(
    ca: &IssuerMaterial<'_>,
    csr: &VerifiedCsr,
    request: &LeafRequest,
) -> Result<Signed, PkiError> {
    let params = leaf_params(ca, request)?;
    let issuer = load_issuer(ca)?;
    let to_sign = CertificateSigningRequestParams {
        params,
        public_key: csr.request.public_key.clone(),
    };
    let cert = to_sign.signed_by(&issuer).map_err(|_| PkiError::Corrupt)?;
    signed(cert.pem(), &to_sign.params, request.subject.to_dn_string())
}
