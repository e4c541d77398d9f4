//! The routes and the path of one API request through this shell: transport bounds
//! ([`crate::transport`]), a request slot, then the protocol ([`keypair_wire`]): receive,
//! execute, answer; then one log line and the metrics ([`crate::log`]).

use crate::log::{self, Exchange};
use crate::request_id::request_id;
use crate::state::AppState;
use crate::transport;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use keypair_wire::{Answer, ApiError, Facts, Incoming, Language};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

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
    if let Some(token) = state.config.admin_token.clone() {
        router = router.merge(crate::admin::routes(token));
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
    let body = r#"{"status":"ok"}"#.to_owned();
    wire_response(axum::http::Response::new(body))
}

async fn other_path(uri: Uri) -> Response {
    answer(
        Err(keypair_wire::wrong_path(uri.path())),
        Language::Chinese,
        &request_id(),
    )
}

async fn api(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut exchange = Exchange {
        request_id: request_id(),
        started: Instant::now(),
        facts: Facts::new(&headers),
        refusal: None,
    };
    // Whatever is logged while the request runs (an internal error, an undecided
    // admission port) carries its RequestId through this span.
    let span = tracing::info_span!("request", request_id = %exchange.request_id);
    let result = admit(&st, &method, &uri, &headers, body, &mut exchange)
        .instrument(span)
        .await;
    log::request(&st, &exchange, &result);
    let mut response = answer(result, exchange.facts.language, &exchange.request_id);
    if exchange.refusal.is_some() {
        // The rest of the body was not read: the connection cannot carry another request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Transport limits, then a request slot, then the protocol. The body is read whole
/// (within its size, time and memory bounds) before a slot is taken, so clients that
/// stall their bodies cannot hold the slots of clients that do not.
async fn admit(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    exchange: &mut Exchange,
) -> Result<Answer, ApiError> {
    keypair_wire::check_method(method)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = transport::read(body, declared, &st.config.body, &st.bodies)
        .await
        .map_err(|refusal| {
            exchange.refusal = Some(refusal.reason());
            refusal.api_error()
        })?;
    let Ok(_slot) = st.in_flight.try_acquire() else {
        exchange.refusal = Some("in_flight");
        return Err(ApiError::new(
            keypair_wire::codes::REQUEST_LIMIT_EXCEEDED,
            "服务繁忙",
            format!(
                "the server is handling its limit of {} requests; retry shortly",
                st.config.max_in_flight
            ),
        ));
    };
    let incoming = Incoming {
        method,
        query: uri.query().unwrap_or(""),
        headers,
        body: &body.bytes,
    };
    let now = st.service.clock().now();
    let request = st.wire.receive(&incoming, now, &mut exchange.facts).await?;
    keypair_wire::execute(&st.service, &request.scope, request.request).await
}

/// The protocol's answer as an axum response.
fn answer(result: Result<Answer, ApiError>, language: Language, request_id: &str) -> Response {
    wire_response(keypair_wire::response(result, language, request_id))
}

/// A response in the wire's form (HTTP 200, `application/json`) as axum's.
fn wire_response(response: axum::http::Response<String>) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(keypair_wire::CONTENT_TYPE),
    );
    Response::from_parts(parts, Body::from(body))
}
