//! The wire suite ([`suite`]) on the postgres store.

mod common;
mod suite;

wire_suite!(suite::postgres, keypair_postgres::postgres_test);
