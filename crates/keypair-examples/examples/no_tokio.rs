//! `keypair-core` with no tokio runtime at all: the use-cases under `futures`' executor,
//! on the memory store and on the SQLite store. Key generation runs on the service's own
//! threads and SQLite's blocking calls on the store's own threads, so nothing here needs
//! a reactor or a blocking pool.
//!
//! Run: `cargo run -p keypair-examples --example no_tokio`

use futures::executor::block_on;
use keypair_core::{
    AccountId, CreateKeyPair, DescribeKeyPairs, ImportKeyPair, KeyPairService, KeyPairStore,
    Product, Scope,
};
use keypair_memory::MemoryStore;
use keypair_sqlite::Sqlite;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    block_on(async {
        exercise("memory", Arc::new(MemoryStore::new())).await?;
        let sqlite = Sqlite::open(dir.path().join("keys.db")).await?;
        exercise("sqlite", Arc::new(sqlite)).await
    })
}

/// Create, import and describe on one store; prints one line.
async fn exercise(
    label: &str,
    store: Arc<dyn KeyPairStore>,
) -> Result<(), Box<dyn std::error::Error>> {
    let service = KeyPairService::builder(store).build();
    let scope = Scope::new(AccountId::parse("1250000001")?, Product::Lighthouse);
    let created = service
        .create(
            &scope,
            CreateKeyPair {
                name: "ci".into(),
                ..Default::default()
            },
        )
        .await?;
    let public_key = created.key_pair.public_key.as_openssh().to_owned();
    service
        .delete(&scope, &[created.key_pair.id.to_string()])
        .await?;
    let imported = service
        .import(
            &scope,
            ImportKeyPair {
                name: "ci_again".into(),
                public_key,
                ..Default::default()
            },
        )
        .await?;
    let page = service
        .describe(&scope, &DescribeKeyPairs::default())
        .await?;
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, imported.id);
    println!(
        "{label}: created, deleted and re-imported {} ({})",
        imported.id,
        imported.public_key.fingerprint()
    );
    Ok(())
}
