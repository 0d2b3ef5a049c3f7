//! Listing scopes: which rows a principal may see (or act on), as data a SQL layer can render.

use crate::{OrgId, Resource, UserId};

/// The set of resources (or rows) a principal may read, or may do one action on.
///
/// A storage layer maps each variant to a predicate over two columns — the row's organization
/// and its creator — without knowing any rule of the hierarchy:
///
/// | variant | predicate |
/// |---|---|
/// | `All` | `TRUE` |
/// | `Organization(o)` | `organization_id = o` |
/// | `OrganizationOrCreator { o, u }` | `organization_id = o OR created_by = u` |
/// | `Creator(u)` | `created_by = u` |
/// | `CreatorInOrganization { o, u }` | `organization_id = o AND created_by = u` |
/// | `Nothing` | `FALSE` |
///
/// [`Policy::scope`](crate::Policy::scope) gives the scope of reading;
/// [`Policy::scope_for`](crate::Policy::scope_for) the scope of any [`Action`](crate::Action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Scope {
    /// Every row.
    All,
    /// Rows of one organization.
    Organization(OrgId),
    /// Rows of one organization, and rows one user created anywhere.
    OrganizationOrCreator {
        /// The organization whose rows are in scope.
        organization: OrgId,
        /// The user whose creations are in scope wherever they are.
        creator: UserId,
    },
    /// Only rows one user created.
    Creator(UserId),
    /// Only rows one user created that belong to one organization (a plain member without
    /// the capability a write needs, under the strict creator rule).
    CreatorInOrganization {
        /// The organization the rows must belong to.
        organization: OrgId,
        /// The user who must have created them.
        creator: UserId,
    },
    /// No row.
    Nothing,
}

impl Scope {
    /// Whether `resource` is in the scope.
    pub const fn contains(self, resource: &Resource) -> bool {
        match self {
            Scope::All => true,
            Scope::Organization(organization) => owned_by(resource, organization),
            Scope::OrganizationOrCreator {
                organization,
                creator,
            } => owned_by(resource, organization) || created_by(resource, creator),
            Scope::Creator(creator) => created_by(resource, creator),
            Scope::CreatorInOrganization {
                organization,
                creator,
            } => owned_by(resource, organization) && created_by(resource, creator),
            Scope::Nothing => false,
        }
    }

    /// The organization part of the predicate, if the scope has one: a row of this
    /// organization is in scope (alone or besides [`Scope::creator`]'s rows).
    ///
    /// `None` for [`Scope::CreatorInOrganization`], whose two conditions hold together and
    /// are not alternatives: render that variant from its fields.
    pub const fn organization(self) -> Option<OrgId> {
        match self {
            Scope::Organization(organization)
            | Scope::OrganizationOrCreator { organization, .. } => Some(organization),
            _ => None,
        }
    }

    /// The creator part of the predicate, if the scope has one: a row this user created is
    /// in scope (alone or besides [`Scope::organization`]'s rows).
    ///
    /// `None` for [`Scope::CreatorInOrganization`] (see [`Scope::organization`]).
    pub const fn creator(self) -> Option<UserId> {
        match self {
            Scope::Creator(creator) | Scope::OrganizationOrCreator { creator, .. } => Some(creator),
            _ => None,
        }
    }
}

const fn owned_by(resource: &Resource, organization: OrgId) -> bool {
    matches!(resource.organization, Some(own) if own.0 == organization.0)
}

const fn created_by(resource: &Resource, user: UserId) -> bool {
    matches!(resource.creator, Some(creator) if creator.0 == user.0)
}
