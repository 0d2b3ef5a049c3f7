//! The token target: the access-token verifier of the reference server given arbitrary
//! strings, real tokens with one byte changed or cut short, and claims the fuzzer picks,
//! signed in every wrong way.
//!
//! The verifier ([`orgtenancy_server::fuzzing::AccessTokenVerifier`]) must never panic, and
//! must accept a token only when an independent check agrees it is signed with the key:
//! three base64url parts, a header naming `HS256`, and an HMAC-SHA256 of the first two parts
//! under [`KEY`] (computed here with the `hmac` crate, not the verifier's JWT library) equal to
//! the third. Unsigned (`alg: none`), other algorithms, other keys, expired tokens and tokens
//! missing a claim are refused; a well-signed token with the fuzzer's claims is accepted and
//! gives those claims back.

use std::sync::OnceLock;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac as _};
use orgtenancy_server::fuzzing::{AccessTokenVerifier, TokenRejected, VerifiedToken};
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};

use crate::{Checked, Violation, ensure};

/// The signing key of the fuzzed verifier (the seeds in `fuzz/corpus/token/` are signed with it).
pub const KEY: &[u8] = b"orgtenancy-fuzz-token-signing-key-32+";
/// A key the verifier does not hold.
const OTHER_KEY: &[u8] = b"orgtenancy-fuzz-some-other-signing-key";

/// Runs every token check on the fuzzer's `data`; see the module documentation.
pub fn check_bytes(data: &[u8]) -> Checked {
    let verifier = verifier()?;
    check_string(verifier, &String::from_utf8_lossy(data))?;
    let input = Input::from_bytes(data);
    check_mutations(verifier, &input)?;
    check_forgeries(verifier, &input)
}

/// `token` as a bearer token: accepted only if signed with [`KEY`] and unexpired.
pub fn check_string(verifier: &AccessTokenVerifier, token: &str) -> Checked {
    // Read the clock first: the verifier's own "now" is no earlier.
    let now = now_seconds();
    let Ok(claims) = verifier.verify(token) else {
        return Ok(());
    };
    ensure(signed_with(token, KEY), || {
        format!("accepted a token not signed with the key: {token:?}")
    })?;
    ensure(claims.expires_at >= now, || {
        format!("accepted an expired token: {token:?}")
    })
}

/// The shared verifier over [`KEY`].
fn verifier() -> Result<&'static AccessTokenVerifier, Violation> {
    static VERIFIER: OnceLock<Option<AccessTokenVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| AccessTokenVerifier::new(KEY).ok())
        .as_ref()
        .ok_or_else(|| Violation("the verifier refused the fuzzing key".to_owned()))
}

/// What the fuzzer's bytes choose: where and how to damage a token, and the claims.
struct Input {
    position: usize,
    mask: u8,
    user_id: i64,
    username: String,
    expired_by: i64,
}

impl Input {
    fn from_bytes(data: &[u8]) -> Input {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        let mut id = [0u8; 8];
        for (i, slot) in id.iter_mut().enumerate() {
            *slot = byte(3 + i);
        }
        Input {
            position: usize::from(u16::from_le_bytes([byte(0), byte(1)])),
            // Never zero: a zero mask would leave the byte as it is.
            mask: byte(2).max(1),
            user_id: i64::from_le_bytes(id),
            username: String::from_utf8_lossy(data.get(11..).unwrap_or_default()).into_owned(),
            expired_by: 1 + i64::from(byte(11)) * 1000,
        }
    }
}

/// A token the server issued verifies and gives its claims back; with any one byte changed,
/// cut short or lengthened, it is refused.
fn check_mutations(verifier: &AccessTokenVerifier, input: &Input) -> Checked {
    let token = verifier
        .issue(input.user_id, &input.username)
        .map_err(|error| Violation(format!("cannot issue a token: {error}")))?;
    let claims = verifier
        .verify(&token)
        .map_err(|error| Violation(format!("refused its own fresh token ({error}): {token}")))?;
    ensure(
        claims.user_id == input.user_id && claims.username == input.username,
        || format!("a fresh token gave back other claims: {claims:?}"),
    )?;
    let mut bytes = token.clone().into_bytes();
    let position = input.position % bytes.len().max(1);
    if let Some(byte) = bytes.get_mut(position) {
        *byte ^= input.mask;
    }
    let flipped = String::from_utf8_lossy(&bytes);
    refused(verifier, &flipped, "a token with one byte changed")?;
    let cut = token.get(..position).unwrap_or_default();
    refused(verifier, cut, "a token cut short")?;
    refused(
        verifier,
        &format!("{token}A"),
        "a token with a byte appended",
    )
}

