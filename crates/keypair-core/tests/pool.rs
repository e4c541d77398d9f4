//! The key pool hands out each key once, never more keys than asked, works with size 0,
//! and bounds concurrent generations. No test here depends on timing.

use async_trait::async_trait;
use futures::executor::block_on;
use keypair_core::fixtures::FakeKeyGenerator;
use keypair_core::testkit::key_generator_conformance;
use keypair_core::{GeneratedKey, KeyBits, KeyGenerator, KeyPool, PublicKey, RsaKeyGenerator};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn fingerprint(k: &GeneratedKey) -> String {
    PublicKey::from_key_data(k.public.clone(), "")
        .unwrap()
        .fingerprint()
        .to_string()
}

#[test]
fn keys_are_unique_and_handed_out_once_across_threads() {
    let inner = Arc::new(FakeKeyGenerator::default());
    let pool = Arc::new(KeyPool::new(inner.clone(), 8, 2));
    let takers: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|_| block_on(pool.generate()).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let keys: Vec<GeneratedKey> = takers.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let fingerprints: HashSet<String> = keys.iter().map(fingerprint).collect();
    assert_eq!(fingerprints.len(), 200, "200 keys, all different");
    let pems: HashSet<&str> = keys.iter().map(|k| k.private_pem.expose()).collect();
    assert_eq!(pems.len(), 200, "no private key handed out twice");
    let stats = pool.stats();
    assert_eq!(stats.hits + stats.misses, 200);
    assert!(stats.depth <= 8);
    // Every key the inner generator made is either handed out, queued, or in flight.
    assert!(inner.generated() >= 200);
    assert!(inner.generated() as usize <= 200 + pool.max_unissued_keys());
}

#[test]
fn size_zero_passes_through() {
    let inner = Arc::new(FakeKeyGenerator::default());
    let pool = KeyPool::new(inner.clone(), 0, 1);
    let a = block_on(pool.generate()).unwrap();
    let b = block_on(pool.generate()).unwrap();
    assert_ne!(fingerprint(&a), fingerprint(&b));
    let stats = pool.stats();
    assert_eq!((stats.depth, stats.hits, stats.misses), (0, 0, 2));
    assert_eq!(
        inner.generated(),
        2,
        "no background generation without a pool"
    );
    assert_eq!(pool.max_unissued_keys(), 0);
}

/// Counts generations under way and remembers the most at once.
#[derive(Default)]
struct Watched {
    inner: FakeKeyGenerator,
    now: AtomicUsize,
    most: AtomicUsize,
}

#[async_trait]
impl KeyGenerator for Watched {
    async fn generate(&self) -> keypair_core::Result<GeneratedKey> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        std::thread::yield_now();
        let k = self.inner.generate().await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        k
    }
}

#[test]
fn refills_and_misses_share_the_generation_budget() {
    let watched = Arc::new(Watched::default());
    let pool = Arc::new(KeyPool::new(watched.clone(), 4, 2));
    let takers: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                (0..25).for_each(|_| drop(block_on(pool.generate()).unwrap()))
            })
        })
        .collect();
    takers.into_iter().for_each(|t| t.join().unwrap());
    assert!(
        watched.most.load(Ordering::SeqCst) <= 2,
        "never more than `workers` generations at once"
    );
}

#[test]
fn dropping_the_pool_stops_its_threads() {
    let pool = KeyPool::new(Arc::new(FakeKeyGenerator::default()), 16, 3);
    drop(block_on(pool.generate()).unwrap());
    drop(pool); // joins the refill threads; returning at all is the assertion
}

#[test]
fn the_rsa_generator_and_a_pool_over_it_pass_the_generator_conformance() {
    block_on(key_generator_conformance(&RsaKeyGenerator::default()));
    let pool = KeyPool::new(Arc::new(RsaKeyGenerator::new(KeyBits::Rsa2048)), 2, 1);
    block_on(key_generator_conformance(&pool));
}
