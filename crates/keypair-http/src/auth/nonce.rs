//! The legacy `Nonce`: single use within the window its timestamp can validate, kept in
//! a `NonceLedger` (this process's [`NonceCache`], or a fleet's shared one).

use super::{failure, MAX_SKEW_SECS};
use crate::error::ApiError;
use keypair_core::{NonceLedger, NonceVerdict, Product, StoreError};
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Default most legacy nonces remembered at once (about 100 bytes each, so ~10 MB).
pub const DEFAULT_MAX_NONCES: usize = 100_000;

/// How long a nonce is remembered: a request's timestamp may lie [`MAX_SKEW_SECS`] on
/// either side of the server's clock, so a nonce could validate for twice that span.
pub const NONCE_WINDOW_SECS: i64 = 2 * MAX_SKEW_SECS;

/// Legacy nonces used within the replay window, per SecretId.
///
/// Bounded three ways: a nonce is the unsigned 64-bit integer the protocol defines
/// (anything longer is refused before it is parsed); it is stored only for a request
/// that is signed correctly and within its rate limit; and it expires by time, swept on
/// every insert. So entries ≤ min(`max`, Σ over credentials of the legacy requests
/// admitted in [`NONCE_WINDOW_SECS`]) — with the documented rate limits, (sum of the
/// per-action rates) × 600 s per account. Past `max`, legacy requests are refused
/// (`RequestLimitExceeded`) until old nonces expire; TC3 requests are unaffected.
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
    fn record_now(&self, secret_id: &str, nonce: u64, now: i64, expires_at: i64) -> NonceVerdict {
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

#[async_trait::async_trait]
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

/// Consumes an admitted legacy request's nonce in `ledger`: the request goes on only if
/// this is the nonce's first use within [`NONCE_WINDOW_SECS`].
pub async fn consume_nonce(
    ledger: &dyn NonceLedger,
    secret_id: &str,
    nonce: u64,
    now: i64,
    product: Product,
) -> Result<(), ApiError> {
    let verdict = ledger
        .record(secret_id, nonce, now, now + NONCE_WINDOW_SECS)
        .await
        .map_err(|e| crate::error::undecided("the nonce ledger", &e, product))?;
    match verdict {
        NonceVerdict::Fresh => Ok(()),
        NonceVerdict::Replayed => Err(failure(format!(
            "Nonce {nonce} was already used within the last {NONCE_WINDOW_SECS} s; sign the request again with a new Nonce"
        ))),
        NonceVerdict::Full { max } => Err(ApiError::new(
            "RequestLimitExceeded",
            "请求频率超过限制",
            format!(
                "the server remembers its limit of {max} legacy-signed requests from the last {NONCE_WINDOW_SECS} s; retry later or sign with TC3-HMAC-SHA256"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn consume(cache: &NonceCache, id: &str, nonce: u64, now: i64) -> Result<(), ApiError> {
        consume_nonce(cache, id, nonce, now, crate::wire::CVM.product).await
    }

    #[tokio::test]
    async fn nonces_are_single_use_within_the_window_and_expire_by_time() {
        let cache = NonceCache::new(10);
        assert!(consume(&cache, "AKID", 1, 1000).await.is_ok());
        let replay = consume(&cache, "AKID", 1, 1000 + NONCE_WINDOW_SECS - 1).await;
        assert_eq!(replay.unwrap_err().code, "AuthFailure.SignatureFailure");
        assert!(consume(&cache, "OTHER", 1, 1000).await.is_ok());
        assert_eq!(cache.len(), 2);
        assert!(consume(&cache, "AKID", 1, 1000 + NONCE_WINDOW_SECS)
            .await
            .is_ok());
        assert_eq!(
            cache.len(),
            1,
            "both old entries were swept by time, not by count"
        );
    }

    #[tokio::test]
    async fn the_nonce_cache_is_bounded() {
        let cache = NonceCache::new(3);
        for n in 0..3 {
            assert!(consume(&cache, "AKID", n, 1000).await.is_ok());
        }
        let full = consume(&cache, "AKID", 3, 1000).await.unwrap_err();
        assert_eq!(full.code, "RequestLimitExceeded");
        assert_eq!(cache.len(), 3);
        assert!(consume(&cache, "AKID", 3, 1000 + NONCE_WINDOW_SECS)
            .await
            .is_ok());
    }
}
