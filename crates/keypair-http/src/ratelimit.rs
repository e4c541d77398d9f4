//! Request rate limits per account, product and action: token buckets that allow a burst
//! of one second's worth and refill continuously.

use keypair_core::{AccountId, Action, Product};
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
        let configured = match product {
            Product::Cvm => self.cvm,
            Product::Lighthouse => self.lighthouse,
        };
        configured
            .or_else(|| product.spec().rate_limit(action))
            .filter(|r| *r > 0)
    }
}

struct Bucket {
    tokens: f64,
    /// Milliseconds since the epoch of the last refill.
    last_ms: i64,
}

/// The limiter shared by all requests.
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(AccountId, Product, Action), Bucket>>,
}

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request's token at `now_ms` (milliseconds since the epoch, from the
    /// server's clock); false when the caller is over its rate.
    pub fn admit(
        &self,
        account: &AccountId,
        product: Product,
        action: Action,
        now_ms: i64,
    ) -> bool {
        let Some(rate) = self.limits.rate(product, action) else {
            return true;
        };
        let rate = f64::from(rate);
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let bucket = buckets
            .entry((account.clone(), product, action))
            .or_insert(Bucket {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    #[test]
    fn a_burst_of_one_second_then_the_rate() {
        let limiter = RateLimiter::new(RateLimits::default());
        let t0 = 1_700_000_000_000i64;
        let a = acct("1");
        let admitted = (0..15)
            .filter(|_| limiter.admit(&a, Product::Cvm, Action::Create, t0))
            .count();
        assert_eq!(admitted, 10, "CVM CreateKeyPair allows 10/s");
        assert!(!limiter.admit(&a, Product::Cvm, Action::Create, t0 + 50));
        assert!(limiter.admit(&a, Product::Cvm, Action::Create, t0 + 100));
        // Other accounts, actions and products have their own buckets.
        assert!(limiter.admit(&acct("2"), Product::Cvm, Action::Create, t0));
        assert!(limiter.admit(&a, Product::Cvm, Action::Describe, t0));
        let lh = (0..150)
            .filter(|_| limiter.admit(&a, Product::Lighthouse, Action::Describe, t0))
            .count();
        assert_eq!(lh, 100, "Lighthouse DescribeKeyPairs allows 100/s");
    }

    #[test]
    fn configured_rates_override_and_zero_disables() {
        let limiter = RateLimiter::new(RateLimits {
            cvm: Some(2),
            lighthouse: Some(0),
        });
        let t0 = 1_700_000_000_000i64;
        let a = acct("1");
        assert_eq!(
            (0..5)
                .filter(|_| limiter.admit(&a, Product::Cvm, Action::Describe, t0))
                .count(),
            2
        );
        assert!((0..1000).all(|_| limiter.admit(&a, Product::Lighthouse, Action::Create, t0)));
    }
}
