//! Requests per second and latency percentiles from every request's latency.

use std::time::Duration;

use crate::client::Outcome;

/// The figures of one scenario.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Requests completed in the measured window.
    pub requests: usize,
    /// Requests that did not answer 2xx.
    pub failures: usize,
    /// Requests per second over the window.
    pub per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// The slowest request.
    pub max: Duration,
}

/// Summarises `outcomes`, completed in `window`.
pub fn summarise(mut outcomes: Vec<Outcome>, window: Duration) -> Summary {
    let failures = outcomes.iter().filter(|o| !o.is_success()).count();
    outcomes.sort_by_key(|o| o.latency);
    let seconds = window.as_secs_f64().max(f64::MIN_POSITIVE);
    Summary {
        requests: outcomes.len(),
        failures,
        per_second: outcomes.len() as f64 / seconds,
        p50: percentile(&outcomes, 50),
        p99: percentile(&outcomes, 99),
        max: outcomes.last().map_or(Duration::ZERO, |o| o.latency),
    }
}

/// The latency below which `pct` per cent of the (sorted) outcomes fall (nearest rank).
fn percentile(sorted: &[Outcome], pct: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted
        .get(rank - 1)
        .map_or(Duration::ZERO, |outcome| outcome.latency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(millis: &[u64]) -> Vec<Outcome> {
        millis
            .iter()
            .map(|&ms| Outcome {
                status: 200,
                latency: Duration::from_millis(ms),
            })
            .collect()
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let summary = summarise(
            outcomes(&(1..=100).rev().collect::<Vec<_>>()),
            Duration::from_secs(2),
        );
        assert_eq!(summary.requests, 100);
        assert_eq!(summary.per_second, 50.0);
        assert_eq!(summary.p50, Duration::from_millis(50));
        assert_eq!(summary.p99, Duration::from_millis(99));
        assert_eq!(summary.max, Duration::from_millis(100));
        let one = summarise(outcomes(&[7]), Duration::from_secs(1));
        assert_eq!(
            (one.p50, one.p99),
            (Duration::from_millis(7), Duration::from_millis(7))
        );
    }

    #[test]
    fn failures_are_counted() {
        let mut all = outcomes(&[1, 2, 3]);
        all.push(Outcome {
            status: 403,
            latency: Duration::from_millis(1),
        });
        assert_eq!(summarise(all, Duration::from_secs(1)).failures, 1);
    }
}
