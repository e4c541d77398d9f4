//! Programs that embed `keypair-core`, each under `examples/` and run by CI:
//!
//! - `axum_service`: a service of the embedder's own (axum, not `keypair-http`) on a
//!   multi-thread tokio runtime, creating, importing and describing key pairs on SQLite;
//!   `cargo run -p keypair-examples --example axum_service`.
//! - `no_tokio`: the same use-cases under `futures`' executor with no tokio runtime, on
//!   the memory and SQLite stores; `cargo run -p keypair-examples --example no_tokio`.
//! - `inventory`: a service plugging its own instance inventory in as the
//!   `InstanceDirectory`, so association answers for missing, running and Windows
//!   instances and `ForceStop` goes through it;
//!   `cargo run -p keypair-examples --example inventory`.
//! - `custom_store`: a store written in the example itself that passes
//!   `store_conformance!`; `cargo run -p keypair-examples --example custom_store`, and
//!   its conformance cases run under `cargo test -p keypair-examples`.
//!
//! - `hyper_wire`: the Tencent key-pair wire (`keypair-wire`) served by plain hyper, not
//!   axum, with the wire's signer as the client;
//!   `cargo run -p keypair-examples --example hyper_wire`.
//! - `sync_wire`: the same wire with no tokio at all: a synchronous server (`tiny_http`),
//!   the core's own threads doing the work, a synchronous client;
//!   `cargo run -p keypair-examples --example sync_wire`.
//!
//! The library itself is empty.
