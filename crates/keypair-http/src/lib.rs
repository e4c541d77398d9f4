//! The Tencent Cloud API 3.0 wire for the key-pair service, on axum: one router serves
//! CVM and Lighthouse so that the official SDKs, `tccli` and hand-written clients work
//! unmodified.
//!
//! The path of a request through [`router`]:
//! 1. method (GET/POST, else `UnsupportedProtocol`) and body size (`RequestSizeLimitExceeded`);
//! 2. the common parameters — from `X-TC-*` headers (TC3) or the form (legacy) —
//!    `Action` and `Version` present, else `MissingParameter`;
//! 3. authentication ([`auth`]): TC3-HMAC-SHA256 or the legacy form signature;
//! 4. the product from `Version` (`NoSuchVersion`), cross-checked with the credential
//!    scope's service and the `Host` prefix; the action (`InvalidAction`);
//! 5. the rate limit (`RequestLimitExceeded`);
//! 6. the parameters ([`params`], JSON or flattened) decoded and run ([`actions`]);
//! 7. the answer in the `{"Response": …}` envelope, HTTP 200, `Content-Type:
//!    application/json` exactly, a fresh `RequestId`; domain errors mapped by the one
//!    table in [`error`].

pub mod actions;
pub mod auth;
pub mod error;
pub mod fuzzing;
pub mod metrics;
pub mod params;
pub mod ratelimit;
pub mod serve;
pub mod sign;

pub use auth::{Credential, Credentials};
pub use error::{ApiError, Language};
pub use metrics::{MeteredStore, Metrics};
pub use ratelimit::RateLimits;
pub use serve::{serve, ServerLimits};

use auth::{Caller, NonceCache, Tc3Request};
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use keypair_core::{Action, KeyPairService, Product, Scope};
use params::Params;
use rand_core::{OsRng, RngCore};
use ratelimit::RateLimiter;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// Default largest request body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

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

/// Wire settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Largest request body in bytes.
    pub body_limit: usize,
    /// Request rates.
    pub rate_limits: RateLimits,
    /// Whether `GET /metrics` is served.
    pub metrics: bool,
    /// Most API requests in flight at once; more are refused with `RequestLimitExceeded`.
    pub max_in_flight: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit: DEFAULT_BODY_LIMIT,
            rate_limits: RateLimits::default(),
            metrics: true,
            max_in_flight: 1024,
        }
    }
}

/// Everything a request needs.
pub struct AppState {
    service: KeyPairService,
    credentials: Credentials,
    config: HttpConfig,
    limiter: RateLimiter,
    nonces: NonceCache,
    metrics: Arc<Metrics>,
    in_flight: tokio::sync::Semaphore,
}

impl AppState {
    /// The state for a service and its credentials. Signature windows and rate limits
    /// read the service's clock, so pinning that one clock pins them all.
    pub fn new(service: KeyPairService, credentials: Credentials, config: HttpConfig) -> Self {
        AppState {
            service,
            credentials,
            limiter: RateLimiter::new(config.rate_limits),
            in_flight: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
            config,
            nonces: NonceCache::default(),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Records into `metrics` (share it with a [`MeteredStore`] and the key pool probe).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }
}

/// The router: `/` for the API (GET and POST); `GET /healthz` and, unless turned off,
/// `GET /metrics` without authentication.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/", any(api))
        .route("/healthz", get(healthz));
    if state.config.metrics {
        router = router.route("/metrics", get(metrics_text));
    }
    router.fallback(other_path).with_state(state)
}

