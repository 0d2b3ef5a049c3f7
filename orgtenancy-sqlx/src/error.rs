//! The store's typed errors: the only errors that cross the crate boundary.

/// What a store operation can fail with. No driver error or SQL text is ever inside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row does not exist.
    #[error("{0} not found")]
    NotFound(Entity),
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(Conflict),
    /// A field fails validation; the message is for a person.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The database cannot be reached or is overloaded; try again later.
    #[error("the database is unavailable")]
    Unavailable,
}

/// The kinds of row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Entity {
    /// An organization.
    #[error("organization")]
    Organization,
    /// A user.
    #[error("user")]
    User,
    /// A refresh token.
    #[error("refresh token")]
    RefreshToken,
    /// Any other row an application stores.
    #[error("resource")]
    Resource,
}

/// What a change conflicted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another organization has this name.
    #[error("an organization with this name already exists")]
    OrganizationName,
    /// Another user has this username.
    #[error("a user with this username already exists")]
    Username,
    /// Another user has this email.
    #[error("a user with this email already exists")]
    Email,
    /// The organization still has members or owns resources.
    #[error("the organization still has members or resources; remove them first")]
    OrganizationNotEmpty,
    /// The organization referred to does not exist (any more).
    #[error("the organization does not exist")]
    MissingOrganization,
    /// The row still has dependent rows (application resources).
    #[error("the resource still has dependent resources")]
    HasDependents,
    /// Any other constraint.
    #[error("the change conflicts with the current state")]
    Other,
}

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;
