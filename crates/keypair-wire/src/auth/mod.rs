//! Authentication: credentials, TC3-HMAC-SHA256 and legacy signature verification, the
//! timestamp window and the legacy nonce replay check.
//!
//! The signed host and header values are taken as each official client signs them
//! (spec §4.3–4.5): the `Host` header verbatim (Python, Go, tccli — which sends
//! `Host: http://…`), or without its port (Node); header values as sent, or lower-cased
//! (hand-written clients following the signature page). Candidates are tried in that order,
//! each compared in constant time; the first match authenticates.

//!
//! - [`credentials`]: who may call, and the test-credentials mode;
//! - [`tc3`]: TC3-HMAC-SHA256 (`Authorization` header);
//! - [`legacy`]: the legacy HmacSHA1/HmacSHA256 form signature;
//! - [`nonce`]: the legacy nonce's single use, behind the `NonceLedger` port.

pub mod credentials;
pub mod legacy;
pub mod nonce;
pub mod tc3;

pub use credentials::{
    check_secret_id, test_account, Credential, Credentials, MAX_TEST_SECRET_ID_LEN,
};
pub use legacy::verify_legacy;
pub use nonce::{consume_nonce, NONCE_WINDOW_SECS};
pub use tc3::{parse_tc3_authorization, verify_tc3, Tc3Authorization, Tc3Request};

use crate::error::ApiError;
use keypair_core::AccountId;
use subtle::ConstantTimeEq;

/// How far a request's timestamp may be from the server's clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// Who a request is from.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub account: AccountId,
    /// The credential used.
    pub secret_id: String,
    /// For TC3: the credential scope's service, which may name a product.
    pub service: Option<String>,
    /// For legacy signatures: the nonce, to consume once the request is admitted.
    pub nonce: Option<u64>,
}

fn failure(en: impl Into<String>) -> ApiError {
    ApiError::new(crate::codes::SIGNATURE_FAILURE, "签名验证失败", en)
}

fn invalid_authorization(en: impl Into<String>) -> ApiError {
    ApiError::new(
        crate::codes::INVALID_AUTHORIZATION,
        "Authorization 头格式错误",
        en,
    )
}

fn check_time(timestamp: i64, now: i64) -> Result<(), ApiError> {
    if (timestamp - now).abs() > MAX_SKEW_SECS {
        return Err(ApiError::new(
            crate::codes::SIGNATURE_EXPIRE,
            "签名过期",
            format!(
                "the request timestamp {timestamp} is more than {MAX_SKEW_SECS} s from the server time {now}; sign it again with the current time"
            ),
        ));
    }
    Ok(())
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
