//! Retry timing, written once: bounded attempts, exponential backoff with
//! jitter, `Retry-After` honoured up to a cap. Request retries (`http`,
//! [`REQUESTS`]) and the informer's (its machine's one [`Policy`], which
//! retries list pages and watches alike) both draw their delays from here. The arithmetic is pure
//! ([`Backoff::next_delay_with`] takes the random number);
//! [`Backoff::next_delay`] draws one itself ([`random_unit`]).

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Exponential backoff with "equal jitter": the n-th delay is drawn from
/// [d/2, d] where d = base * 2^n, capped. Jitter keeps many clients that
/// failed together (an apiserver restart) from reconnecting in lockstep.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    pub const fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap, failures: 0 }
    }

    /// The delay before the next attempt; each call doubles the next one.
    /// `unit` is a random number in [0, 1).
    pub fn next_delay_with(&mut self, unit: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.failures.min(20));
        let d = exp.min(self.cap);
        self.failures = self.failures.saturating_add(1);
        d / 2 + d.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
    }

    /// The delay before the next attempt, with a fresh random jitter.
    pub fn next_delay(&mut self) -> Duration {
        self.next_delay_with(random_unit())
    }

    /// After a healthy period: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A random number in [0, 1), from the per-process random keys std already
/// draws for HashMap (no extra dependency for a few bits of jitter).
pub fn random_unit() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// How one request is retried.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// A server's `Retry-After` is honoured up to this.
    pub retry_after_cap: Duration,
}

/// For every request: 4 attempts, 250 ms doubling (jittered) up to 4 s, so
/// an endpoint that answers 503 to everything fails in about 2 s (kube's own
/// layer would try 15 times with delays up to 1000 s: it is turned off).
pub const REQUESTS: Policy = Policy {
    attempts: 4,
    base: Duration::from_millis(250),
    cap: Duration::from_secs(4),
    retry_after_cap: Duration::from_secs(5),
};

impl Policy {
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.base, self.cap)
    }

    /// The wait before retrying: the server's `Retry-After` when it gave one
    /// (capped), the backoff otherwise.
    pub fn delay(&self, backoff: &mut Backoff, retry_after: Option<Duration>) -> Duration {
        let d = backoff.next_delay();
        retry_after.map_or(d, |r| r.min(self.retry_after_cap))
    }
}

/// `Retry-After` in its delta-seconds form (what the apiserver sends); an
/// HTTP date is ignored and the backoff used instead.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_within_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(b.next_delay_with(0.0), Duration::from_millis(50));
        assert_eq!(b.next_delay_with(0.999_999), Duration::from_nanos(199_999_900));
        assert_eq!(b.next_delay_with(0.5), Duration::from_millis(300));
        for _ in 0..40 {
            assert!(b.next_delay_with(1.0) <= Duration::from_secs(1));
        }
        b.reset();
        assert_eq!(b.next_delay_with(0.0), Duration::from_millis(50));
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let mut b = REQUESTS.backoff();
        assert_eq!(REQUESTS.delay(&mut b, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(REQUESTS.delay(&mut b, Some(Duration::from_secs(3600))), Duration::from_secs(5));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn random_units_vary_and_stay_in_range() {
        let v: Vec<f64> = (0..64).map(|_| random_unit()).collect();
        assert!(v.iter().all(|u| (0.0..1.0).contains(u)));
        assert!(v.windows(2).any(|w| w[0] != w[1]));
    }

    proptest! {
        /// Every delay lies in [d/2, d] of its un-jittered value, and the
        /// whole retry budget of a request stays bounded.
        #[test]
        fn delays_are_bounded(units in proptest::collection::vec(0.0f64..1.0, 1..30)) {
            let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(4));
            for (n, u) in units.iter().enumerate() {
                let full = (Duration::from_millis(250) * (1u32 << n.min(20))).min(Duration::from_secs(4));
                let d = b.next_delay_with(*u);
                prop_assert!(d >= full / 2 && d <= full, "{d:?} outside [{:?}, {full:?}]", full / 2);
            }
            let mut b = REQUESTS.backoff();
            let total: Duration = (1..REQUESTS.attempts).map(|_| REQUESTS.delay(&mut b, None)).sum();
            prop_assert!(total <= Duration::from_millis(1750));
        }
    }
}
