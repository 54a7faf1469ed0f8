//! Failed authentication attempts per client address: a keyed GCRA limiter
//! (`governor`, MIT) allows a burst of `per_minute` failures that refills at
//! that rate; past it, the address is answered 429 for every authenticated
//! request — a right guess included — until the wait is over, so that
//! guessing tokens is no faster than the limit.
//!
//! The address is the TCP peer's, or, from a proxy given with
//! `--trusted-proxy`, the client its `X-Forwarded-For` names
//! ([`client_address`](super::guard::client_address)); behind a proxy not
//! declared, every client shares the proxy's limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Blocked addresses kept before the expired ones are swept.
const SWEEP_AT: usize = 10_000;

pub struct Failures {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl Failures {
    pub fn per_minute(n: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `ip` is still blocked, if it is.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&ip)?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Counts a failure of `ip`: `Some(wait)` when that one was over the limit
    /// (the address is now blocked for `wait`).
    pub fn failed(&self, ip: IpAddr) -> Option<Duration> {
        let Err(not_until) = self.limiter.check_key(&ip) else {
            return None;
        };
        let wait = not_until.wait_time_from(self.clock.now()).max(Duration::from_secs(1));
        if let Ok(mut blocked) = self.blocked.lock() {
            if blocked.len() >= SWEEP_AT {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
                self.limiter.retain_recent();
            }
            blocked.insert(ip, Instant::now() + wait);
        }
        tracing::warn!(client = %ip, wait_s = wait.as_secs(), "too many failed authentication attempts: blocking the address");
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_then_a_block_for_that_address_only() {
        let f = Failures::per_minute(NonZeroU32::new(3).unwrap());
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(f.failed(a), None);
        }
        assert!(f.blocked(a).is_none());
        let wait = f.failed(a).expect("the 4th failure is over the limit");
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(f.blocked(a).is_some());
        assert!(f.blocked(b).is_none());
        assert_eq!(f.failed(b), None);
    }
}
