//! The store-URL function opens each kind of store, and each one works.

use keypair_core::fixtures::{all_in_scope, fresh_scope, key_pair};
use keypair_core::Product;
use keypair_stores::StoreUrl;

/// Opens `url`, stores and reads back a key pair; says whether the store came with
/// fleet-wide admission ports.
async fn round_trip(url: &str) -> bool {
    let opened = url
        .parse::<StoreUrl>()
        .expect("valid url")
        .open()
        .await
        .expect("open");
    let store = opened.store;
    let scope = fresh_scope(Product::Cvm);
    let kp = key_pair(&scope, "via_url", 1, 1);
    store.insert(kp.clone(), 10).await.expect("insert");
    assert_eq!(all_in_scope(store.as_ref(), &scope).await, vec![kp]);
    opened.shared_admission.is_some()
}

#[tokio::test]
async fn memory_and_sqlite_urls_open_working_stores() {
    // One process: nonces and rate counts stay in its memory.
    assert!(!round_trip("memory").await);
    assert!(!round_trip("sqlite::memory:").await);
    let dir = tempfile::tempdir().expect("dir");
    assert!(!round_trip(&format!("sqlite:{}", dir.path().join("k.db").display())).await);
}

keypair_postgres::postgres_test! {
    #[tokio::test]
    async fn postgres_urls_open_working_stores() {
        let url = keypair_postgres::test_server::url("postgres_urls_open_working_stores");
        assert!(
            round_trip(&url).await,
            "a PostgreSQL fleet shares nonces and rates"
        );
        // A multi-host URL whose first host is down reaches the primary among the others.
        let (head, tail) = url.split_once('@').expect("url has a user");
        let (_, rest) = tail.split_once('/').expect("url has a database");
        let (authority, _) = tail.split_once('/').expect("url has a database");
        let fleet = format!("{head}@127.0.0.1:1,{authority}/{rest}?target_session_attrs=read-write");
        assert!(round_trip(&fleet).await);
    }
}
