//! "Has anything been committed to this database since?" — read from SQLite's WAL index.
//!
//! In WAL mode every commit, by any connection of any process, rewrites the header of the
//! WAL index (the `-shm` file beside the database) before the commit returns: its change
//! counter `iChange` goes up by one, and `mxFrame` and the salts move with it
//! (<https://www.sqlite.org/walformat.html>, "The WAL-Index Header"). Readers of every
//! process read this header to find their snapshot, so it is the database's own, shared
//! statement of what has been committed. A [`Mark`] is a copy of it: two marks are equal
//! only if no transaction committed between them.
//!
//! The header is written twice in a row (copy 2, a memory barrier, then copy 1) and read with
//! one `pread`; a read that catches a writer between the copies sees two different copies and
//! gives no mark, so the caller reads the database as if there were no mark at all.

use std::{
    collections::HashMap,
    fs::File,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

use rusqlite::Connection;

/// The length of one copy of the WAL-index header.
const HEADER: usize = 48;
/// The offset of `isInit` (1 once the header is valid) in a copy.
const IS_INIT: usize = 12;

/// The WAL-index header as read at one instant: equal marks, no commit in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark([u8; HEADER]);

impl Mark {
    /// A mark of `byte`s, for tests of what keeps marks.
    #[cfg(test)]
    pub(crate) fn for_tests(byte: u8) -> Mark {
        Mark([byte; HEADER])
    }

    /// The mark in `both`, the two copies of the header; `None` while a writer is between
    /// them or before the header is initialised.
    fn from_copies(both: &[u8; 2 * HEADER]) -> Option<Mark> {
        let (first, second) = both.split_at(HEADER);
        let copy: [u8; HEADER] = first.try_into().ok()?;
        (first == second && copy[IS_INIT] == 1).then_some(Mark(copy))
    }
}

/// The WAL index of one database file.
#[derive(Debug)]
pub(crate) struct Commits {
    database: PathBuf,
    index: OnceLock<Option<Index>>,
}

/// The open WAL index, and the connection that keeps it the file SQLite uses.
struct Index {
    /// A connection that has read the database: in WAL mode it holds a shared lock on the
    /// database file until it closes, and SQLite deletes a `-shm` file (to make a new one
    /// later) only when closing the last connection, under an exclusive lock. So while this
    /// connection lives, the `-shm` file opened below is the one every connection uses.
    _keeper: Mutex<Connection>,
    shm: Arc<File>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").finish_non_exhaustive()
    }
}

impl Commits {
    /// The WAL index beside the database at `database`, opened when first asked for; without
    /// one (not in WAL mode, not a Unix system) there are no marks.
    pub(crate) fn of(database: &Path) -> Commits {
        Commits {
            database: database.to_owned(),
            index: OnceLock::new(),
        }
    }

    /// What has been committed, as of now; `None` when it cannot be told.
    pub(crate) fn mark(&self) -> Option<Mark> {
        let index = self.index.get_or_init(|| open_index(&self.database));
        let mut both = [0u8; 2 * HEADER];
        read_at(&index.as_ref()?.shm, &mut both)?;
        Mark::from_copies(&both)
    }
}

fn open_index(database: &Path) -> Option<Index> {
    let opened = super::open_query_only(database).and_then(|keeper| {
        let mode: String = keeper.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        // A read opens the WAL index and takes the lock that keeps it.
        keeper.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        Ok((keeper, mode))
    });
    let (keeper, mode) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            tracing::debug!(%error, "no WAL index to tell commits by; nothing kept");
            return None;
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        return None;
    }
    Some(Index {
        _keeper: Mutex::new(keeper),
        shm: shm_file(database)?,
    })
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8]) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, 0).ok()
}

#[cfg(not(unix))]
fn read_at(_file: &File, _buffer: &mut [u8]) -> Option<()> {
    None
}

/// The `-shm` file of `database`, opened read-only once per process and never closed.
///
/// Never closed because closing *any* descriptor of a file drops every POSIX lock the
/// process holds on it, SQLite's locks on the WAL index included; another process could then
/// take the database for unused and reset the index under this one's readers. So descriptors
/// are kept by file (device and inode) for the life of the process: one per database file
/// the process opens (a `-shm` file SQLite deleted and made again is another file).
#[cfg(unix)]
fn shm_file(database: &Path) -> Option<Arc<File>> {
    use std::os::unix::fs::MetadataExt;
    /// Open `-shm` files by device and inode.
    type ByFile = HashMap<(u64, u64), Arc<File>>;
    static OPENED: OnceLock<Mutex<ByFile>> = OnceLock::new();
    let mut path = database.to_owned().into_os_string();
    path.push("-shm");
    let path = PathBuf::from(path);
    let seen = std::fs::metadata(&path).ok()?;
    let mut opened = OPENED.get_or_init(Mutex::default).lock().ok()?;
    if let Some(file) = opened.get(&(seen.dev(), seen.ino())) {
        return Some(Arc::clone(file));
    }
    let file = File::open(&path).ok()?;
    let Ok(meta) = file.metadata() else {
        std::mem::forget(file);
        return None;
    };
    let key = (meta.dev(), meta.ino());
    if let Some(known) = opened.get(&key) {
        // Replaced between the two looks and already known: keep this descriptor open too.
        let known = Arc::clone(known);
        std::mem::forget(file);
        return Some(known);
    }
    let file = Arc::new(file);
    opened.insert(key, Arc::clone(&file));
    Some(file)
}

#[cfg(not(unix))]
fn shm_file(_database: &Path) -> Option<Arc<File>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copies(first: [u8; HEADER], second: [u8; HEADER]) -> [u8; 2 * HEADER] {
        let mut both = [0u8; 2 * HEADER];
        both[..HEADER].copy_from_slice(&first);
        both[HEADER..].copy_from_slice(&second);
        both
    }

    #[test]
    fn a_mark_needs_two_equal_initialised_copies() {
        let mut header = [7u8; HEADER];
        header[IS_INIT] = 1;
        assert_eq!(
            Mark::from_copies(&copies(header, header)),
            Some(Mark(header))
        );
        let mut torn = header;
        torn[8] ^= 1;
        assert_eq!(Mark::from_copies(&copies(header, torn)), None, "torn");
        let mut unset = header;
        unset[IS_INIT] = 0;
        assert_eq!(
            Mark::from_copies(&copies(unset, unset)),
            None,
            "not initialised"
        );
    }
}
