//! Password hashing off the async runtime, on a small fixed pool of worker threads.
//!
//! argon2id is deliberately slow and takes 19 MiB per hash. On tokio's blocking pool every
//! concurrent login took another thread, and the allocator kept each thread's freed 19 MiB
//! in that thread's arena: the server's memory grew with the number of threads that had ever
//! hashed (≈150 MiB after 32 concurrent logins). A fixed pool bounds that memory (workers ×
//! 19 MiB) and the CPU a flood of logins can take; further requests wait in the queue. Each
//! worker keeps its 19 MiB ([`Hasher`]) instead of asking the allocator for it on
//! every login, so that memory is taken once and never returned to be fragmented.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Mutex, OnceLock, PoisonError, mpsc},
    thread,
};

use orgtenancy_sqlx::password::Hasher;
use tokio::sync::oneshot;

use crate::error::ApiError;

/// At most this many hashes run at once (fewer on a one-core machine).
const MAX_WORKERS: usize = 2;

type Job = Box<dyn FnOnce(&mut Hasher) + Send>;

/// The argon2id PHC string for `plain`.
pub(crate) async fn hash(plain: String) -> Result<String, ApiError> {
    run(move |hasher| hasher.hash(&plain))
        .await?
        .map_err(ApiError::from)
}

/// Whether `plain` matches `stored`. With no stored hash (an unknown username) a dummy
/// verification of the same cost runs, so both cases take the same time.
pub(crate) async fn verify(plain: String, stored: Option<String>) -> Result<bool, ApiError> {
    run(move |hasher| match stored {
        Some(phc) => hasher.verify(&plain, &phc),
        None => {
            hasher.dummy_verify(&plain);
            false
        }
    })
    .await
}

/// Runs `work` on a password worker and waits for its result without blocking the runtime.
async fn run<T: Send + 'static>(
    work: impl FnOnce(&mut Hasher) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (reply, result) = oneshot::channel();
    let job: Job = Box::new(move |hasher| {
        // The receiver may have gone (the request was cancelled): nothing to tell.
        let _ = reply.send(work(hasher));
    });
    workers()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send(job)
        .map_err(|_| ApiError::internal(&"no password worker is running"))?;
    result
        .await
        .map_err(|_| ApiError::internal(&"a password worker failed"))
}

/// The queue of the process-wide workers, started on first use.
fn workers() -> &'static Mutex<mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let count = thread::available_parallelism()
            .map_or(1, |cores| cores.get())
            .min(MAX_WORKERS);
        for index in 0..count {
            let receiver = Arc::clone(&receiver);
            let spawned = thread::Builder::new()
                .name(format!("password-{index}"))
                .spawn(move || work_loop(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password worker");
            }
        }
        Mutex::new(sender)
    })
}

/// Takes jobs until the queue closes. A panicking job drops its reply (the request gets a
/// 500) but does not take the worker down.
fn work_loop(receiver: &Mutex<mpsc::Receiver<Job>>) {
    let mut hasher = Hasher::new();
    loop {
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        match job {
            Ok(job) => {
                let _ = catch_unwind(AssertUnwindSafe(|| job(&mut hasher)));
            }
            Err(mpsc::RecvError) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_many_run_through_the_pool() {
        let stored = hash("correct horse".to_owned()).await.unwrap();
        let checks: Vec<_> = (0..6)
            .map(|i| {
                let stored = stored.clone();
                let plain = if i % 2 == 0 { "correct horse" } else { "wrong" };
                tokio::spawn(async move { verify(plain.to_owned(), Some(stored)).await.unwrap() })
            })
            .collect();
        let mut results = Vec::new();
        for check in checks {
            results.push(check.await.unwrap());
        }
        assert_eq!(results, [true, false, true, false, true, false]);
        assert!(!verify("x".to_owned(), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_pool_survives() {
        let failed = run(|_| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
        for _ in 0..MAX_WORKERS + 1 {
            assert_eq!(run(|_| 7).await.unwrap(), 7);
        }
    }
}
