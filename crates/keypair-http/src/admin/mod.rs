//! The admin API for test environments, under `/_keypaird/`, off unless an admin token is
//! configured ([`crate::HttpConfig::admin_token`]). Every call needs
//! `Authorization: Bearer <token>`; a missing or wrong token gets `401` and changes
//! nothing ([`guard`]). Answers are JSON with a `RequestId`, which the log line carries.
//!
//! - `POST /_keypaird/reset` removes every key pair of every account; with
//!   `?account=<id>`, of that account only (both products). Answers `{"Removed": n}`.
//! - `GET /_keypaird/ready` checks the store with a real round trip and that a request
//!   slot is free: `200 {"Status": "ready"}`, or `503` with the reason. `/healthz` stays
//!   a liveness check that touches nothing.
//! - `GET /_keypaird/snapshot`: the whole store in the export format
//!   (`application/x-ndjson`), at most [`MAX_SNAPSHOT_KEYS`] key pairs.
//! - `POST /_keypaird/restore`: a snapshot as the body (at most [`MAX_RESTORE_BYTES`]),
//!   checked whole first, then loaded: `{"Loaded": n, "Present": m}`, or `400` naming
//!   the line at fault.

mod access;
mod store;

pub use crate::token::AdminToken;
pub use access::{answer, guard, presents, unauthorized, PREFIX};
pub use store::{MAX_RESTORE_BYTES, MAX_SNAPSHOT_KEYS};

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The admin routes behind `token`, to merge into the router.
pub fn routes(token: AdminToken) -> Router<Arc<AppState>> {
    let routes = Router::new()
        .route(&format!("{PREFIX}/reset"), post(store::reset))
        .route(&format!("{PREFIX}/ready"), get(store::ready))
        .route(&format!("{PREFIX}/snapshot"), get(store::snapshot))
        .route(&format!("{PREFIX}/restore"), post(store::restore));
    guard(routes, token)
}
