//! The reads of every request, run on the calling thread: [`InlineReaders`].
//!
//! sqlx's SQLite driver runs each connection on a thread of its own and passes every command
//! and every row over channels to it. Under load that hand-off, not SQLite, is the request's
//! cost: a profile of the server answering `GET /organizations/{id}` spent a third of its
//! samples switching between threads (`finish_task_switch`, futex wake-ups from the driver's
//! channels), and a primary-key read took 7.5 µs through a held sqlx connection against
//! 1.3 µs through rusqlite on the calling thread (`cargo bench -p orgtenancy-sqlx --bench
//! driver`). So the few statements every request runs — the caller's user and its token's
//! revocation, an organization by id, a page of members — are read here, with rusqlite, on
//! connections of the same file, on the thread that asks.
//!
//! What keeps this correct and safe:
//!
//! * Each statement is its own snapshot of what was committed when it began, by this
//!   process or any other (WAL, autocommit): exactly the guarantee of the sqlx path, so
//!   every change is seen by the next request. A single-row answer is kept and given again
//!   only while the WAL index shows no commit since before it was read ([`answers`],
//!   [`commits`]): that is the same guarantee, without running the statement again.
//! * The connections refuse writes (`PRAGMA query_only`) and never wait: their busy timeout
//!   is zero. A read that would wait (a WAL reset in progress), any error, and any value this
//!   module does not decode exactly as sqlx does is not answered here: the caller runs the
//!   same statement through sqlx, which waits, reports and decides as it always did. The
//!   thread is therefore held only for the read itself, a few microseconds on cached pages.
//! * Only a file database has them; an in-memory one is a single connection of sqlx's pool.

use std::{path::PathBuf, sync::Mutex, time::Duration};

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{
    Connection, OpenFlags,
    types::{Value, ValueRef},
};

use crate::statement::Sql;

mod answers;
mod commits;

use answers::Answers;
use commits::Commits;

/// Connections kept idle at most; more may exist while requests read at once, and the
/// surplus is closed when they are done.
const MAX_IDLE: usize = 8;

/// Query-only connections of one SQLite file, used on the calling thread.
pub(crate) struct InlineReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    commits: Commits,
    answers: Answers,
}

impl std::fmt::Debug for InlineReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineReaders")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A row type the inline path decodes. `None` for a value it does not decode exactly as
/// sqlx would, so the caller asks sqlx instead.
pub(crate) trait InlineRow: Sized {
    fn from_inline(row: &rusqlite::Row<'_>) -> Option<Self>;
}

impl InlineReaders {
    /// Connections of the database file at `path`, opened when first needed.
    pub(crate) fn new(path: PathBuf) -> InlineReaders {
        InlineReaders {
            commits: Commits::of(&path),
            path,
            idle: Mutex::new(Vec::with_capacity(MAX_IDLE)),
            answers: Answers::default(),
        }
    }

    /// At most one row of `sql`; `None` when this path cannot answer (see the module
    /// documentation). Kept until the next commit to the database ([`answers`]).
    pub(crate) fn fetch_optional<R>(&self, sql: &Sql) -> Option<Option<R>>
    where
        R: InlineRow + Clone + Send + Sync + 'static,
    {
        self.kept(
            sql,
            |_| 1,
            |text, values| {
                self.with_connection(|conn| rows(conn, text, values, 1))
                    .map(|rows| rows.into_iter().next())
            },
        )
    }

    /// Every row of `sql`; `None` when this path cannot answer. Kept as
    /// [`InlineReaders::fetch_optional`] is.
    pub(crate) fn fetch_all<R>(&self, sql: &Sql) -> Option<Vec<R>>
    where
        R: InlineRow + Clone + Send + Sync + 'static,
    {
        self.kept(sql, Vec::len, |text, values| {
            self.with_connection(|conn| rows(conn, text, values, usize::MAX))
        })
    }

