//! The read model ([`ReadModel`]): the store conformance suite over it (with room for
//! everything, and with room for almost nothing, so eviction and scopes too large to hold
//! are exercised), and the race it is built against: a load that read before a write
//! finished must not install what it read.

use async_trait::async_trait;
use keypair_core::fixtures::{fresh_scope, key_pair};
use keypair_core::{
    AccountId, Association, Change, KeyId, KeyName, KeyPair, KeyPairStore, LoadReport, Page,
    Product, Query, ReadModel, RepeatedBinding, Scope, StoreError, Unbind,
};
use keypair_memory::MemoryStore;
use std::sync::{Arc, Mutex};

mod roomy {
    use super::*;
    keypair_core::store_conformance!(async {
        Arc::new(ReadModel::new(Arc::new(MemoryStore::new()), 1_000_000))
    });
}

mod cramped {
    use super::*;
    keypair_core::store_conformance!(async {
        Arc::new(ReadModel::new(Arc::new(MemoryStore::new()), 3))
    });
}

/// A memory store whose next `query` reads, then waits for a go-ahead before answering:
/// the answer is what the store held before whatever ran in between.
struct HeldAnswers {
    inner: MemoryStore,
    gate: Mutex<Option<futures::channel::oneshot::Receiver<()>>>,
    reading: Mutex<Option<futures::channel::oneshot::Sender<()>>>,
}

#[async_trait]
impl KeyPairStore for HeldAnswers {
    async fn insert(&self, kp: KeyPair, quota: u32) -> Result<(), StoreError> {
        self.inner.insert(kp, quota).await
    }
    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError> {
        self.inner.get(scope, ids).await
    }
    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError> {
        let page = self.inner.query(scope, query).await;
        let gate = self.gate.lock().unwrap().take();
        if let Some(gate) = gate {
            if let Some(reading) = self.reading.lock().unwrap().take() {
                let _ = reading.send(());
            }
            let _ = gate.await;
        }
        page
    }
    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError> {
        self.inner.update(scope, id, change).await
    }
    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
        self.inner.delete(scope, ids).await
    }
    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError> {
        self.inner.scan(after, limit).await
    }
    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError> {
        self.inner.load(batch).await
    }
    async fn count_all(&self) -> Result<u64, StoreError> {
        self.inner.count_all().await
    }
    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError> {
        self.inner.purge(account).await
    }
    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError> {
        self.inner.associate(scope, keys, instances, repeated).await
    }
    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError> {
        self.inner.disassociate(scope, keys, unbind).await
    }
}

fn names(page: &Page) -> Vec<&str> {
    page.items.iter().map(|kp| kp.name.as_str()).collect()
}

/// A model over a [`HeldAnswers`] store holding one key pair named `first`, and a read
/// of its scope already started, whose store read has finished and whose answer waits
/// for `go`.
struct HeldRead {
    model: Arc<ReadModel>,
    scope: Scope,
    all: Query,
    go: futures::channel::oneshot::Sender<()>,
    reader: tokio::task::JoinHandle<Result<Page, StoreError>>,
}

async fn held_read(first: &str) -> HeldRead {
    let (go, gate) = futures::channel::oneshot::channel();
    let (reading, read) = futures::channel::oneshot::channel();
    let store = Arc::new(HeldAnswers {
        inner: MemoryStore::new(),
        gate: Mutex::new(Some(gate)),
        reading: Mutex::new(Some(reading)),
    });
    let model = Arc::new(ReadModel::new(store, 1000));
    let scope = fresh_scope(Product::Cvm);
    model
        .insert(key_pair(&scope, first, 1, 1_000), 10)
        .await
        .unwrap();
    let all = Query::new(Vec::new(), 0, 20).unwrap();
    let reader = tokio::spawn({
        let (model, scope, all) = (model.clone(), scope.clone(), all.clone());
        async move { model.query(&scope, &all).await }
    });
    read.await.unwrap();
    HeldRead {
        model,
        scope,
        all,
        go,
        reader,
    }
}

