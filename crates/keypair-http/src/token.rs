//! The admin API's token: compared in constant time, redacted in `Debug`, zeroed when
//! dropped.

use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The admin token. Its `Debug` is redacted; it is compared in constant time.
#[derive(Clone)]
pub struct AdminToken(Zeroizing<String>);

impl AdminToken {
    /// A token; empty ones are refused (an empty token would be no protection).
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.is_empty()).then(|| AdminToken(Zeroizing::new(token)))
    }

    pub(crate) fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}
