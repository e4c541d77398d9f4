//! The key pool hands out each key once, never more keys than asked, works with no
//! reserve, bounds concurrent generations, serves waiting tenants in turn, and keeps a
//! key given back. No test here depends on timing: ordering comes from channels.

use futures::executor::block_on;
use keypair_core::fixtures::{fresh_scope, FakeKeyGenerator};
use keypair_core::testkit::key_generator_conformance;
use keypair_core::{
    GeneratedKey, KeyBits, KeyGenerator, KeyPool, Product, PublicKey, RsaKeyGenerator, Scope,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
                let scope = fresh_scope(Product::Cvm);
                (0..50)
                    .map(|_| block_on(pool.take(&scope)).unwrap())
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
    // Every key the inner generator made is either handed out, in the reserve, or in
    // a worker's hands.
    assert!(inner.generated() >= 200);
    assert!(inner.generated() as usize <= 200 + pool.max_unissued_keys());
}

#[test]
fn no_reserve_generates_on_demand_only() {
    let inner = Arc::new(FakeKeyGenerator::default());
    let pool = KeyPool::new(inner.clone(), 0, 1);
    let scope = fresh_scope(Product::Cvm);
    let a = block_on(pool.take(&scope)).unwrap();
    let b = block_on(pool.take(&scope)).unwrap();
    assert_ne!(fingerprint(&a), fingerprint(&b));
    let stats = pool.stats();
    assert_eq!((stats.depth, stats.hits, stats.misses), (0, 0, 2));
    assert_eq!(
        inner.generated(),
        2,
        "no background generation without a reserve"
    );
    assert_eq!(
        pool.max_unissued_keys(),
        1,
        "only the key a worker is making"
    );
}

/// Counts generations under way and remembers the most at once.
#[derive(Default)]
struct Watched {
    inner: FakeKeyGenerator,
    now: AtomicUsize,
    most: AtomicUsize,
}

impl KeyGenerator for Watched {
    fn generate(&self) -> keypair_core::Result<GeneratedKey> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        std::thread::yield_now();
        let k = self.inner.generate();
        self.now.fetch_sub(1, Ordering::SeqCst);
        k
    }
}

#[test]
fn refills_and_waiters_share_the_generation_threads() {
    let watched = Arc::new(Watched::default());
    let pool = Arc::new(KeyPool::new(watched.clone(), 4, 2));
    let takers: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let scope = fresh_scope(Product::Lighthouse);
                (0..25).for_each(|_| drop(block_on(pool.take(&scope)).unwrap()))
            })
        })
        .collect();
    takers.into_iter().for_each(|t| t.join().unwrap());
    assert!(
        watched.most.load(Ordering::SeqCst) <= 2,
        "never more than `workers` generations at once"
    );
}

/// Makes a key only when handed a permit, and says when it starts waiting for one.
struct Gated {
    entered: Mutex<Sender<()>>,
    permits: Mutex<Receiver<()>>,
    inner: FakeKeyGenerator,
}

fn gated() -> (Arc<Gated>, Receiver<()>, Sender<()>) {
    let (entered_tx, entered_rx) = channel();
    let (permit_tx, permit_rx) = channel();
    let gen = Arc::new(Gated {
        entered: Mutex::new(entered_tx),
        permits: Mutex::new(permit_rx),
        inner: FakeKeyGenerator::default(),
    });
    (gen, entered_rx, permit_tx)
}

impl KeyGenerator for Gated {
    fn generate(&self) -> keypair_core::Result<GeneratedKey> {
        let _ = self.entered.lock().unwrap().send(());
        // Bounded, so a regression fails the test instead of hanging it.
        self.permits
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(60))
            .map_err(keypair_core::Error::key_generation)?;
        self.inner.generate()
    }
}

/// Starts a thread that takes one key for `scope` and reports `label` when it has it.
fn taker(pool: &Arc<KeyPool>, scope: &Scope, label: &'static str, done: &Sender<&'static str>) {
    let (pool, scope, done) = (pool.clone(), scope.clone(), done.clone());
    std::thread::spawn(move || {
        block_on(pool.take(&scope)).unwrap();
        done.send(label).unwrap();
    });
}

fn wait_for_waiters(pool: &KeyPool, n: usize) {
    // The taker threads enqueue themselves; the pool's own counter says when.
    while pool.stats().waiting < n {
        std::thread::yield_now();
    }
}

#[test]
fn waiting_tenants_are_served_in_turn() {
    let (gen, entered, permits) = gated();
    let pool = Arc::new(KeyPool::new(gen, 0, 1));
    let (a, b) = (fresh_scope(Product::Cvm), fresh_scope(Product::Cvm));
    let (done_tx, done) = channel();
    taker(&pool, &a, "a1", &done_tx);
    entered.recv().unwrap(); // the one worker is making a1's key
    for (i, label) in ["a2", "a3", "a4", "a5"].into_iter().enumerate() {
        taker(&pool, &a, label, &done_tx);
        wait_for_waiters(&pool, i + 1);
    }
    taker(&pool, &b, "b1", &done_tx);
    wait_for_waiters(&pool, 5);
    let mut order = Vec::new();
    for _ in 0..6 {
        permits.send(()).unwrap();
        order.push(done.recv().unwrap());
    }
    // First come first served would put b1 last, behind all of a's creates.
    assert_eq!(order, ["a1", "a2", "b1", "a3", "a4", "a5"]);
}

#[test]
fn a_key_given_back_serves_the_next_caller() {
    let inner = Arc::new(FakeKeyGenerator::default());
    let pool = KeyPool::new(inner.clone(), 1, 1);
    let scope = fresh_scope(Product::Cvm);
    let first = block_on(pool.take(&scope)).unwrap();
    let pem = first.private_pem.expose().to_owned();
    // Drain whatever the refill made, so the reserve has room again.
    while pool.stats().depth > 0 {
        drop(block_on(pool.take(&scope)).unwrap());
    }
    pool.give_back(first);
    assert_eq!(pool.stats().depth, 1);
    let next = block_on(pool.take(&scope)).unwrap();
    assert_eq!(next.private_pem.expose(), pem, "the unissued key is reused");
}

#[test]
fn the_rsa_generator_and_a_pool_over_it_make_valid_keys() {
    key_generator_conformance(&RsaKeyGenerator::default());
    let pool = KeyPool::new(Arc::new(RsaKeyGenerator::new(KeyBits::Rsa2048)), 2, 1);
    let scope = fresh_scope(Product::Cvm);
    let a = block_on(pool.take(&scope)).unwrap();
    let b = block_on(pool.take(&scope)).unwrap();
    assert_eq!(
        PublicKey::from_key_data(a.public.clone(), "")
            .unwrap()
            .bits(),
        2048
    );
    assert_ne!(fingerprint(&a), fingerprint(&b));
}
