//! Counting login attempts in the database ([`ThrottleStore`]), so that every server process
//! on one database enforces the same limit, with no shared memory between them.
//!
//! A login attempt is counted *before* the password is checked, with one atomic upsert that
//! returns the new count: concurrent attempts (from one process or several) each get their
//! own number, so a limit of N lets exactly N attempts through per window, however many race.
//! The caller gives a successful attempt back ([`ThrottleStore::forgive_login_attempt`]) or
//! forgets a key altogether ([`ThrottleStore::clear_login_attempts`]). Windows are fixed: the
//! first attempt after a window ended opens a new one. The store knows nothing of limits; the
//! caller compares the count with its own.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use orgtenancy_sqlx::{
    Actor, Backend, NewAuditEntry, SqlStore, StoreError, StoreResult, User,
    statement::{Sql, now},
};

/// The longest key counted, in characters (usernames are at most this long).
pub const MAX_THROTTLE_KEY: usize = 255;

/// Finished windows removed per counted attempt: more than the rows an attempt adds, so the
/// table never grows past the keys of the current windows, and small enough to stay cheap.
const SWEEP_BATCH: i64 = 100;

/// What a login attempt is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThrottleKind {
    /// The username tried (the caller normalizes it, e.g. lowercases it).
    Username,
    /// The client's address.
    Address,
}

impl ThrottleKind {
    fn as_str(self) -> &'static str {
        match self {
            ThrottleKind::Username => "username",
            ThrottleKind::Address => "address",
        }
    }
}

/// The attempts counted against one key in its current window, this one included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    /// How many attempts the window holds.
    pub count: u32,
    /// When the window began (it ends `window` later).
    pub window_start: DateTime<Utc>,
}

/// Login-attempt counters shared by every process on the database; implemented for
/// [`SqlStore`] once [`crate::migrate`] has created the table, and part of
/// [`crate::ServerStore`]. Nothing here is audited (the caller audits the login itself)
/// except an operator's [`ThrottleStore::clear_login_lockout`]: the counters are written in
/// unaudited transactions ([`SqlStore::begin_unaudited`]).
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Counts one attempt against `key`, atomically, and returns the window's count with it.
    /// A window that began `window` or longer ago is over: the attempt opens a new one.
    /// Also removes a few rows of finished windows. A key longer than
    /// [`MAX_THROTTLE_KEY`] characters: [`StoreError::Invalid`].
    async fn count_login_attempt(
        &self,
        kind: ThrottleKind,
        key: &str,
        window: Duration,
    ) -> StoreResult<LoginAttempts>;

    /// Takes one counted attempt back (it succeeded); never below zero, no error if the key
    /// has no window.
    async fn forgive_login_attempt(&self, kind: ThrottleKind, key: &str) -> StoreResult<()>;

    /// Forgets every attempt counted against `key`.
    async fn clear_login_attempts(&self, kind: ThrottleKind, key: &str) -> StoreResult<()>;

    /// An operator's act: forgets the attempts counted against the username `key` (as the
    /// caller normalizes it) and audits `login_lockout_clear` in the same transaction,
    /// attributed to `actor`: resource type `user`, the id and organization of `user` (the
    /// account with that username, if there is one), and `key` with the number of attempts
    /// forgotten in the detail. Returns that number (0 when none were counted; still audited).
    async fn clear_login_lockout(
        &self,
        actor: &Actor,
        key: &str,
        user: Option<&User>,
    ) -> StoreResult<u32>;
}

#[derive(sqlx::FromRow)]
struct AttemptsRow {
    attempts: i64,
    window_start: DateTime<Utc>,
}

fn check_key(key: &str) -> StoreResult<()> {
    if key.chars().count() > MAX_THROTTLE_KEY {
        return Err(StoreError::Invalid {
            field: "throttle key",
            message: format!("must be at most {MAX_THROTTLE_KEY} characters"),
        });
    }
    Ok(())
}

/// The moment before which a window that began is over.
fn cutoff(at: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let window = TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX);
    at.checked_sub_signed(window)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Deletes up to [`SWEEP_BATCH`] rows of windows that ended before `cutoff`, in its own
