//! The admin API for test environments, under `/_keypaird/`, off unless an admin token is
//! configured ([`crate::HttpConfig::admin_token`]). Every call needs
//! `Authorization: Bearer <token>`; a missing or wrong token gets `401` and changes
//! nothing. Answers are JSON with a `RequestId`, which the log line carries too.
//!
//! - `POST /_keypaird/reset` removes every key pair of every account; with
//!   `?account=<id>`, of that account only (both products). Answers `{"Removed": n}`.
//! - `GET /_keypaird/ready` checks the store with a real round trip and that a request
//!   slot is free: `200 {"Status": "ready"}`, or `503` with the reason. `/healthz` stays
//!   a liveness check that touches nothing.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use keypair_core::AccountId;
use serde_json::{json, Value};
use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The path prefix of the admin API.
pub const PREFIX: &str = "/_keypaird";

/// The admin token. Its `Debug` is redacted; it is compared in constant time.
#[derive(Clone)]
pub struct AdminToken(Zeroizing<String>);

impl AdminToken {
    /// A token; empty ones are refused (an empty token would be no protection).
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.is_empty()).then(|| AdminToken(Zeroizing::new(token)))
    }

    fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// The admin routes, to merge into the router when a token is configured.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(&format!("{PREFIX}/reset"), post(reset))
        .route(&format!("{PREFIX}/ready"), get(ready))
}

/// The caller presented the configured token.
fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    presents(st.config.admin_token.as_ref(), headers)
}

/// Whether `headers` carry `Authorization: Bearer <token>` for `token`, compared in
/// constant time; for admin routes an embedder (keypaird) adds under [`PREFIX`].
pub fn presents(token: Option<&AdminToken>, headers: &HeaderMap) -> bool {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (token, presented) {
        (Some(token), Some(p)) => token.matches(p),
        _ => false,
    }
}

/// One admin answer: the status, a JSON body with its RequestId, and the log line.
pub fn answer(route: &'static str, status: StatusCode, mut body: Value) -> Response {
    let request_id = crate::request_id();
    body["RequestId"] = json!(request_id);
    tracing::info!(%request_id, route, status = status.as_u16(), "admin");
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The `401` of a missing or wrong token.
pub fn unauthorized(route: &'static str) -> Response {
    let body = json!({"Error": "missing or wrong admin token: send Authorization: Bearer <token>"});
    answer(route, StatusCode::UNAUTHORIZED, body)
}

async fn reset(State(st): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    const ROUTE: &str = "reset";
    if !authorized(&st, &headers) {
        return unauthorized(ROUTE);
    }
    let account = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "account")
        .map(|(_, v)| v.into_owned());
    let account = match account.as_deref().map(AccountId::parse) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            return answer(
                ROUTE,
                StatusCode::BAD_REQUEST,
                json!({"Error": e.to_string()}),
            )
        }
    };
    match st.service.store().purge(account.as_ref()).await {
        Ok(n) => answer(ROUTE, StatusCode::OK, json!({"Removed": n})),
        Err(e) => {
            tracing::error!(error = %keypair_core::error_chain(&e), "admin reset failed");
            let body = json!({"Error": "the store failed; the server log has the cause"});
            answer(ROUTE, StatusCode::INTERNAL_SERVER_ERROR, body)
        }
    }
}

async fn ready(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    const ROUTE: &str = "ready";
    if !authorized(&st, &headers) {
        return unauthorized(ROUTE);
    }
    let unavailable = |reason: String| {
        answer(
            ROUTE,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"Status": "unavailable", "Reason": reason}),
        )
    };
    if st.in_flight.available_permits() == 0 {
        return unavailable(format!(
            "all {} request slots are taken",
            st.config.max_in_flight
        ));
    }
    match st.service.store().ready().await {
        Ok(()) => answer(ROUTE, StatusCode::OK, json!({"Status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %keypair_core::error_chain(&e), "not ready");
            unavailable(format!("the store is not reachable: {e}"))
        }
    }
}
