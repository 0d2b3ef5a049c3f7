//! # orgtenancy-server-store
//!
//! The reference server's own storage, beside the tenancy store of `orgtenancy-sqlx`:
//! certificate authorities and certificates ([`PkiStore`], SPEC §9) and the login-attempt
//! counters ([`ThrottleStore`]). It is built on `orgtenancy-sqlx`'s **public** API only, as an
//! application's own tables would be (SPEC §12): statements are
//! [`orgtenancy_sqlx::statement::Sql`] values, reads run on [`SqlStore::read`], audited
//! writes in an [`orgtenancy_sqlx::AuditedTx`] whose entries join the store's hash chain,
//! counter updates in an [`orgtenancy_sqlx::statement::UnauditedTx`], lists take the engine's
//! scope through [`Sql::scope`](orgtenancy_sqlx::statement::Sql::scope), and errors come back
//! as [`StoreError`](orgtenancy_sqlx::StoreError)s through the store's one mapping.
//!
//! ```
//! use orgtenancy_core::Scope;
//! use orgtenancy_server_store::{PkiStore, ServerStore};
//! use orgtenancy_sqlx::{Page, Store};
//!
//! # async fn demo() -> Result<(), orgtenancy_sqlx::StoreError> {
//! // Opens the tenancy store and runs both sets of migrations.
//! let store = orgtenancy_server_store::connect("sqlite::memory:").await?;
//! assert!(store.has_no_users().await?);
//! assert!(store.list_cas(Scope::All, Page::default()).await?.is_empty());
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! ## The key decisions
//!
//! **The traits are implemented for [`SqlStore`] itself** (a trait of this crate for a type
//! of `orgtenancy-sqlx`), not for a wrapper: the server holds one store, an
//! `Arc<dyn `[`ServerStore`]`>` (`Store + PkiStore + ThrottleStore`, implemented for every
//! type that has all three), and a wrapper would have to forward every tenancy method. The
//! price: a `SqlStore` has these methods before the tables exist. The tables exist once
//! [`migrate`] ran on the database; [`connect`] and [`open_within`] open the store and
//! migrate both crates' tables, so a store from them is always ready.
//!
//! **Own migrations, same table.** This crate's migrations (`certificate_authorities` and
//! `certificates`, `login_throttle`) run through [`SqlStore::migrate`], beside the tenancy
//! migrations in one `_sqlx_migrations` table, each set ignoring the other's versions. They
//! are the files the tenancy crate used to carry, byte for byte with their versions, so a
//! database created before the split (all four versions applied) opens as it is: every
//! checksum matches and nothing runs again.
//!
//! **Errors of this crate's rows** are expressed with the store's application variants:
//! [`CERTIFICATE_AUTHORITY`] and [`CERTIFICATE`] (`Entity::Named`) for a missing row,
//! [`ALREADY_REVOKED`] (`Conflict::Named`) for a second revocation. The rest is the store's
//! own vocabulary: `Conflict::Changed` for a row that no longer has the facts decided on,
//! `Conflict::HasDependents` for a CA still referenced, `Conflict::MissingOrganization`,
//! `Conflict::Other` for a serial number used twice.
//!
//! ## Modules and items
//!
//! * [`PkiStore`] and its rows: [`CertificateAuthority`], [`Certificate`],
//!   [`NewCertificateAuthority`], [`NewCertificate`], [`CertificateFilter`],
//!   [`CertificateStatus`], [`Adoption`].
//! * [`ThrottleStore`], [`LoginAttempts`], [`ThrottleKind`], [`MAX_THROTTLE_KEY`].
//! * [`ServerStore`], [`connect`], [`open_within`], [`migrate`].
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "orgtenancy-server-store needs at least one driver: enable the `sqlite` or `postgres` feature"
);

mod open;
mod pki;
mod throttle;

use orgtenancy_sqlx::{Conflict, Entity, SqlStore, Store};

pub use open::{connect, migrate, open_within};
pub use pki::{
    Adoption, Certificate, CertificateAuthority, CertificateFilter, CertificateStatus, KeySource,
    NewCertificate, NewCertificateAuthority, NewCertificateKey, PkiStore, PublishedCrl,
    RevokedCertificate,
};
pub use throttle::{LoginAttempts, MAX_THROTTLE_KEY, ThrottleKind, ThrottleStore};

/// A certificate authority, as a store error names it ("certificate authority not found").
pub const CERTIFICATE_AUTHORITY: Entity = Entity::Named("certificate authority");

/// A certificate, as a store error names it ("certificate not found").
pub const CERTIFICATE: Entity = Entity::Named("certificate");

/// A revocation of a certificate that is revoked already.
pub const ALREADY_REVOKED: Conflict = Conflict::Named("the certificate is already revoked");

/// The longest `crl_base_url` a CA keeps (characters).
pub const MAX_CRL_BASE_URL: usize = 2048;

/// An export of a certificate's key when the server keeps none (made for a CSR, or none kept
/// on request).
pub const NO_PRIVATE_KEY: Conflict =
    Conflict::Named("the server keeps no private key of this certificate");

/// Everything the reference server stores: the tenancy model ([`Store`]), its PKI resources
/// ([`PkiStore`]) and the login-attempt counters ([`ThrottleStore`]). Implemented for every
/// type that has the three, [`SqlStore`] among them; the server holds an
/// `Arc<dyn ServerStore>`.
pub trait ServerStore: Store + PkiStore + ThrottleStore {}

impl<T> ServerStore for T where T: Store + PkiStore + ThrottleStore {}

/// Asserts at compile time that the store of `orgtenancy-sqlx` is a [`ServerStore`].
const _: fn(&SqlStore) -> &dyn ServerStore = |store| store;
