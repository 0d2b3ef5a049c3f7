//! The store's typed errors: the only errors that cross the crate boundary.

use crate::db::Backend;

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
    /// The database failed in a way no caller input explains (a corrupt row, a failed
    /// migration). The cause is logged with `tracing`; it is never part of the error.
    #[error("internal storage error")]
    Internal,
    /// An [`AuditedTx`](crate::AuditedTx) was committed without an audit entry; it was
    /// rolled back. A programming error of the caller.
    #[error("a change was committed without an audit entry")]
    Unaudited,
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
    /// A row of an application's own table, by the name people know it by (`"document"`;
    /// the reference server's `"certificate authority"`): `NotFound(Entity::Named("document"))`
    /// reads "document not found". Define the application's entities as constants.
    #[error("{0}")]
    Named(&'static str),
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
    /// `create_user` with `only_if_first`: another user was created first, so this is no
    /// longer the bootstrap case.
    #[error("another user was created first")]
    NotFirstUser,
    /// The row no longer has the facts the caller decided on (see [`crate::UserPatch::expected`]
    /// and [`crate::Store::add_member_if`]): another change came first. Decide again.
    #[error("the row changed while this request was being decided; try again")]
    Changed,
    /// The change would demote, deactivate or delete the last active superuser (checked in
    /// the change's transaction, so concurrent changes cannot leave none).
    #[error("the last active superuser may not be demoted, deactivated or deleted")]
    LastSuperuser,
    /// Any other constraint.
    #[error("the change conflicts with the current state")]
    Other,
    /// A conflict of an application's own rows with their state, described for a person
    /// (the reference server's "the certificate is already revoked"). Define the
    /// application's conflicts as constants.
    #[error("{0}")]
    Named(&'static str),
}

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// The unique constraints whose violation is a typed conflict: the constraint name (as
/// PostgreSQL reports it), the `table.column` SQLite names in its message instead, and the
/// conflict.
const UNIQUE_CONSTRAINTS: [(&str, &str, Conflict); 3] = [
    (
        "organizations_name_key",
        "organizations.name",
        Conflict::OrganizationName,
    ),
    ("users_username_key", "users.username", Conflict::Username),
    ("users_email_key", "users.email", Conflict::Email),
];

/// Turns a driver error into a [`StoreError`]; the one place where that happens.
///
/// * A unique violation becomes the [`Conflict`] for the constraint: by its name where the
///   driver reports one (PostgreSQL), else by the `table.column` list of SQLite's message
///   (`UNIQUE constraint failed: users.email`) — SQLite reports nothing else, and the message
///   is only matched against our own schema's column names, never shown.
/// * A foreign-key violation becomes `on_foreign_key`: the caller knows which reference its
///   statement can break (SQLite does not say).
/// * Connection, pool, I/O, lock-timeout and overload failures become
///   [`StoreError::Unavailable`]; anything else [`StoreError::Internal`]. Both are logged with
///   the driver's text, which never reaches the caller.
pub(crate) fn from_sqlx(error: sqlx::Error, on_foreign_key: StoreError) -> StoreError {
    use sqlx::error::ErrorKind;
    match &error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(unique_conflict(db.as_ref())),
            ErrorKind::ForeignKeyViolation => on_foreign_key,
            _ if is_sqlite_restrict(db.as_ref()) => on_foreign_key,
            ErrorKind::NotNullViolation | ErrorKind::CheckViolation => {
                tracing::warn!(%error, "a constraint the store validates was violated");
                StoreError::Conflict(Conflict::Other)
            }
            _ if is_transient(db.as_ref()) => {
                tracing::warn!(%error, "database unavailable");
                StoreError::Unavailable
            }
            _ if is_unstorable_value(db.as_ref()) => {
                tracing::warn!(%error, "a value the store validates was refused by the database");
                unstorable()
            }
            _ => {
                tracing::error!(%error, "database error");
                StoreError::Internal
            }
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => {
            tracing::warn!(%error, "database unavailable");
            StoreError::Unavailable
        }
        _ => {
            tracing::error!(%error, "database error");
            StoreError::Internal
        }
    }
}

/// [`from_sqlx`] for statements that cannot break a foreign key.
pub(crate) fn db(error: sqlx::Error) -> StoreError {
    from_sqlx(error, StoreError::Conflict(Conflict::Other))
}

