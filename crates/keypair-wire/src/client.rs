//! Requests signed as the official SDKs sign them, for clients: tests, the load generator,
//! the fixtures and the examples. The signatures themselves are [`crate::sign`]'s, the
//! same functions the server verifies with.

use crate::sign;
use keypair_core::Product;

/// A TC3-HMAC-SHA256 POST of the JSON `body` for `action` of `product` to `host`
/// (`host:port`, the `Host` header), signed at `timestamp` (Unix seconds) with
/// `(secret_id, secret_key)` over `content-type` and `host`, as the official SDKs do.
pub fn signed_post(
    credential: (&str, &str),
    product: Product,
    action: &str,
    host: &str,
    body: impl Into<Vec<u8>>,
    timestamp: i64,
) -> http::Request<Vec<u8>> {
    let body = body.into();
    let spec = product.spec();
    let authorization = sign::tc3_post_authorization(
        credential,
        spec.service,
        host,
        crate::CONTENT_TYPE,
        &body,
        timestamp,
    );
    let mut request = http::Request::new(body);
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = http::Uri::from_static("/");
    let headers = request.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        // Every value here is ASCII text the caller gave or this function made.
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("content-type", crate::CONTENT_TYPE);
    set("host", host);
    set("x-tc-action", action);
    set("x-tc-version", spec.version);
    set("x-tc-timestamp", &timestamp.to_string());
    set("authorization", &authorization);
    request
}

/// The time to sign with: now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{verify_tc3, Credential, Credentials, Tc3Request};
    use keypair_core::AccountId;

    #[test]
    fn a_signed_post_verifies() {
        let account = AccountId::parse("1000001").unwrap();
        let creds =
            Credentials::new([Credential::new("AKIDc", "client-secret-key", account)]).unwrap();
        let ts = 1_700_000_000;
        let req = signed_post(
            ("AKIDc", "client-secret-key"),
            Product::Lighthouse,
            "DescribeKeyPairs",
            "127.0.0.1:9",
            "{}",
            ts,
        );
        assert_eq!(req.headers()["x-tc-version"], "2020-03-24");
        let auth = req.headers()["authorization"].to_str().unwrap();
        let signed = Tc3Request {
            method: "POST",
            query: "",
            headers: req.headers(),
            body: req.body(),
            timestamp: ts,
        };
        let caller = verify_tc3(&creds, auth, &signed, ts).expect("verifies");
        assert_eq!(caller.service.as_deref(), Some("lighthouse"));
        assert!(verify_tc3(
            &creds,
            auth,
            &Tc3Request {
                body: b"{ }",
                ..signed
            },
            ts
        )
        .is_err());
    }
}
