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
//! The library itself is empty.
