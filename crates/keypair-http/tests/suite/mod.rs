//! The wire suite that every store runs, as rustls-test re-runs its API tests per
//! provider: the hostile-input table, the isolation table, the error-mapping rows and
//! NUL in every free-text member,
//! written once and instantiated by `wire_memory.rs`, `wire_sqlite.rs` and
//! `wire_postgres.rs` through [`wire_suite!`], so each store reports the same cases.

#![allow(dead_code, unreachable_pub)] // each test target uses one store factory

pub mod errors;
pub mod hostile;
pub mod isolation;
pub mod nul;

use keypair_core::KeyPairStore;
use std::sync::Arc;

/// Declares tests as written: the stores that are always at hand.
#[macro_export]
macro_rules! as_written {
    ($($item:item)*) => {
        $($item)*
    };
}
/// A new memory store.
pub async fn memory() -> Arc<dyn KeyPairStore> {
    Arc::new(keypair_memory::MemoryStore::new())
}

/// A new SQLite database file (four connections, as keypaird runs it) in cargo's
/// scratch directory for tests (`target/tmp`, emptied by `cargo clean`): the store
/// outlives this function, so the directory is kept rather than removed under it.
pub async fn sqlite() -> Arc<dyn KeyPairStore> {
    let dir = tempfile::Builder::new()
        .prefix("wire-sqlite-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a scratch directory")
        .keep();
    let store = keypair_sqlite::Sqlite::open(dir.join("wire.db"))
        .await
        .expect("open SQLite");
    Arc::new(store)
}

/// A new database on the test PostgreSQL server (`wire_postgres.rs` declares its tests
/// through `keypair_postgres::postgres_test!`, so they are listed as ignored where the
/// build found no server).
pub async fn postgres() -> Arc<dyn KeyPairStore> {
    let url = keypair_postgres::test_server::fresh_database("keypair-http wire suite").await;
    let store = keypair_postgres::Postgres::connect(&url)
        .await
        .expect("connect to the test database");
    Arc::new(store)
}

/// The suite's tests, each on a fresh store from `$store` (an async fn returning
/// `Arc<dyn KeyPairStore>`), each declared through `$declare` (`as_written`, or
/// `keypair_postgres::postgres_test`). Every answer is compared with the
/// golden capture of its test (`tests/golden/<test>.txt`), the same for every store.
#[macro_export]
macro_rules! wire_suite {
    ($store:path) => {
        wire_suite!($store, $crate::as_written);
    };
    ($store:path, $declare:path) => {
        async fn fresh_wire() -> common::Wire {
            common::wire_on($store().await)
        }

        wire_suite!(@case $declare, hostile, every_hostile_request_gets_its_documented_code_and_changes_nothing);
        wire_suite!(@case $declare, isolation, a_second_account_cannot_reach_the_first_accounts_key_pairs);
        wire_suite!(@case $declare, isolation, cvm_and_lighthouse_never_see_each_other);
        wire_suite!(@case $declare, errors, dispatch_and_business_error_codes_per_product);
        wire_suite!(@case $declare, nul, nul_in_every_free_text_member_and_filter_value_is_refused_alike);
    };
    (@case $declare:path, $module:ident, $name:ident) => {
        $declare! {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let mut w = fresh_wire().await;
                let golden = w.capture(stringify!($name));
                suite::$module::$name(w).await;
                golden.check();
            }
        }
    };
}
