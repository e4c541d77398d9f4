//! One log line and the metrics of each API request: its RequestId, the bounded facts the
//! wire learned (action, product, account), the outcome code, any transport refusal and
//! the latency; and, for an internal failure, its cause (never in the answer).

use crate::state::AppState;
use keypair_core::Product;
use keypair_wire::{Answer, ApiError, Facts};
use std::time::Instant;

/// One request as this shell saw it.
pub(crate) struct Exchange {
    pub(crate) request_id: String,
    pub(crate) started: Instant,
    pub(crate) facts: Facts,
    /// A transport refusal (its metric reason); the connection is closed after it.
    pub(crate) refusal: Option<&'static str>,
    /// The authenticated call, when a hook runs around it.
    pub(crate) call: Option<crate::hook::Call>,
    /// Whether a hook asked for the connection to be dropped instead of answered.
    pub(crate) dropped: bool,
}

/// Counts the request in the metrics and writes its log line.
pub(crate) fn request(st: &AppState, exchange: &Exchange, result: &Result<Answer, ApiError>) {
    let facts = &exchange.facts;
    let code = result.as_ref().err().map_or("OK", |e| e.code);
    let took = exchange.started.elapsed();
    let product = facts.product.map_or("-", Product::as_str);
    st.metrics.request(facts.known_action, product, code, took);
    if let Some(reason) = exchange.refusal {
        st.metrics.refusal(reason);
    }
    if let Some(detail) = result.as_ref().err().and_then(|e| e.detail.as_deref()) {
        let action = facts.known_action.map_or("-", |a| a.name());
        tracing::error!(request_id = %exchange.request_id, action, product, error = %detail, "internal error");
    }
    let (action, action_len) = facts.action.name_and_len();
    tracing::info!(
        request_id = %exchange.request_id,
        action,
        action_len,
        product,
        account = facts.account.as_deref().unwrap_or("-"),
        code,
        refusal = exchange.refusal.unwrap_or("-"),
        test_credentials = st.wire.credentials().is_test_mode(),
        latency_ms = millis(took),
        "request"
    );
}

/// A duration in milliseconds rounded to the microsecond, as the log line prints it
/// (`0.088`, not `0.08848099999999999`).
pub(crate) fn millis(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn latencies_print_to_the_microsecond() {
        assert_eq!(millis(Duration::from_nanos(88_481)).to_string(), "0.088");
        assert_eq!(
            millis(Duration::from_micros(12_345_678)).to_string(),
            "12345.678"
        );
        assert_eq!(millis(Duration::from_nanos(999)).to_string(), "0");
    }
}
