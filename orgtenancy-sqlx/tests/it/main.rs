//! Integration tests of orgtenancy-sqlx, as one test binary.
//!
//! Every test body takes a `&SqlStore` and runs twice: on a fresh SQLite file (always) and on
//! a fresh schema of the PostgreSQL database named by `ORGTENANCY_TEST_POSTGRES_URL` (when it
//! is set; unreachable then fails the test). [`on_both_backends!`] generates the two test
//! functions, `<module>::sqlite::<name>` and `<module>::postgres::<name>`.
//!
//! * [`organizations`], [`users`], [`tokens`], [`audit`], [`connect`]: every store method,
//!   its results and its typed errors.
//! * [`audited`]: the public audited transaction: an application's own rows and their
//!   entries commit together and join the chain; nothing commits unaudited.
//! * [`statements`]: the public statement layer on an application's own table, in audited and
//!   unaudited transactions and on a pooled reader.
//! * [`scopes`]: `push_scope` against the engine's decisions, exhaustively over a small space.
//! * [`search`]: the §11 searches rendered to SQL — the users allowed an action on a resource
//!   (`Sql::principals`, `Store::list_users_allowed`) and the rows a principal may do any
//!   action on (`Sql::scope` of `scope_for`) — against the engine, by keyset pages.
//! * [`audit_chain`]: the tamper-evident audit chain: intact after mixed and concurrent
//!   writes, every direct edit of the database reported at the right entry.
//! * [`concurrency`]: adds racing deletes; bootstrap, rotation and secret races.
//! * [`superusers`]: the last active superuser, deactivation, no-op patches, audited
//!   logout, re-checked facts (issue 11).
//! * [`model`]: random operation sequences checked against an in-memory model.
//! * [`password`]: argon2id hashing.
//! * [`kept_answers`]: on a SQLite file, a commit by a connection or process that is not the
//!   store's is seen by the store's next per-request read.
#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test on any unexpected error"
)]

/// Generates a SQLite and a PostgreSQL test for each `async fn name(store: &SqlStore)` of the
/// calling module.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        /// The module's tests on SQLite.
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::support::on_sqlite(super::$name).await;
                }
            )*
        }

        /// The module's tests on PostgreSQL (when `ORGTENANCY_TEST_POSTGRES_URL` is set).
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::support::on_postgres(super::$name).await;
                }
            )*
        }
    };
}

mod audit;
mod audit_chain;
mod audited;
mod concurrency;
mod connect;
mod held;
mod hostile;
mod kept_answers;
mod model;
mod organizations;
mod password;
mod scopes;
mod search;
mod statements;
mod superusers;
mod support;
mod token_holder;
mod tokens;
mod users;
mod write_queue;
