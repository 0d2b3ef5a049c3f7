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

/// The type of a resource, without a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    Ca,
    Certificate,
    Organization,
}

/// A named act, not yet on a row: a §3 action on a CA or certificate, or an organization act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    Resource(Action),
    Organization(OrgAction),
}

impl ResourceRef {
    /// The row's type.
    pub(crate) fn kind(self) -> ResourceKind {
        match self {
            ResourceRef::Ca(_) => ResourceKind::Ca,
            ResourceRef::Certificate(_) => ResourceKind::Certificate,
            ResourceRef::Organization(_) => ResourceKind::Organization,
        }
    }

    /// `act` on this row. `act` must be one of this row's type ([`parse_act`] checks it); an
    /// organization act on a CA or certificate, or the reverse, asks to read it.
    pub(crate) fn ask(self, act: Act) -> Ask {
        let action = match act {
            Act::Resource(action) => action,
            Act::Organization(_) => Action::Read,
        };
        let org_action = match act {
            Act::Organization(org_action) => org_action,
            Act::Resource(_) => OrgAction::Read,
        };
        match self {
            ResourceRef::Ca(id) => Ask::Ca(id, action),
            ResourceRef::Certificate(id) => Ask::Certificate(id, action),
            ResourceRef::Organization(id) => Ask::Organization(id, org_action),
        }
    }
}

/// The question `subject`, `action` and `resource` ask; 422 when one names nothing.
pub(crate) fn parse(
    subject: &SubjectIn,
    action: &ActionIn,
    resource: &ResourceIn,
) -> Result<Question, ApiError> {
    let subject = parse_subject(subject)?;
    let resource = parse_resource(resource)?;
    let act = parse_act(action.name.as_str(), resource.kind())?;
    Ok(Question {
        subject,
        ask: resource.ask(act),
    })
}

fn parse_subject(subject: &SubjectIn) -> Result<SubjectRef, ApiError> {
    check_subject_type(subject.kind.as_str())?;
    parse_subject_id(subject.id.as_str())
}

/// 422 unless `kind` is `user`, the only subject type.
pub(crate) fn check_subject_type(kind: &str) -> Result<(), ApiError> {
    if kind == "user" {
        return Ok(());
    }
    Err(ApiError::unprocessable(format!(
        "invalid subject.type `{}`: the only subject type is `user`",
        shorten(kind)
    )))
}

/// A user by id (digits), else by username; 422 when empty.
pub(crate) fn parse_subject_id(id: &str) -> Result<SubjectRef, ApiError> {
    if id.is_empty() {
        return Err(ApiError::unprocessable("invalid subject.id: it is empty"));
    }
    Ok(match number(id) {
        Some(number) => SubjectRef::Id(UserId(number)),
        None => SubjectRef::Username(id.to_owned()),
    })
}

fn parse_resource(resource: &ResourceIn) -> Result<ResourceRef, ApiError> {
    let kind = parse_resource_kind(resource.kind.as_str())?;
    parse_resource_id(kind, resource.id.as_str())
}

/// The resource type named `kind`; 422 for any other.
pub(crate) fn parse_resource_kind(kind: &str) -> Result<ResourceKind, ApiError> {
    match kind {
        "ca" => Ok(ResourceKind::Ca),
        "certificate" => Ok(ResourceKind::Certificate),
        "organization" => Ok(ResourceKind::Organization),
        other => Err(ApiError::unprocessable(format!(
            "invalid resource.type `{}`: expected `ca`, `certificate` or `organization`",
            shorten(other)
        ))),
    }
}

/// The row of type `kind` with id `id` (digits); 422 otherwise.
pub(crate) fn parse_resource_id(kind: ResourceKind, id: &str) -> Result<ResourceRef, ApiError> {
    let id = number(id).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "invalid resource.id `{}`: expected the row's id, digits only",
            shorten(id)
        ))
    })?;
    Ok(match kind {
        ResourceKind::Ca => ResourceRef::Ca(id),
        ResourceKind::Certificate => ResourceRef::Certificate(id),
        ResourceKind::Organization => ResourceRef::Organization(OrgId(id)),
    })
}

/// The act `name` names on resources of type `kind`; 422 when it names none.
pub(crate) fn parse_act(name: &str, kind: ResourceKind) -> Result<Act, ApiError> {
    let act = match kind {
        ResourceKind::Ca | ResourceKind::Certificate => resource_action(name).map(Act::Resource),
        ResourceKind::Organization => ORGANIZATION_ACTIONS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, act)| Act::Organization(*act)),
    };
    act.ok_or_else(|| {
        ApiError::unprocessable(format!(
            "invalid action.name `{}` for this resource type: expected one of {}",
            shorten(name),
            names(action_names(kind).into_iter())
        ))
    })
}

/// Every action name on resources of type `kind`, in the order action search answers them.
pub(crate) fn action_names(kind: ResourceKind) -> Vec<&'static str> {
    match kind {
        ResourceKind::Ca | ResourceKind::Certificate => resource_action_names().collect(),
        ResourceKind::Organization => ORGANIZATION_ACTIONS.iter().map(|(n, _)| *n).collect(),
    }
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
pub(crate) fn shorten(text: &str) -> String {
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
