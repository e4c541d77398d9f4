//! The admin API's snapshot and restore (`GET /_keypaird/snapshot`,
//! `POST /_keypaird/restore`), which keypaird adds beside the adapter's reset and
//! readiness because they speak the export format of [`crate::transfer`]. Same token,
//! same `401`, same JSON answers with a RequestId.
//!
//! Bounded for a test environment: a snapshot is built in memory and refused past
//! [`MAX_SNAPSHOT_KEYS`] key pairs (use `keypaird export` for a real store); a restore
//! body is read up to [`MAX_RESTORE_BYTES`], checked whole, then loaded like
//! `keypaird import` (identical records are skipped, conflicts refused).

use crate::transfer;
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use keypair_core::KeyPairStore;
use keypair_http::admin::{self, AdminToken, PREFIX};
use serde_json::json;
use std::io::{BufRead, Cursor};
use std::sync::Arc;

/// Most key pairs a snapshot holds.
pub const MAX_SNAPSHOT_KEYS: u64 = 100_000;
/// Largest restore body: about 100,000 key pairs.
pub const MAX_RESTORE_BYTES: usize = 128 << 20;

#[derive(Clone)]
struct Admin {
    store: Arc<dyn KeyPairStore>,
    token: AdminToken,
}

/// The snapshot and restore routes, to merge into the server's router.
pub fn routes(store: Arc<dyn KeyPairStore>, token: AdminToken) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/snapshot"), get(snapshot))
        .route(&format!("{PREFIX}/restore"), post(restore))
        .with_state(Admin { store, token })
}

async fn snapshot(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    const ROUTE: &str = "snapshot";
    if !admin::presents(Some(&admin.token), &headers) {
        return admin::unauthorized(ROUTE);
    }
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "admin snapshot failed");
        admin::answer(
            ROUTE,
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"Error": "the snapshot failed; the server log has the cause"}),
        )
    };
    let total = match admin.store.count_all().await {
        Ok(n) => n,
        Err(e) => return failed(&e),
    };
    if total > MAX_SNAPSHOT_KEYS {
        let message = format!("the store holds {total} key pairs; a snapshot holds at most {MAX_SNAPSHOT_KEYS}: use keypaird export");
        return admin::answer(
            ROUTE,
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"Error": message}),
        );
    }
    let mut out = Vec::new();
    let progress = transfer::Progress::quiet("snapshot");
    if let Err(e) =
        transfer::export_with(&*admin.store, "snapshot", &mut out, progress, total).await
    {
        return failed(&e);
    }
    tracing::info!(route = ROUTE, key_pairs = total, "admin");
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    r
}

async fn restore(State(admin): State<Admin>, headers: HeaderMap, body: Body) -> Response {
    const ROUTE: &str = "restore";
    if !admin::presents(Some(&admin.token), &headers) {
        return admin::unauthorized(ROUTE);
    }
    let Ok(bytes) = to_bytes(body, MAX_RESTORE_BYTES).await else {
        let message = format!(
            "the body is larger than {MAX_RESTORE_BYTES} bytes or broke off; use keypaird import"
        );
        return admin::answer(
            ROUTE,
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"Error": message}),
        );
    };
    let open = || Ok(Box::new(Cursor::new(bytes.clone())) as Box<dyn BufRead + Send>);
    match transfer::import_with(&*admin.store, open, true).await {
        Ok(r) => admin::answer(
            ROUTE,
            StatusCode::OK,
            json!({"Loaded": r.loaded, "Present": r.present}),
        ),
        Err(e) => admin::answer(
            ROUTE,
            StatusCode::BAD_REQUEST,
            json!({"Error": e.to_string()}),
        ),
    }
}
