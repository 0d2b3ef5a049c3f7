//! The driver-error mapping, case by case.

use sqlx::{Connection as _, Executor as _};

use super::*;

#[test]
fn transient_codes_by_backend() {
    let rows = [
        (Backend::Postgres, "40001", true),  // serialization_failure
        (Backend::Postgres, "40P01", true),  // deadlock_detected
        (Backend::Postgres, "55P03", true),  // lock_not_available
        (Backend::Postgres, "57014", true),  // query_canceled
        (Backend::Postgres, "57P01", true),  // admin_shutdown
        (Backend::Postgres, "08006", true),  // connection_failure
        (Backend::Postgres, "53300", true),  // too_many_connections
        (Backend::Postgres, "23505", false), // unique_violation
        (Backend::Postgres, "22012", false), // division_by_zero
        (Backend::Postgres, "5", false),
        (Backend::Sqlite, "5", true),   // SQLITE_BUSY
        (Backend::Sqlite, "517", true), // SQLITE_BUSY_SNAPSHOT
        (Backend::Sqlite, "6", true),   // SQLITE_LOCKED
        (Backend::Sqlite, "262", true), // SQLITE_LOCKED_SHAREDCACHE
        (Backend::Sqlite, "10", true),  // SQLITE_IOERR
        (Backend::Sqlite, "13", true),  // SQLITE_FULL
        (Backend::Sqlite, "14", true),  // SQLITE_CANTOPEN
        (Backend::Sqlite, "19", false), // SQLITE_CONSTRAINT
        (Backend::Sqlite, "1", false),  // SQLITE_ERROR
        (Backend::Sqlite, "40001", false),
    ];
    for (backend, code, transient) in rows {
        assert_eq!(
            transient_code(backend, code),
            transient,
            "{backend:?} {code}"
        );
    }
}

#[test]
fn driver_failures_without_a_code() {
    let unavailable = [
        sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed,
        sqlx::Error::WorkerCrashed,
        sqlx::Error::Io(std::io::Error::other("reset")),
    ];
    for error in unavailable {
        assert_eq!(db(error), StoreError::Unavailable);
    }
    assert_eq!(db(sqlx::Error::RowNotFound), StoreError::Internal);
}

#[test]
fn unstorable_codes_by_backend() {
    let rows = [
        (Backend::Postgres, "22021", true), // character_not_in_repertoire (NUL)
        (Backend::Postgres, "22008", true), // datetime_field_overflow
        (Backend::Postgres, "22001", true), // string_data_right_truncation
        (Backend::Postgres, "54000", true), // program_limit_exceeded
        (Backend::Postgres, "23505", false),
        (Backend::Postgres, "42601", false),
        (Backend::Sqlite, "18", true), // SQLITE_TOOBIG
        (Backend::Sqlite, "19", false),
        (Backend::Sqlite, "22021", false),
    ];
    for (backend, code, unstorable) in rows {
        assert_eq!(
            unstorable_code(backend, code),
            unstorable,
            "{backend:?} {code}"
        );
    }
}

/// The real errors PostgreSQL raises for a NUL in text and a timestamp out of range.
#[tokio::test]
async fn postgres_refusing_a_value_is_invalid() {
    let Ok(url) = std::env::var("ORGTENANCY_TEST_POSTGRES_URL") else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let nul = sqlx::query("SELECT $1::text")
        .bind("a\0b")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(db(nul), unstorable());
    let far = chrono::NaiveDate::from_ymd_opt(-5000, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .unwrap()
        .and_utc();
    let far = sqlx::query("SELECT $1::timestamptz")
        .bind(far)
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(db(far), unstorable());
}

/// A real `SQLITE_BUSY`: a second writer that will not wait for the first.
#[tokio::test]
async fn a_busy_sqlite_database_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
    let options = crate::sqlite_options(&url)
        .unwrap()
        .busy_timeout(std::time::Duration::ZERO);
    let mut first = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let mut second = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    first.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
    first.execute("BEGIN IMMEDIATE").await.unwrap();
    let error = second.execute("BEGIN IMMEDIATE").await.unwrap_err();
    assert_eq!(db(error), StoreError::Unavailable);
}

/// Real PostgreSQL errors with the codes of a busy database, raised by the server itself
/// (when `ORGTENANCY_TEST_POSTGRES_URL` is set).
#[tokio::test]
async fn busy_postgres_codes_are_unavailable() {
    let Ok(url) = std::env::var("ORGTENANCY_TEST_POSTGRES_URL") else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    for (code, expected) in [
        ("40001", StoreError::Unavailable),
        ("40P01", StoreError::Unavailable),
        ("55P03", StoreError::Unavailable),
        ("57014", StoreError::Unavailable),
        ("22021", unstorable()),
        ("22008", unstorable()),
        ("54000", unstorable()),
        ("42601", StoreError::Internal),
    ] {
        let raise = format!(
            "DO $$ BEGIN RAISE EXCEPTION 'raised by a test' USING ERRCODE = '{code}'; END $$"
        );
        let error = conn.execute(raise.as_str()).await.unwrap_err();
        assert_eq!(db(error), expected, "{code}");
    }
}
