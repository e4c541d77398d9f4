//! The service never blocks the executor it is called on. A create whose key generator
//! is blocked must leave the caller's executor free: on a single-threaded executor
//! (tokio current-thread, `futures`' `LocalPool`) a second task completes a round trip
//! through a channel while the generator is still blocked, and only then is the
//! generator released. Ordering comes from channels alone; a regression shows as the
//! round trip never happening, and the generator's bounded wait turns that into a
//! failed create instead of a hung test.

use futures::channel::{mpsc, oneshot};
use futures::future::BoxFuture;
use futures::task::LocalSpawnExt;
use futures::{FutureExt, StreamExt};
use keypair_core::fixtures::{fresh_scope, FakeKeyGenerator};
use keypair_core::{CreateKeyPair, GeneratedKey, KeyGenerator, KeyPairService, KeyPool, Product};
use keypair_memory::MemoryStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Says (on an async channel) that it has started, then blocks its thread until the
/// test releases it, at most a minute.
struct Blocking {
    entered: mpsc::UnboundedSender<()>,
    release: Mutex<std::sync::mpsc::Receiver<()>>,
    inner: FakeKeyGenerator,
}

impl KeyGenerator for Blocking {
    fn generate(&self) -> keypair_core::Result<GeneratedKey> {
        let _ = self.entered.unbounded_send(());
        self.release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(60))
            .map_err(keypair_core::Error::key_generation)?;
        self.inner.generate()
    }
}

/// How a scenario puts a task on the executor under test.
type Spawn = Box<dyn Fn(BoxFuture<'static, ()>)>;

#[derive(Clone, Copy)]
enum Keys {
    /// The builder's default: generation on the service's own thread, no reserve.
    Default,
    /// A pool with a reserve in front of the generator.
    Pool,
}

/// The scenario; returns once the create has completed.
async fn create_leaves_the_executor_free(spawn: Spawn, keys: Keys) {
    let (entered_tx, mut entered) = mpsc::unbounded();
    let (release, release_rx) = std::sync::mpsc::channel();
    let generator = Arc::new(Blocking {
        entered: entered_tx,
        release: Mutex::new(release_rx),
        inner: FakeKeyGenerator::default(),
    });
    let builder = KeyPairService::builder(Arc::new(MemoryStore::new()));
    let service = match keys {
        Keys::Default => builder.key_generator(generator),
        Keys::Pool => builder.key_pool(Arc::new(KeyPool::new(generator, 2, 1))),
    }
    .build();

    let (created_tx, created) = oneshot::channel();
    spawn(
        async move {
            let scope = fresh_scope(Product::Cvm);
            let req = CreateKeyPair {
                name: "blocked".into(),
                ..Default::default()
            };
            let _ = created_tx.send(service.create(&scope, req).await.map(|c| c.key_pair));
        }
        .boxed(),
    );
    let (ping, ping_rx) = oneshot::channel::<()>();
    let (pong_tx, pong) = oneshot::channel::<()>();
    spawn(
        async move {
            ping_rx.await.unwrap();
            pong_tx.send(()).unwrap();
        }
        .boxed(),
    );

    entered.next().await.expect("the generator started");
    ping.send(()).unwrap();
    pong.await
        .expect("the second task ran while the key was being generated");
    // Only now is the generator released (twice: the pool may be refilling too).
    release.send(()).unwrap();
    let _ = release.send(());
    let created = created.await.unwrap().expect("the create completes");
    assert_eq!(created.name.as_str(), "blocked");
}

fn on_tokio_current_thread(keys: Keys) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(create_leaves_the_executor_free(
        Box::new(|f| drop(tokio::spawn(f))),
        keys,
    ));
}

fn on_local_pool(keys: Keys) {
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    pool.run_until(create_leaves_the_executor_free(
        Box::new(move |f| spawner.spawn_local(f).unwrap()),
        keys,
    ));
}

#[test]
fn tokio_current_thread_default_builder() {
    on_tokio_current_thread(Keys::Default);
}

#[test]
fn tokio_current_thread_with_a_pool() {
    on_tokio_current_thread(Keys::Pool);
}

#[test]
fn futures_local_pool_default_builder() {
    on_local_pool(Keys::Default);
}

#[test]
fn futures_local_pool_with_a_pool() {
    on_local_pool(Keys::Pool);
}
