//! The two Tencent Cloud request signatures as pure functions (spec §4.3–4.4): TC3-HMAC-SHA256
//! and the legacy HmacSHA1/HmacSHA256 form signature. The server verifies with them and
//! clients (tests, the load generator) sign with them, so both sides share one definition.

use base64ct::{Base64, Encoding};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<sha1::Sha1>;

/// The hash of a payload sent with `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

fn hmac256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The UTC calendar date (`YYYY-MM-DD`) of a Unix timestamp, as the credential scope
/// carries it.
pub fn utc_date(timestamp: i64) -> String {
    let ts = keypair_core::Timestamp::from_millis(timestamp.saturating_mul(1000)).to_string();
    ts[..10].to_owned()
}

/// The parts of a TC3 canonical request (spec §4.3 step 1).
#[derive(Clone, Debug)]
pub struct CanonicalRequest<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The query string exactly as sent (empty for POST).
    pub query: &'a str,
    /// Signed headers as (lower-case name, value) in ascending name order.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body, or of [`UNSIGNED_PAYLOAD`].
    pub payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    /// The canonical request text.
    pub fn text(&self) -> String {
        let mut canonical_headers = String::new();
        for (name, value) in self.headers {
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(value);
            canonical_headers.push('\n');
        }
        let signed: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        format!(
            "{}\n/\n{}\n{}\n{}\n{}",
            self.method,
            self.query,
            canonical_headers,
            signed.join(";"),
            self.payload_hash
        )
    }
}

/// kSigning = HMAC chain over `"TC3" + secret`, the date, the service and `tc3_request`.
pub fn tc3_signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let k_date = hmac256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac256(&k_date, service.as_bytes());
    hmac256(&k_service, b"tc3_request")
}

/// The TC3 string to sign.
pub fn tc3_string_to_sign(
    timestamp: i64,
    date: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The TC3 signature: lower-case hex HMAC-SHA256 of the string to sign.
pub fn tc3_signature(
    secret_key: &str,
    service: &str,
    timestamp: i64,
    canonical_request: &str,
) -> String {
    let date = utc_date(timestamp);
    let key = tc3_signing_key(secret_key, &date, service);
    let sts = tc3_string_to_sign(timestamp, &date, service, canonical_request);
    hex::encode(hmac256(&key, sts.as_bytes()))
}

/// The `Authorization` header value for a TC3 request.
pub fn tc3_authorization(
    secret_id: &str,
    service: &str,
    timestamp: i64,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{}/{service}/tc3_request, SignedHeaders={signed_headers}, Signature={signature}",
        utc_date(timestamp)
    )
}

/// The `Authorization` value for a TC3 POST of `body` to `host`, signing `content-type`
/// and `host` as the official SDKs do.
pub fn tc3_post_authorization(
    (secret_id, secret_key): (&str, &str),
    service: &str,
    host: &str,
    content_type: &str,
    body: &[u8],
    timestamp: i64,
) -> String {
    let headers = [
        ("content-type".to_owned(), content_type.to_owned()),
        ("host".to_owned(), host.to_owned()),
    ];
    let canonical = CanonicalRequest {
        method: "POST",
        query: "",
        headers: &headers,
        payload_hash: &sha256_hex(body),
    }
    .text();
    let signature = tc3_signature(secret_key, service, timestamp, &canonical);
    tc3_authorization(
        secret_id,
        service,
        timestamp,
        "content-type;host",
        &signature,
    )
}

/// Legacy signature methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyMethod {
    /// HMAC-SHA1.
    HmacSha1,
    /// HMAC-SHA256.
    HmacSha256,
}

impl LegacyMethod {
    /// From the `SignatureMethod` parameter; like the Go SDK, anything but `HmacSHA256`
    /// (including nothing) means HMAC-SHA1.
    pub fn from_param(p: Option<&str>) -> Self {
        if p == Some("HmacSHA256") {
            LegacyMethod::HmacSha256
        } else {
            LegacyMethod::HmacSha1
        }
    }
}

/// The legacy string to sign: `<METHOD><host>/?<k=v&…>` over every parameter but
/// `Signature`, sorted by key (byte order), values raw.
pub fn legacy_string_to_sign<'a>(
    method: &str,
    host: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, _)| *k != "Signature")
        .collect();
    pairs.sort_unstable();
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{method}{host}/?{}", joined.join("&"))
}

