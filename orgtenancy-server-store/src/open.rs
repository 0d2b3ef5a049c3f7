//! Opening the server's store: the tenancy store of `orgtenancy-sqlx`, then this crate's own
//! migrations on the same database.

use std::{sync::Arc, time::Duration};

use orgtenancy_sqlx::{Backend, OpenError, SqlStore, StoreError, StoreResult};
use sqlx::migrate::Migrator;

use crate::ServerStore;

/// This crate's migrations for `backend`: the PKI tables (`20250602000000_pki`) and the login
/// throttle (`20250604000000_login_throttle`), the same files and versions the tenancy crate
/// carried before them.
fn migrator(backend: Backend) -> StoreResult<Migrator> {
    match backend {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Ok(sqlx::migrate!("./migrations/sqlite")),
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(sqlx::migrate!("./migrations/postgres")),
        // A driver whose feature is off here but on in orgtenancy-sqlx (or a new backend).
        other => Err(StoreError::Invalid {
            field: "database url",
            message: format!("this build of orgtenancy-server-store has no {other:?} migrations"),
        }),
    }
}

/// Creates or upgrades this crate's tables in the store's database (after the tenancy tables
/// they reference, which [`SqlStore::connect`] and [`SqlStore::open_within`] create). Runs
/// through [`SqlStore::migrate`]: versions already applied are skipped, the tenancy versions
/// are ignored. A failure is [`StoreError::Internal`] (the cause is logged) or
/// [`StoreError::Unavailable`].
pub async fn migrate(store: &SqlStore) -> StoreResult<()> {
    store.migrate(migrator(store.backend())?).await
}

/// Opens the store at `url` (as [`orgtenancy_sqlx::connect`]) and runs both crates'
/// migrations: the store the reference server serves from.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn ServerStore>> {
    let store = SqlStore::connect(url).await?;
    migrate(&store).await?;
    Ok(Arc::new(store))
}

/// [`SqlStore::open_within`] (the first connection within `timeout`, the driver's words on
/// failure, the tenancy migrations), then this crate's migrations: the server's start-up.
pub async fn open_within(url: &str, timeout: Duration) -> Result<SqlStore, OpenError> {
    let store = SqlStore::open_within(url, timeout).await?;
    migrate(&store).await.map_err(|error| OpenError {
        error,
        cause: "the server's migrations failed (see the log)".to_owned(),
    })?;
    Ok(store)
}
