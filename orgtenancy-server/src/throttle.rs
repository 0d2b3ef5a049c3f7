//! Failed-login throttling (SPEC §7: 429 after too many failed logins).
//!
//! Counts failures per username (case-insensitive) in one process's memory within a fixed
//! window; a successful login clears the count. Several server processes each count their
//! own failures, so the effective limit is per process. Throttling by username means an
//! attacker can delay a victim's logins for one window; it cannot guess passwords faster.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

/// Counts failed logins per username.
pub(crate) struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// Entries kept before expired ones are swept, to bound memory.
const SWEEP_AT: usize = 10_000;

impl LoginThrottle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> LoginThrottle {
        LoginThrottle {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` when `username` has used up its failures in this window.
    pub(crate) fn blocked(&self, username: &str) -> Option<u64> {
        if self.max_failures == 0 {
            return None;
        }
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = failures.get(&key(username))?;
        let elapsed = entry.since.elapsed();
        if elapsed >= self.window || entry.count < self.max_failures {
            return None;
        }
        Some(self.window.saturating_sub(elapsed).as_secs().max(1))
    }

    /// Counts one failure for `username`.
    pub(crate) fn record_failure(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= SWEEP_AT {
            let window = self.window;
            failures.retain(|_, entry| entry.since.elapsed() < window);
        }
        let now = Instant::now();
        let entry = failures.entry(key(username)).or_insert(Failures {
            count: 0,
            since: now,
        });
        if entry.since.elapsed() >= self.window {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        entry.count = entry.count.saturating_add(1);
    }

    /// Forgets the failures of `username` (after a successful login).
    pub(crate) fn clear(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.remove(&key(username));
    }
}

fn key(username: &str) -> String {
    username.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_clears_on_success() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(60));
        assert!(throttle.blocked("Ann").is_none());
        throttle.record_failure("ann");
        assert!(throttle.blocked("ann").is_none());
        throttle.record_failure("ANN");
        assert!(throttle.blocked("ann").is_some());
        throttle.clear("ann");
        assert!(throttle.blocked("ann").is_none());
    }
}
