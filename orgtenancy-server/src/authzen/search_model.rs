//! The AuthZEN 1.0 search documents (§8 of that specification; SPEC §11): subject, resource
//! and action search requests, their pages and their answers.

use poem_openapi::{Object, types::Example};

use crate::{
    authzen::model::{ActionIn, Attributes},
    text::Text,
};

/// A subject in a search: `{"type": "user"}`, with `id` only in resource and action search.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuthzenSearchSubject", skip_serializing_if_is_none)]
pub struct SearchSubjectIn {
    /// Always `user`.
    #[oai(rename = "type", validator(max_length = 64))]
    pub kind: Text,
    /// The user's id (digits) or username: required in resource and action search, refused
    /// in subject search.
    #[oai(validator(max_length = 255))]
    pub id: Option<Text>,
    /// Ignored: the user's facts come from the store.
    pub properties: Option<Attributes>,
}

/// A resource in a search: `{"type": "ca" | "certificate" | "organization"}`, with `id` only
/// in subject and action search.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuthzenSearchResource", skip_serializing_if_is_none)]
pub struct SearchResourceIn {
    /// `ca`, `certificate` or `organization`.
    #[oai(rename = "type", validator(max_length = 64))]
    pub kind: Text,
    /// The row's id (digits): required in subject and action search, refused in resource
    /// search.
    #[oai(validator(max_length = 255))]
    pub id: Option<Text>,
    /// Ignored: the row's facts come from the store.
    pub properties: Option<Attributes>,
}

/// Which page: the `next_token` of the page before (absent or empty: the first page) and
/// how many results at most (1–1000, default 100).
#[derive(Debug, Clone, Default, Object)]
#[oai(rename = "AuthzenPageRequest", skip_serializing_if_is_none)]
pub struct PageIn {
    /// Opaque: the `next_token` of the previous page.
    #[oai(validator(max_length = 512))]
    pub token: Option<Text>,
    /// Results per page, 1–1000 (default 100).
    pub limit: Option<i64>,
}

/// Subject search (`POST /access/v1/search/subject`): every user who may do `action` on
/// `resource`.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "AuthzenSubjectSearchRequest",
    example,
    skip_serializing_if_is_none
)]
pub struct SubjectSearchRequest {
    /// `{"type": "user"}`, no id.
    pub subject: SearchSubjectIn,
    /// The act.
    pub action: ActionIn,
    /// The resource, with its id.
    pub resource: SearchResourceIn,
    /// Ignored.
    pub context: Option<Attributes>,
    /// Which page.
    pub page: Option<PageIn>,
}

/// Resource search (`POST /access/v1/search/resource`): every resource of a type the
/// subject may do `action` on.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "AuthzenResourceSearchRequest",
    example,
    skip_serializing_if_is_none
)]
pub struct ResourceSearchRequest {
    /// The user, with its id.
    pub subject: SearchSubjectIn,
    /// The act.
    pub action: ActionIn,
    /// `{"type": …}`, no id.
    pub resource: SearchResourceIn,
    /// Ignored.
    pub context: Option<Attributes>,
    /// Which page.
    pub page: Option<PageIn>,
}

/// Action search (`POST /access/v1/search/action`): every action name the subject may do on
/// the resource.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "AuthzenActionSearchRequest",
    example,
    skip_serializing_if_is_none
)]
pub struct ActionSearchRequest {
    /// The user, with its id.
    pub subject: SearchSubjectIn,
    /// The resource, with its id.
    pub resource: SearchResourceIn,
    /// Ignored.
    pub context: Option<Attributes>,
    /// Which page.
    pub page: Option<PageIn>,
}

/// A subject or resource found: `{"type": …, "id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenEntity")]
pub struct EntityOut {
    /// `user`, `ca`, `certificate` or `organization`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Its id (digits).
    pub id: String,
}

/// An action found: `{"name": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenActionName")]
pub struct ActionOut {
    /// The action's name.
    pub name: String,
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenPageResponse")]
pub struct PageOut {
    /// Pass it as `page.token` for the next page; empty on the last page.
    pub next_token: String,
}

/// The answer to a subject or resource search: one page of results, in id order.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenEntitySearchResponse")]
pub struct EntitiesOut {
    /// The subjects or resources of this page.
    pub results: Vec<EntityOut>,
    /// The next page.
    pub page: PageOut,
}

/// The answer to an action search: one page of action names.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(rename = "AuthzenActionSearchResponse")]
pub struct ActionsOut {
    /// The action names of this page.
    pub results: Vec<ActionOut>,
    /// The next page.
    pub page: PageOut,
}

// The examples of the request bodies in the OpenAPI document (what the docs UI prefills): the
// ids are placeholders for a user and a CA that exist.

fn user(id: Option<&str>) -> SearchSubjectIn {
    SearchSubjectIn {
        kind: Text("user".to_owned()),
        id: id.map(|id| Text(id.to_owned())),
        properties: None,
    }
}

fn ca(id: Option<&str>) -> SearchResourceIn {
    SearchResourceIn {
        kind: Text("ca".to_owned()),
        id: id.map(|id| Text(id.to_owned())),
        properties: None,
    }
}

fn first_page() -> Option<PageIn> {
    Some(PageIn {
        token: None,
        limit: Some(100),
    })
}

impl Example for SubjectSearchRequest {
    fn example() -> Self {
        SubjectSearchRequest {
            subject: user(None),
            action: ActionIn {
                name: Text("can_create_cert".to_owned()),
                properties: None,
            },
            resource: ca(Some("1")),
            context: None,
            page: first_page(),
        }
    }
}

impl Example for ResourceSearchRequest {
    fn example() -> Self {
        ResourceSearchRequest {
            subject: user(Some("2")),
            action: ActionIn {
                name: Text("can_create_cert".to_owned()),
                properties: None,
            },
            resource: ca(None),
            context: None,
            page: first_page(),
        }
    }
}

impl Example for ActionSearchRequest {
    fn example() -> Self {
        ActionSearchRequest {
            subject: user(Some("2")),
            resource: ca(Some("1")),
            context: None,
            page: first_page(),
        }
    }
}
