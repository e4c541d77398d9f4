//! What the log line of a request records, each field bounded: the request id, the
//! action (a known name, or `<unknown>` and a length), the product, the account, the
//! answer's language and any transport refusal.

use crate::error::Language;
use keypair_core::{Action, Product};

/// What the log line of a request says. Every field is bounded: nothing an
/// unauthenticated client sends reaches the log except through [`log_action`].
pub(crate) struct Meta {
    pub(crate) request_id: String,
    pub(crate) action: LoggedAction,
    pub(crate) known_action: Option<Action>,
    pub(crate) product: Option<Product>,
    pub(crate) account: Option<String>,
    pub(crate) language: Language,
    /// A transport refusal (its metric reason); the connection is closed after it.
    pub(crate) refusal: Option<&'static str>,
}

/// An action name as logged: a known action's name, or `<unknown>` and the length of
/// what was sent.
#[derive(Clone, Copy, Default)]
pub(crate) enum LoggedAction {
    #[default]
    Missing,
    Known(&'static str),
    Unknown(usize),
}

/// The bounded form of a client-supplied action name for the log.
pub(crate) fn log_action(raw: &str) -> LoggedAction {
    Action::ALL
        .into_iter()
        .map(Action::name)
        .find(|name| *name == raw)
        .map_or(LoggedAction::Unknown(raw.len()), LoggedAction::Known)
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
