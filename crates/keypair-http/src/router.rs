//! The routes and the path of one API request through this shell: transport bounds
//! ([`crate::transport`]), a request slot, then the protocol ([`keypair_wire`]): receive,
//! execute (with a [`crate::hook`] around the call, when one is set), answer; then one
//! log line and the metrics ([`crate::log`]).

use crate::hook::{Call, Effect, MAX_DELAY};
use crate::log::{self, Exchange};
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

async fn other_path(State(st): State<Arc<AppState>>, uri: Uri) -> Response {
    let request_id = st.request_ids.next_id();
    let result = Err(keypair_wire::wrong_path(uri.path()));
    wire_response(keypair_wire::response(
        result,
        Language::Chinese,
        &request_id,
    ))
}

async fn api(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut exchange = Exchange {
        request_id: st.request_ids.next_id(),
        started: Instant::now(),
        facts: Facts::new(&headers),
        refusal: None,
        call: None,
        dropped: false,
    };
    // Whatever is logged while the request runs (an internal error, an undecided
    // admission port) carries its RequestId through this span.
    let span = tracing::info_span!("request", request_id = %exchange.request_id);
    let result = admit(&st, &method, &uri, &headers, body, &mut exchange)
        .instrument(span)
        .await;
    log::request(&st, &exchange, &result);
    let code = result.as_ref().err().map_or("OK", |e| e.code);
    let language = exchange.facts.language;
    let sent = keypair_wire::response(result, language, &exchange.request_id);
    if let (Some(hook), Some(call)) = (&st.hook, &exchange.call) {
        let body = (!exchange.dropped).then(|| sent.body().as_str());
        hook.answered(call, code, body);
    }
    let mut response = wire_response(sent);
    if exchange.dropped {
        response
            .extensions_mut()
            .insert(crate::serve::DropConnection);
    }
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
    let now = st.wire_clock.now();
    let request = st.wire.receive(&incoming, now, &mut exchange.facts).await?;
    let Some(hook) = &st.hook else {
        return keypair_wire::execute(&st.service, &request.scope, request.request).await;
    };
    let call = Call {
        product: request.scope.product,
        action: request.action,
        account: request.scope.account.clone(),
        secret_id: request.secret_id,
        params: request.params,
        request_id: exchange.request_id.clone(),
        language: exchange.facts.language,
    };
    let before = hook.before(&call);
    exchange.call = Some(call);
    let result = match apply(st, before, "before", exchange).await {
        Some(instead) => return instead,
        None => keypair_wire::execute(&st.service, &request.scope, request.request).await,
    };
    let after = exchange.call.as_ref().and_then(|call| hook.after(call));
    apply(st, after, "after", exchange).await.unwrap_or(result)
}

/// Carries out a hook's effect, counting it: waits out a delay (within [`MAX_DELAY`])
/// and goes on (`None`), or gives the answer that replaces the call's, or marks the
/// connection to be dropped (with an answer nobody will read).
async fn apply(
    st: &AppState,
    effect: Option<Effect>,
    point: &'static str,
    exchange: &mut Exchange,
) -> Option<Result<Answer, ApiError>> {
    match effect? {
        Effect::Delay(d) => {
            st.metrics.injected("delay", point);
            tokio::time::sleep(d.min(MAX_DELAY)).await;
            None
        }
        Effect::Answer(e) => {
            st.metrics.injected("error", point);
            Some(Err(e))
        }
        Effect::Drop => {
            st.metrics.injected("drop", point);
            exchange.dropped = true;
            let unread = "the connection was dropped by an injected fault";
            Some(Err(ApiError::invalid(unread)))
        }
    }
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
