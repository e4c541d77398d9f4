//! The shared store conformance suite, run against a real PostgreSQL server (a
//! throwaway cluster, or `KEYPAIR_TEST_POSTGRES_URL`).

use keypair_core::testkit::Store;
use keypair_postgres::{test_server, Postgres};
use std::sync::Arc;

async fn store() -> Option<Store> {
    let url = test_server::url_or_skip("keypair-postgres conformance")?;
    let store = Postgres::connect(&url)
        .await
        .expect("connect to the test server");
    Some(Arc::new(store))
}

keypair_core::store_conformance!(optional: store());
