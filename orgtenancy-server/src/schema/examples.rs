//! The example of each request body in the OpenAPI document: what the docs UI prefills, so
//! each is one the server accepts as shown (given ids that exist; the `openapi_examples`
//! integration test sends every one). They fit together: the user created by the
//! `UserCreate` example logs in with the `TokenForm` example.

use poem_openapi::types::{Email, Example, MaybeUndefined};

use super::{
    LogoutRequest, OrganizationCreate, OrganizationUpdate, RefreshRequest, RoleName, TokenForm,
    UserCreate, UserUpdate,
};
use orgtenancy_core::CapabilitySet;

use crate::{
    capabilities::{CAN_CREATE_CERT, FlagChanges, Flags, flag_literal, with_capability_catalog},
    resources::{
        CaAssign, CaCreate, CertCreate, CertificateTypeName, CsrSign, KeyTypeName, Renew,
        RevokeRequest,
    },
    text::Text,
};

const USERNAME: &str = "alice";
const PASSWORD: &str = "correct horse battery staple";
/// Stands for the refresh token of the last token response (the docs UI cannot know it).
const REFRESH_TOKEN: &str = "paste the refresh_token of the last token response";

fn text(value: &str) -> Text {
    Text(value.to_owned())
}

/// The default `grant_type` of the token form, so the docs UI prefills it.
pub(super) fn grant_type() -> Option<String> {
    Some("password".to_owned())
}

impl Example for TokenForm {
    fn example() -> Self {
        TokenForm {
            username: USERNAME.to_owned(),
            password: PASSWORD.to_owned(),
            grant_type: grant_type(),
            scope: None,
            client_id: None,
            client_secret: None,
        }
    }
}

impl Example for RefreshRequest {
    fn example() -> Self {
        RefreshRequest {
            refresh_token: text(REFRESH_TOKEN),
        }
    }
}

impl Example for LogoutRequest {
    fn example() -> Self {
        LogoutRequest {
            refresh_token: Some(text(REFRESH_TOKEN)),
        }
    }
}

impl Example for OrganizationCreate {
    fn example() -> Self {
        OrganizationCreate {
            name: text("Acme"),
            description: Some(text("Acme Corporation's PKI tenant")),
        }
    }
}

impl Example for OrganizationUpdate {
    fn example() -> Self {
        OrganizationUpdate {
            name: Some(text("Acme Corporation")),
            description: MaybeUndefined::Value(text("Renamed after the merger")),
        }
    }
}

impl Example for UserCreate {
    fn example() -> Self {
        with_capability_catalog!(flag_literal! {
            UserCreate {
                username: text(USERNAME),
                email: Email(format!("{USERNAME}@example.com")),
                password: text(PASSWORD),
                role: RoleName::User,
                // No organization: an id in an example may not exist.
                organization_id: None,
                is_active: true,
            }
            bools Flags::from_set(CapabilitySet::EMPTY.with(CAN_CREATE_CERT))
        })
    }
}

impl Example for UserUpdate {
    fn example() -> Self {
        let grant = FlagChanges {
            can_create_cert: Some(true),
            can_revoke_cert: Some(true),
            ..FlagChanges::default()
        };
        with_capability_catalog!(flag_literal! {
            UserUpdate {
                email: Some(Email("alice.smith@example.com".to_owned())),
                password: None,
                role: None,
                is_active: None,
                organization_id: MaybeUndefined::Undefined,
            }
            changes grant
        })
    }
}

impl Example for CaCreate {
    fn example() -> Self {
        CaCreate {
            name: text("Acme Root CA"),
            subject_dn: Some(text("CN=Acme Root,O=Acme,C=US")),
            common_name: None,
            organization: None,
            country: None,
            description: Some(text("Issues Acme's TLS certificates")),
            key_type: KeyTypeName::Ec,
            key_size: Some(256),
            valid_days: 3650,
            parent_ca_id: None,
            path_length: None,
            allow_leaf_certs: true,
            crl_base_url: None,
        }
    }
}

impl Example for CaAssign {
    fn example() -> Self {
        CaAssign {
            organization_id: 1,
            cascade: true,
        }
    }
}

impl Example for CertCreate {
    fn example() -> Self {
        CertCreate {
            ca_id: Some(1),
            common_name: text("www.acme.example"),
            subject_dn: None,
            certificate_type: CertificateTypeName::Server,
            key_type: KeyTypeName::Ec,
            key_size: None,
            valid_days: 365,
            san_dns_names: vec![text("www.acme.example"), text("acme.example")],
            san_ip_addresses: Vec::new(),
            san_email_addresses: Vec::new(),
            include_private_key: None,
        }
    }
}

/// A CSR for `api.acme.example` (EC P-256, a DNS SAN), made with `openssl req`: the example
/// is sent as it is by a test, so it must verify.
const EXAMPLE_CSR: &str = "-----BEGIN CERTIFICATE REQUEST-----
MIIBEzCBugIBADAqMRkwFwYDVQQDDBBhcGkuYWNtZS5leGFtcGxlMQ0wCwYDVQQK
DARBY21lMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKmqH32s5U1zex6xz035V
MNEGJqNO6qpwKVFP4TffutDezSdlTChdWSjitwdeuw+6rv0n3DoZdKK/IyTz4CUb
vaAuMCwGCSqGSIb3DQEJDjEfMB0wGwYDVR0RBBQwEoIQYXBpLmFjbWUuZXhhbXBs
ZTAKBggqhkjOPQQDAgNIADBFAiEA2K634FQ944KanXK51J+bqqZrz3oPsI+j//+R
jr0ERoUCIBAy4jdJpoS9Zev1Yj88CQP5ece9goUN8d9tJOLCSChP
-----END CERTIFICATE REQUEST-----
";

impl Example for CsrSign {
    fn example() -> Self {
        CsrSign {
            csr: text(EXAMPLE_CSR),
            ca_id: Some(1),
            ca_name: None,
            certificate_type: CertificateTypeName::Server,
            valid_days: 90,
            common_name: None,
            subject_dn: None,
            san_dns_names: Vec::new(),
            san_ip_addresses: Vec::new(),
            san_email_addresses: Vec::new(),
        }
    }
}

impl Example for Renew {
    fn example() -> Self {
        Renew { csr: None }
    }
}

impl Example for RevokeRequest {
    fn example() -> Self {
        RevokeRequest {
            reason: Some(text("key compromise")),
        }
    }
}