#[tokio::test]
async fn a_load_that_read_before_a_write_finished_is_not_installed() {
    // A read starts the scope's load; its store read finishes, its answer waits.
    let HeldRead {
        model,
        scope,
        all,
        go,
        reader,
    } = held_read("first").await;
    // Meanwhile a write lands and returns.
    model
        .insert(key_pair(&scope, "second", 2, 2_000), 10)
        .await
        .unwrap();
    go.send(()).unwrap();
    // The load read before the write finished, so it is discarded and the read asks the
    // store afresh.
    let first_read = reader.await.unwrap().unwrap();
    assert_eq!(names(&first_read), ["second", "first"]);
    assert_eq!(model.held(), 0, "what the load read was not installed");
    // The load read before the write: had it been installed, this would miss "second".
    let after = model.query(&scope, &all).await.unwrap();
    assert_eq!(names(&after), ["second", "first"]);
    assert_eq!(after.total, 2);
}

#[tokio::test]
async fn writes_patch_the_held_view_and_every_read_sees_them() {
    let model = ReadModel::new(Arc::new(MemoryStore::new()), 1000);
    let scope = fresh_scope(Product::Cvm);
    let all = Query::new(Vec::new(), 0, 20).unwrap();
    let a = key_pair(&scope, "a", 1, 1_000);
    model.insert(a.clone(), 10).await.unwrap();
    assert_eq!(names(&model.query(&scope, &all).await.unwrap()), ["a"]);
    assert_eq!(model.held(), 1, "the scope is held after its first read");

    model
        .insert(key_pair(&scope, "b", 2, 3_000), 10)
        .await
        .unwrap();
    model
        .insert(key_pair(&scope, "c", 3, 2_000), 10)
        .await
        .unwrap();
    assert_eq!(
        names(&model.query(&scope, &all).await.unwrap()),
        ["b", "c", "a"]
    );

    let rename = Change {
        name: Some(KeyName::parse("renamed").unwrap()),
        description: None,
    };
    model.update(&scope, &a.id, &rename).await.unwrap();
    assert_eq!(
        names(&model.query(&scope, &all).await.unwrap()),
        ["b", "c", "renamed"]
    );

    // A refused write changes nothing.
    let dup = key_pair(&scope, "b", 9, 9_000);
    assert!(matches!(
        model.insert(dup, 10).await,
        Err(StoreError::DuplicateName(_))
    ));
    model
        .delete(&scope, std::slice::from_ref(&a.id))
        .await
        .unwrap();
    let page = model.query(&scope, &all).await.unwrap();
    assert_eq!((names(&page), page.total), (vec!["b", "c"], 2));
    assert_eq!(model.held(), 2);
    assert_eq!(model.get(&scope, &[a.id]).await.unwrap(), Vec::new());
}

#[tokio::test]
async fn the_least_recently_read_scopes_leave_first_when_full() {
    let model = ReadModel::new(Arc::new(MemoryStore::new()), 10);
    let all = Query::new(Vec::new(), 0, 20).unwrap();
    let scopes: Vec<Scope> = (0..3).map(|_| fresh_scope(Product::Cvm)).collect();
    for (i, scope) in scopes.iter().enumerate() {
        for k in 0..4 {
            let kp = key_pair(scope, &format!("k{k}"), (i * 10 + k) as u64, k as i64);
            model.insert(kp, 10).await.unwrap();
        }
    }
    model.query(&scopes[0], &all).await.unwrap();
    model.query(&scopes[1], &all).await.unwrap();
    assert_eq!(model.held(), 8);
    model.query(&scopes[0], &all).await.unwrap();
    // 12 > 10: scope 1, read least recently, goes.
    model.query(&scopes[2], &all).await.unwrap();
    assert_eq!(model.held(), 8, "one scope of 4 was dropped");
    // Every scope still answers in full, held or not.
    for scope in &scopes {
        assert_eq!(model.query(scope, &all).await.unwrap().total, 4);
    }
}

#[tokio::test]
async fn a_load_dropped_midway_does_not_leave_its_scope_waiting() {
    // A read starts the scope's load, which the store holds; then its caller goes away
    // (a client that disconnects drops the request's future).
    let HeldRead {
        model,
        scope,
        all,
        go: _go,
        reader,
    } = held_read("only").await;
    reader.abort();
    assert!(reader.await.unwrap_err().is_cancelled());
    // The next read neither waits for the abandoned load nor misses anything.
    let page = model.query(&scope, &all).await.unwrap();
    assert_eq!(names(&page), ["only"]);
    assert_eq!(model.held(), 1, "the next read loaded the scope itself");
}
