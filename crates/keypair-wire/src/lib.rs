//! The Tencent Cloud API 3.0 key-pair protocol of CVM (`2017-03-12`) and Lighthouse
//! (`2020-03-24`), sans-IO: bytes and types in, decisions and bytes out, in the manner of
//! rustls or h11. No socket, no runtime, no server: any host can serve the official SDKs
//! and `tccli` with it — axum (`keypair-http`), plain hyper, a synchronous server, a
//! serverless handler or a gateway.
//!
//! A host does four things per request:
//! 1. [`check_method`], then read the body within its own bounds;
//! 2. [`Wire::receive`] with the method, query, headers, body and the time: the
//!    signature (TC3-HMAC-SHA256 or the legacy form signature), the product from
//!    `Version`, the action, the rate limit and the legacy nonce (through the
//!    `RateCounter` and `NonceLedger` ports the host hands in), and the action's typed
//!    parameters — an [`Authenticated`] request with its account scope, or an
//!    [`ApiError`];
//! 3. [`execute`] it on a `keypair_core::KeyPairService`;
//! 4. [`response`] (or [`envelope`] for the body alone): HTTP 200, `Content-Type:
//!    application/json`, `{"Response": {…, "RequestId"}}` with the product's error code
//!    and a message in the caller's language.
//!
//! [`Facts`] records what the wire learned on the way (action, product, account,
//! language), each field bounded, for the host's log and metrics. The one error table is
//! [`error::public_codes`]; what differs between the products on the wire is data
//! ([`WireSpec`]); clients, tests and load generators sign with [`sign`] and [`client`].
//!
//! Async only where a port is (the rate counter and nonce ledger may be a database):
//! the futures need no particular executor, and with in-process ports they complete at
//! once, so a synchronous host can drive them with `futures::executor::block_on`.

pub mod actions;
pub mod auth;
pub mod client;
pub mod codes;
mod de;
pub mod decode;
pub mod encode;
pub mod error;
pub mod facts;
pub mod fuzzing;
pub mod host;
pub mod params;
pub mod rates;
mod receive;
mod request;
mod route;
pub mod sign;
pub mod spec;

pub use actions::{execute, WireRequest};
pub use auth::{Credential, Credentials};
pub use encode::{envelope, response, Answer, CONTENT_TYPE};
pub use error::{ApiError, Language};
pub use facts::{Facts, LoggedAction};
pub use receive::{check_method, wrong_path, Authenticated, Incoming, Wire};
pub use spec::{spec, RateLimits, WireSpec, CVM, LIGHTHOUSE};
