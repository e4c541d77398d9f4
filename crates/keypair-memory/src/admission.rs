//! The in-process adapters of keypair-core's admission ports, for one server: a
//! [`RateCounter`] of token buckets ([`RateLimiter`]) and a bounded [`NonceLedger`]
//! ([`NonceCache`]). Several servers on one database share the PostgreSQL versions
//! instead (`keypair_postgres::PgAdmission`).
//!
//! Both are written here rather than taken from a crate. `governor`, the maintained
//! keyed rate limiter, keeps one quota per limiter and reads its own clock, while a key's
//! rate here is looked up per request (per product and action, overridable by
//! configuration) and time is the caller's (the service's clock, which tests pin). The
//! nonce set is a hash set with an expiry queue and a size bound: nothing a crate would
//! add.

use async_trait::async_trait;
use keypair_core::{NonceLedger, NonceVerdict, RateCounter, RateKey, StoreError};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// One server's admission ports, as a host hands them to `keypair_wire::Wire::new`: a
/// [`NonceCache`] of [`DEFAULT_MAX_NONCES`] and an empty [`RateLimiter`].
pub fn in_process() -> (Arc<dyn NonceLedger>, Arc<dyn RateCounter>) {
    (
        Arc::new(NonceCache::new(DEFAULT_MAX_NONCES)),
        Arc::new(RateLimiter::new()),
    )
}

struct Bucket {
    tokens: f64,
    /// Milliseconds since the epoch of the last refill.
    last_ms: i64,
}

/// Shards of the bucket map: requests for different keys rarely wait on one lock.
const SHARDS: usize = 16;

/// One token bucket per key, allowing a burst of one second's worth and refilling
/// continuously.
///
/// Buckets are kept per (account, product, action) seen, so their number is bounded by
/// the configured accounts times the actions (the wire counts a request only once it is
/// signed). They are spread over `SHARDS` (16) maps, each behind its own lock, so no lock
/// is taken by every request: only requests of keys in the same shard share one.
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

/// Default most legacy nonces remembered at once (about 100 bytes each, so ~10 MB).
pub const DEFAULT_MAX_NONCES: usize = 100_000;

/// Legacy nonces used within their replay window, per SecretId.
///
/// Bounded three ways: a nonce is the unsigned 64-bit integer the protocol defines (the
/// wire refuses anything longer before it is parsed); it is recorded only for a request
/// that is signed correctly and within its rate limit; and it expires by time, swept on
/// every insert. So entries ≤ min(`max`, Σ over credentials of the legacy requests
/// admitted in one replay window) — with the documented rate limits, (sum of the
/// per-action rates) × 600 s per account. Past `max`, [`NonceVerdict::Full`] until old
/// nonces expire.
pub struct NonceCache {
    state: Mutex<NonceState>,
    max: usize,
}

#[derive(Default)]
struct NonceState {
    seen: HashSet<(String, u64)>,
    /// Insertion order, which is expiry order while the clock moves forward.
    expiry: VecDeque<(i64, String, u64)>,
}

impl NonceCache {
    /// A cache of at most `max` nonces.
    pub fn new(max: usize) -> Self {
        NonceCache {
            state: Mutex::new(NonceState::default()),
            max: max.max(1),
        }
    }

    /// Nonces remembered now.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NonceState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a nonce of an admitted request until `expires_at`, sweeping expired ones.
    pub fn record_now(
        &self,
        secret_id: &str,
        nonce: u64,
        now: i64,
        expires_at: i64,
    ) -> NonceVerdict {
        let mut state = self.lock();
        while let Some((expires, _, _)) = state.expiry.front() {
            if *expires > now {
                break;
            }
            if let Some((_, id, n)) = state.expiry.pop_front() {
                state.seen.remove(&(id, n));
            }
        }
        let key = (secret_id.to_owned(), nonce);
        if state.seen.contains(&key) {
            return NonceVerdict::Replayed;
        }
        if state.seen.len() >= self.max {
            return NonceVerdict::Full { max: self.max };
        }
        state.expiry.push_back((expires_at, key.0.clone(), nonce));
        state.seen.insert(key);
        NonceVerdict::Fresh
    }
}

#[async_trait]
impl NonceLedger for NonceCache {
    async fn record(
        &self,
        secret_id: &str,
        nonce: u64,
        now: i64,
        expires_at: i64,
    ) -> Result<NonceVerdict, StoreError> {
        Ok(self.record_now(secret_id, nonce, now, expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keypair_core::{AccountId, Action, Product};

    fn key(account: &str, product: Product, action: Action) -> RateKey {
        RateKey {
            account: AccountId::parse(account).unwrap(),
            product,
            action,
        }
    }

    #[test]
    fn a_burst_of_one_second_then_the_rate() {
        let limiter = RateLimiter::new();
        let t0 = 1_700_000_000_000i64;
        let create = key("1", Product::Cvm, Action::Create);
        let admitted = (0..15).filter(|_| limiter.take(&create, 10, t0)).count();
        assert_eq!(admitted, 10, "a rate of 10/s allows a burst of 10");
        assert!(!limiter.take(&create, 10, t0 + 50));
        assert!(
            limiter.take(&create, 10, t0 + 100),
            "one token back after 100 ms"
        );
        // Other accounts, actions and products have their own buckets.
        assert!(limiter.take(&key("2", Product::Cvm, Action::Create), 10, t0));
        assert!(limiter.take(&key("1", Product::Cvm, Action::Describe), 10, t0));
        let lh = key("1", Product::Lighthouse, Action::Describe);
        assert_eq!((0..150).filter(|_| limiter.take(&lh, 100, t0)).count(), 100);
    }

    #[test]
    fn nonces_are_single_use_within_their_window_and_expire_by_time() {
        let cache = NonceCache::new(10);
        assert_eq!(cache.record_now("AKID", 1, 1000, 1600), NonceVerdict::Fresh);
        assert_eq!(
            cache.record_now("AKID", 1, 1599, 2199),
            NonceVerdict::Replayed
        );
        assert_eq!(
            cache.record_now("OTHER", 1, 1000, 1600),
            NonceVerdict::Fresh
        );
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.record_now("AKID", 1, 1600, 2200), NonceVerdict::Fresh);
        assert_eq!(
            cache.len(),
            1,
            "both old entries were swept by time, not by count"
        );
    }

    #[test]
    fn the_nonce_cache_is_bounded() {
        let cache = NonceCache::new(3);
        for n in 0..3 {
            assert_eq!(cache.record_now("AKID", n, 1000, 1600), NonceVerdict::Fresh);
        }
        assert_eq!(
            cache.record_now("AKID", 3, 1000, 1600),
            NonceVerdict::Full { max: 3 }
        );
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.record_now("AKID", 3, 1600, 2200), NonceVerdict::Fresh);
    }
}
