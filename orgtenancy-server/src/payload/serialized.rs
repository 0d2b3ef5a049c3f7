//! [`Serialized`]: a JSON answer written straight from the value with serde.
//!
//! poem-openapi's `Json` answer first builds a `serde_json::Value` of the whole answer (a
//! `BTreeMap` and a `String` key per field of every object) and then writes that; for a page
//! of users it was most of the answer's allocations. `Serialized` has the same content type
//! and schema (the document cannot tell them apart) and writes the value with its `Serialize`
//! implementation, which must give what its `ToJSON` gives: the tests of each type using it
//! compare the two.

use poem::{IntoResponse, Response, http::StatusCode};
use poem_openapi::{
    ApiResponse,
    payload::{Json, Payload},
    registry::{MetaResponses, MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};
use serde::Serialize;

/// A JSON answer written with serde (see the module documentation).
#[derive(Debug, Clone)]
pub struct Serialized<T>(pub T);

impl<T: Type> Payload for Serialized<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for Serialized<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .content_type(Self::CONTENT_TYPE_HEADER)
                .body(body),
            Err(error) => {
                tracing::error!(%error, "an answer could not be written as JSON");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

impl<T> Serialized<T> {
    const CONTENT_TYPE_HEADER: &'static str = "application/json; charset=utf-8";
}

impl<T: ToJSON + Serialize + Send> ApiResponse for Serialized<T> {
    fn meta() -> MetaResponses {
        <Json<T> as ApiResponse>::meta()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as ApiResponse>::register(registry);
    }
}

/// A time as poem-openapi writes a `DateTime<Utc>` (`to_rfc3339`), for `serialize_with`.
pub(crate) fn rfc3339<S: serde::Serializer>(
    time: &chrono::DateTime<chrono::Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&time.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use orgtenancy_core::{CapabilitySet, OrgId, Role, UserId};
    use orgtenancy_sqlx::{Organization, User};
    use poem_openapi::types::ToJSON;
    use serde_json::Value;

    use super::Serialized;
    use crate::schema::{OrganizationOut, UserOut};

    fn times() -> [chrono::DateTime<Utc>; 3] {
        let whole = Utc.with_ymd_and_hms(2026, 12, 6, 15, 8, 55).unwrap();
        [
            whole,
            whole + chrono::Duration::microseconds(949_999),
            whole + chrono::Duration::milliseconds(120),
        ]
    }

    fn users() -> Vec<UserOut> {
        let mut users = Vec::new();
        for (k, role) in [Role::User, Role::Admin, Role::Superuser]
            .into_iter()
            .enumerate()
        {
            for bits in 0..32_u32 {
                let [created, updated, _] = times();
                let user = User {
                    id: UserId(i64::from(bits) + 100 * k as i64),
                    username: format!("ü\"ser\\{bits}\n\u{1}"),
                    email: format!("u{bits}@example.com"),
                    password_hash: "never shown".into(),
                    role,
                    is_active: bits % 3 != 0,
                    organization_id: (bits % 2 == 0).then_some(OrgId(7)),
                    capabilities: CapabilitySet::from_bits(bits),
                    tokens_valid_after: created,
                    created_at: created,
                    updated_at: updated,
                };
                users.push(UserOut::from(user));
            }
        }
        users
    }

    fn organizations() -> Vec<OrganizationOut> {
        times()
            .into_iter()
            .zip([
                None,
                Some("a \"quoted\" — description".to_owned()),
                Some(String::new()),
            ])
            .enumerate()
            .map(|(k, (at, description))| {
                OrganizationOut::from(Organization {
                    id: OrgId(k as i64 + 1),
                    name: format!("org\t{k}"),
                    description,
                    created_at: at,
                    updated_at: at,
                })
            })
            .collect()
    }

    /// The body `Serialized` answers, parsed, and its content type.
    async fn answer<T: serde::Serialize + Send>(value: T) -> (Value, String) {
        let response = poem::IntoResponse::into_response(Serialized(value));
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.into_body().into_vec().await.unwrap();
        (serde_json::from_slice(&body).unwrap(), content_type)
    }

    #[tokio::test]
    async fn serialize_writes_what_to_json_writes() {
        let users = users();
        for user in &users {
            assert_eq!(serde_json::to_value(user).ok(), user.to_json(), "{user:?}");
        }
        let (body, content_type) = answer(users.clone()).await;
        assert_eq!(Some(body), users.to_json());
        assert_eq!(content_type, "application/json; charset=utf-8");
        let organizations = organizations();
        for org in &organizations {
            assert_eq!(serde_json::to_value(org).ok(), org.to_json(), "{org:?}");
        }
        let (body, _) = answer(organizations.clone()).await;
        assert_eq!(Some(body), organizations.to_json());
    }
}
