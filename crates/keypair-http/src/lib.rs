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
pub mod admin;
pub mod auth;
pub mod encode;
pub mod error;
pub mod fuzzing;
pub mod host;
pub mod metrics;
pub mod params;
pub mod ratelimit;
pub mod serve;
pub mod sign;
pub mod transport;
pub mod wire;

pub use auth::{Credential, Credentials};
pub use error::{ApiError, Language};
pub use metrics::{MeteredStore, Metrics};
pub use ratelimit::RateLimits;
pub use serve::{bind, serve, ServerLimits};
use transport::BodyBudget;
pub use transport::BodyLimits;

use actions::Answer;
use auth::{consume_nonce, Caller, NonceCache, Tc3Request, DEFAULT_MAX_NONCES};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use host::Host;
use keypair_core::{
    AccountId, Action, KeyPairService, NonceLedger, Product, RateCounter, RateKey, Scope,
};
use params::Params;
use ratelimit::RateLimiter;
use serde_json::{json, Map};
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
    /// Request body size, time and memory limits ([`transport`]).
    pub body: BodyLimits,
    /// Request rates.
    pub rate_limits: RateLimits,
    /// Whether `GET /metrics` is served.
    pub metrics: bool,
    /// Most API requests in flight at once; more are refused with `RequestLimitExceeded`.
    pub max_in_flight: usize,
    /// The admin API's token; `None` (the default) leaves the admin API off ([`admin`]).
    pub admin_token: Option<admin::AdminToken>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body: BodyLimits::default(),
            rate_limits: RateLimits::default(),
            metrics: true,
            max_in_flight: 1024,
            admin_token: None,
        }
    }
}

/// Everything a request needs.
pub struct AppState {
    service: KeyPairService,
    credentials: Credentials,
    config: HttpConfig,
    rates: Arc<dyn RateCounter>,
    nonces: Arc<dyn NonceLedger>,
    metrics: Arc<Metrics>,
    in_flight: tokio::sync::Semaphore,
    bodies: BodyBudget,
}

