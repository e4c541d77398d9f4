//! Operations as typed values, so an adapter runs any of them the same way (one
//! transaction, retried whole where the database asks), and [`SqlStore`], the
//! `KeyPairStore` over any adapter's [`Executor`], written once.
//!
//! Each `KeyPairStore` call becomes one [`Operation`] whose `Output` is what the call
//! returns, so nothing downstream has to guess which result came back.

use crate::ops;
use crate::tx::Tx;
use async_trait::async_trait;
use futures::future::BoxFuture;
use keypair_core::{
    AccountId, Association, Change, InstanceId, KeyId, KeyPair, KeyPairStore, LoadReport, Page,
    Query, RepeatedBinding, Scope, StoreError, Unbind,
};
use std::ops::Deref;

/// One store operation: what it runs inside a transaction, and whether it only reads.
pub trait Operation: Send + Sync + 'static {
    /// What the operation returns.
    type Output: Send + 'static;
    /// Whether it only reads (and may run in a read-only snapshot).
    const READ_ONLY: bool;
    /// A short name for logs and metrics.
    const NAME: &'static str;
    /// Runs the operation inside `tx`. An adapter may run it again, in a new
    /// transaction, when the database aborted the last one for a conflict.
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<Self::Output, StoreError>>;
}

/// An adapter: runs one operation atomically (typically [`Operation::run`] inside one
/// transaction of its driver).
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// Runs `op` in one transaction and returns its output.
    async fn execute<O: Operation>(&self, op: O) -> Result<O::Output, StoreError>;

    /// Readiness (`KeyPairStore::ready`): by default a one-row query.
    async fn ready(&self) -> Result<(), StoreError> {
        let scope = Scope::new(
            AccountId::parse("readiness-probe").map_err(StoreError::backend)?,
            keypair_core::Product::Cvm,
        );
        let query = Query::new(Vec::new(), 0, 1).map_err(StoreError::backend)?;
        self.execute(Describe { scope, query }).await.map(drop)
    }
}

/// Creates a key pair ([`ops::insert`]).
pub struct Insert {
    /// The key pair.
    pub key_pair: KeyPair,
    /// The scope's quota.
    pub quota: u32,
}

impl Operation for Insert {
    type Output = ();
    const READ_ONLY: bool = false;
    const NAME: &'static str = "insert";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(ops::insert(tx, &self.key_pair, self.quota))
    }
}

/// Key pairs by id ([`ops::get`]).
pub struct Get {
    /// The scope.
    pub scope: Scope,
    /// The ids.
    pub ids: Vec<KeyId>,
}

impl Operation for Get {
    type Output = Vec<KeyPair>;
    const READ_ONLY: bool = true;
    const NAME: &'static str = "get";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<Vec<KeyPair>, StoreError>> {
        Box::pin(ops::get(tx, &self.scope, &self.ids))
    }
}

/// A describe page ([`ops::query`]).
pub struct Describe {
    /// The scope.
    pub scope: Scope,
    /// The query.
    pub query: Query,
}

impl Operation for Describe {
    type Output = Page;
    const READ_ONLY: bool = true;
    const NAME: &'static str = "query";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<Page, StoreError>> {
        Box::pin(ops::query(tx, &self.scope, &self.query))
    }
}

/// A whole scope ([`ops::scope_all`]).
pub struct ScopeAll {
    /// The scope.
    pub scope: Scope,
    /// Most key pairs to read (`None` past it).
    pub limit: usize,
}

impl Operation for ScopeAll {
    type Output = Option<Vec<KeyPair>>;
    const READ_ONLY: bool = true;
    const NAME: &'static str = "scope_all";
    fn run<'a>(
        &'a self,
        tx: &'a mut dyn Tx,
    ) -> BoxFuture<'a, Result<Option<Vec<KeyPair>>, StoreError>> {
        Box::pin(ops::scope_all(tx, &self.scope, self.limit))
    }
}

/// Renames or re-describes ([`ops::update`]).
pub struct Update {
    /// The scope.
    pub scope: Scope,
    /// The key pair.
    pub id: KeyId,
    /// The change.
    pub change: Change,
}

impl Operation for Update {
    type Output = ();
    const READ_ONLY: bool = false;
    const NAME: &'static str = "update";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(ops::update(tx, &self.scope, &self.id, &self.change))
    }
}

/// Deletes key pairs ([`ops::delete`]).
pub struct Delete {
    /// The scope.
    pub scope: Scope,
    /// The ids.
    pub ids: Vec<KeyId>,
}

impl Operation for Delete {
    type Output = ();
    const READ_ONLY: bool = false;
    const NAME: &'static str = "delete";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(ops::delete(tx, &self.scope, &self.ids))
    }
}

/// Binds key pairs to instances ([`ops::associate`]).
pub struct Associate {
    /// The scope.
    pub scope: Scope,
    /// The key pairs.
    pub keys: Vec<KeyId>,
    /// The instances, with their usernames.
    pub instances: Vec<Association>,
    /// What a binding that already exists means.
    pub repeated: RepeatedBinding,
}

impl Operation for Associate {
    type Output = ();
    const READ_ONLY: bool = false;
    const NAME: &'static str = "associate";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        let (scope, keys, instances) = (&self.scope, &self.keys, &self.instances);
        Box::pin(ops::associate(tx, scope, keys, instances, self.repeated))
    }
}

