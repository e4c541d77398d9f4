//! Request rate limits per account, product and action: which rate applies
//! ([`RateLimits`]), and the in-process counter ([`RateLimiter`], token buckets that allow
//! a burst of one second's worth and refill continuously). A fleet on one database swaps
//! the counter for a shared one through the [`RateCounter`] port.

use crate::error::{self, ApiError};
use async_trait::async_trait;
use keypair_core::{AccountId, Action, Product, RateCounter, RateKey, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;

/// Requests per second per (account, action), by product. `None` takes the spec's
/// per-action figure (§2.10); `Some(0)` turns limiting off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Every CVM action.
    pub cvm: Option<u32>,
    /// Every Lighthouse action.
    pub lighthouse: Option<u32>,
}

impl RateLimits {
    /// The rate for an action, or `None` for unlimited.
    pub fn rate(&self, product: Product, action: Action) -> Option<u32> {
        let wire = crate::wire::spec(product);
        (wire.configured_rate)(self)
            .or_else(|| wire.documented_rate(action))
            .filter(|r| *r > 0)
    }
}

struct Bucket {
    tokens: f64,
    /// Milliseconds since the epoch of the last refill.
    last_ms: i64,
}

/// Shards of the bucket map: requests for different keys rarely wait on one lock.
const SHARDS: usize = 16;

/// The in-process counter: one token bucket per key, for a single server.
///
/// Buckets are kept per (account, product, action) seen, so their number is bounded by
/// the configured accounts times the actions (requests are counted only once signed).
/// They are spread over `SHARDS` (16) maps, each behind its own lock, so no lock is taken by
/// every request: only requests of keys in the same shard share one.
pub struct RateLimiter {
    shards: [Mutex<HashMap<RateKey, Bucket>>; SHARDS],
    hasher: std::collections::hash_map::RandomState,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            hasher: Default::default(),
        }
    }
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one token from `key`'s bucket at `now_ms`; false when it is empty.
    pub fn take(&self, key: &RateKey, rate: u32, now_ms: i64) -> bool {
        use std::hash::BuildHasher;
        let rate = f64::from(rate);
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let mut buckets = shard.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: rate,
            last_ms: now_ms,
        });
        let elapsed = (now_ms - bucket.last_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.last_ms = now_ms.max(bucket.last_ms);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[async_trait]
impl RateCounter for RateLimiter {
    async fn admit(&self, key: &RateKey, rate: u32, now_ms: i64) -> Result<bool, StoreError> {
        Ok(self.take(key, rate, now_ms))
    }
}

/// Counts a request against its account's rate for the action, if it has one; over the
/// rate it is refused with `RequestLimitExceeded`, and a counter that cannot decide
/// refuses it with the retryable internal error.
pub(crate) async fn check(
    limits: &RateLimits,
    counter: &dyn RateCounter,
    key: RateKey,
    now_ms: i64,
) -> Result<(), ApiError> {
    let Some(rate) = limits.rate(key.product, key.action) else {
        return Ok(());
    };
    let admitted = counter
        .admit(&key, rate, now_ms)
        .await
        .map_err(|e| error::undecided("the rate counter", &e, key.product))?;
    if admitted {
        return Ok(());
    }
    Err(ApiError::new(
        "RequestLimitExceeded",
        "请求频率超过限制",
        format!(
            "too many {} requests from this account; slow down and retry",
            key.action.name()
        ),
    ))
}

/// The key of `account`'s calls of `action` of `product`.
pub(crate) fn key(account: &AccountId, product: Product, action: Action) -> RateKey {
    RateKey {
        account: account.clone(),
        product,
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wire::{CVM, LIGHTHOUSE};
    use keypair_core::AccountId;

    /// Asks the limiter as the server does: the configured rate, then the bucket.
    fn admit(
        limits: &RateLimits,
        limiter: &RateLimiter,
        account: &str,
        product: Product,
        action: Action,
        now_ms: i64,
    ) -> bool {
        let key = RateKey {
            account: AccountId::parse(account).unwrap(),
            product,
            action,
        };
        limits
            .rate(product, action)
            .is_none_or(|rate| limiter.take(&key, rate, now_ms))
    }

    #[test]
    fn a_burst_of_one_second_then_the_rate() {
        let (limits, limiter) = (RateLimits::default(), RateLimiter::new());
        let t0 = 1_700_000_000_000i64;
        let admit = |a, p, action, t| admit(&limits, &limiter, a, p, action, t);
        let admitted = (0..15)
            .filter(|_| admit("1", CVM.product, Action::Create, t0))
            .count();
        assert_eq!(admitted, 10, "CVM CreateKeyPair allows 10/s");
        assert!(!admit("1", CVM.product, Action::Create, t0 + 50));
        assert!(admit("1", CVM.product, Action::Create, t0 + 100));
        // Other accounts, actions and products have their own buckets.
        assert!(admit("2", CVM.product, Action::Create, t0));
        assert!(admit("1", CVM.product, Action::Describe, t0));
        let lh = (0..150)
            .filter(|_| admit("1", LIGHTHOUSE.product, Action::Describe, t0))
            .count();
        assert_eq!(lh, 100, "Lighthouse DescribeKeyPairs allows 100/s");
    }

    #[test]
    fn configured_rates_override_and_zero_disables() {
        let limits = RateLimits {
            cvm: Some(2),
            lighthouse: Some(0),
        };
        let limiter = RateLimiter::new();
        let t0 = 1_700_000_000_000i64;
        let admit = |p, action| admit(&limits, &limiter, "1", p, action, t0);
        assert_eq!(
            (0..5)
                .filter(|_| admit(CVM.product, Action::Describe))
                .count(),
            2
        );
        assert!((0..1000).all(|_| admit(LIGHTHOUSE.product, Action::Create)));
    }
}
