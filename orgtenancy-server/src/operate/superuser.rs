//! `orgtenancy-server create-superuser`: an install whose first user was made without
//! `"role": "superuser"` can always be administered (SPEC §13).
//!
//! The user is created through the store's public API (`Store::create_user`, audited as
//! `user_create` in the same transaction) with the server's password hashing
//! (`orgtenancy_sqlx::password`, argon2id), also when the database already has users. No
//! engine decision is asked: whoever runs this holds the database itself, which is more than
//! any superuser can do over HTTP.

use std::io::BufRead;

use orgtenancy_core::{CapabilitySet, Role};
use orgtenancy_sqlx::{Actor, Conflict, NewUser, Store, StoreError, User};
use poem_openapi::types::{Email, ParseFromParameter};

/// The actor `create-superuser` records in the audit log: no user id (nobody was signed
/// in), and this name in the `username` field.
pub const CLI_ACTOR: &str = "orgtenancy-server create-superuser";

/// The shortest password accepted, in characters (as for `POST /users/`).
const MIN_PASSWORD_CHARS: usize = 8;

/// The password: the first line of `input`, without its line ending; at least 8 characters.
pub fn read_password(input: &mut dyn BufRead) -> Result<String, String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|error| format!("cannot read the password from standard input: {error}"))?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password (the first line of standard input) must be at least \
             {MIN_PASSWORD_CHARS} characters"
        ));
    }
    Ok(password.to_owned())
}

/// Creates an active superuser in no organization. A taken username or email, or a field
/// that fails validation, is an `Err` with a message for the operator.
pub async fn create_superuser(
    store: &dyn Store,
    username: &str,
    email: &str,
    password: String,
) -> Result<User, String> {
    crate::validate::username(username).map_err(|error| error.detail().to_owned())?;
    Email::parse_from_parameter(email)
        .map_err(|_| format!("invalid email: `{email}` is not an email address"))?;
    let password_hash =
        tokio::task::spawn_blocking(move || orgtenancy_sqlx::password::hash(&password))
            .await
            .map_err(|error| format!("cannot hash the password: {error}"))?
            .map_err(|error| format!("cannot hash the password: {error}"))?;
    let new = NewUser {
        username: username.to_owned(),
        email: email.to_owned(),
        password_hash,
        role: Role::Superuser,
        is_active: true,
        organization_id: None,
        capabilities: CapabilitySet::EMPTY,
    };
    let actor = Actor {
        user_id: None,
        username: Some(CLI_ACTOR.to_owned()),
    };
    store
        .create_user(&actor, new, false)
        .await
        .map_err(|error| match error {
            StoreError::Conflict(Conflict::Username) => {
                format!("the username `{username}` is taken; choose another")
            }
            StoreError::Conflict(Conflict::Email) => {
                format!("the email `{email}` is taken by another user; choose another")
            }
            other => format!("cannot create the superuser: {other}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_the_first_line() {
        let mut input: &[u8] = b"long enough\r\nsecond line\n";
        assert_eq!(read_password(&mut input).as_deref(), Ok("long enough"));
        let mut short: &[u8] = b"short\n";
        assert!(read_password(&mut short).is_err());
        let mut empty: &[u8] = b"";
        assert!(read_password(&mut empty).is_err());
    }
}
