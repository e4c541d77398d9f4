//! The timing decorator (`keypair_core::MeteredStore`) keeps the store contract: the
//! conformance suite passes through it, and its observer hears of every operation.

use keypair_core::fixtures::{fresh_scope, key_pair};
use keypair_core::{KeyPairStore, MeteredStore, Product, Query, StoreObserver, STORE_OPERATIONS};
use keypair_memory::MemoryStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Remembers the operations it was told of.
#[derive(Default)]
struct Seen(Mutex<Vec<&'static str>>);

impl StoreObserver for Seen {
    fn operation(&self, op: &'static str, _took: Duration) {
        self.0.lock().unwrap().push(op);
    }
}

keypair_core::store_conformance!(async {
    Arc::new(MeteredStore::new(
        Arc::new(MemoryStore::new()),
        Arc::new(Seen::default()),
    ))
});

#[tokio::test]
async fn the_observer_hears_every_operation_by_name() {
    let seen = Arc::new(Seen::default());
    let store = MeteredStore::new(Arc::new(MemoryStore::new()), seen.clone());
    let scope = fresh_scope(Product::Cvm);
    store.insert(key_pair(&scope, "a", 1, 1), 10).await.unwrap();
    let refused = store.insert(key_pair(&scope, "a", 2, 2), 10).await;
    assert!(refused.is_err(), "a duplicate name is refused");
    store.query(&scope, &Query::all()).await.unwrap();
    assert_eq!(*seen.0.lock().unwrap(), ["insert", "insert", "query"]);
    // Every name reported is one the observer was told to expect.
    store.ready().await.unwrap();
    store.count_all().await.unwrap();
    let seen = seen.0.lock().unwrap();
    assert!(
        seen.iter().all(|op| STORE_OPERATIONS.contains(op)),
        "{seen:?}"
    );
}