/// The fuzzer's claims signed every wrong way are refused; signed right, accepted.
fn check_forgeries(verifier: &AccessTokenVerifier, input: &Input) -> Checked {
    let now = now_seconds();
    let claims = claims_for(input, now + 900);
    let good = sign("HS256", &claims, KEY);
    let accepted = verifier
        .verify(&good)
        .map_err(|error| Violation(format!("refused a well-signed token ({error}): {good}")))?;
    ensure(same_claims(&accepted, input), || {
        format!("a well-signed token gave back other claims: {accepted:?}")
    })?;

    for alg in ["none", "None", "NONE", "nOnE"] {
        let unsigned = format!("{}.", unsigned_prefix(alg, &claims));
        refused(verifier, &unsigned, "an unsigned token (alg: none)")?;
        let still_signed = format!("{}.{}", unsigned_prefix(alg, &claims), signature(&good));
        refused(verifier, &still_signed, "alg: none with a signature")?;
    }
    for alg in [
        "HS384", "HS512", "RS256", "ES256", "EdDSA", "PS256", "hs256", "",
    ] {
        refused(verifier, &sign(alg, &claims, KEY), "another algorithm")?;
    }
    refused(verifier, &sign("HS256", &claims, OTHER_KEY), "another key")?;
    refused(verifier, &sign("HS256", &claims, b""), "the empty key")?;

    let expired = sign("HS256", &claims_for(input, now - input.expired_by), KEY);
    ensure(
        verifier.verify(&expired) == Err(TokenRejected::Expired),
        || format!("an expired token was not refused as expired: {expired}"),
    )?;
    for claim in ["sub", "id", "exp", "iat", "iat_us", "jti", "role"] {
        let mut partial = claims.clone();
        if let Some(object) = partial.as_object_mut() {
            object.remove(claim);
        }
        refused(
            verifier,
            &sign("HS256", &partial, KEY),
            "a token missing a claim",
        )?;
    }
    Ok(())
}

/// `Err` unless `verifier` refuses `token`.
fn refused(verifier: &AccessTokenVerifier, token: &str, what: &str) -> Checked {
    match verifier.verify(token) {
        Err(_) => Ok(()),
        Ok(claims) => Err(Violation(format!(
            "accepted {what}: {token:?} as {claims:?}"
        ))),
    }
}

fn claims_for(input: &Input, expires_at: i64) -> Value {
    json!({
        "sub": input.username,
        "id": input.user_id,
        "role": "superuser",
        "exp": expires_at,
        "iat": expires_at - 900,
        "iat_us": (expires_at - 900).saturating_mul(1_000_000),
        "jti": "fuzz",
    })
}

fn same_claims(claims: &VerifiedToken, input: &Input) -> bool {
    claims.user_id == input.user_id && claims.username == input.username
}

/// `header.payload` for `alg` and `claims`, base64url.
fn unsigned_prefix(alg: &str, claims: &Value) -> String {
    let header = json!({ "alg": alg, "typ": "JWT" });
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A JWT whose header names `alg`, signed with HMAC under `key` (SHA-256 unless `alg` names
/// SHA-384 or SHA-512): what a forger holding or guessing a key can make.
fn sign(alg: &str, claims: &Value, key: &[u8]) -> String {
    let prefix = unsigned_prefix(alg, claims);
    let mac = match alg {
        "HS384" => hmac_of::<Hmac<Sha384>>(key, &prefix),
        "HS512" => hmac_of::<Hmac<Sha512>>(key, &prefix),
        _ => hmac_of::<Hmac<Sha256>>(key, &prefix),
    };
    format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(mac))
}

fn hmac_of<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], message: &str) -> Vec<u8> {
    match <M as hmac::Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length; keep the forgery unsigned if that ever changes.
        Err(_) => Vec::new(),
    }
}

/// The third part of a JWT.
fn signature(token: &str) -> &str {
    token.rsplit('.').next().unwrap_or_default()
}

/// The independent check: three parts, a header naming HS256, and the HMAC-SHA256 of the
/// first two under `key` equal to the third.
pub fn signed_with(token: &str, key: &[u8]) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let header_names_hs256 = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .is_some_and(|header| header.get("alg") == Some(&json!("HS256")));
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as hmac::Mac>::new_from_slice(key) else {
        return false;
    };
    mac.update(format!("{header}.{payload}").as_bytes());
    header_names_hs256 && mac.verify_slice(&signature).is_ok()
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
