//! How long a failed job waits before its next attempt: exponential backoff with jitter, so
//! jobs that failed together (an image API that went down) do not all come back together.

use std::time::Duration;

use rand::Rng;

/// The backoff policy of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failed attempt, before jitter.
    pub base: Duration,
    /// No wait is longer than this, whatever the attempt.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt `attempt` (1-based): at least what the handler asked
    /// for, and `base * 2^(attempt-1)` (capped at `max`) with ±25% jitter.
    pub fn delay(&self, attempt: u32, asked: Duration) -> Duration {
        self.delay_with(attempt, asked, &mut rand::rng())
    }

    fn delay_with(&self, attempt: u32, asked: Duration, rng: &mut impl Rng) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let exponential = self.base.saturating_mul(1u32 << doublings).min(self.max);
        let jitter = rng.random_range(0.75..=1.25);
        let jittered = exponential.mul_f64(jitter).min(self.max);
        jittered.max(asked.min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn policy() -> Backoff {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }

    #[test]
    fn waits_double_with_each_attempt_within_the_jitter() {
        let mut rng = StdRng::seed_from_u64(7);
        for (attempt, nominal) in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0)] {
            for _ in 0..50 {
                let d = policy()
                    .delay_with(attempt, Duration::ZERO, &mut rng)
                    .as_secs_f64();
                assert!(
                    d >= nominal * 0.75 && d <= nominal * 1.25,
                    "attempt {attempt}: {d}s"
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_jobs_that_failed_together() {
        let mut rng = StdRng::seed_from_u64(1);
        let waits: std::collections::HashSet<u128> = (0..20)
            .map(|_| policy().delay_with(3, Duration::ZERO, &mut rng).as_millis())
            .collect();
        assert!(waits.len() > 10, "{waits:?}");
    }

    #[test]
    fn never_longer_than_the_cap_and_never_shorter_than_asked() {
        let mut rng = StdRng::seed_from_u64(3);
        assert!(policy().delay_with(40, Duration::ZERO, &mut rng) <= Duration::from_secs(60));
        let asked = Duration::from_secs(30);
        assert!(policy().delay_with(1, asked, &mut rng) >= asked);
        // A handler cannot park a job for longer than the cap either.
        let greedy = Duration::from_secs(3600);
        assert_eq!(
            policy().delay_with(1, greedy, &mut rng),
            Duration::from_secs(60)
        );
    }
}