/// The legacy signature: base64 of the HMAC of the string to sign.
pub fn legacy_signature(method: LegacyMethod, secret_key: &str, string_to_sign: &str) -> String {
    let tag = match method {
        LegacyMethod::HmacSha256 => {
            hmac256(secret_key.as_bytes(), string_to_sign.as_bytes()).to_vec()
        }
        LegacyMethod::HmacSha1 => {
            let mut mac = HmacSha1::new_from_slice(secret_key.as_bytes())
                .expect("HMAC takes keys of any length");
            mac.update(string_to_sign.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    Base64::encode_string(&tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Spec §4.5: the documentation's placeholder credentials and vectors reproduced by
    // the Python SDK.
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const TS: i64 = 1_551_113_065;

    fn headers(ct: &str) -> Vec<(String, String)> {
        vec![
            ("content-type".into(), ct.into()),
            ("host".into(), "127.0.0.1:18081".into()),
        ]
    }

    /// The canonical request of a JSON POST of `body` to the vectors' host.
    fn post_canonical(body: &str) -> String {
        let h = headers("application/json");
        CanonicalRequest {
            method: "POST",
            query: "",
            headers: &h,
            payload_hash: &sha256_hex(body.as_bytes()),
        }
        .text()
    }

    #[test]
    fn tc3_post_vector() {
        let body = r#"{"Filters": [{"Name": "key-name", "Values": ["Tencent"]}], "Offset": 0, "Limit": 20}"#;
        assert_eq!(
            sha256_hex(body.as_bytes()),
            "85b8d3ddc0b542a287abb4a32db877a18a6973ba78fad965f1dd4b56008afce2"
        );
        assert_post_vector(
            body,
            "cvm",
            [
                "5390d73be0e8fa79c63186dce884a3bac176fcce0e3312594d618126cb57779b",
                "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1",
                "9effba6087bb40d3ef690307c70db07f156bdea4dd41914e8bdf8e68f72893d2",
            ],
        );
    }

    /// A spec POST vector: the canonical request's hash, the signing key and the
    /// signature, byte for byte.
    fn assert_post_vector(body: &str, service: &str, [request, key, signature]: [&str; 3]) {
        let cr = post_canonical(body);
        assert_eq!(sha256_hex(cr.as_bytes()), request);
        assert_eq!(
            hex::encode(tc3_signing_key(KEY, "2019-02-25", service)),
            key
        );
        assert_eq!(tc3_signature(KEY, service, TS, &cr), signature);
    }

    #[test]
    fn tc3_get_vector() {
        let h = headers("application/x-www-form-urlencoded");
        let cr = CanonicalRequest {
            method: "GET",
            query: "Filters.0.Name=key-name&Filters.0.Values.0=Tencent&Offset=0&Limit=20",
            headers: &h,
            payload_hash: &sha256_hex(b""),
        }
        .text();
        assert_eq!(
            sha256_hex(cr.as_bytes()),
            "1abaca4a19e682a802f7b2a84bf684662d1a6217d16ff145a933d106aaaff2c2"
        );
        assert_eq!(
            tc3_signature(KEY, "cvm", TS, &cr),
            "3b768b7de90ea63db19a1c4b0031b9cb656ccab6406b05e785f7ccbf995e87b6"
        );
    }

    #[test]
    fn tc3_lighthouse_vector() {
        assert_post_vector(
            r#"{"KeyIds": ["lhkp-omd12oc1"]}"#,
            "lighthouse",
            [
                "aef69887533d84f5dc5aba2362f742e16a4e0444f05a7ff6ec3230b599275eb0",
                "5f35dba77e79af738b3f4b8c691bb4c7a566ef526904c2a3fddeeabc462fca2f",
                "010af01185c838b8c5cb4b33b0b163540c84e737526c3e4aa8c02378bda560f4",
            ],
        );
    }

    fn legacy_params(method: &str) -> Vec<(&'static str, String)> {
        vec![
            ("Action", "DescribeKeyPairs".into()),
            ("Filters.0.Name", "key-name".into()),
            ("Filters.0.Values.0", "Tencent".into()),
            ("Language", "zh-CN".into()),
            ("Limit", "20".into()),
            ("Nonce", "11886".into()),
            ("Offset", "0".into()),
            ("Region", "ap-guangzhou".into()),
            ("RequestClient", "SDK_PYTHON_TEST".into()),
            ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into()),
            ("SignatureMethod", method.into()),
            ("Timestamp", TS.to_string()),
            ("Version", "2017-03-12".into()),
        ]
    }

    #[test]
    fn legacy_vectors() {
        let p = legacy_params("HmacSHA256");
        let sts = legacy_string_to_sign(
            "POST",
            "127.0.0.1:18081",
            p.iter().rev().map(|(k, v)| (*k, v.as_str())),
        );
        assert_eq!(
            sts,
            "POST127.0.0.1:18081/?Action=DescribeKeyPairs&Filters.0.Name=key-name&Filters.0.Values.0=Tencent&Language=zh-CN&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&RequestClient=SDK_PYTHON_TEST&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Timestamp=1551113065&Version=2017-03-12"
        );
        assert_eq!(
            legacy_signature(LegacyMethod::HmacSha256, KEY, &sts),
            "CrAKrxZKEkG/MbSkk8JicgkeOPCfSNSDzBF4LIxJdLo="
        );
        let p = legacy_params("HmacSHA1");
        let sts = legacy_string_to_sign(
            "GET",
            "127.0.0.1:18081",
            p.iter().map(|(k, v)| (*k, v.as_str())),
        );
        assert_eq!(
            legacy_signature(LegacyMethod::HmacSha1, KEY, &sts),
            "raJRyog9wWm9m5aCkZiQovZqmu0="
        );
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc_date(TS), "2019-02-25");
        assert_eq!(utc_date(0), "1970-01-01");
    }
}
