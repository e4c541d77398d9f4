//! Authentication: credentials, TC3-HMAC-SHA256 and legacy signature verification, the
//! timestamp window and the legacy nonce replay check.
//!
//! The signed host and header values are taken as each official client signs them
//! (spec §4.3–4.5): the `Host` header verbatim (Python, Go, tccli — which sends
//! `Host: http://…`), or without its port (Node); header values as sent, or lower-cased
//! (hand-written clients following the signature page). Candidates are tried in that order,
//! each compared in constant time; the first match authenticates.

use crate::error::ApiError;
use crate::sign::{self, CanonicalRequest, LegacyMethod, UNSIGNED_PAYLOAD};
use axum::http::HeaderMap;
use keypair_core::{AccountId, NonceLedger, NonceVerdict, Product, StoreError};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// How far a request's timestamp may be from the server's clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// One API credential: a SecretId, its SecretKey, and the account it acts for.
#[derive(Clone)]
pub struct Credential {
    /// The public id (`AKID…`).
    pub secret_id: String,
    secret_key: Zeroizing<String>,
    /// The account the credential belongs to.
    pub account: AccountId,
}

impl Credential {
    /// A credential.
    pub fn new(
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
        account: AccountId,
    ) -> Self {
        Credential {
            secret_id: secret_id.into(),
            secret_key: Zeroizing::new(secret_key.into()),
            account,
        }
    }

    /// The secret key, for signing and verifying only.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("account", &self.account)
            .finish()
    }
}

/// The credentials the server accepts, by SecretId.
#[derive(Debug, Default, Clone)]
pub struct Credentials {
    by_id: HashMap<String, Credential>,
    /// Test-credentials mode: see [`Credentials::test_mode`].
    test_mode: bool,
}

/// Longest SecretId test-credentials mode accepts.
pub const MAX_TEST_SECRET_ID_LEN: usize = 128;

impl Credentials {
    /// From a list; a repeated SecretId is refused.
    pub fn new(list: impl IntoIterator<Item = Credential>) -> Result<Self, String> {
        let mut by_id = HashMap::new();
        for c in list {
            if let Some(prev) = by_id.insert(c.secret_id.clone(), c) {
                return Err(format!(
                    "SecretId {} is configured more than once",
                    prev.secret_id
                ));
            }
        }
        Ok(Credentials {
            by_id,
            test_mode: false,
        })
    }

    /// Test-credentials mode, for local test suites (moto and LocalStack style): any
    /// well-formed SecretId (1 to 128 of `A-Z a-z 0-9 _ -`) is accepted, acting for the
    /// account [`test_account`] derives from it, and its SecretKey is **the SecretId
    /// itself**. Signatures are still checked in full, so a client that signs wrongly
    /// fails here as it would against the real service, and a suite needs no key
    /// material: `TENCENTCLOUD_SECRET_ID=AKIDtest TENCENTCLOUD_SECRET_KEY=AKIDtest`
    /// (or `test`/`test`) just works.
    pub fn test_mode() -> Self {
        Credentials {
            by_id: HashMap::new(),
            test_mode: true,
        }
    }

    /// Whether this is test-credentials mode.
    pub fn is_test_mode(&self) -> bool {
        self.test_mode
    }

    /// A configured credential is borrowed; only test mode makes one.
    fn get(&self, secret_id: &str) -> Result<Cow<'_, Credential>, ApiError> {
        if let Some(c) = self.by_id.get(secret_id) {
            return Ok(Cow::Borrowed(c));
        }
        if self.test_mode && well_formed_test_id(secret_id) {
            return Ok(Cow::Owned(Credential::new(
                secret_id,
                secret_id,
                test_account(secret_id),
            )));
        }
        Err(ApiError::new(
            "AuthFailure.SecretIdNotFound",
            "密钥不存在",
            format!(
                "SecretId {} does not exist or is disabled",
                crate::error::clip(secret_id)
            ),
        ))
    }
}

