//! The json_bodies target: arbitrary bytes decoded as the reference server's request bodies.
//!
//! The server reads a JSON body in two steps (`orgtenancy_server::payload::JsonBody`): the
//! bytes into a `serde_json::Value` (malformed → 400), then the value into the request type
//! with poem-openapi's `ParseFromJSON` (does not fit → 422). This check runs both steps for
//! every public request type, and the form decoding of `POST /auth/token`. Neither step may
//! panic, and a body of the wrong JSON kind (not an object) must be refused.

use orgtenancy_server::{
    CaAssign, CaCreate, CertCreate, LogoutRequest, OrganizationCreate, OrganizationUpdate,
    RefreshRequest, RevokeRequest, TokenForm, UserCreate, UserUpdate,
};
use poem_openapi::types::ParseFromJSON;
use serde_json::Value;

use crate::{Checked, ensure};

/// Decodes `data` as every request body of the server; see the module documentation.
pub fn check_bytes(data: &[u8]) -> Checked {
    // `POST /auth/token` takes a form.
    let _ = serde_urlencoded::from_bytes::<TokenForm>(data);
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return Ok(());
    };
    check_value(&value)
}

/// Parses `value` as every JSON request type of the server.
pub fn check_value(value: &Value) -> Checked {
    let object = value.is_object();
    let results = [
        ("OrganizationCreate", parses::<OrganizationCreate>(value)),
        ("OrganizationUpdate", parses::<OrganizationUpdate>(value)),
        ("UserCreate", parses::<UserCreate>(value)),
        ("UserUpdate", parses::<UserUpdate>(value)),
        ("RefreshRequest", parses::<RefreshRequest>(value)),
        ("LogoutRequest", parses::<LogoutRequest>(value)),
        ("TokenForm", parses::<TokenForm>(value)),
        ("CaCreate", parses::<CaCreate>(value)),
        ("CaAssign", parses::<CaAssign>(value)),
        ("CertCreate", parses::<CertCreate>(value)),
        ("RevokeRequest", parses::<RevokeRequest>(value)),
    ];
    for (name, parsed) in results {
        ensure(object || !parsed, || {
            format!("{name} accepted a JSON value that is not an object: {value}")
        })?;
    }
    Ok(())
}

fn parses<T: ParseFromJSON>(value: &Value) -> bool {
    T::parse_from_json(Some(value.clone())).is_ok()
}