impl AppState {
    /// The state for a service and its credentials. Signature windows and rate limits
    /// read the service's clock, so pinning that one clock pins them all.
    pub fn new(service: KeyPairService, credentials: Credentials, config: HttpConfig) -> Self {
        AppState {
            service,
            credentials,
            rates: Arc::new(RateLimiter::new()),
            in_flight: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
            bodies: BodyBudget::new(config.body.budget_bytes),
            config,
            nonces: Arc::new(NonceCache::new(DEFAULT_MAX_NONCES)),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Keeps legacy nonces and counts request rates in `nonces` and `rates` instead of
    /// this process's memory: for several servers sharing one database, so a nonce is
    /// single-use and a rate holds across all of them.
    pub fn with_admission(
        mut self,
        nonces: Arc<dyn NonceLedger>,
        rates: Arc<dyn RateCounter>,
    ) -> Self {
        self.nonces = nonces;
        self.rates = rates;
        self
    }

    /// Records into `metrics` (share it with a [`MeteredStore`] and the key pool probe).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }
}

/// The router: `/` for the API (GET and POST); `GET /healthz` and, unless turned off,
/// `GET /metrics` without authentication; the admin API under `/_keypaird/` when an admin
/// token is configured.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/", any(api))
        .route("/healthz", get(healthz));
    if state.config.metrics {
        router = router.route("/metrics", get(metrics_text));
    }
    if state.config.admin_token.is_some() {
        router = router.merge(admin::routes());
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
    json_response(json!({"status": "ok"}).to_string())
}

async fn other_path(uri: Uri) -> Response {
    let err = ApiError::new(
        "UnsupportedProtocol",
        "请求路径错误",
        format!(
            "the API is served at path `/`, not `{}`",
            error::clip(uri.path())
        ),
    );
    envelope(Err(err), Language::Chinese, &request_id())
}

/// What the log line of a request says. Every field is bounded: nothing an
/// unauthenticated client sends reaches the log except through [`log_action`].
struct Meta {
    request_id: String,
    action: LoggedAction,
    known_action: Option<Action>,
    product: Option<Product>,
    account: Option<String>,
    language: Language,
    /// A transport refusal (its metric reason); the connection is closed after it.
    refusal: Option<&'static str>,
}

/// An action name as logged: a known action's name, or `<unknown>` and the length of
/// what was sent.
#[derive(Clone, Copy, Default)]
enum LoggedAction {
    #[default]
    Missing,
    Known(&'static str),
    Unknown(usize),
}

/// The bounded form of a client-supplied action name for the log.
fn log_action(raw: &str) -> LoggedAction {
    Action::ALL
        .into_iter()
        .map(Action::name)
        .find(|name| *name == raw)
        .map_or(LoggedAction::Unknown(raw.len()), LoggedAction::Known)
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
        request_id: request_id(),
        action: LoggedAction::Missing,
        known_action: None,
        product: None,
        account: None,
        language: Language::from_tag(headers.get("x-tc-language").and_then(|v| v.to_str().ok())),
        refusal: None,
    };
    let result = admit(&st, &method, &uri, &headers, body, &mut meta).await;
    let code = result.as_ref().err().map_or("OK", |e| e.code);
    let took = started.elapsed();
    let product = meta.product.map_or("-", Product::as_str);
    st.metrics.request(meta.known_action, product, code, took);
    if let Some(reason) = meta.refusal {
        st.metrics.refusal(reason);
    }
    let (action, action_len) = match meta.action {
        LoggedAction::Missing => ("-", 0),
        LoggedAction::Known(name) => (name, name.len()),
        LoggedAction::Unknown(len) => ("<unknown>", len),
    };
    tracing::info!(
        request_id = %meta.request_id,
        action,
        action_len,
        product,
        account = meta.account.as_deref().unwrap_or("-"),
        code,
        refusal = meta.refusal.unwrap_or("-"),
        test_credentials = st.credentials.is_test_mode(),
        latency_ms = took.as_secs_f64() * 1000.0,
        "request"
    );
    let mut response = envelope(result, meta.language, &meta.request_id);
    if meta.refusal.is_some() {
        // The rest of the body was not read: the connection cannot carry another request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Transport limits, then a request slot, then the request itself. The body is read
/// whole (within its size, time and memory bounds) before a slot is taken, so clients
/// that stall their bodies cannot hold the slots of clients that do not.
async fn admit(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    meta: &mut Meta,
) -> Result<Answer, ApiError> {
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::new(
            "UnsupportedProtocol",
            "请求方法错误",
            format!("HTTP method {method} is not supported; use GET or POST"),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = transport::read(body, declared, &st.config.body, &st.bodies)
        .await
        .map_err(|refusal| {
            meta.refusal = Some(refusal.reason());
            refusal.api_error()
        })?;
    let Ok(_slot) = st.in_flight.try_acquire() else {
        meta.refusal = Some("in_flight");
        return Err(ApiError::new(
            "RequestLimitExceeded",
            "服务繁忙",
            format!(
                "the server is handling its limit of {} requests; retry shortly",
                st.config.max_in_flight
            ),
        ));
    };
    handle(st, method, uri, headers, &body.bytes, meta).await
}

/// What authentication established, and the request it carried.
struct Authenticated {
    caller: Caller,
    action: String,
    version: String,
    params: Params,
}

async fn handle(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    meta: &mut Meta,
) -> Result<Answer, ApiError> {
    let now_ms = st.service.clock().now().as_millis();
    let now = now_ms.div_euclid(1000);
    let req = RequestParts {
        method,
        query: uri.query().unwrap_or(""),
        headers,
        body,
        content_type: content_type(headers),
        now,
    };
    let authenticated = match headers.get(header::AUTHORIZATION) {
        Some(auth) => authenticate_tc3(st, auth, &req, meta)?,
        None => authenticate_legacy(st, &req, meta)?,
    };
    let Authenticated {
        caller,
        action,
        version,
        params,
    } = authenticated;
    meta.account = Some(caller.account.to_string());
    let product = product_for(&version, &caller, headers)?;
    meta.product = Some(product);
    let action = Action::from_name(&action, product).ok_or_else(|| {
        ApiError::new(
            "InvalidAction",
            "接口不存在",
            format!(
                "{} is not an action of {product} (Version {version})",
                error::clip(&action)
            ),
        )
    })?;
    meta.known_action = Some(action);
    if !admit_rate(st, &caller.account, product, action, now_ms).await? {
        return Err(ApiError::new(
            "RequestLimitExceeded",
            "请求频率超过限制",
            format!(
                "too many {} requests from this account; slow down and retry",
                action.name()
            ),
        ));
    }
    // Only now, signed and within its rate, may a legacy request's nonce be stored.
    if let Some(nonce) = caller.nonce {
        consume_nonce(&*st.nonces, &caller.secret_id, nonce, now, product).await?;
    }
    actions::run(
        &st.service,
        &Scope::new(caller.account, product),
        action,
        &params,
    )
    .await
}

/// Counts the request against its account's rate for the action, if it has one.
async fn admit_rate(
    st: &AppState,
    account: &AccountId,
    product: Product,
    action: Action,
    now_ms: i64,
) -> Result<bool, ApiError> {
    let Some(rate) = st.config.rate_limits.rate(product, action) else {
        return Ok(true);
    };
    let key = RateKey {
        account: account.clone(),
        product,
        action,
    };
    st.rates
        .admit(&key, rate, now_ms)
        .await
        .map_err(|e| error::undecided("the rate counter", &e, product))
}

/// The parts of a request authentication reads.
struct RequestParts<'a> {
    method: &'a Method,
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    /// The media type of `Content-Type` ([`content_type`]).
    content_type: String,
    now: i64,
}

impl RequestParts<'_> {
    /// Whether the body is a flattened form.
    fn is_form(&self) -> bool {
        self.content_type == "application/x-www-form-urlencoded"
    }
}

/// The media type of `Content-Type`, lower-cased, without parameters.
fn content_type(headers: &HeaderMap) -> String {
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
    st: &AppState,
    auth: &HeaderValue,
    req: &RequestParts<'_>,
    meta: &mut Meta,
) -> Result<Authenticated, ApiError> {
    let auth = auth.to_str().map_err(|_| {
        ApiError::new(
            "AuthFailure.InvalidAuthorization",
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
    meta.action = log_action(action);
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
    let caller = auth::verify_tc3(&st.credentials, auth, &signed, req.now)?;
    let params = tc3_params(req)?;
    Ok(Authenticated {
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
    st: &AppState,
    req: &RequestParts<'_>,
    meta: &mut Meta,
) -> Result<Authenticated, ApiError> {
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
        meta.language = Language::from_tag(Some(lang));
    }
    let action = get("Action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::missing("Action"))?;
    meta.action = log_action(action);
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
            "AuthFailure.SignatureFailure",
            "签名验证失败",
            "the Host header is missing; it is part of the signature",
        )
    })?;
    let caller = auth::verify_legacy(&st.credentials, req.method.as_str(), host, &pairs, req.now)?;
    let params = params::unflatten(
        pairs
            .iter()
            .filter(|(k, _)| !COMMON_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    Ok(Authenticated {
        caller,
        action: action.to_owned(),
        version: version.to_owned(),
        params,
    })
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
                "Version {} does not exist; use 2017-03-12 (CVM) or 2020-03-24 (Lighthouse)",
                error::clip(version)
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
    let host = Host::of(headers).unwrap_or(Host::new(""));
    if let Some(named) = host.product() {
        if named != product {
            return Err(ApiError::new(
                "NoSuchVersion",
                "接口版本不存在",
                format!(
                    "the endpoint {} serves {named}, which has no Version {version}",
                    error::clip(host.bare())
                ),
            ));
        }
    }
    Ok(product)
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// A fresh random (version 4) UUID, lower case.
pub(crate) fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn envelope(result: Result<Answer, ApiError>, lang: Language, request_id: &str) -> Response {
    let mut response = match result {
        Ok(Answer::Page(page)) => {
            let body = serde_json::to_string(&encode::PageJson {
                page: &page,
                request_id,
            });
            // Strings and numbers only: encoding cannot fail.
            return json_response(body.unwrap_or_default());
        }
        Ok(Answer::Fields(fields)) => fields,
        Err(e) => {
            let mut m = Map::new();
            m.insert(
                "Error".into(),
                json!({"Code": e.code, "Message": e.message(lang)}),
            );
            m
        }
    };
    response.insert("RequestId".into(), json!(request_id));
    json_response(json!({ "Response": response }).to_string())
}

/// Status 200 and `Content-Type: application/json` exactly: the Python SDK treats any
/// other status as a network error and ignores errors under a charset suffix.
fn json_response(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
