//! Integration tests of orgtenancy-server-store, as one test binary.
//!
//! Every test body takes a `&SqlStore` with both crates' tables and runs twice: on a fresh
//! SQLite file (always) and on a fresh schema of the PostgreSQL database named by
//! `ORGTENANCY_TEST_POSTGRES_URL` (when it is set; unreachable then fails the test).
//! [`on_both_backends!`] generates the two test functions, `<module>::sqlite::<name>` and
//! `<module>::postgres::<name>`.
//!
//! * [`pki`]: the resource tables (CAs, certificates) and their typed errors; [`pki_writes`]:
//!   each write re-checks the row it was decided on, and a CA move is audited per organization.
//! * [`keys_and_renewals`]: certificates without a kept key, email SANs, renewals, CAs found
//!   by name in a scope; [`crls`]: the revoked certificates of a CA and its kept CRL, whose
//!   number only grows.
//! * [`throttle`]: the login-attempt counters, and the audited clearing of a lockout.
//! * [`upgrade`]: a database created by the release before the split (all four migrations of
//!   one set, rows in every table) opens with the split crates, keeps every row and its audit
//!   chain, and takes new writes; a fresh database gets every table.
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

mod crls;
mod keys_and_renewals;
mod pki;
mod pki_writes;
mod release;
mod support;
mod throttle;
mod upgrade;
