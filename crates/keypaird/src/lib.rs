//! The keypair service as a library: configuration, store selection and start-up, so
//! the binary is a thin layer and tests can start a server in-process.

pub mod admin;
pub mod config;
pub mod serve;
pub mod store_url;
pub mod transfer;
