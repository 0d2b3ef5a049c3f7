//! An AuthZEN request turned into the server's terms: which user, which row, which act.
//! Anything that does not name one of them is the caller's mistake (422), found before a
//! single evaluation runs.

use orgtenancy_core::{Action, OrgId, UserId};

use crate::{
    authzen::model::{ActionIn, ResourceIn, SubjectIn},
    capabilities::{CATALOG, CapabilityFlag},
    error::ApiError,
};

/// The subject: a user by id, or by username when the id is not a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SubjectRef {
    Id(UserId),
    Username(String),
}

/// The resource: a row of one of the three tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ResourceRef {
    Ca(i64),
    Certificate(i64),
    Organization(OrgId),
}

/// An act on an organization, decided by `authorize_org` (read audit log: with its scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrgAction {
    Read,
    Update,
    Delete,
    ListMembers,
    ManageMembers,
    ReadAuditLog,
}

/// What is asked: a §3 action on a CA or certificate, or an act on an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ask {
    Ca(i64, Action),
    Certificate(i64, Action),
    Organization(OrgId, OrgAction),
}

impl Ask {
    /// The row the question is about.
    pub(crate) fn resource(self) -> ResourceRef {
        match self {
            Ask::Ca(id, _) => ResourceRef::Ca(id),
            Ask::Certificate(id, _) => ResourceRef::Certificate(id),
            Ask::Organization(id, _) => ResourceRef::Organization(id),
        }
    }
}

/// One evaluation, fully named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Question {
    pub(crate) subject: SubjectRef,
    pub(crate) ask: Ask,
}

/// The action names on CAs and certificates: `read`, then the catalog's capability flags.
pub(crate) fn resource_action(name: &str) -> Option<Action> {
    if name == "read" {
        return Some(Action::Read);
    }
    CapabilityFlag::named(name).map(|flag| Action::Write(flag.capability))
}

/// Every action name on CAs and certificates, in order.
pub(crate) fn resource_action_names() -> impl Iterator<Item = &'static str> {
    std::iter::once("read").chain(CATALOG.iter().map(|flag| flag.name))
}

/// The action names on organizations.
pub(crate) const ORGANIZATION_ACTIONS: [(&str, OrgAction); 6] = [
    ("read", OrgAction::Read),
    ("update", OrgAction::Update),
    ("delete", OrgAction::Delete),
    ("list_members", OrgAction::ListMembers),
    ("manage_members", OrgAction::ManageMembers),
    ("read_audit_log", OrgAction::ReadAuditLog),
];

/// The question `subject`, `action` and `resource` ask; 422 when one names nothing.
pub(crate) fn parse(
    subject: &SubjectIn,
    action: &ActionIn,
    resource: &ResourceIn,
) -> Result<Question, ApiError> {
    let subject = parse_subject(subject)?;
    let resource = parse_resource(resource)?;
    let ask = parse_ask(action.name.as_str(), resource)?;
    Ok(Question { subject, ask })
}

fn parse_subject(subject: &SubjectIn) -> Result<SubjectRef, ApiError> {
    if subject.kind.as_str() != "user" {
        return Err(ApiError::unprocessable(format!(
            "invalid subject.type `{}`: the only subject type is `user`",
            shorten(subject.kind.as_str())
        )));
    }
    let id = subject.id.as_str();
    if id.is_empty() {
        return Err(ApiError::unprocessable("invalid subject.id: it is empty"));
    }
    Ok(match number(id) {
        Some(number) => SubjectRef::Id(UserId(number)),
        None => SubjectRef::Username(id.to_owned()),
    })
}

