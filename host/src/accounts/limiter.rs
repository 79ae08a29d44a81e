//! Login attempts, rate-limited per email and per client address: guessing passwords for
//! one account, or for many accounts from one place, slows to a crawl.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Per email: a burst of 10 attempts, then one every 30 seconds.
const EMAIL_BURST: u32 = 10;
const EMAIL_PERIOD: Duration = Duration::from_secs(30);
/// Per client address: a burst of 30 attempts, then one every 2 seconds.
const IP_BURST: u32 = 30;
const IP_PERIOD: Duration = Duration::from_secs(2);

/// The limits, and when the next attempt is allowed.
pub struct LoginLimiter {
    by_email: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(EMAIL_BURST, EMAIL_PERIOD, IP_BURST, IP_PERIOD)
    }
}

fn quota(burst: u32, period: Duration) -> Quota {
    Quota::with_period(period)
        .expect("a positive period")
        .allow_burst(NonZeroU32::new(burst).expect("a positive burst"))
}

impl LoginLimiter {
    pub fn new(
        email_burst: u32,
        email_period: Duration,
        ip_burst: u32,
        ip_period: Duration,
    ) -> Self {
        Self {
            by_email: RateLimiter::keyed(quota(email_burst, email_period)),
            by_ip: RateLimiter::keyed(quota(ip_burst, ip_period)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt; `Err(wait)` when it is over either limit.
    pub fn attempt(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        let now = self.clock.now();
        if let Some(ip) = ip
            && let Err(not_until) = self.by_ip.check_key(&ip)
        {
            return Err(not_until.wait_time_from(now));
        }
        self.by_email
            .check_key(&email.to_string())
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets keys that are back to a full burst (called periodically).
    pub fn forget_idle(&self) {
        self.by_email.retain_recent();
        self.by_ip.retain_recent();
        self.by_email.shrink_to_fit();
        self.by_ip.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_limited_after_its_burst() {
        let l = LoginLimiter::new(3, Duration::from_secs(60), 100, Duration::from_secs(1));
        for _ in 0..3 {
            assert!(l.attempt("a@x.com", None).is_ok());
        }
        let wait = l.attempt("a@x.com", None).unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        // Another account is not affected.
        assert!(l.attempt("b@x.com", None).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_emails() {
        let l = LoginLimiter::new(100, Duration::from_secs(1), 2, Duration::from_secs(60));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(l.attempt("a@x.com", Some(ip)).is_ok());
        assert!(l.attempt("b@x.com", Some(ip)).is_ok());
        assert!(l.attempt("c@x.com", Some(ip)).is_err());
        assert!(
            l.attempt("c@x.com", Some("203.0.113.8".parse().unwrap()))
                .is_ok()
        );
    }
}
