//! The reference server's PKI: real X.509 through rcgen ([`x509`]), revocation lists ([`crl`]),
//! subject alternative names checked before signing ([`san`]), and private keys sealed with
//! AES-256-GCM before they reach storage ([`keycrypt`]).
//!
//! Only this module knows X.509 and the key-encryption format; the store sees certificates as
//! PEM text and keys as opaque encrypted bytes. Key generation and signing are CPU heavy, so
//! the handlers call these functions inside `spawn_blocking`.

pub mod crl;
pub mod csr;
pub mod keycrypt;
mod keys;
mod leaf;
pub mod published;
pub mod san;
mod subject;
pub mod x509;
