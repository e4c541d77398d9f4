//! A decorator of the store port that times every operation, beside the trait it wraps
//! (as object_store keeps `limit.rs` and `throttle.rs` beside `ObjectStore`). What is
//! done with the timings is the [`StoreObserver`]'s: keypair-http's `Metrics` records
//! them as a Prometheus histogram.

use crate::{
    AccountId, Association, Change, KeyId, KeyName, KeyPair, KeyPairStore, LoadReport, Page, Query,
    RepeatedBinding, Scope, StoreError, Unbind,
};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The names [`MeteredStore`] reports, one per method of the store port, so an observer
/// can prepare for each.
pub const STORE_OPERATIONS: [&str; 14] = [
    "insert",
    "check_new",
    "get",
    "query",
    "scope_all",
    "update",
    "delete",
    "associate",
    "disassociate",
    "scan",
    "load",
    "count_all",
    "purge",
    "ready",
];

/// Told how long each store operation took. Called on the caller's task after every
/// operation, so it must be cheap and must not block.
pub trait StoreObserver: Send + Sync {
    /// `op` (`insert`, `query`, … the port's method name) took `took`, whatever its
    /// outcome.
    fn operation(&self, op: &'static str, took: Duration);
}

/// A store that tells its observer how long each operation takes.
pub struct MeteredStore {
    inner: Arc<dyn KeyPairStore>,
    observer: Arc<dyn StoreObserver>,
}

impl MeteredStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn KeyPairStore>, observer: Arc<dyn StoreObserver>) -> Self {
        MeteredStore { inner, observer }
    }

    async fn timed<T>(&self, op: &'static str, f: impl std::future::Future<Output = T>) -> T {
        let started = Instant::now();
        let out = f.await;
        self.observer.operation(op, started.elapsed());
        out
    }
}

#[async_trait]
impl KeyPairStore for MeteredStore {
    async fn insert(&self, kp: KeyPair, quota: u32) -> Result<(), StoreError> {
        self.timed("insert", self.inner.insert(kp, quota)).await
    }
    async fn check_new(&self, scope: &Scope, name: &KeyName, quota: u32) -> Result<(), StoreError> {
        self.timed("check_new", self.inner.check_new(scope, name, quota))
            .await
    }
    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError> {
        self.timed("get", self.inner.get(scope, ids)).await
    }
    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError> {
        self.timed("query", self.inner.query(scope, query)).await
    }
    async fn scope_all(
        &self,
        scope: &Scope,
        limit: usize,
    ) -> Result<Option<Vec<KeyPair>>, StoreError> {
        self.timed("scope_all", self.inner.scope_all(scope, limit))
            .await
    }
    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError> {
        self.timed("update", self.inner.update(scope, id, change))
            .await
    }
    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
        self.timed("delete", self.inner.delete(scope, ids)).await
    }
    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError> {
        self.timed(
            "associate",
            self.inner.associate(scope, keys, instances, repeated),
        )
        .await
    }
    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError> {
        self.timed("scan", self.inner.scan(after, limit)).await
    }
    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError> {
        self.timed("load", self.inner.load(batch)).await
    }
    async fn count_all(&self) -> Result<u64, StoreError> {
        self.timed("count_all", self.inner.count_all()).await
    }
    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError> {
        self.timed("purge", self.inner.purge(account)).await
    }
    async fn ready(&self) -> Result<(), StoreError> {
        self.timed("ready", self.inner.ready()).await
    }
    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError> {
        self.timed("disassociate", self.inner.disassociate(scope, keys, unbind))
            .await
    }
}
