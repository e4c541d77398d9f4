//! Key generation never runs on the async workers: on a runtime with one worker thread,
//! a CreateKeyPair whose key generator is blocked does not stop a DescribeKeyPairs.

use async_trait::async_trait;
use keypair_core::fixtures::fresh_scope;
use keypair_core::{
    CreateKeyPair, DescribeKeyPairs, GeneratedKey, KeyBits, KeyGenerator, KeyPairService, Product,
    RsaKeyGenerator,
};
use keypair_http::OffloadedKeyGenerator;
use keypair_memory::MemoryStore;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Blocks its (blocking-pool) thread until released, then generates a key.
struct GatedGenerator {
    started: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
    inner: RsaKeyGenerator,
}

#[async_trait]
impl KeyGenerator for GatedGenerator {
    async fn generate(&self) -> keypair_core::Result<GeneratedKey> {
        self.started.lock().unwrap().send(()).unwrap();
        self.release.lock().unwrap().recv().unwrap();
        self.inner.generate_blocking()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocked_key_generation_does_not_stall_other_requests() {
    let (started_tx, started_rx) = channel();
    let (release_tx, release_rx) = channel();
    let gated = Arc::new(GatedGenerator {
        started: Mutex::new(started_tx),
        release: Mutex::new(release_rx),
        inner: RsaKeyGenerator::seeded(KeyBits::Rsa2048, 3),
    });
    let service = Arc::new(
        KeyPairService::builder(Arc::new(MemoryStore::new()))
            .key_generator(Arc::new(OffloadedKeyGenerator::new(gated)))
            .build(),
    );
    let scope = fresh_scope(Product::Cvm);
    let create = tokio::spawn({
        let (service, scope) = (service.clone(), scope.clone());
        async move {
            service
                .create(
                    &scope,
                    CreateKeyPair {
                        name: "slow".into(),
                        ..Default::default()
                    },
                )
                .await
        }
    });
    // Wait (off the runtime) until the generator is running and blocked.
    tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    // The single async worker is free: a describe completes while the key is pending.
    // The timeout only turns a regression (a hang) into a failure.
    let page = tokio::time::timeout(
        Duration::from_secs(30),
        service.describe(&scope, &DescribeKeyPairs::default()),
    )
    .await
    .expect("describe must not wait for key generation")
    .unwrap();
    assert_eq!(page.total, 0, "the create has not finished");
    assert!(!create.is_finished());
    release_tx.send(()).unwrap();
    let created = create.await.unwrap().unwrap();
    assert_eq!(created.key_pair.name.as_str(), "slow");
}
