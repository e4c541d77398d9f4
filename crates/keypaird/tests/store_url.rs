//! The store-URL function opens each kind of store, and each one works.

use keypair_core::fixtures::{fresh_scope, key_pair};
use keypair_core::{Product, Query};
use keypaird::store_url::StoreUrl;

async fn round_trip(url: &str) {
    let store = url
        .parse::<StoreUrl>()
        .expect("valid url")
        .open()
        .await
        .expect("open");
    let scope = fresh_scope(Product::Cvm);
    let kp = key_pair(&scope, "via_url", 1, 1);
    store.insert(kp.clone(), 10).await.expect("insert");
    assert_eq!(
        store
            .query(&scope, &Query::all())
            .await
            .expect("query")
            .items,
        vec![kp]
    );
}

#[tokio::test]
async fn memory_and_sqlite_urls_open_working_stores() {
    round_trip("memory").await;
    round_trip("sqlite::memory:").await;
    let dir = tempfile::tempdir().expect("dir");
    round_trip(&format!("sqlite:{}", dir.path().join("k.db").display())).await;
}

#[tokio::test]
async fn postgres_urls_open_working_stores() {
    let Some(url) = keypair_postgres::test_server::url_or_skip("postgres_urls_open_working_stores")
    else {
        return;
    };
    round_trip(&url).await;
}