fn well_formed_test_id(secret_id: &str) -> bool {
    (1..=MAX_TEST_SECRET_ID_LEN).contains(&secret_id.len())
        && secret_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The account a SecretId acts for in test-credentials mode: `1` followed by nine
/// decimal digits of the SHA-256 of the SecretId, like a Tencent account id (UIN), and
/// stable across restarts.
pub fn test_account(secret_id: &str) -> AccountId {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(secret_id.as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 1_000_000_000;
    AccountId::parse(&format!("1{n:09}")).expect("ten digits is a valid account id")
}

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
    ApiError::new("AuthFailure.SignatureFailure", "签名验证失败", en)
}

fn invalid_authorization(en: impl Into<String>) -> ApiError {
    ApiError::new(
        "AuthFailure.InvalidAuthorization",
        "Authorization 头格式错误",
        en,
    )
}

fn check_time(timestamp: i64, now: i64) -> Result<(), ApiError> {
    if (timestamp - now).abs() > MAX_SKEW_SECS {
        return Err(ApiError::new(
            "AuthFailure.SignatureExpire",
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

/// The host strings a client may have signed: as received, and without its port.
fn host_candidates(host: &str) -> Vec<&str> {
    let mut v = vec![host];
    let bare = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host);
    if let Some((name, port)) = bare.rsplit_once(':') {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            v.push(name);
        }
    }
    v
}

/// What TC3 verification needs from the request.
pub struct Tc3Request<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The raw query string.
    pub query: &'a str,
    /// All headers.
    pub headers: &'a HeaderMap,
    /// The body bytes as received.
    pub body: &'a [u8],
    /// `X-TC-Timestamp`.
    pub timestamp: i64,
}

/// The parts of a TC3 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Authorization<'a> {
    /// The SecretId of the credential scope.
    pub secret_id: &'a str,
    /// The scope's date (`YYYY-MM-DD`).
    pub date: &'a str,
    /// The scope's service (`cvm`, `lighthouse`, or what a client derived from its host).
    pub service: &'a str,
    /// The signed header names, in the order signed.
    pub signed_headers: Vec<&'a str>,
    /// The hex signature.
    pub signature: &'a str,
}

/// Parses `TC3-HMAC-SHA256 Credential=…/…/…/tc3_request, SignedHeaders=…, Signature=…`.
pub fn parse_tc3_authorization(authorization: &str) -> Result<Tc3Authorization<'_>, ApiError> {
    let rest = authorization
        .strip_prefix("TC3-HMAC-SHA256 ")
        .ok_or_else(|| {
            invalid_authorization("the Authorization header must start with `TC3-HMAC-SHA256 `")
        })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) if credential.is_none() => credential = Some(v),
            Some(("SignedHeaders", v)) if signed_headers.is_none() => signed_headers = Some(v),
            Some(("Signature", v)) if signature.is_none() => signature = Some(v),
            _ => {
                return Err(invalid_authorization(format!(
                    "unexpected Authorization part {part:?}"
                )))
            }
        }
    }
    let (credential, signed_headers, signature) = match (credential, signed_headers, signature) {
        (Some(c), Some(h), Some(s)) => (c, h, s),
        _ => {
            return Err(invalid_authorization(
                "the Authorization header needs Credential, SignedHeaders and Signature",
            ))
        }
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [secret_id, date, service, "tc3_request"] = scope.as_slice() else {
        return Err(invalid_authorization(
            "Credential must be SecretId/YYYY-MM-DD/service/tc3_request",
        ));
    };
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(invalid_authorization(
            "SignedHeaders must include content-type and host",
        ));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_authorization("Signature must be 64 hex digits"));
    }
    Ok(Tc3Authorization {
        secret_id,
        date,
        service,
        signed_headers: names,
        signature,
    })
}

