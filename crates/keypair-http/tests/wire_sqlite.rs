//! The wire suite ([`suite`]) on the sqlite store.

mod common;
mod suite;

wire_suite!(suite::sqlite);