fn unique_conflict(db: &dyn sqlx::error::DatabaseError) -> Conflict {
    if let Some(constraint) = db.constraint() {
        return UNIQUE_CONSTRAINTS
            .iter()
            .find(|(name, _, _)| *name == constraint)
            .map_or(Conflict::Other, |(_, _, conflict)| *conflict);
    }
    // SQLite: "UNIQUE constraint failed: users.email" (columns separated by ", ").
    let message = db.message();
    let columns = message
        .split_once("failed: ")
        .map_or("", |(_, columns)| columns);
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(_, column, _)| columns.split(", ").any(|c| c == *column))
        .map_or(Conflict::Other, |(_, _, conflict)| *conflict)
}

/// SQLite enforces `ON DELETE RESTRICT` with a built-in trigger, so its violation comes as
/// `SQLITE_CONSTRAINT_TRIGGER` (1811) with the fixed message below, not as a foreign-key error.
fn is_sqlite_restrict(db: &dyn sqlx::error::DatabaseError) -> bool {
    const SQLITE_CONSTRAINT_TRIGGER: &str = "1811";
    backend_of(db) == Backend::Sqlite
        && db.code().as_deref() == Some(SQLITE_CONSTRAINT_TRIGGER)
        && db.message() == "FOREIGN KEY constraint failed"
}

/// The error for a value the database refused to store (see [`unstorable_code`]).
pub(crate) fn unstorable() -> StoreError {
    StoreError::Invalid {
        field: "value",
        message: "the database cannot store this value".to_owned(),
    }
}

/// Whether a database error says a bound value cannot be stored (see [`unstorable_code`]).
fn is_unstorable_value(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else { return false };
    unstorable_code(backend_of(db), &code)
}

/// Whether an error code means "this value cannot be stored": PostgreSQL's data exceptions
/// (class 22: a NUL character or bad encoding in text, a timestamp out of range, a number out
/// of range) and program limits (54000: e.g. an index row too large); SQLite's "too big". The
/// store validates input before it reaches the database, so these are a last line of
/// defence: a caller's value must never become a 5xx.
fn unstorable_code(backend: Backend, code: &str) -> bool {
    match backend {
        Backend::Postgres => code.starts_with("22") || code == "54000",
        Backend::Sqlite => {
            const TOOBIG: i64 = 18;
            code.parse::<i64>().is_ok_and(|code| code & 0xff == TOOBIG)
        }
    }
}

/// Which driver reported `db`.
#[cfg(feature = "sqlite")]
fn backend_of(db: &dyn sqlx::error::DatabaseError) -> Backend {
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// Which driver reported `db` (only PostgreSQL is compiled).
#[cfg(not(feature = "sqlite"))]
fn backend_of(_: &dyn sqlx::error::DatabaseError) -> Backend {
    Backend::Postgres
}

/// Whether a database error means "try again later" (see [`transient_code`]).
fn is_transient(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else { return false };
    transient_code(backend_of(db), &code)
}

/// Whether an error code means "try again later", decided by code, never by message:
/// PostgreSQL connection exceptions (class 08), insufficient resources (53), operator
/// intervention (57P0x), a cancelled statement (57014, e.g. `statement_timeout`), a lock not
/// available (55P03, `lock_timeout`), serialization failures and deadlocks (40001, 40P01);
/// SQLite busy, locked, I/O, full and cannot-open, in any extended form.
fn transient_code(backend: Backend, code: &str) -> bool {
    match backend {
        Backend::Postgres => {
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P0")
                || matches!(code, "57014" | "55P03" | "40001" | "40P01")
        }
        Backend::Sqlite => {
            // SQLite extended result code; the primary code is its low byte.
            const BUSY: i64 = 5;
            const LOCKED: i64 = 6;
            const IOERR: i64 = 10;
            const FULL: i64 = 13;
            const CANTOPEN: i64 = 14;
            code.parse::<i64>()
                .is_ok_and(|code| matches!(code & 0xff, BUSY | LOCKED | IOERR | FULL | CANTOPEN))
        }
    }
}

#[cfg(all(test, feature = "sqlite", feature = "postgres"))]
mod tests;