fn parse_resource(resource: &ResourceIn) -> Result<ResourceRef, ApiError> {
    let id = number(resource.id.as_str()).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "invalid resource.id `{}`: expected the row's id, digits only",
            shorten(resource.id.as_str())
        ))
    })?;
    match resource.kind.as_str() {
        "ca" => Ok(ResourceRef::Ca(id)),
        "certificate" => Ok(ResourceRef::Certificate(id)),
        "organization" => Ok(ResourceRef::Organization(OrgId(id))),
        other => Err(ApiError::unprocessable(format!(
            "invalid resource.type `{}`: expected `ca`, `certificate` or `organization`",
            shorten(other)
        ))),
    }
}

fn parse_ask(name: &str, resource: ResourceRef) -> Result<Ask, ApiError> {
    let action = || resource_action(name);
    let ask = match resource {
        ResourceRef::Ca(id) => action().map(|action| Ask::Ca(id, action)),
        ResourceRef::Certificate(id) => action().map(|action| Ask::Certificate(id, action)),
        ResourceRef::Organization(id) => ORGANIZATION_ACTIONS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, act)| Ask::Organization(id, *act)),
    };
    ask.ok_or_else(|| {
        let known = match resource {
            ResourceRef::Organization(_) => names(ORGANIZATION_ACTIONS.iter().map(|(n, _)| *n)),
            _ => names(resource_action_names()),
        };
        ApiError::unprocessable(format!(
            "invalid action.name `{}` for this resource type: expected one of {known}",
            shorten(name)
        ))
    })
}

/// A decimal id: ASCII digits only (no sign, no spaces), fitting an `i64`.
fn number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// At most 64 characters of client input, for an error message.
fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{capabilities::CAN_DELETE_CA, text::Text};

    fn subject(kind: &str, id: &str) -> SubjectIn {
        SubjectIn {
            kind: Text(kind.into()),
            id: Text(id.into()),
            properties: None,
        }
    }

    fn resource(kind: &str, id: &str) -> ResourceIn {
        ResourceIn {
            kind: Text(kind.into()),
            id: Text(id.into()),
            properties: None,
        }
    }

    fn action(name: &str) -> ActionIn {
        ActionIn {
            name: Text(name.into()),
            properties: None,
        }
    }

    #[test]
    fn names_map_to_acts() {
        let q = parse(
            &subject("user", "7"),
            &action("can_delete_ca"),
            &resource("ca", "3"),
        )
        .expect("valid");
        assert_eq!(q.subject, SubjectRef::Id(UserId(7)));
        assert_eq!(q.ask, Ask::Ca(3, Action::Write(CAN_DELETE_CA)));
        assert_eq!(q.ask.resource(), ResourceRef::Ca(3));
        let q = parse(
            &subject("user", "alice"),
            &action("read"),
            &resource("organization", "1"),
        )
        .expect("valid");
        assert_eq!(q.subject, SubjectRef::Username("alice".into()));
        assert_eq!(q.ask, Ask::Organization(OrgId(1), OrgAction::Read));
    }

    #[test]
    fn bad_names_are_refused() {
        let ok_subject = subject("user", "1");
        for (s, a, r) in [
            (subject("group", "1"), action("read"), resource("ca", "1")),
            (subject("user", ""), action("read"), resource("ca", "1")),
            (
                ok_subject.clone(),
                action("read"),
                resource("document", "1"),
            ),
            (ok_subject.clone(), action("read"), resource("ca", "x1")),
            (ok_subject.clone(), action("read"), resource("ca", "-1")),
            (ok_subject.clone(), action("read"), resource("ca", " 1")),
            (
                ok_subject.clone(),
                action("read"),
                resource("ca", "99999999999999999999"),
            ),
            (ok_subject.clone(), action("update"), resource("ca", "1")),
            (
                ok_subject.clone(),
                action("can_delete_ca"),
                resource("organization", "1"),
            ),
            (
                ok_subject.clone(),
                action("READ"),
                resource("certificate", "1"),
            ),
        ] {
            let error = parse(&s, &a, &r).expect_err("refused");
            assert_eq!(error.status().as_u16(), 422, "{}", error.detail());
        }
    }
}
