//! The admin API's calls on the store: reset, readiness, and snapshot and restore in the
//! export format of `keypair-transfer`. Each runs behind the token guard
//! ([`super::guard`]).

use super::access::answer;
use crate::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use keypair_core::AccountId;
use serde_json::json;
use std::io::{BufRead, Cursor};
use std::sync::Arc;

/// Most key pairs a snapshot holds (it is built in memory): use `keypaird export`
/// beyond.
pub const MAX_SNAPSHOT_KEYS: u64 = 100_000;
/// Largest restore body: about 100,000 key pairs.
pub const MAX_RESTORE_BYTES: usize = 128 << 20;

/// `POST /_keypaird/reset[?account=ID]`: removes every key pair (of one account).
pub(super) async fn reset(State(st): State<Arc<AppState>>, uri: Uri) -> Response {
    const ROUTE: &str = "reset";
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
    if let Some(hook) = &st.hook {
        hook.reset();
    }
    match st.service.store().purge(account.as_ref()).await {
        Ok(n) => answer(ROUTE, StatusCode::OK, json!({"Removed": n})),
        Err(e) => failed(ROUTE, &e),
    }
}

/// `GET /_keypaird/ready`: a real round trip to the store, and a free request slot.
pub(super) async fn ready(State(st): State<Arc<AppState>>) -> Response {
    const ROUTE: &str = "ready";
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

/// `GET /_keypaird/snapshot`: the whole store in the export format, up to
/// [`MAX_SNAPSHOT_KEYS`].
pub(super) async fn snapshot(State(st): State<Arc<AppState>>) -> Response {
    const ROUTE: &str = "snapshot";
    let store = st.service.store();
    let total = match store.count_all().await {
        Ok(n) => n,
        Err(e) => return failed(ROUTE, &e),
    };
    if total > MAX_SNAPSHOT_KEYS {
        let message = format!("the store holds {total} key pairs; a snapshot holds at most {MAX_SNAPSHOT_KEYS}: use keypaird export");
        return answer(
            ROUTE,
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"Error": message}),
        );
    }
    let mut out = Vec::new();
    let exported =
        keypair_transfer::export(&**store, "snapshot", &mut out, &mut keypair_transfer::Quiet)
            .await;
    if let Err(e) = exported {
        return failed(ROUTE, &e);
    }
    tracing::info!(route = ROUTE, key_pairs = total, "admin");
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    r
}

/// `POST /_keypaird/restore`: loads a snapshot, checked whole first, like `keypaird
/// import` (identical key pairs are skipped, conflicts refused).
pub(super) async fn restore(State(st): State<Arc<AppState>>, body: Body) -> Response {
    const ROUTE: &str = "restore";
    let Ok(bytes) = to_bytes(body, MAX_RESTORE_BYTES).await else {
        let message = format!(
            "the body is larger than {MAX_RESTORE_BYTES} bytes or broke off; use keypaird import"
        );
        return answer(
            ROUTE,
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"Error": message}),
        );
    };
    let mut open = || Ok(Box::new(Cursor::new(bytes.clone())) as Box<dyn BufRead + Send>);
    let store = st.service.store();
    match keypair_transfer::import(&**store, &mut open, &mut keypair_transfer::Quiet).await {
        Ok(r) => answer(
            ROUTE,
            StatusCode::OK,
            json!({"Loaded": r.loaded, "Present": r.present}),
        ),
        Err(e) => answer(
            ROUTE,
            StatusCode::BAD_REQUEST,
            json!({"Error": e.to_string()}),
        ),
    }
}

/// The `500` of a store that failed: the cause in the log, not the answer.
fn failed(route: &'static str, e: &dyn std::error::Error) -> Response {
    tracing::error!(route, error = %keypair_core::error_chain(e), "admin call failed");
    let body = json!({"Error": "the store failed; the server log has the cause"});
    answer(route, StatusCode::INTERNAL_SERVER_ERROR, body)
}