/// statement. On PostgreSQL rows another transaction holds are skipped, so the sweep never
/// waits and never takes part in a deadlock.
async fn sweep_login_attempts(store: &SqlStore, cutoff: DateTime<Utc>) -> StoreResult<()> {
    let mut sql = Sql::new(
        "DELETE FROM login_throttle WHERE (kind, subject) IN \
         (SELECT kind, subject FROM login_throttle WHERE window_start <= ",
    );
    sql.bind(cutoff)
        .push(" ORDER BY window_start LIMIT ")
        .bind(SWEEP_BATCH);
    if store.backend() == Backend::Postgres {
        sql.push(" FOR UPDATE SKIP LOCKED");
    }
    sql.push(")");
    change_login_attempts(store, sql).await
}

/// Runs one statement on the counters in its own (unaudited) transaction.
async fn change_login_attempts(store: &SqlStore, sql: Sql) -> StoreResult<()> {
    let mut tx = store.begin_unaudited().await?;
    tx.execute(sql).await?;
    tx.commit().await
}

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn count_login_attempt(
        &self,
        kind: ThrottleKind,
        key: &str,
        window: Duration,
    ) -> StoreResult<LoginAttempts> {
        check_key(key)?;
        let at = now();
        let cutoff = cutoff(at, window);
        sweep_login_attempts(self, cutoff).await?;
        // One statement: insert the key's first attempt, or count one more in the current
        // window, or open a new window when the current one is over.
        let mut sql =
            Sql::new("INSERT INTO login_throttle (kind, subject, attempts, window_start) VALUES (");
        sql.bind(kind.as_str())
            .push(", ")
            .bind(key)
            .push(", 1, ")
            .bind(at)
            .push(
                ") ON CONFLICT (kind, subject) DO UPDATE SET \
                 attempts = CASE WHEN login_throttle.window_start <= ",
            )
            .bind(cutoff)
            .push(
                " THEN 1 ELSE login_throttle.attempts + 1 END, \
                 window_start = CASE WHEN login_throttle.window_start <= ",
            )
            .bind(cutoff)
            .push(
                " THEN excluded.window_start ELSE login_throttle.window_start END \
                 RETURNING attempts, window_start",
            );
        let mut tx = self.begin_unaudited().await?;
        let row: AttemptsRow = tx.fetch_one(sql).await?;
        tx.commit().await?;
        Ok(LoginAttempts {
            count: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            window_start: row.window_start,
        })
    }

    async fn forgive_login_attempt(&self, kind: ThrottleKind, key: &str) -> StoreResult<()> {
        check_key(key)?;
        let mut sql = Sql::new("UPDATE login_throttle SET attempts = attempts - 1 WHERE kind = ");
        sql.bind(kind.as_str())
            .push(" AND subject = ")
            .bind(key)
            .push(" AND attempts > 0");
        change_login_attempts(self, sql).await
    }

    async fn clear_login_attempts(&self, kind: ThrottleKind, key: &str) -> StoreResult<()> {
        check_key(key)?;
        let mut sql = Sql::new("DELETE FROM login_throttle WHERE kind = ");
        sql.bind(kind.as_str()).push(" AND subject = ").bind(key);
        change_login_attempts(self, sql).await
    }

    async fn clear_login_lockout(
        &self,
        actor: &Actor,
        key: &str,
        user: Option<&User>,
    ) -> StoreResult<u32> {
        check_key(key)?;
        let mut sql = Sql::new("DELETE FROM login_throttle WHERE kind = ");
        sql.bind(ThrottleKind::Username.as_str())
            .push(" AND subject = ")
            .bind(key)
            .push(" RETURNING attempts");
        let mut tx = self.begin().await?;
        let row: Option<(i64,)> = tx.fetch_optional(sql).await?;
        let cleared = row.map_or(0, |(attempts,)| u32::try_from(attempts).unwrap_or(u32::MAX));
        let entry = NewAuditEntry {
            action: "login_lockout_clear".to_owned(),
            actor: actor.clone(),
            organization_id: user.and_then(|user| user.organization_id),
            resource_type: Some("user".to_owned()),
            resource_id: user.map(|user| user.id.to_string()),
            detail: Some(format!("{key}: {cleared} counted login attempts forgotten")),
        };
        // Last statement before the commit (it locks the chain's head on PostgreSQL).
        tx.audit(entry).await?;
        tx.commit().await?;
        Ok(cleared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_end_after_their_length() {
        let at = now();
        assert_eq!(
            cutoff(at, Duration::from_secs(60)),
            at - TimeDelta::seconds(60)
        );
        // A window too long to represent never ends.
        assert_eq!(cutoff(at, Duration::MAX), DateTime::<Utc>::MIN_UTC);
    }
}
