//! Integration tests of orgtenancy-server: the whole API through `poem::test::TestClient`,
//! on SQLite always and on PostgreSQL when `ORGTENANCY_TEST_POSTGRES_URL` is set (each test
//! in a fresh database or schema), plus an end-to-end walk against the real binary.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test loudly on unexpected input"
)]

/// Declares, for each async test function `name(Backend)`, a module `name` with a `sqlite`
/// test and a `postgres` test (which passes trivially when PostgreSQL is not configured).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::support::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(backend) = crate::support::Backend::postgres() {
                        super::$name(backend).await;
                    }
                }
            }
        )*
    };
}

mod support;

mod audit_chain;
mod auth;
mod authzen;
mod authzen_client;
mod authzen_search;
mod bad_input;
mod ca_tree;
mod concurrency;
mod crash;
mod crl;
mod csr;
mod csr_renew;
mod e2e;
mod embedded_logs;
mod exact_audit;
mod existence;
mod exports;
mod flows;
mod freshness;
mod hardening;
mod hostile;
mod malformed_http;
mod matrix;
mod multiprocess;
mod openapi_examples;
mod operations;
mod pki_flows;
mod pki_matrix;
mod pki_move_audit;
mod pki_races;
mod published;
mod races;
mod readme;
mod sans;
mod stateful;
