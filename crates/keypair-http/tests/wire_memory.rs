//! The wire suite ([`suite`]) on the memory store.

mod common;
mod suite;

wire_suite!(suite::memory);
