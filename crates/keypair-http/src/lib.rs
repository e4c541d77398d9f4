//! The Tencent Cloud API 3.0 wire for the key-pair service, on axum: one router serves
//! CVM and Lighthouse so that the official SDKs, `tccli` and hand-written clients work
//! unmodified.
//!
//! The path of a request through [`router`], one step per module:
//! 1. **transport** ([`transport`]): method (GET/POST, else `UnsupportedProtocol`), the
//!    body read whole within its size, time and memory bounds
//!    (`RequestSizeLimitExceeded`, `InvalidRequest`), then a request slot;
//! 2. **authentication** (`request`, [`auth`]): the common parameters from `X-TC-*`
//!    headers (TC3) or the form (legacy), `MissingParameter` without `Action` or
//!    `Version`; the signature (TC3-HMAC-SHA256 or the legacy form signature); the
//!    business parameters;
//! 3. **product and action** (`route`): the product from `Version` (`NoSuchVersion`),
//!    cross-checked with the credential scope's service and the `Host` endpoint name
//!    ([`host`]); the action (`InvalidAction`);
//! 4. **rate limit** ([`ratelimit`]): `RequestLimitExceeded`; then a legacy request's
//!    nonce is consumed ([`auth::nonce`]);
//! 5. **decode and call** ([`actions`], [`params`]): the parameters decoded and checked
//!    for the action, the service called;
//! 6. **envelope** (`envelope`, [`encode`]): `{"Response": …}`, HTTP 200, `Content-Type:
//!    application/json` exactly, a fresh `RequestId`; domain errors mapped by the one
//!    table in [`error`], with each product's wire facts from [`wire`].
//!
//! Every request, whatever its outcome, is counted in [`metrics`] and logged once with
//! its RequestId (`log`).

pub mod actions;
pub mod admin;
pub mod auth;
pub mod decode;
pub mod encode;
mod envelope;
pub mod error;
pub mod fuzzing;
pub mod host;
mod log;
pub mod metrics;
pub mod params;
pub mod ratelimit;
mod request;
mod route;
pub mod serve;
pub mod sign;
pub mod transport;
pub mod wire;

pub use auth::{Credential, Credentials};
pub use error::{ApiError, Language};
pub use metrics::Metrics;
pub use ratelimit::RateLimits;
pub use serve::{bind, serve, ServerLimits};
use transport::BodyBudget;
pub use transport::BodyLimits;

use actions::Answer;
use auth::{consume_nonce, NonceCache, DEFAULT_MAX_NONCES};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use envelope::{envelope, json_response, request_id};
use keypair_core::{KeyPairService, NonceLedger, Product, RateCounter, Scope};
use log::{LoggedAction, Meta};
use ratelimit::RateLimiter;
use request::{Authenticated, RequestParts};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Default largest request body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

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

    /// Records into `metrics` (share it with a `keypair_core::MeteredStore` and the key
    /// pool probe).
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
    // Whatever is logged while the request runs (an internal error, an undecided
    // admission port) carries its RequestId through this span.
    let span = tracing::info_span!("request", request_id = %meta.request_id);
    let result = admit(&st, &method, &uri, &headers, body, &mut meta)
        .instrument(span)
        .await;
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
        latency_ms = log::millis(took),
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

/// An admitted request's pipeline: authenticate, product and action, rate limit, the
/// legacy nonce, then decode and call the service ([`actions::run`]).
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
        content_type: request::content_type(headers),
        now,
    };
    let Authenticated {
        caller,
        action,
        version,
        params,
    } = request::authenticate(&st.credentials, &req, meta)?;
    meta.account = Some(caller.account.to_string());
    let product = route::product_for(&version, &caller, headers)?;
    meta.product = Some(product);
    let action = route::action_for(&action, product, &version)?;
    meta.known_action = Some(action);
    let key = ratelimit::key(&caller.account, product, action);
    ratelimit::check(&st.config.rate_limits, &*st.rates, key, now_ms).await?;
    // Only now, signed and within its rate, may a legacy request's nonce be stored.
    if let Some(nonce) = caller.nonce {
        consume_nonce(&*st.nonces, &caller.secret_id, nonce, now, product).await?;
    }
    actions::run(
        &st.service,
        &Scope::new(caller.account, product),
        action,
        params,
    )
    .await
}
