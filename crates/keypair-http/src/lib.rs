//! The key-pair service over HTTP on axum: a thin shell around the sans-IO protocol of
//! [`keypair_wire`], so that the official SDKs, `tccli` and hand-written clients work
//! unmodified. All of its Tencent knowledge comes from `keypair-wire`; this crate is what
//! a server adds to it:
//!
//! - **transport** ([`transport`]): the body read whole within its size, time and memory
//!   bounds before anything else looks at the request;
//! - **request slots** ([`HttpConfig::max_in_flight`]) and the route for each path
//!   ([`router`]): the API at `/`, `GET /healthz`, `GET /metrics`, the admin API;
//! - **admission** defaults: this process's nonce cache and rate buckets
//!   (`keypair-memory`), or a fleet's shared ones ([`AppState::with_admission`]);
//! - **metrics** (`keypair-metrics`, re-exported as [`metrics`]) and one log line per
//!   request with its RequestId;
//! - **serving** ([`mod@serve`]): the accept loop, connection caps, header timeouts and a
//!   graceful stop;
//! - **the admin API** for test environments ([`admin`]);
//! - **a hook** around each authenticated call ([`hook`]), where a test harness's faults
//!   and journal plug in.

pub mod admin;
pub mod hook;
mod log;
pub mod request_id;
mod router;
pub mod serve;
mod state;
mod token;
pub mod transport;

pub use axum::Router;
pub use hook::{Call, CallHook, Effect};
pub use keypair_metrics::{self as metrics, Metrics};
pub use keypair_wire::{ApiError, Credential, Credentials, Language, RateLimits};
pub use request_id::{RandomRequestIds, RequestIds};
pub use router::router;
pub use serve::{bind, serve, ServerLimits};
pub use state::{AppState, HttpConfig};
pub use transport::{BodyLimits, DEFAULT_BODY_LIMIT};
