//! The limit yardstick: a server that answers every correctly TC3-signed `POST /` with a
//! fixed body of a given size, on keypaird's own HTTP stack (`keypair_http::serve`, the
//! same connection limits) and behind keypaird's own signature check
//! (`keypair_wire::auth::verify_tc3`). No store, no JSON encoding, no service: what is
//! left is the cost of the HTTP round trip, the signature and the bytes, so a real
//! answer's throughput divided by this one's says how close keypaird is to what this
//! machine can do for that request shape.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use keypair_core::AccountId;
use keypair_http::{Metrics, ServerLimits};
use keypair_wire::auth::{verify_tc3, Tc3Request};
use keypair_wire::{Credential, Credentials};
use std::sync::Arc;

struct Yardstick {
    credentials: Credentials,
    body: Bytes,
}

/// A `{"Response":{…}}` of exactly `bytes` bytes (at least its fixed frame), which the
/// load generator counts as a success.
pub(crate) fn fixed_body(bytes: usize) -> Bytes {
    let frame = r#"{"Response":{"RequestId":"00000000-0000-0000-0000-000000000000","Padding":""}}"#;
    let pad = bytes.saturating_sub(frame.len());
    let text = frame.replace(
        r#""Padding":"""#,
        &format!(r#""Padding":"{}""#, "x".repeat(pad)),
    );
    Bytes::from(text)
}

async fn answer(State(y): State<Arc<Yardstick>>, headers: HeaderMap, body: Bytes) -> Response {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let timestamp = headers
        .get("x-tc-timestamp")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let req = Tc3Request {
        method: "POST",
        query: "",
        headers: &headers,
        body: &body,
        timestamp,
    };
    match verify_tc3(&y.credentials, authorization, &req, now) {
        Ok(_) => ([(header::CONTENT_TYPE, "application/json")], y.body.clone()).into_response(),
        Err(e) => (
            StatusCode::OK,
            format!(r#"{{"Response":{{"Error":{{"Code":"{}"}}}}}}"#, e.code),
        )
            .into_response(),
    }
}

/// Serves the yardstick on `listen` until the process is stopped, printing
/// `listening on http://ADDR` once bound (as keypaird does).
/// `credentials` are the (SecretId, SecretKey) pairs it accepts.
pub(crate) async fn run(
    listen: &str,
    bytes: usize,
    credentials: &[(String, String)],
) -> Result<(), String> {
    let account = AccountId::parse("1").map_err(|e| e.to_string())?;
    let credentials = Credentials::new(
        credentials
            .iter()
            .filter(|(id, _)| !id.is_empty())
            .map(|(id, key)| Credential::new(id, key, account.clone())),
    )?;
    let state = Arc::new(Yardstick {
        credentials,
        body: fixed_body(bytes),
    });
    let app = Router::new()
        .route("/", post(answer))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state);
    let addr = listen
        .parse()
        .map_err(|e| format!("--listen {listen}: {e}"))?;
    let limits = ServerLimits::default();
    let listener = keypair_http::bind(addr, limits.max_connections).map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{local}");
    let forever = std::future::pending::<()>();
    keypair_http::serve(listener, app, limits, Arc::new(Metrics::new()), forever)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_body_has_the_asked_size_and_is_a_response() {
        for n in [0, 100, 12_000] {
            let body = fixed_body(n);
            assert_eq!(body.len(), n.max(fixed_body(0).len()));
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(v["Response"]["RequestId"].is_string());
        }
    }
}