async fn metrics_text(State(st): State<Arc<AppState>>) -> Response {
    let mut r = (StatusCode::OK, st.metrics.render()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn healthz() -> Response {
    json_response(json!({"status": "ok"}))
}

async fn other_path(uri: Uri) -> Response {
    let err = ApiError::new(
        "UnsupportedProtocol",
        "请求路径错误",
        format!("the API is served at path `/`, not `{}`", uri.path()),
    );
    envelope(Err(err), Language::Chinese)
}

/// What the log line of a request says.
#[derive(Default)]
struct Meta {
    action: Option<String>,
    known_action: Option<Action>,
    product: Option<Product>,
    account: Option<String>,
    language: Language,
}

async fn api(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let mut meta = Meta {
        language: Language::from_tag(headers.get("x-tc-language").and_then(|v| v.to_str().ok())),
        ..Meta::default()
    };
    let result = match st.in_flight.try_acquire() {
        Ok(_permit) => handle(&st, &method, &uri, &headers, body, &mut meta).await,
        Err(_) => Err(ApiError::new(
            "RequestLimitExceeded",
            "服务繁忙",
            format!(
                "the server is handling its limit of {} requests; retry shortly",
                st.config.max_in_flight
            ),
        )),
    };
    let code = result.as_ref().err().map_or("OK", |e| e.code);
    let took = started.elapsed();
    st.metrics.request(
        meta.known_action,
        meta.product.map_or("-", Product::as_str),
        code,
        took,
    );
    tracing::info!(
        action = meta.action.as_deref().unwrap_or("-"),
        product = meta.product.map_or("-", Product::as_str),
        account = meta.account.as_deref().unwrap_or("-"),
        code,
        latency_ms = took.as_secs_f64() * 1000.0,
        "request"
    );
    envelope(result, meta.language)
}

async fn handle(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    meta: &mut Meta,
) -> Result<Map<String, Value>, ApiError> {
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::new(
            "UnsupportedProtocol",
            "请求方法错误",
            format!("HTTP method {method} is not supported; use GET or POST"),
        ));
    }
    let body = read_body(headers, body, st.config.body_limit).await?;
    let now_ms = st.service.clock().now().as_millis();
    let now = now_ms.div_euclid(1000);
    let query = uri.query().unwrap_or("");
    let authorization = headers.get(header::AUTHORIZATION).map(|v| {
        v.to_str().map_err(|_| {
            ApiError::new(
                "AuthFailure.InvalidAuthorization",
                "Authorization 头格式错误",
                "the Authorization header is not text",
            )
        })
    });
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let is_form = content_type == "application/x-www-form-urlencoded";
    let (caller, action, version, params) = match authorization {
        Some(auth) => {
            let auth = auth?;
            let header_text = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty())
            };
            let action = header_text("x-tc-action")
                .ok_or_else(|| ApiError::missing("Action (X-TC-Action)"))?;
            let version = header_text("x-tc-version")
                .ok_or_else(|| ApiError::missing("Version (X-TC-Version)"))?;
            let ts = header_text("x-tc-timestamp")
                .ok_or_else(|| ApiError::missing("Timestamp (X-TC-Timestamp)"))?;
            let timestamp = ts.parse::<i64>().map_err(|_| {
                ApiError::invalid(format!("X-TC-Timestamp must be Unix seconds, got {ts:?}"))
            })?;
            meta.action = Some(action.to_owned());
            reject_token(header_text("x-tc-token"))?;
            let req = Tc3Request {
                method: method.as_str(),
                query,
                headers,
                body: &body,
                timestamp,
            };
            let caller = auth::verify_tc3(&st.credentials, auth, &req, now)?;
            let params = if method == Method::GET {
                params::unflatten(
                    form_pairs(query.as_bytes())
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                )?
            } else if is_form {
                params::unflatten(
                    form_pairs(&body)
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                )?
            } else if content_type.is_empty() || content_type == "application/json" {
                params::from_json(&body)?
            } else {
                return Err(ApiError::invalid(format!(
                    "Content-Type {content_type} is not supported; send application/json or application/x-www-form-urlencoded"
                )));
            };
            (caller, action.to_owned(), version.to_owned(), params)
        }
        None => {
            let pairs = if method == Method::GET {
                form_pairs(query.as_bytes())
            } else if is_form {
                form_pairs(&body)
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
                meta.language = Language::from_tag(Some(lang));
            }
            let action = get("Action")
                .filter(|a| !a.is_empty())
                .ok_or_else(|| ApiError::missing("Action"))?;
            let version = get("Version")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ApiError::missing("Version"))?;
            meta.action = Some(action.to_owned());
            for common in COMMON_PARAMS {
                if pairs.iter().filter(|(k, _)| k == common).count() > 1 {
                    return Err(ApiError::invalid(format!(
                        "`{common}` is given more than once"
                    )));
                }
            }
            reject_token(get("Token").filter(|t| !t.is_empty()))?;
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        "AuthFailure.SignatureFailure",
                        "签名验证失败",
                        "the Host header is missing; it is part of the signature",
                    )
                })?;
            let caller = auth::verify_legacy(
                &st.credentials,
                &st.nonces,
                method.as_str(),
                host,
                &pairs,
                now,
            )?;
            let business = params::unflatten(
                pairs
                    .iter()
                    .filter(|(k, _)| !COMMON_PARAMS.contains(&k.as_str()))
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )?;
            (caller, action.to_owned(), version.to_owned(), business)
        }
    };
    meta.account = Some(caller.account.to_string());
    let product = product_for(&version, &caller, headers)?;
    meta.product = Some(product);
    let action = Action::from_name(&action, product).ok_or_else(|| {
        ApiError::new(
            "InvalidAction",
            "接口不存在",
            format!("{action} is not an action of {product} (Version {version})"),
        )
    })?;
    meta.known_action = Some(action);
    if !st.limiter.admit(&caller.account, product, action, now_ms) {
        return Err(ApiError::new(
            "RequestLimitExceeded",
            "请求频率超过限制",
            format!(
                "too many {} requests from this account; slow down and retry",
                action.name()
            ),
        ));
    }
    run_action(st, Scope::new(caller.account, product), action, &params).await
}

