//! Reading a request and authenticating it: the common parameters from the `X-TC-*`
//! headers (TC3) or the form (legacy), the signature check ([`crate::auth`]), and the
//! business parameters, from the query, the form or the JSON body ([`crate::params`]).

use crate::auth::{self, Caller, Credentials, Tc3Request};
use crate::error::{self, ApiError, Language};
use crate::facts::{Facts, LoggedAction};
use crate::host::Host;
use crate::params::{self, Params};
use http::{header, HeaderMap, HeaderValue, Method};

/// Common parameters of the legacy form, never passed to an action.
const COMMON_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

/// What authentication established, and the request it carried.
pub(crate) struct Signed {
    pub(crate) caller: Caller,
    pub(crate) action: String,
    pub(crate) version: String,
    pub(crate) params: Params,
}

/// Authenticates `req` by the scheme it uses: TC3 when it has an `Authorization`
/// header, the legacy form signature otherwise.
pub(crate) fn authenticate(
    credentials: &Credentials,
    req: &RequestParts<'_>,
    facts: &mut Facts,
) -> Result<Signed, ApiError> {
    match req.headers.get(header::AUTHORIZATION) {
        Some(auth) => authenticate_tc3(credentials, auth, req, facts),
        None => authenticate_legacy(credentials, req, facts),
    }
}

/// The parts of a request authentication reads.
pub(crate) struct RequestParts<'a> {
    pub(crate) method: &'a Method,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    /// The media type of `Content-Type` ([`content_type`]).
    pub(crate) content_type: String,
    pub(crate) now: i64,
}

impl RequestParts<'_> {
    /// Whether the body is a flattened form.
    fn is_form(&self) -> bool {
        self.content_type == "application/x-www-form-urlencoded"
    }
}

/// The media type of `Content-Type`, lower-cased, without parameters.
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// TC3-HMAC-SHA256: the common parameters from `X-TC-*` headers, the business
/// parameters from the query (GET), the form or the JSON body.
fn authenticate_tc3(
    credentials: &Credentials,
    auth: &HeaderValue,
    req: &RequestParts<'_>,
    facts: &mut Facts,
) -> Result<Signed, ApiError> {
    let auth = auth.to_str().map_err(|_| {
        ApiError::new(
            crate::codes::INVALID_AUTHORIZATION,
            "Authorization 头格式错误",
            "the Authorization header is not text",
        )
    })?;
    let header_text = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let action =
        header_text("x-tc-action").ok_or_else(|| ApiError::missing("Action (X-TC-Action)"))?;
    facts.action = LoggedAction::of(action);
    let version =
        header_text("x-tc-version").ok_or_else(|| ApiError::missing("Version (X-TC-Version)"))?;
    let ts = header_text("x-tc-timestamp")
        .ok_or_else(|| ApiError::missing("Timestamp (X-TC-Timestamp)"))?;
    let timestamp = ts.parse::<i64>().map_err(|_| {
        ApiError::invalid(format!(
            "X-TC-Timestamp must be Unix seconds, got {:?}",
            error::clip(ts)
        ))
    })?;
    reject_token(header_text("x-tc-token"))?;
    let signed = Tc3Request {
        method: req.method.as_str(),
        query: req.query,
        headers: req.headers,
        body: req.body,
        timestamp,
    };
    let caller = auth::verify_tc3(credentials, auth, &signed, req.now)?;
    let params = tc3_params(req)?;
    Ok(Signed {
        caller,
        action: action.to_owned(),
        version: version.to_owned(),
        params,
    })
}

/// A TC3 request's business parameters.
fn tc3_params(req: &RequestParts<'_>) -> Result<Params, ApiError> {
    let flattened = |bytes: &[u8]| {
        params::unflatten(
            form_pairs(bytes)
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
    };
    if *req.method == Method::GET {
        return flattened(req.query.as_bytes());
    }
    if req.is_form() {
        return flattened(req.body);
    }
    let ct = &req.content_type;
    if ct.is_empty() || ct == "application/json" {
        return params::from_json(req.body);
    }
    Err(ApiError::invalid(format!(
        "Content-Type {} is not supported; send application/json or application/x-www-form-urlencoded",
        error::clip(ct)
    )))
}

/// The legacy form signature: every parameter, common and business, in the query (GET)
/// or the form body (POST).
fn authenticate_legacy(
    credentials: &Credentials,
    req: &RequestParts<'_>,
    facts: &mut Facts,
) -> Result<Signed, ApiError> {
    let pairs = if *req.method == Method::GET {
        form_pairs(req.query.as_bytes())
    } else if req.is_form() {
        form_pairs(req.body)
    } else {
        return Err(ApiError::missing("Authorization"));
    };
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(lang) = get("Language") {
        facts.language = Language::from_tag(Some(lang));
    }
    let action = get("Action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::missing("Action"))?;
    facts.action = LoggedAction::of(action);
    let version = get("Version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::missing("Version"))?;
    if let Some(common) = COMMON_PARAMS
        .iter()
        .find(|c| pairs.iter().filter(|(k, _)| k == *c).count() > 1)
    {
        return Err(ApiError::invalid(format!(
            "`{common}` is given more than once"
        )));
    }
    reject_token(get("Token").filter(|t| !t.is_empty()))?;
    let host = Host::of(req.headers).map(Host::as_sent).ok_or_else(|| {
        ApiError::new(
            crate::codes::SIGNATURE_FAILURE,
            "签名验证失败",
            "the Host header is missing; it is part of the signature",
        )
    })?;
    let caller = auth::verify_legacy(credentials, req.method.as_str(), host, &pairs, req.now)?;
    let params = params::unflatten(
        pairs
            .iter()
            .filter(|(k, _)| !COMMON_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    Ok(Signed {
        caller,
        action: action.to_owned(),
        version: version.to_owned(),
        params,
    })
}

fn reject_token(token: Option<&str>) -> Result<(), ApiError> {
    match token {
        Some(_) => Err(ApiError::new(
            crate::codes::TOKEN_FAILURE,
            "临时凭证无效",
            "temporary credentials (Token) are not supported by this service; use a permanent SecretId and SecretKey",
        )),
        None => Ok(()),
    }
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}
