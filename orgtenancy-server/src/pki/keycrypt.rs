//! Private keys at rest: AES-256-GCM under a key from configuration.
//!
//! A sealed key is `version (1) || nonce (12) || ciphertext+tag`. The associated data binds a
//! ciphertext to what it protects (e.g. `ca:<serial>`), so a blob copied onto another row does
//! not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// Seals and opens private keys.
#[derive(Clone)]
pub struct KeyCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher(..)")
    }
}

/// A sealed key did not open: wrong key, wrong row, or tampered bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stored private key cannot be decrypted")]
pub struct SealError;

impl KeyCipher {
    /// The length of the key-encryption key in bytes.
    pub const KEY_LEN: usize = 32;

    /// A cipher under `key` (exactly 32 bytes).
    pub fn new(key: &[u8]) -> Result<KeyCipher, SealError> {
        Aes256Gcm::new_from_slice(key)
            .map(|cipher| KeyCipher { cipher })
            .map_err(|_| SealError)
    }

    /// Encrypts `plaintext`, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| SealError)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) produced for the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (&version, rest) = sealed.split_first().ok_or(SealError)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(SealError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| SealError)
    }
}

/// Why a configured key-encryption key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the key-encryption key must be 32 bytes, given as 64 hex digits or base64")]
pub struct BadKey;

/// Parses a configured key-encryption key: 64 hex digits, or base64 (standard or URL-safe,
/// padded or not) of exactly 32 bytes.
pub fn parse_key(text: &str) -> Result<Vec<u8>, BadKey> {
    use base64::Engine as _;
    let text = text.trim();
    if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        let mut out = Vec::with_capacity(KeyCipher::KEY_LEN);
        let bytes = text.as_bytes();
        for pair in bytes.chunks(2) {
            let digits = std::str::from_utf8(pair).map_err(|_| BadKey)?;
            out.push(u8::from_str_radix(digits, 16).map_err(|_| BadKey)?);
        }
        return Ok(out);
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .filter(|key| key.len() == KeyCipher::KEY_LEN)
        .ok_or(BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let cipher = KeyCipher::new(&[7u8; 32]).unwrap();
        let sealed = cipher.seal(b"-----BEGIN PRIVATE KEY-----", "ca:1").unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"BEGIN"));
        assert_eq!(
            &*cipher.open(&sealed, "ca:1").unwrap(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        assert_eq!(cipher.open(&sealed, "ca:2"), Err(SealError));
        let other = KeyCipher::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(&sealed, "ca:1"), Err(SealError));
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(cipher.open(&tampered, "ca:1"), Err(SealError));
        assert_eq!(cipher.open(&[], "ca:1"), Err(SealError));
        assert!(KeyCipher::new(&[0u8; 16]).is_err());
    }

    #[test]
    fn keys_parse_from_hex_and_base64() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(parse_key(&hex).unwrap().last(), Some(&0xff));
        assert_eq!(parse_key(&"A".repeat(43)).unwrap().len(), 32);
        assert_eq!(parse_key("short"), Err(BadKey));
        assert_eq!(parse_key(&"zz".repeat(32)), Err(BadKey));
    }
}
