//! The rate-limit step of a request: its account's calls of its action, counted by the
//! [`RateCounter`] port against the rate [`RateLimits`] gives (this process's token
//! buckets in `keypair-memory`, or a fleet's shared windows in `keypair-postgres`).

use crate::error::{self, ApiError};
use crate::spec::RateLimits;
use keypair_core::{AccountId, Action, Product, RateCounter, RateKey};

/// Counts a request against its account's rate for the action, if it has one; over the
/// rate it is refused with `RequestLimitExceeded`, and a counter that cannot decide
/// refuses it with the retryable internal error.
pub async fn check(
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
        crate::codes::REQUEST_LIMIT_EXCEEDED,
        "请求频率超过限制",
        format!(
            "too many {} requests from this account; slow down and retry",
            key.action.name()
        ),
    ))
}

/// The key of `account`'s calls of `action` of `product`.
pub fn key(account: &AccountId, product: Product, action: Action) -> RateKey {
    RateKey {
        account: account.clone(),
        product,
        action,
    }
}
