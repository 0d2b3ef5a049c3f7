//! The store's SQLite write transactions take turns in this process: [`WriteQueue`].
//!
//! SQLite has one write lock per database. A `BEGIN IMMEDIATE` that cannot take it sleeps in
//! SQLite's busy handler (1, 2, 5, 10, … 100 ms at a time) and tries again, so when many
//! requests write at once they spend their time asleep, win the lock by luck, and the tail
//! grows with the number of contenders. The store's own writers therefore queue here first,
//! in order (a tokio semaphore of one permit, held until the transaction ends), and only the
//! head of the queue asks SQLite for the lock. A writer in another process still meets the
//! busy handler, as before.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::connect::SQLITE_BUSY_TIMEOUT;

/// The turn of one write transaction; the next writer's turn begins when it is dropped.
pub(crate) type WriteTurn = OwnedSemaphorePermit;

/// The queue of one store's SQLite write transactions.
#[derive(Debug, Clone)]
pub(crate) struct WriteQueue(Arc<Semaphore>);

impl WriteQueue {
    pub(crate) fn new() -> WriteQueue {
        WriteQueue(Arc::new(Semaphore::new(1)))
    }

    /// Waits for this writer's turn, as long as SQLite's busy timeout would have waited for
    /// the lock (a task that begins a second write while it holds one fails then, as it
    /// failed on the lock before, instead of waiting for itself forever).
    pub(crate) async fn turn(&self) -> Result<WriteTurn, sqlx::Error> {
        tokio::time::timeout(SQLITE_BUSY_TIMEOUT, Arc::clone(&self.0).acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)
    }
}