/// Unbinds key pairs from instances ([`ops::disassociate`]); the owned form of
/// [`Unbind`].
pub struct Disassociate {
    /// The scope.
    pub scope: Scope,
    /// The key pairs.
    pub keys: Vec<KeyId>,
    /// The instances.
    pub instances: Vec<InstanceId>,
    /// What a binding that does not exist means.
    pub repeated: RepeatedBinding,
    /// The username the bindings must have been made for, if any.
    pub username: Option<String>,
}

impl Operation for Disassociate {
    type Output = ();
    const READ_ONLY: bool = false;
    const NAME: &'static str = "disassociate";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let unbind = Unbind {
                instances: &self.instances,
                repeated: self.repeated,
                username: self.username.as_deref(),
            };
            ops::disassociate(tx, &self.scope, &self.keys, &unbind).await
        })
    }
}

/// Deletes every key pair of one account, or of all ([`ops::purge`]).
pub struct Purge(pub Option<AccountId>);

impl Operation for Purge {
    type Output = u64;
    const READ_ONLY: bool = false;
    const NAME: &'static str = "purge";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(ops::purge(tx, self.0.as_ref()))
    }
}

/// Key pairs of every scope after a key id ([`ops::scan`]).
pub struct Scan {
    /// Where the last batch ended.
    pub after: Option<KeyId>,
    /// Most key pairs.
    pub limit: usize,
}

impl Operation for Scan {
    type Output = Vec<KeyPair>;
    const READ_ONLY: bool = true;
    const NAME: &'static str = "scan";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<Vec<KeyPair>, StoreError>> {
        Box::pin(ops::scan(tx, self.after.as_ref(), self.limit))
    }
}

/// A bulk load: the fast path when `checked` is false ([`ops::load_fast`]), the checked
/// one ([`ops::load_checked`]) when some record may already be there.
pub struct Load {
    /// The records.
    pub batch: Vec<KeyPair>,
    /// Which path.
    pub checked: bool,
}

impl Operation for Load {
    type Output = LoadReport;
    const READ_ONLY: bool = false;
    const NAME: &'static str = "load";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<LoadReport, StoreError>> {
        if self.checked {
            Box::pin(ops::load_checked(tx, &self.batch))
        } else {
            Box::pin(ops::load_fast(tx, &self.batch))
        }
    }
}

/// Key pairs in every scope ([`ops::count_all`]).
pub struct CountAll;

impl Operation for CountAll {
    type Output = u64;
    const READ_ONLY: bool = true;
    const NAME: &'static str = "count_all";
    fn run<'a>(&'a self, tx: &'a mut dyn Tx) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(ops::count_all(tx))
    }
}

/// The `KeyPairStore` over an adapter's [`Executor`]: every call one [`Operation`].
/// Derefs to the executor for the adapter's own methods (bulk loads, maintenance).
/// Cloning clones the executor (the adapters' executors share their connections).
#[derive(Clone)]
pub struct SqlStore<E> {
    executor: E,
}

impl<E: Executor> SqlStore<E> {
    /// The store over `executor`.
    pub fn new(executor: E) -> Self {
        SqlStore { executor }
    }

    /// The adapter underneath.
    pub fn executor(&self) -> &E {
        &self.executor
    }
}

impl<E> Deref for SqlStore<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.executor
    }
}

#[async_trait]
impl<E: Executor> KeyPairStore for SqlStore<E> {
    async fn insert(&self, key_pair: KeyPair, quota: u32) -> Result<(), StoreError> {
        self.executor.execute(Insert { key_pair, quota }).await
    }
    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError> {
        let (scope, ids) = (scope.clone(), ids.to_vec());
        self.executor.execute(Get { scope, ids }).await
    }
    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError> {
        let (scope, query) = (scope.clone(), query.clone());
        self.executor.execute(Describe { scope, query }).await
    }
    async fn scope_all(
        &self,
        scope: &Scope,
        limit: usize,
    ) -> Result<Option<Vec<KeyPair>>, StoreError> {
        let scope = scope.clone();
        self.executor.execute(ScopeAll { scope, limit }).await
    }
    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError> {
        let (scope, id, change) = (scope.clone(), id.clone(), change.clone());
        self.executor.execute(Update { scope, id, change }).await
    }
    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
        let (scope, ids) = (scope.clone(), ids.to_vec());
        self.executor.execute(Delete { scope, ids }).await
    }
    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError> {
        let (scope, keys, instances) = (scope.clone(), keys.to_vec(), instances.to_vec());
        let op = Associate {
            scope,
            keys,
            instances,
            repeated,
        };
        self.executor.execute(op).await
    }
    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError> {
        let op = Disassociate {
            scope: scope.clone(),
            keys: keys.to_vec(),
            instances: unbind.instances.to_vec(),
            repeated: unbind.repeated,
            username: unbind.username.map(str::to_owned),
        };
        self.executor.execute(op).await
    }
    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError> {
        let after = after.cloned();
        self.executor.execute(Scan { after, limit }).await
    }
    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError> {
        // The fast path first; the checked path when some record is already there.
        let load = |checked| Load {
            batch: batch.to_vec(),
            checked,
        };
        match self.executor.execute(load(false)).await {
            Err(e) if ops::needs_checked_load(&e) => self.executor.execute(load(true)).await,
            other => other,
        }
    }
    async fn count_all(&self) -> Result<u64, StoreError> {
        self.executor.execute(CountAll).await
    }
    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError> {
        self.executor.execute(Purge(account.cloned())).await
    }
    async fn ready(&self) -> Result<(), StoreError> {
        self.executor.ready().await
    }
}
