//! # orgtenancy-sqlx
//!
//! Storage of the orgtenancy tenancy model — organizations, users and their membership,
//! refresh and revoked access tokens, the server's secrets and the audit log, and nothing
//! else — over sqlx, on
//! SQLite (the embedded default) or PostgreSQL (for several server processes sharing one
//! database), behind one async trait, [`Store`]. The backend is chosen at run time from the
//! database URL:
//!
//! ```
//! use orgtenancy_core::{OrgId, Policy, Principal, Role, UserId};
//! use orgtenancy_sqlx::{Actor, NewOrganization, Page, Store};
//!
//! # async fn demo() -> Result<(), orgtenancy_sqlx::StoreError> {
//! // "sqlite://orgtenancy.db", "sqlite::memory:" or "postgres://user@host/db"
//! let store = orgtenancy_sqlx::connect("sqlite::memory:").await?;
//! let acme = store
//!     .create_organization(&Actor::default(), NewOrganization {
//!         name: "acme".into(),
//!         description: None,
//!     })
//!     .await?;
//!
//! // The engine decides what a principal may list; the store turns that into SQL.
//! let alice = Principal::new(UserId(1), Role::Admin, Some(acme.id));
//! let scope = Policy::DOCUMENTED.organization_scope(&alice);
//! let visible = store.list_organizations(scope, Page::default()).await?;
//! assert_eq!(visible, vec![acme]);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! ## The key decisions
//!
//! **One implementation, two backends.** [`SqlStore`] writes each statement once as static SQL
//! text plus typed bind values, and renders it through sqlx's `QueryBuilder` for the backend at
//! hand (`?` placeholders on SQLite, `$N` on PostgreSQL). Queries are built at run time
//! (`query_as`, not the compile-time checked macros, which would tie the crate to one database
//! and need a database at build time); the one test suite runs on both backends instead.
//!
//! **An application's own tables, written the store's way.** The statement layer is public
//! ([`statement`]): an application builds a [`statement::Sql`] (static text, bound values,
//! `FOR UPDATE` where PostgreSQL needs it, a scope as a predicate) and runs it on a pooled
//! [`statement::Reader`] ([`SqlStore::read`]), inside an [`AuditedTx`] ([`SqlStore::begin`]:
//! its rows and their audit entries commit together, the entries joining the store's hash
//! chain) or, for rows whose changes are no audit event (counters, caches), inside an
//! [`statement::UnauditedTx`] ([`SqlStore::begin_unaudited`]). Errors come back as
//! [`StoreError`]s through the same mapping as the store's own; raw sqlx on the transaction's
//! connection ([`AuditedTx::sqlite`], [`AuditedTx::postgres`]) is there too, mapped with
//! [`StoreError::from_sqlx`]. The application's migrations run with [`SqlStore::migrate`],
//! beside the store's in one `_sqlx_migrations` table. The reference server's PKI storage and
//! login throttle (the `orgtenancy-server-store` crate) are built on exactly this API, as an
//! application's own tables would be; a database this crate opens gets no tables of theirs.
//!
//! **Scopes become SQL, never Rust filters.** List methods take the
//! [`Scope`](orgtenancy_core::Scope) the engine
//! computed for the caller, and [`push_scope`] renders it as a predicate over an organization
//! column and (optionally) a creator column, with every id bound. An embedding application
//! uses the same helper for its own resource tables. Every list is `ORDER BY id LIMIT … OFFSET
//! …` over an index, so its cost follows the page size, not the table size. The searches of
//! SPEC §11 page by keyset instead ([`statement::Sql::keyset`]: `AND id > after ORDER BY id
//! LIMIT n`), and the users allowed an action on a resource render from the engine's
//! [`PrincipalSet`](orgtenancy_core::PrincipalSet) ([`statement::Sql::principals`]).
//!
//! **A change and its audit entry commit together.** Every method that changes state writes
//! its §6 audit entry (`org_create`, `org_update`, `org_delete`, `org_add_user`,
//! `org_remove_user`, `user_create`, `user_update`, `user_delete`, `token_invalidate`,
//! `logout`) in the same transaction,
//! attributed to the given [`Actor`] and to the organization concerned (the entry's
//! `organization_id` decides which admins may read it). Nothing is audited that did not
//! happen; nothing happens unaudited.
//!
//! **The audit log is a hash chain.** Each entry stores `hash` = SHA-256 over an unambiguous
//! (length-prefixed) encoding of all its fields, its id included, and of `prev_hash`, the hash
//! of the entry before it; a one-row chain head records the newest entry and its hash. The
//! hashes are computed in Rust inside the change's transaction, as its last statements: the
//! entry's id is taken from the database's own sequence first (the append-only trigger forbids
//! an insert-then-update), and on PostgreSQL the head row is locked `FOR UPDATE`, so concurrent
//! appends queue and form one chain (SQLite's `BEGIN IMMEDIATE` already serializes writers).
//! [`Store::verify_audit_chain`] walks the log in id order, a page at a time, and reports the
//! first break ([`ChainBreakReason`]): a changed field or hash, a deleted, inserted or moved
//! entry, an entry without hashes, or deleted newest entries (the walk does not end at the
//! head). Entries written before the chain's migration have no hashes and are counted as
//! unchained; the chain starts at the first entry after it. The hash has no secret: someone who
//! can write the database and recomputes every later hash and the head goes unnoticed, unless
//! the reported head hash was recorded elsewhere and is compared.
//!
//! **The schema enforces the invariants.** Names, usernames and emails are unique;
//! `users.organization_id` references `organizations` with `ON DELETE RESTRICT`, so deleting an
//! organization that has members fails with [`Conflict::OrganizationNotEmpty`] and adding a
//! member to a missing one with [`Conflict::MissingOrganization`] — also when the two race.
//! An application's own resource tables should reference `organizations (id)` the same way;
//! their rows then block the deletion too. Ids are never reused (SQLite `AUTOINCREMENT`,
//! PostgreSQL identity columns). Migrations are embedded and run when the store opens.
//!
//! **Typed errors only.** Driver errors are mapped in one place to [`StoreError`]: unique
//! violations to the [`Conflict`] they are (by constraint name on PostgreSQL, by the column
//! SQLite names in its message), foreign-key violations to what they mean for the operation,
//! connection and overload failures to [`StoreError::Unavailable`]. Driver text is logged with
//! `tracing`, never returned. An application names the errors of its own rows with
//! [`Entity::Named`] ("document not found") and [`Conflict::Named`] ("the document is
//! archived"), defined as constants in its crate; the vocabulary here stays the tenancy's.
//!
//! ## SQLite defaults
//!
//! The database file is created if missing; WAL journal (readers never block the writer),
//! foreign keys on, `synchronous = NORMAL` (durable across application crashes; the last
//! transactions may be lost on power failure), a 10 s busy timeout. Write transactions begin
//! with `BEGIN IMMEDIATE`: a writer takes the database's single write lock before its first
//! read, so concurrent writers queue on the busy timeout instead of failing with "database is
//! locked" when a deferred transaction tries to upgrade, and no two transactions can deadlock.
//! This also holds across processes sharing one file. `sqlite::memory:` keeps its database in
//! a single connection that lives as long as the store, for tests.
//!
//! On a file, the store's per-request reads (the token holder, an organization by id, a page
//! of members) are answered from memory while nothing has been committed to the database
//! since they were read, by any connection of any process: the store tells by the header of
//! SQLite's WAL index, which every commit rewrites. For that it keeps one query-only
//! connection open for its life, and one read-only descriptor of the `-shm` file open for
//! the process's life (closing it would drop SQLite's POSIX locks on that file).
//!
//! ## Passwords
//!
//! [`password`] hashes with argon2id (default parameters, random salt) and verifies PHC
//! strings; it is CPU-heavy, so async callers run it with `spawn_blocking`.
//!
//! ## Modules and items
//!
//! * [`Store`], [`SqlStore`], [`connect`], [`Backend`]: the store and how to open it.
//! * [`statement`], [`AuditedTx`], [`SqlStore::read`], [`SqlStore::begin_unaudited`],
//!   [`SqlStore::migrate`]: an application's own tables, written the store's way.
//! * [`validate`]: the checks the store runs on text and pages, for an application's values.
//! * The model: [`Organization`], [`User`], [`AuditEntry`] and their `New…`/`…Patch` inputs,
//!   [`Page`], [`Actor`], [`AuditFilter`].
//! * [`AuditChainReport`], [`ChainBreak`], [`ChainBreakReason`]: the audit chain's verification.
//! * [`push_scope`], [`statement::Sql::scope`]: a scope (of reading or of any action) as a
//!   SQL predicate.
//! * [`statement::Sql::principals`] with [`UserColumns`]: the engine's
//!   [`PrincipalSet`](orgtenancy_core::PrincipalSet) (the users allowed an action on a
//!   resource) as a SQL predicate over a users table; [`statement::Sql::keyset`] and
//!   [`KeysetPage`]: keyset pages by id; [`statement::Sql::scoped_keyset`]: a keyset page of
//!   an application's table in two scopes, an organization-or-creator scope read as the union
//!   of two indexed pages; [`Store::list_users_allowed`]: the store's users of a set, a page
//!   at a time (the searches of SPEC §11).
//! * [`StoreError`], [`Conflict`], [`Entity`]: the typed errors.
//! * [`password`]: argon2id hashing.
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "orgtenancy-sqlx needs at least one driver: enable the `sqlite` or `postgres` feature"
);