    /// The answer kept for `sql` while nothing has been committed since it was read, else
    /// `read`'s (kept, weighing `rows` rows, when the database's mark could be read first).
    fn kept<T: Clone + Send + Sync + 'static>(
        &self,
        sql: &Sql,
        rows: impl FnOnce(&T) -> usize,
        read: impl FnOnce(&str, Vec<Value>) -> Option<T>,
    ) -> Option<T> {
        let (text, values) = sql.render_inline();
        let Some(before) = self.commits.mark() else {
            return read(&text, values);
        };
        let key = answers::key::<T>(&text, &values);
        if let Some(kept) = self.answers.get::<T>(before, &key) {
            return Some(kept);
        }
        let answer = read(&text, values)?;
        self.answers.put(before, key, rows(&answer), answer.clone());
        Some(answer)
    }

    fn with_connection<T>(&self, read: impl FnOnce(&Connection) -> Option<T>) -> Option<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let answer = read(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
        answer
    }

    fn open(&self) -> Option<Connection> {
        let opened = open_query_only(&self.path).and_then(|conn| {
            conn.busy_timeout(Duration::ZERO)?;
            Ok(conn)
        });
        match opened {
            Ok(conn) => Some(conn),
            Err(error) => {
                tracing::debug!(%error, "no inline reader; reading through sqlx");
                None
            }
        }
    }
}

/// A connection of the file at `path` that refuses writes (`PRAGMA query_only`), without
/// SQLite's per-connection mutex (one thread uses it at a time).
fn open_query_only(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// Up to `at_most` rows of `sql`, run as a cached statement. Dropping the rows resets the
/// statement, which ends its read snapshot.
fn rows<R: InlineRow>(
    conn: &Connection,
    text: &str,
    values: Vec<Value>,
    at_most: usize,
) -> Option<Vec<R>> {
    let mut statement = conn.prepare_cached(text).ok()?;
    let mut rows = statement.query(rusqlite::params_from_iter(values)).ok()?;
    let mut all = Vec::new();
    while all.len() < at_most {
        match rows.next().ok()? {
            Some(row) => all.push(R::from_inline(row)?),
            None => break,
        }
    }
    Some(all)
}

/// A column as sqlx decodes an `i64`: an integer.
pub(crate) fn int(row: &rusqlite::Row<'_>, index: usize) -> Option<i64> {
    match row.get_ref(index).ok()? {
        ValueRef::Integer(value) => Some(value),
        _ => None,
    }
}

/// A nullable integer column.
pub(crate) fn opt_int(row: &rusqlite::Row<'_>, index: usize) -> Option<Option<i64>> {
    match row.get_ref(index).ok()? {
        ValueRef::Null => Some(None),
        ValueRef::Integer(value) => Some(Some(value)),
        _ => None,
    }
}

/// A boolean column: an integer, true when not zero (as sqlx decodes it).
pub(crate) fn boolean(row: &rusqlite::Row<'_>, index: usize) -> Option<bool> {
    int(row, index).map(|value| value != 0)
}

/// A text column.
pub(crate) fn text(row: &rusqlite::Row<'_>, index: usize) -> Option<String> {
    match row.get_ref(index).ok()? {
        ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec()).ok(),
        _ => None,
    }
}

/// A nullable text column.
pub(crate) fn opt_text(row: &rusqlite::Row<'_>, index: usize) -> Option<Option<String>> {
    match row.get_ref(index).ok()? {
        ValueRef::Null => Some(None),
        ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec()).ok().map(Some),
        _ => None,
    }
}

/// A time column as the store writes it (RFC 3339, as sqlx encodes a `DateTime<Utc>`) or as
/// SQLite's `CURRENT_TIMESTAMP` does; any other form is left to sqlx.
pub(crate) fn time(row: &rusqlite::Row<'_>, index: usize) -> Option<DateTime<Utc>> {
    let text = match row.get_ref(index).ok()? {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok()?,
        _ => return None,
    };
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%F %T%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests;
