//! Key algorithms of new certificates: the API's `key_type`/`key_size`, and key generation.

use rcgen::KeyPair;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};

use super::x509::{PkiError, invalid};

/// The key algorithm of a new certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA with SHA-256 signatures; 2048, 3072 or 4096 bits.
    Rsa(u32),
    /// ECDSA on P-256 with SHA-256.
    EcP256,
    /// ECDSA on P-384 with SHA-384.
    EcP384,
}

impl KeyAlgorithm {
    /// Parses the API's `key_type` (`rsa` or `ec`) and `key_size` (bits; default 2048 / 256).
    pub fn parse(key_type: &str, key_size: Option<u32>) -> Result<KeyAlgorithm, PkiError> {
        match (key_type, key_size) {
            ("rsa", None | Some(2048)) => Ok(KeyAlgorithm::Rsa(2048)),
            ("rsa", Some(bits @ (3072 | 4096))) => Ok(KeyAlgorithm::Rsa(bits)),
            ("ec", None | Some(256)) => Ok(KeyAlgorithm::EcP256),
            ("ec", Some(384)) => Ok(KeyAlgorithm::EcP384),
            ("rsa", Some(_)) => Err(invalid("key_size", "RSA keys are 2048, 3072 or 4096 bits")),
            ("ec", Some(_)) => Err(invalid("key_size", "EC keys are 256 or 384 bits")),
            _ => Err(invalid("key_type", "must be `rsa` or `ec`")),
        }
    }

    /// The API's `key_type`.
    pub fn key_type(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa(_) => "rsa",
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => "ec",
        }
    }

    /// The API's `key_size`.
    pub fn key_size(self) -> u32 {
        match self {
            KeyAlgorithm::Rsa(bits) => bits,
            KeyAlgorithm::EcP256 => 256,
            KeyAlgorithm::EcP384 => 384,
        }
    }

    pub(super) fn generate(self) -> Result<KeyPair, PkiError> {
        let failed = |_| PkiError::IssuerRefuses("key generation failed".into());
        match self {
            KeyAlgorithm::EcP256 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)
            }
            KeyAlgorithm::EcP384 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(failed)
            }
            KeyAlgorithm::Rsa(bits) => {
                // rcgen's ring backend signs with RSA but cannot generate RSA keys: the
                // RustCrypto `rsa` crate generates, rcgen signs.
                let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits as usize)
                    .map_err(|_| PkiError::IssuerRefuses("key generation failed".into()))?;
                let pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|_| PkiError::IssuerRefuses("key generation failed".into()))?;
                KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).map_err(failed)
            }
        }
    }
}
