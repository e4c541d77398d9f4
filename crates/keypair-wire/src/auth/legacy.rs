//! The legacy form signature (HmacSHA1 / HmacSHA256 over the sorted parameters).

use super::{check_time, ct_eq, failure, Caller, Credentials};
use crate::error::ApiError;
use crate::host::Host;
use crate::sign::{self, LegacyMethod};

/// The legacy `Nonce`: the unsigned integer the protocol defines, at most 20 digits.
fn parse_nonce(nonce: &str) -> Result<u64, ApiError> {
    let digits =
        !nonce.is_empty() && nonce.len() <= 20 && nonce.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| nonce.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "`Nonce` must be an unsigned 64-bit integer, got {:?}",
                crate::error::clip(nonce)
            ))
        })
}

/// Verifies a legacy (HmacSHA1 / HmacSHA256) form signature over `params`, the decoded
/// query or form pairs. The nonce is checked for form and returned in the [`Caller`]; the
/// caller consumes it with [`super::consume_nonce`] once the request is admitted.
pub fn verify_legacy(
    creds: &Credentials,
    method: &str,
    host: &str,
    params: &[(String, String)],
    now: i64,
) -> Result<Caller, ApiError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let need = |name: &str| get(name).ok_or_else(|| ApiError::missing(name));
    let secret_id = need("SecretId")?;
    let signature = need("Signature")?;
    let timestamp = need("Timestamp")?;
    let nonce = need("Nonce")?;
    let timestamp: i64 = timestamp.parse().map_err(|_| {
        ApiError::invalid(format!(
            "`Timestamp` must be Unix seconds, got {:?}",
            crate::error::clip(timestamp)
        ))
    })?;
    let nonce = parse_nonce(nonce)?;
    let cred = creds.get(secret_id)?;
    check_time(timestamp, now)?;
    let alg = LegacyMethod::from_param(get("SignatureMethod"));
    let matched = creds.skips_signatures()
        || Host::new(host).signed_candidates().into_iter().any(|h| {
            let sts = sign::legacy_string_to_sign(
                method,
                h,
                params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
            ct_eq(
                &sign::legacy_signature(alg, cred.secret_key(), &sts),
                signature,
            )
        });
    if !matched {
        return Err(failure(
            "the signature does not match; check the SecretKey and what was signed",
        ));
    }
    Ok(Caller {
        account: cred.account.clone(),
        secret_id: cred.secret_id.clone(),
        service: None,
        nonce: Some(nonce),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_unsigned_64_bit_integers() {
        assert_eq!(parse_nonce("0").unwrap(), 0);
        assert_eq!(parse_nonce("18446744073709551615").unwrap(), u64::MAX);
        for bad in [
            "",
            "-1",
            "1.5",
            "18446744073709551616",
            "123456789012345678901",
        ] {
            assert_eq!(
                parse_nonce(bad).unwrap_err().code,
                "InvalidParameter",
                "{bad}"
            );
        }
        let huge = "9".repeat(900_000);
        let refused = parse_nonce(&huge).unwrap_err();
        assert!(
            refused.en.len() < 200,
            "the message does not echo the whole value"
        );
    }
}
