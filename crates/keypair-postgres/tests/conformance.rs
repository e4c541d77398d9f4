//! The shared store conformance suite, run against a real PostgreSQL server (a
//! throwaway cluster, or `KEYPAIR_TEST_POSTGRES_URL`); listed as ignored where this build
//! found neither (`keypair_postgres::postgres_test!`).

use keypair_core::testkit::Store;
use keypair_postgres::{test_server, Postgres};
use std::sync::Arc;

async fn store() -> Store {
    let url = test_server::url("keypair-postgres conformance");
    let store = Postgres::connect(&url)
        .await
        .expect("connect to the test server");
    Arc::new(store)
}

keypair_core::store_conformance!(
    #[cfg_attr(keypair_postgres_absent, ignore = "no PostgreSQL: see keypair_postgres::postgres_test!")]
    multi_thread: store()
);
