//! `orgtenancy-server verify-audit`: checks the audit log's hash chain without ever writing
//! the database (SPEC §13): it is opened read-only and never migrated, so a mistyped path,
//! an empty file or another application's database is "cannot verify" (exit 2), and stays as
//! it was.

use std::process::ExitCode;

use orgtenancy_sqlx::{SqlStore, Store as _};

use super::{STARTUP_TIMEOUT, redact_url};

/// Exit status when the chain cannot be verified (no database, no audit log, unreachable).
const CANNOT_VERIFY: u8 = 2;

/// Verifies the chain of the database at `url`; prints the result on stdout (errors on
/// stderr) and returns the exit status: 0 intact, 1 broken, 2 cannot verify.
pub async fn verify_audit(url: &str) -> ExitCode {
    let cannot = |cause: &dyn std::fmt::Display| {
        eprintln!(
            "orgtenancy-server: cannot verify the audit chain of {}: {cause}",
            redact_url(url)
        );
        ExitCode::from(CANNOT_VERIFY)
    };
    if let Some(path) = sqlite_file(url)
        && !std::path::Path::new(path).is_file()
    {
        return cannot(&format!("no database file at `{path}`"));
    }
    let store = match SqlStore::open_read_only(url, STARTUP_TIMEOUT).await {
        Ok(store) => store,
        Err(error) => return cannot(&error),
    };
    let report = store.verify_audit_chain().await;
    store.close().await;
    let report = match report {
        Ok(report) => report,
        Err(error) => return cannot(&error),
    };
    let head = report
        .head_id
        .map_or_else(|| "none".to_owned(), |id| id.to_string());
    match report.first_broken {
        None => {
            println!(
                "audit chain intact: {} entries checked, {} older entries before the chain; \
                 head entry {head}, hash {}",
                report.entries_checked, report.unchained_entries, report.head_hash
            );
            ExitCode::SUCCESS
        }
        Some(broken) => {
            println!(
                "audit chain BROKEN at entry {} ({}): {}; {} entries intact before it",
                broken.id,
                broken.reason.code(),
                broken.reason.describe(),
                report.entries_checked
            );
            ExitCode::FAILURE
        }
    }
}

/// The file of a `sqlite:` URL (`sqlite://path?…`, `sqlite:path`), unless in memory.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}
