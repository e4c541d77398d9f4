//! The keypair service's binary as a library, so tests can start a server in-process:
//! the resolution of flags, variables, the config file and defaults into a plan, and the
//! wiring of a store, a key pool, the service and the HTTP shell ([`serve`]); and the
//! transfer commands ([`commands`]). Everything else is a library crate of its own.

pub mod commands;
pub mod error;
pub mod serve;
