//! The admission ports: where a server remembers legacy-signature nonces and counts
//! request rates.
//!
//! One server keeps both in its own memory (the in-process versions in `keypair-http`).
//! Several servers sharing one database must share them too, or a nonce replayed to a
//! second server is accepted and N servers let through N times the documented rate; the
//! PostgreSQL adapter implements these ports on tables every server of the fleet sees.
//! Both are small async traits because a shared implementation is a network round trip.

use crate::{AccountId, Action, Product, StoreError};
use async_trait::async_trait;

/// What recording a nonce found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceVerdict {
    /// First use within its window: recorded, the request may proceed.
    Fresh,
    /// Already used within its window: the request is a replay.
    Replayed,
    /// The ledger holds its limit of unexpired nonces and refuses new ones until some
    /// expire.
    Full {
        /// The limit.
        max: usize,
    },
}

/// Remembers the nonces of legacy-signed requests so each is used once.
///
/// Contract: of any number of concurrent `record` calls with the same `(secret_id,
/// nonce)` before `expires_at`, across every server sharing the ledger, exactly one gets
/// [`NonceVerdict::Fresh`]. Once `now` passes `expires_at` the nonce may be used again.
/// An error means the ledger could not decide; the caller must refuse the request.
#[async_trait]
pub trait NonceLedger: Send + Sync {
    /// Records `nonce` for `secret_id` until `expires_at` (seconds since the epoch).
    async fn record(
        &self,
        secret_id: &str,
        nonce: u64,
        now: i64,
        expires_at: i64,
    ) -> Result<NonceVerdict, StoreError>;
}

/// What a rate counter counts: one account's calls of one action of one product.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RateKey {
    /// The caller's account.
    pub account: AccountId,
    /// The product called.
    pub product: Product,
    /// The action called.
    pub action: Action,
}

/// Counts requests against a per-second rate.
///
/// Contract: over any period of `T` seconds, at most about `rate × (T + 1)` calls for
/// one key get `true`, across every server sharing the counter (an implementation
/// documents its exact tolerance). An error means the counter could not decide; the
/// caller must refuse the request rather than let it through uncounted.
#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Counts one call at `now_ms` (milliseconds since the epoch); false when the key
    /// is over `rate` calls per second.
    async fn admit(&self, key: &RateKey, rate: u32, now_ms: i64) -> Result<bool, StoreError>;
}
