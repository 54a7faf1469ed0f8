//! Failed authentication attempts per client address: a keyed GCRA limiter
//! (`governor`, MIT) allows a burst of `per_minute` failures that refills at
//! that rate; past it, the address is answered 429 for every authenticated
//! request — a right guess included — until the wait is over, so that
//! guessing tokens is no faster than the limit.
//!
//! The address is the TCP peer's, or, from a proxy given with
//! `--trusted-proxy`, the client its `X-Forwarded-For` names
//! ([`client_address`](super::client::client_address)); behind a proxy not
//! declared, every client shares the proxy's limit. An IPv6 client is its
//! /64 network: a host is routinely given a whole /64, and counted per
//! address it could take a new one for each guess.
//!
//! What is remembered is bounded whatever clients do: the clients that
//! failed lately (swept every [`SWEEP_EVERY`]), at most [`MAX_TRACKED`] of
//! them. Past that many, further failures are not counted until older ones
//! are forgotten (blocks already given stay; a warning says so, once a minute). Availability wins over
//! slowing such a wide attack down: a token has 256 random bits, so the limit
//! guards the server's effort, not the tokens' secrecy, and counting every
//! client together would lock every legitimate user out for whoever holds
//! enough addresses (an IPv6 /48 is 65,536 /64s).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Most clients whose failures are remembered at once (some 50 bytes each
/// in the limiter, as many again when blocked).
pub const MAX_TRACKED: usize = 50_000;

/// How often the clients whose failures have refilled are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// How often at most a full table is swept (each sweep reads all of it).
const SWEEP_FULL_EVERY: Duration = Duration::from_secs(1);

/// Whose failures count together: an IPv4 address, or an IPv6 /64 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Client(IpAddr);

impl Client {
    fn of(ip: IpAddr) -> Self {
        Client(match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
            v4 => v4,
        })
    }
}

/// How often at most the server warns that failures go uncounted.
const WARN_FULL_EVERY: Duration = Duration::from_secs(60);

pub struct Failures {
    limiter: DefaultKeyedRateLimiter<Client>,
    clock: DefaultClock,
    blocked: Mutex<HashMap<Client, Instant>>,
    swept: Mutex<Instant>,
    /// When the server last warned that the table is full.
    warned_full: Mutex<Option<Instant>>,
}

impl Failures {
    pub fn per_minute(n: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
            swept: Mutex::new(Instant::now()),
            warned_full: Mutex::new(None),
        }
    }

    /// Whether the table is full: new clients' failures are not counted.
    fn full(&self) -> bool {
        self.limiter.len() >= MAX_TRACKED
    }

    /// How long `ip` is still blocked, if it is.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&Client::of(ip))?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Counts a failure of `ip`: `Some(wait)` when that one was over the limit
    /// (the address is now blocked for `wait`).
    pub fn failed(&self, ip: IpAddr) -> Option<Duration> {
        self.sweep();
        // Full: counting this client would grow the table. A block given
        // before stays in force until its end.
        if self.full() {
            self.warn_full(ip);
            return None;
        }
        let client = Client::of(ip);
        let Err(not_until) = self.limiter.check_key(&client) else {
            return None;
        };
        let wait = not_until.wait_time_from(self.clock.now()).max(Duration::from_secs(1));
        if let Ok(mut blocked) = self.blocked.lock() {
            blocked.insert(client, Instant::now() + wait);
        }
        tracing::warn!(client = %ip, wait_s = wait.as_secs(), "too many failed authentication attempts: blocking the address");
        Some(wait)
    }

    fn warn_full(&self, ip: IpAddr) {
        let Ok(mut warned) = self.warned_full.lock() else {
            return;
        };
        if warned.is_none_or(|t| t.elapsed() >= WARN_FULL_EVERY) {
            *warned = Some(Instant::now());
            tracing::warn!(
                client = %ip,
                "failed authentication attempts from more than {MAX_TRACKED} addresses at once: \
                 further failures are not limited until older ones are forgotten"
            );
        }
    }

    /// Forgets the clients whose failures have refilled and whose block is
    /// over: every [`SWEEP_EVERY`], or [`SWEEP_FULL_EVERY`] while the table
    /// is full. A request never waits for another's sweep.
    fn sweep(&self) {
        let Ok(mut swept) = self.swept.try_lock() else {
            return;
        };
        let every = if self.full() { SWEEP_FULL_EVERY } else { SWEEP_EVERY };
        if swept.elapsed() < every {
            return;
        }
        *swept = Instant::now();
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        if let Ok(mut blocked) = self.blocked.lock() {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
            blocked.shrink_to_fit();
        }
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

    /// A new address for each guess within one IPv6 /64 is one client.
    #[test]
    fn an_ipv6_client_is_its_64() {
        let f = Failures::per_minute(NonZeroU32::new(3).unwrap());
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for i in 1..=3 {
            assert_eq!(f.failed(ip(&format!("2001:db8:1:2::{i}"))), None);
        }
        assert!(f.failed(ip("2001:db8:1:2:ffff::4")).is_some());
        assert!(f.blocked(ip("2001:db8:1:2::99")).is_some());
        assert!(f.blocked(ip("2001:db8:1:3::1")).is_none());
        // An IPv4 address written as IPv6 is that address.
        for _ in 0..3 {
            assert_eq!(f.failed(ip("192.0.2.1")), None);
        }
        assert!(f.failed(ip("::ffff:192.0.2.1")).is_some());
        assert!(f.blocked(ip("192.0.2.2")).is_none());
    }

    /// One failure from each of more addresses than are remembered: the
    /// table stops at its bound, past it failures are not counted, a block
    /// given before stays, and nobody who did not fail is ever blocked.
    #[test]
    fn what_is_remembered_is_bounded() {
        let f = Failures::per_minute(NonZeroU32::new(3).unwrap());
        let v4 = |i: usize| IpAddr::from(u32::try_from(0x0a00_0000 + i).unwrap().to_be_bytes());
        let guesser: IpAddr = "192.0.2.7".parse().unwrap();
        while f.failed(guesser).is_none() {}
        for i in 0..MAX_TRACKED {
            let _ = f.failed(v4(i));
        }
        for i in 0..MAX_TRACKED {
            let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, (i >> 16) as u16, i as u16, 0, 0, 0, 1));
            for _ in 0..5 {
                assert_eq!(f.failed(v6), None);
            }
        }
        assert!(f.limiter.len() <= MAX_TRACKED, "{} clients", f.limiter.len());
        assert_eq!(f.blocked.lock().unwrap().len(), 1);
        assert!(f.blocked(guesser).is_some());
        assert!(f.blocked("198.51.100.1".parse().unwrap()).is_none());
    }
}