/// The sqlx this crate is built on, for an application's own statements.
pub use sqlx;

mod audited;
mod chain;
mod chain_sql;
mod connect;
mod db;
mod error;
mod held;
mod hot_reads;
#[cfg(feature = "sqlite")]
mod inline;
mod model;
mod open;
mod org_writes;
pub mod password;
mod principals;
#[cfg(feature = "sqlite")]
mod readers;
mod rows;
mod scope;
mod sql_store;
pub mod statement;
mod store;
mod tokens_sql;
mod user_writes;
pub mod validate;
#[cfg(feature = "sqlite")]
mod write_queue;

pub use audited::AuditedTx;
pub use chain::{AuditChainReport, CHAIN_HASH_LEN, ChainBreak, ChainBreakReason};
#[cfg(feature = "sqlite")]
pub use connect::sqlite_options;
pub use connect::{SQLITE_BUSY_TIMEOUT, connect, connect_existing};
pub use db::Backend;
pub use error::{Conflict, Entity, StoreError, StoreResult};
pub use held::one_connection;
pub use model::*;
pub use open::OpenError;
pub use principals::{KeysetPage, UserColumns};
pub use scope::push_scope;
pub use sql_store::SqlStore;
pub use store::Store;
pub use validate::{MAX_DESCRIPTION, MAX_ORGANIZATION_NAME, MAX_PAGE, MAX_USERNAME};
