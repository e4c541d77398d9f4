//! TC3-HMAC-SHA256: parsing the `Authorization` header and verifying its signature over
//! the canonical request, with every host and header variant the official clients sign.

use super::{check_time, ct_eq, failure, invalid_authorization, Caller, Credentials};
use crate::error::ApiError;
use crate::host::Host;
use crate::sign::{self, CanonicalRequest, UNSIGNED_PAYLOAD};
use http::HeaderMap;

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
    let values = signed_header_values(req, &names)?;
    let signed = Signed {
        req,
        names: &names,
        values: &values,
        payload_hash: payload_hash(req),
        service,
    };
    if !creds.skips_signatures()
        && !signed.matches(cred.secret_key(), &signature.to_ascii_lowercase())
    {
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

/// The values of the signed headers, in the order signed.
fn signed_header_values<'a>(
    req: &Tc3Request<'a>,
    names: &[&str],
) -> Result<Vec<&'a str>, ApiError> {
    names
        .iter()
        .map(|name| {
            req.headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    failure(format!(
                        "the signed header `{name}` is missing from the request"
                    ))
                })
        })
        .collect()
}

/// The hex SHA-256 of the body, or of `UNSIGNED-PAYLOAD` when the client said so.
fn payload_hash(req: &Tc3Request<'_>) -> String {
    let unsigned = req
        .headers
        .get("x-tc-content-sha256")
        .is_some_and(|v| v.as_bytes() == UNSIGNED_PAYLOAD.as_bytes());
    sign::sha256_hex(if unsigned {
        UNSIGNED_PAYLOAD.as_bytes()
    } else {
        req.body
    })
}

/// What a TC3 signature covers, with the header values as received.
struct Signed<'a> {
    req: &'a Tc3Request<'a>,
    names: &'a [&'a str],
    values: &'a [&'a str],
    payload_hash: String,
    service: &'a str,
}

impl Signed<'_> {
    /// Whether `signature` is the signature of some variant the official clients sign:
    /// the host as sent or without its port, header values as sent or lower-cased. The
    /// variant as sent is tried first (what the SDKs sign); each comparison is
    /// constant-time, and which variant matched says nothing secret.
    fn matches(&self, secret_key: &str, signature: &str) -> bool {
        let host_index = self.names.iter().position(|n| *n == "host");
        let host = host_index.map_or("", |i| self.values[i]);
        Host::new(host).signed_candidates().into_iter().any(|host| {
            [false, true].into_iter().any(|lower| {
                let headers = self.headers(host_index, host, lower);
                let canonical = CanonicalRequest {
                    method: self.req.method,
                    query: self.req.query,
                    headers: &headers,
                    payload_hash: &self.payload_hash,
                }
                .text();
                let expected =
                    sign::tc3_signature(secret_key, self.service, self.req.timestamp, &canonical);
                ct_eq(&expected, signature)
            })
        })
    }

    /// The signed headers with `host` in the host's place, values trimmed and, when
    /// `lower`, lower-cased.
    fn headers(&self, host_index: Option<usize>, host: &str, lower: bool) -> Vec<(String, String)> {
        self.names
            .iter()
            .zip(self.values)
            .enumerate()
            .map(|(i, (n, v))| {
                let v = if Some(i) == host_index {
                    host
                } else {
                    v.trim()
                };
                let v = if lower {
                    v.to_ascii_lowercase()
                } else {
                    v.to_owned()
                };
                ((*n).to_owned(), v)
            })
            .collect()
    }
}