/// Verifies a TC3-HMAC-SHA256 `Authorization` header.
pub fn verify_tc3(
    creds: &Credentials,
    authorization: &str,
    req: &Tc3Request<'_>,
    now: i64,
) -> Result<Caller, ApiError> {
    let Tc3Authorization {
        secret_id,
        date,
        service,
        signed_headers: names,
        signature,
    } = parse_tc3_authorization(authorization)?;
    let cred = creds.get(secret_id)?;
    check_time(req.timestamp, now)?;
    if date != sign::utc_date(req.timestamp) {
        return Err(failure(format!(
            "the credential date {date} is not the UTC date of X-TC-Timestamp {}",
            req.timestamp
        )));
    }
    let mut values = Vec::with_capacity(names.len());
    for name in &names {
        let v = req
            .headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                failure(format!(
                    "the signed header `{name}` is missing from the request"
                ))
            })?;
        values.push(v);
    }
    let unsigned = req
        .headers
        .get("x-tc-content-sha256")
        .is_some_and(|v| v.as_bytes() == UNSIGNED_PAYLOAD.as_bytes());
    let payload_hash = sign::sha256_hex(if unsigned {
        UNSIGNED_PAYLOAD.as_bytes()
    } else {
        req.body
    });
    let host_index = names
        .iter()
        .position(|n| *n == "host")
        .expect("checked above");
    let signature = signature.to_ascii_lowercase();
    // The variant as sent first (what the SDKs sign); the others only when it fails.
    // Each comparison is constant-time; which variant matched says nothing secret.
    let mut matched = false;
    'variants: for host in host_candidates(values[host_index]) {
        for lower in [false, true] {
            let headers: Vec<(String, String)> = names
                .iter()
                .zip(&values)
                .enumerate()
                .map(|(i, (n, v))| {
                    let v = if i == host_index { host } else { v.trim() };
                    (
                        (*n).to_owned(),
                        if lower {
                            v.to_ascii_lowercase()
                        } else {
                            v.to_owned()
                        },
                    )
                })
                .collect();
            let canonical = CanonicalRequest {
                method: req.method,
                query: req.query,
                headers: &headers,
                payload_hash: &payload_hash,
            }
            .text();
            if ct_eq(
                &sign::tc3_signature(cred.secret_key(), service, req.timestamp, &canonical),
                &signature,
            ) {
                matched = true;
                break 'variants;
            }
        }
    }
    if !matched {
        return Err(failure(
            "the signature does not match; check the SecretKey and what was signed",
        ));
    }
    Ok(Caller {
        account: cred.account.clone(),
        secret_id: cred.secret_id.clone(),
        service: Some(service.to_owned()),
        nonce: None,
    })
}

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
/// caller consumes it with [`consume_nonce`] once the request is admitted.
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
    let matched = host_candidates(host).into_iter().any(|h| {
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
    fn host_variants() {
        assert_eq!(
            host_candidates("127.0.0.1:8080"),
            vec!["127.0.0.1:8080", "127.0.0.1"]
        );
        assert_eq!(
            host_candidates("http://127.0.0.1:8080"),
            vec!["http://127.0.0.1:8080", "127.0.0.1"]
        );
        assert_eq!(
            host_candidates("cvm.tencentcloudapi.com"),
            vec!["cvm.tencentcloudapi.com"]
        );
    }

    async fn consume(cache: &NonceCache, id: &str, nonce: u64, now: i64) -> Result<(), ApiError> {
        consume_nonce(cache, id, nonce, now, Product::Cvm).await
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

    #[test]
    fn test_mode_accepts_well_formed_ids_with_their_own_key_and_a_stable_account() {
        let creds = Credentials::test_mode();
        let c = creds.get("AKIDtest").unwrap();
        assert_eq!(c.secret_key(), "AKIDtest");
        assert_eq!(c.account, test_account("AKIDtest"));
        assert_eq!(c.account.as_str().len(), 10);
        assert_eq!(test_account("AKIDtest"), test_account("AKIDtest"), "stable");
        assert_ne!(test_account("AKIDtest"), test_account("AKIDother"));
        for bad in ["", "a/b", "a b", "a,b", &"x".repeat(129)] {
            assert!(creds.get(bad).is_err(), "{bad:?}");
        }
        assert!(
            Credentials::default().get("AKIDtest").is_err(),
            "off by default"
        );
    }

    #[test]
    fn credential_debug_hides_the_secret() {
        let c = Credential::new("AKID1", "very-secret", AccountId::parse("1").unwrap());
        assert!(!format!("{c:?}").contains("very-secret"));
        assert!(Credentials::new([c.clone(), c]).is_err());
    }
}