async fn run_action(
    st: &AppState,
    scope: Scope,
    action: Action,
    params: &Params,
) -> Result<Map<String, Value>, ApiError> {
    actions::run(&st.service, &scope, action, params).await
}

fn reject_token(token: Option<&str>) -> Result<(), ApiError> {
    match token {
        Some(_) => Err(ApiError::new(
            "AuthFailure.TokenFailure",
            "临时凭证无效",
            "temporary credentials (Token) are not supported by this service; use a permanent SecretId and SecretKey",
        )),
        None => Ok(()),
    }
}

/// The product the request's Version names, checked against what the credential scope
/// and the `Host` prefix say where they name a product.
fn product_for(version: &str, caller: &Caller, headers: &HeaderMap) -> Result<Product, ApiError> {
    let product = Product::from_version(version).ok_or_else(|| {
        ApiError::new(
            "NoSuchVersion",
            "接口版本不存在",
            format!(
                "Version {version} does not exist; use 2017-03-12 (CVM) or 2020-03-24 (Lighthouse)"
            ),
        )
    })?;
    if let Some(named) = caller.service.as_deref().and_then(Product::from_service) {
        if named != product {
            return Err(ApiError::new(
                "AuthFailure.InvalidAuthorization",
                "凭证服务与版本不符",
                format!("the credential scope names service {named} but Version {version} belongs to {product}"),
            ));
        }
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let host = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host);
    if let Some(named) = host
        .split('.')
        .next()
        .and_then(Product::from_service)
        .filter(|_| host.contains('.'))
    {
        if named != product {
            return Err(ApiError::new(
                "NoSuchVersion",
                "接口版本不存在",
                format!("the endpoint {host} serves {named}, which has no Version {version}"),
            ));
        }
    }
    Ok(product)
}

async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            "RequestSizeLimitExceeded",
            "请求包过大",
            format!("the request body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    to_bytes(body, limit)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| too_large())
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// A fresh random (version 4) UUID, lower case.
fn request_id() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn envelope(result: Result<Map<String, Value>, ApiError>, lang: Language) -> Response {
    let mut response = match result {
        Ok(fields) => fields,
        Err(e) => {
            let mut m = Map::new();
            m.insert(
                "Error".into(),
                json!({"Code": e.code, "Message": e.message(lang)}),
            );
            m
        }
    };
    response.insert("RequestId".into(), json!(request_id()));
    json_response(json!({ "Response": response }))
}

/// Status 200 and `Content-Type: application/json` exactly: the Python SDK treats any
/// other status as a network error and ignores errors under a charset suffix.
fn json_response(v: Value) -> Response {
    let mut r = (StatusCode::OK, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
