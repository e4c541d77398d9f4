//! The legacy `Nonce`: single use within the window its timestamp can validate, kept in
//! a `NonceLedger` (one process's `keypair_memory::NonceCache`, or a fleet's shared one).

use super::{failure, MAX_SKEW_SECS};
use crate::error::ApiError;
use keypair_core::{NonceLedger, NonceVerdict, Product};

/// How long a nonce is remembered: a request's timestamp may lie [`MAX_SKEW_SECS`] on
/// either side of the server's clock, so a nonce could validate for twice that span.
pub const NONCE_WINDOW_SECS: i64 = 2 * MAX_SKEW_SECS;

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
            crate::codes::REQUEST_LIMIT_EXCEEDED,
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
    use keypair_memory::NonceCache;

    async fn consume(cache: &NonceCache, id: &str, nonce: u64, now: i64) -> Result<(), ApiError> {
        consume_nonce(cache, id, nonce, now, Product::Cvm).await
    }

    #[test]
    fn a_replay_is_refused_by_name_and_a_full_ledger_is_a_rate_refusal() {
        futures::executor::block_on(async {
            let cache = NonceCache::new(2);
            assert!(consume(&cache, "AKID", 1, 1000).await.is_ok());
            let replay = consume(&cache, "AKID", 1, 1000 + NONCE_WINDOW_SECS - 1).await;
            let replay = replay.unwrap_err();
            assert_eq!(replay.code, "AuthFailure.SignatureFailure");
            assert!(
                replay.en.contains("Nonce 1 was already used"),
                "{}",
                replay.en
            );
            assert!(consume(&cache, "AKID", 2, 1000).await.is_ok());
            let full = consume(&cache, "AKID", 3, 1000).await.unwrap_err();
            assert_eq!(full.code, "RequestLimitExceeded");
            assert!(
                consume(&cache, "AKID", 1, 1000 + NONCE_WINDOW_SECS)
                    .await
                    .is_ok(),
                "expired"
            );
        });
    }
}
