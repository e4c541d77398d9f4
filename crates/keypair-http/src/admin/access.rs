//! Who may call the admin API, and how it answers: the token (compared in constant
//! time, redacted in `Debug`), the guard that refuses a missing or wrong one with `401`
//! before any handler runs, and the JSON answer every admin route gives, with its
//! RequestId in the body and the log line.

use crate::request_id::{RandomRequestIds, RequestIds};
use crate::token::AdminToken;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::fmt;

/// The path prefix of the admin API.
pub const PREFIX: &str = "/_keypaird";

/// `router` behind `token`: a request without `Authorization: Bearer <token>` gets the
/// `401` of [`unauthorized`] and reaches no route. For the admin routes here and any an
/// embedder adds under [`PREFIX`].
pub fn guard<S: Clone + Send + Sync + 'static>(router: Router<S>, token: AdminToken) -> Router<S> {
    router.route_layer(middleware::from_fn(move |req: Request, next: Next| {
        let allowed = presents(Some(&token), req.headers());
        async move {
            if allowed {
                next.run(req).await
            } else {
                unauthorized(req.uri().path().to_owned())
            }
        }
    }))
}

/// Whether `headers` carry `Authorization: Bearer <token>` for `token`, compared in
/// constant time.
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
pub fn answer(route: impl fmt::Display, status: StatusCode, mut body: Value) -> Response {
    let request_id = RandomRequestIds.next_id();
    body["RequestId"] = json!(request_id);
    tracing::info!(%request_id, %route, status = status.as_u16(), "admin");
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The `401` of a missing or wrong token.
pub fn unauthorized(route: impl fmt::Display) -> Response {
    let body = json!({"Error": "missing or wrong admin token: send Authorization: Bearer <token>"});
    answer(route, StatusCode::UNAUTHORIZED, body)
}
