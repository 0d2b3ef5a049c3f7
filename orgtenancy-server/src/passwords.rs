//! Password hashing off the async runtime: argon2 is deliberately slow, so every hash and
//! verification runs on tokio's blocking pool.

use orgtenancy_sqlx::password;

use crate::error::ApiError;

/// The argon2id PHC string for `plain`.
pub(crate) async fn hash(plain: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password::hash(&plain))
        .await
        .map_err(|error| ApiError::internal(&error))?
        .map_err(ApiError::from)
}

/// Whether `plain` matches `stored`. With no stored hash (an unknown username) a dummy
/// verification of the same cost runs, so both cases take the same time.
pub(crate) async fn verify(plain: String, stored: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || match stored {
        Some(phc) => password::verify(&plain, &phc),
        None => {
            password::dummy_verify(&plain);
            false
        }
    })
    .await
    .map_err(|error| ApiError::internal(&error))
}
