//! One pooled connection for a whole unit of work: [`one_connection`].
//!
//! Every read of the store takes a connection from the pool and gives it back; sqlx pings a
//! connection each time it goes back (a round trip to a SQLite connection's thread, or to the
//! PostgreSQL server) and spawns a task to do so. Inside [`one_connection`] the first read's
//! connection is kept for the next reads of the same task instead, and goes back to the pool
//! once, when the work ends. Each statement is still its own snapshot (no transaction is
//! held open, and sqlx resets every statement when it finishes), so a change committed
//! before a read starts is seen by that read, held connection or not.
//!
//! A task that holds a connection never waits for a second one from the same pool: a write
//! transaction first gives the held connection back (so a pool of one connection, as an
//! in-memory SQLite store has, cannot deadlock), and a read while the held connection is in
//! use (two reads at once in one task) takes another from the pool as before.

use std::{cell::RefCell, future::Future};

use crate::db::PooledConn;

/// A connection kept between reads, and the pool it belongs to.
struct Held {
    pool: usize,
    conn: PooledConn,
}

tokio::task_local! {
    static HELD: RefCell<Option<Held>>;
}

/// Runs `work`, letting the store's reads in it share one pooled connection, which goes back
/// to the pool when `work` ends (or is dropped). The reference server runs each GET request
/// in one. Hold it for one request's worth of reads: meanwhile the connection serves no other
/// task (a pool of SQLite connections has 8, of PostgreSQL 10).
///
/// ```
/// # async fn demo() -> Result<(), orgtenancy_sqlx::StoreError> {
/// let store = orgtenancy_sqlx::connect("sqlite::memory:").await?;
/// let empty = orgtenancy_sqlx::one_connection(async {
///     store.has_no_users().await
/// })
/// .await?;
/// assert!(empty);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
// A plain function returning tokio's scope future, not an `async fn`: an `async fn` would keep
// `work` twice in its state (the argument, and the scope future that holds it), and a
// request's future is moved in memory whole.
pub fn one_connection<F: Future>(work: F) -> impl Future<Output = F::Output> {
    HELD.scope(RefCell::new(None), work)
}

/// Whether the current task runs inside [`one_connection`].
pub(crate) fn in_scope() -> bool {
    HELD.try_with(|_| ()).is_ok()
}

/// The connection of `pool` the current task holds, taken out of its slot.
pub(crate) fn take(pool: usize) -> Option<PooledConn> {
    HELD.try_with(|slot| {
        let mut slot = slot.try_borrow_mut().ok()?;
        match slot.take() {
            Some(held) if held.pool == pool => Some(held.conn),
            other => {
                *slot = other;
                None
            }
        }
    })
    .ok()
    .flatten()
}

/// Keeps `conn` of `pool` for the current task's next read, if the task is inside
/// [`one_connection`] and holds no other connection; else it goes back to the pool.
pub(crate) fn keep(pool: usize, conn: PooledConn) {
    // Outside a scope the closure is dropped unrun, and with it `conn`.
    let _ = HELD.try_with(move |slot| {
        if let Ok(mut slot) = slot.try_borrow_mut()
            && slot.is_none()
        {
            *slot = Some(Held { pool, conn });
        }
    });
}
