//! What the `orgtenancy-server` binary does besides serving (SPEC §13), kept in the library
//! so the binary stays a thin parser of flags: the start-up line, start-up errors that name
//! the database without its password, the log filter check and the log writer,
//! `create-superuser` and `verify-audit`.

pub mod log_writer;
mod superuser;
mod verify;

use std::time::Duration;

use orgtenancy_core::{CreatorAccess, Policy};

pub use superuser::{CLI_ACTOR, create_superuser, read_password};
pub use verify::verify_audit;

/// How long start-up (and the one-off commands) wait for the database's first connection
/// before giving up with the cause; the pool's own acquire timeout (30 s) applies afterwards.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(5);

/// `url` with the password of its userinfo (`postgres://user:secret@host`) and of a
/// `password=` query parameter replaced by `***`: what logs and error messages show.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{host}"),
                    None => authority.to_owned(),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => base.to_owned(),
    };
    let Some(query) = query else {
        return base;
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

/// The name of a policy in the start-up line and the AuthZEN context.
pub fn policy_name(policy: &Policy) -> &'static str {
    match policy.creator_access {
        CreatorAccess::SameOrganization => "strict",
        CreatorAccess::Anywhere => "documented",
    }
}

/// The level names a log filter directive may be on its own.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Checks a `--log-level` filter (tracing's `EnvFilter` syntax) more strictly than
/// `EnvFilter` does: each comma-separated directive must be a level or name one with `=`
/// (`target=level`, `target[span]=level`). A bare word such as `verbose!!` is refused: the
/// filter would read it as a target and silence every other log.
pub fn check_log_filter(filter: &str) -> Result<(), String> {
    for directive in filter.split(',').map(str::trim) {
        if directive.is_empty() || directive.contains('=') {
            continue;
        }
        if !LEVELS
            .iter()
            .any(|level| directive.eq_ignore_ascii_case(level))
        {
            return Err(format!(
                "invalid --log-level `{filter}`: `{directive}` is not a level ({}) nor \
                 `target=level`",
                LEVELS.join(", ")
            ));
        }
    }
    Ok(())
}

/// What the start-up line reports.
#[derive(Debug, Clone)]
pub struct Startup<'a> {
    /// The address the server listens on.
    pub bind: &'a str,
    /// The database URL (redacted here).
    pub database_url: &'a str,
    /// The engine's policy.
    pub policy: &'a Policy,
    /// Whether the database has no user yet.
    pub no_users: bool,
}

/// Logs the one start-up line: at info, or at warn (with what to do) while the database has
/// no users, so it shows even under `--log-level warn`.
pub fn log_startup(startup: &Startup<'_>) {
    let database = redact_url(startup.database_url);
    let docs = format!("http://{}/docs", startup.bind);
    let policy = policy_name(startup.policy);
    let version = crate::VERSION;
    let bind = startup.bind;
    if startup.no_users {
        tracing::warn!(
            version,
            bind,
            database,
            docs,
            policy,
            "orgtenancy-server started; the database has no users yet: run \
             `orgtenancy-server create-superuser --username NAME --email ADDRESS` (password on \
             standard input) or POST the first user, with \"role\": \"superuser\", to /api/v1/users/"
        );
    } else {
        tracing::info!(
            version,
            bind,
            database,
            docs,
            policy,
            "orgtenancy-server started"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let rows = [
            (
                "postgres://app:s3cret@db:5432/x",
                "postgres://app:***@db:5432/x",
            ),
            ("postgres://app@db/x", "postgres://app@db/x"),
            (
                "postgres://a:b:c@db/x?sslmode=require",
                "postgres://a:***@db/x?sslmode=require",
            ),
            (
                "postgres://db/x?user=a&password=p",
                "postgres://db/x?user=a&password=***",
            ),
            (
                "sqlite://orgtenancy.db?mode=rwc",
                "sqlite://orgtenancy.db?mode=rwc",
            ),
            ("sqlite:data.db", "sqlite:data.db"),
        ];
        for (url, shown) in rows {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn log_filters() {
        for good in [
            "info",
            "WARN",
            "warn,orgtenancy_server=debug",
            "a::b=trace",
            "",
        ] {
            assert!(check_log_filter(good).is_ok(), "{good}");
        }
        for bad in ["verbose!!", "info,loud", "orgtenancy_server"] {
            assert!(check_log_filter(bad).is_err(), "{bad}");
        }
    }
}
