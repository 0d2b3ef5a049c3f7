//! Password hashing off the async runtime, on a small fixed pool of worker threads.
//!
//! argon2id is deliberately slow and takes 19 MiB per hash. On tokio's blocking pool every
//! concurrent login took another thread, and the allocator kept each thread's freed 19 MiB:
//! the server's memory grew with the number of threads that had ever hashed (≈150 MiB after
//! 32 concurrent logins). Here a fixed number of workers (`--password-workers`, default 1)
//! each keep their 19 MiB ([`Hasher`]) for the pool's lifetime, so the memory passwords take
//! is workers × 19 MiB whatever the load, and a flood of logins takes at most that many
//! cores; further requests wait in the queue.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Mutex, PoisonError, mpsc},
    thread,
};

use orgtenancy_sqlx::password::Hasher;
use tokio::sync::{OnceCell, oneshot};

use crate::error::ApiError;

type Job = Box<dyn FnOnce(&mut Hasher) + Send>;

/// The password workers of one app. Dropping it closes the queue; the workers finish the
/// jobs already queued and exit, and their memory is freed.
pub(crate) struct Passwords {
    queue: Mutex<mpsc::Sender<Job>>,
    /// What an unknown username's password is verified against (see [`Passwords::verify`]).
    dummy: OnceCell<String>,
}

impl Passwords {
    /// Starts `workers` threads (at least one).
    pub(crate) fn new(workers: usize) -> Passwords {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..workers.max(1) {
            let receiver = Arc::clone(&receiver);
            let spawned = thread::Builder::new()
                .name(format!("password-{index}"))
                .spawn(move || work_loop(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password worker");
            }
        }
        Passwords {
            queue: Mutex::new(sender),
            dummy: OnceCell::new(),
        }
    }

    /// The argon2id PHC string for `plain`.
    pub(crate) async fn hash(&self, plain: String) -> Result<String, ApiError> {
        self.run(move |hasher| hasher.hash(&plain))
            .await?
            .map_err(ApiError::from)
    }

    /// Whether `plain` matches `stored`. With no stored hash (an unknown username) the same
    /// verification runs against a hash of a fixed text, made once with the parameters of
    /// real hashes, so both cases cost the same.
    pub(crate) async fn verify(
        &self,
        plain: String,
        stored: Option<String>,
    ) -> Result<bool, ApiError> {
        let (phc, real) = match stored {
            Some(phc) => (phc, true),
            None => (self.dummy_hash().await?.to_owned(), false),
        };
        let matches = self.run(move |hasher| hasher.verify(&plain, &phc)).await?;
        Ok(real && matches)
    }

    async fn dummy_hash(&self) -> Result<&str, ApiError> {
        self.dummy
            .get_or_try_init(|| self.hash("no user has this password".to_owned()))
            .await
            .map(String::as_str)
    }

    /// Runs `work` on a worker and waits for its result without blocking the runtime.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Hasher) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |hasher| {
            // The receiver may have gone (the request was cancelled): nothing to tell.
            let _ = reply.send(work(hasher));
        });
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .map_err(|_| ApiError::internal(&"no password worker is running"))?;
        result
            .await
            .map_err(|_| ApiError::internal(&"a password worker failed"))
    }
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

    /// The algorithm, version and cost parameters of a PHC string (everything before the salt).
    fn cost(phc: &str) -> String {
        phc.split('$').take(4).collect::<Vec<_>>().join("$")
    }

    #[tokio::test]
    async fn hashes_verify_and_many_run_through_the_pool() {
        let pool = Arc::new(Passwords::new(2));
        let stored = pool.hash("correct horse".to_owned()).await.unwrap();
        let checks: Vec<_> = (0..6)
            .map(|i| {
                let (pool, stored) = (Arc::clone(&pool), stored.clone());
                let plain = if i % 2 == 0 { "correct horse" } else { "wrong" };
                tokio::spawn(async move { pool.verify(plain.to_owned(), Some(stored)).await })
            })
            .collect();
        let mut results = Vec::new();
        for check in checks {
            results.push(check.await.unwrap().unwrap());
        }
        assert_eq!(results, [true, false, true, false, true, false]);
    }

    // An unknown username costs what a wrong password costs because both run the same
    // verification against a hash of the same parameters; checked on the parameters, not on
    // a clock. Even the dummy's own text does not log an unknown user in.
    #[tokio::test]
    async fn unknown_users_verify_against_a_dummy_of_the_same_cost() {
        let pool = Passwords::new(1);
        let real = pool.hash("a real password".to_owned()).await.unwrap();
        let dummy = pool.dummy_hash().await.unwrap().to_owned();
        assert_eq!(cost(&dummy), cost(&real));
        assert!(cost(&real).starts_with("$argon2id$v=19$m="), "{real}");
        let text = "no user has this password".to_owned();
        assert!(
            pool.verify(text.clone(), Some(dummy.clone()))
                .await
                .unwrap()
        );
        assert!(!pool.verify(text, None).await.unwrap());
        // Made once per pool.
        assert_eq!(pool.dummy_hash().await.unwrap(), dummy);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_workers_survive() {
        let pool = Passwords::new(2);
        let failed = pool.run(|_| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
        for _ in 0..3 {
            assert_eq!(pool.run(|_| 7).await.unwrap(), 7);
        }
    }

    #[tokio::test]
    async fn dropping_the_pool_stops_its_workers() {
        thread_local! {
            static HELD: std::cell::RefCell<Option<mpsc::Sender<()>>> =
                const { std::cell::RefCell::new(None) };
        }
        let pool = Passwords::new(1);
        let (alive, watch) = mpsc::channel::<()>();
        // The worker thread keeps `alive` until the thread ends.
        pool.run(move |_| HELD.with(|held| *held.borrow_mut() = Some(alive)))
            .await
            .unwrap();
        drop(pool);
        let ended = watch.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(ended, Err(mpsc::RecvTimeoutError::Disconnected));
    }
}
