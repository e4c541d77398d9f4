//! Operations as data, so an adapter runs any of them the same way (one transaction,
//! retried whole where the database asks), and the `KeyPairStore` implementation that
//! turns port calls into operations, written once for every adapter.

use crate::ops;
use crate::tx::Tx;
use async_trait::async_trait;
use keypair_core::{
    AccountId, Association, Change, InstanceId, KeyId, KeyPair, Page, Query, RepeatedBinding,
    Scope, StoreError,
};

/// One `KeyPairStore` call.
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub enum Op {
    Insert(KeyPair, u32),
    Get(Scope, Vec<KeyId>),
    Query(Scope, Query),
    Update(Scope, KeyId, Change),
    Delete(Scope, Vec<KeyId>),
    Associate(Scope, Vec<KeyId>, Vec<Association>, RepeatedBinding),
    Disassociate(
        Scope,
        Vec<KeyId>,
        Vec<InstanceId>,
        RepeatedBinding,
        Option<String>,
    ),
    Purge(Option<AccountId>),
    Scan(Option<KeyId>, usize),
    /// A bulk load: `true` for the checked path, `false` for the fast path.
    Load(Vec<KeyPair>, bool),
    CountAll,
}

impl Op {
    /// Whether the operation only reads (and may run in a read-only transaction).
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Op::Get(..) | Op::Query(..) | Op::Scan(..) | Op::CountAll
        )
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Insert(..) => "insert",
            Op::Get(..) => "get",
            Op::Query(..) => "query",
            Op::Update(..) => "update",
            Op::Delete(..) => "delete",
            Op::Associate(..) => "associate",
            Op::Disassociate(..) => "disassociate",
            Op::Purge(..) => "purge",
            Op::Scan(..) => "scan",
            Op::Load(..) => "load",
            Op::CountAll => "count_all",
        }
    }
}

/// What an operation returns.
#[derive(Debug)]
#[allow(missing_docs)]
pub enum Out {
    Done,
    Count(u64),
    Loaded(keypair_core::LoadReport),
    KeyPairs(Vec<KeyPair>),
    Page(Page),
}

/// Runs `op` inside `tx`. On error the caller rolls the transaction back.
pub async fn apply(tx: &mut dyn Tx, op: &Op) -> Result<Out, StoreError> {
    Ok(match op {
        Op::Insert(kp, quota) => ops::insert(tx, kp, *quota).await.map(|()| Out::Done)?,
        Op::Get(scope, ids) => Out::KeyPairs(ops::get(tx, scope, ids).await?),
        Op::Query(scope, q) => Out::Page(ops::query(tx, scope, q).await?),
        Op::Update(scope, id, change) => ops::update(tx, scope, id, change)
            .await
            .map(|()| Out::Done)?,
        Op::Delete(scope, ids) => ops::delete(tx, scope, ids).await.map(|()| Out::Done)?,
        Op::Associate(scope, keys, bindings, r) => ops::associate(tx, scope, keys, bindings, *r)
            .await
            .map(|()| Out::Done)?,
        Op::Purge(account) => Out::Count(ops::purge(tx, account.as_ref()).await?),
        Op::Scan(after, limit) => Out::KeyPairs(ops::scan(tx, after.as_ref(), *limit).await?),
        Op::Load(batch, false) => Out::Loaded(ops::load_fast(tx, batch).await?),
        Op::Load(batch, true) => Out::Loaded(ops::load_checked(tx, batch).await?),
        Op::CountAll => Out::Count(ops::count_all(tx).await?),
        Op::Disassociate(scope, keys, insts, r, user) => {
            let unbind = keypair_core::Unbind {
                instances: insts,
                repeated: *r,
                username: user.as_deref(),
            };
            ops::disassociate(tx, scope, keys, &unbind)
                .await
                .map(|()| Out::Done)?
        }
    })
}

/// An adapter: runs one operation atomically (typically `apply` in a transaction).
#[async_trait]
pub trait Executor: Send + Sync {
    /// Runs `op` in one transaction.
    async fn execute(&self, op: Op) -> Result<Out, StoreError>;

    /// Readiness (`KeyPairStore::ready`): by default a one-row query.
    async fn ready(&self) -> Result<(), StoreError> {
        let probe = Scope::new(
            AccountId::parse("readiness-probe").map_err(StoreError::backend)?,
            keypair_core::Product::Cvm,
        );
        let one = Query::new(Vec::new(), 0, 1).map_err(StoreError::backend)?;
        self.execute(Op::Query(probe, one)).await.map(drop)
    }
}

/// Unwraps the expected output variant.
pub fn expect_done(out: Out) -> Result<(), StoreError> {
    match out {
        Out::Done => Ok(()),
        other => Err(mismatch(&other)),
    }
}

/// Unwraps the expected output variant.
pub fn expect_key_pairs(out: Out) -> Result<Vec<KeyPair>, StoreError> {
    match out {
        Out::KeyPairs(v) => Ok(v),
        other => Err(mismatch(&other)),
    }
}

/// Unwraps the expected output variant.
pub fn expect_page(out: Out) -> Result<Page, StoreError> {
    match out {
        Out::Page(p) => Ok(p),
        other => Err(mismatch(&other)),
    }
}

/// The report a bulk load returned.
pub fn expect_loaded(out: Out) -> Result<keypair_core::LoadReport, StoreError> {
    match out {
        Out::Loaded(r) => Ok(r),
        other => Err(mismatch(&other)),
    }
}

/// The count an operation returned.
pub fn expect_count(out: Out) -> Result<u64, StoreError> {
    match out {
        Out::Count(n) => Ok(n),
        other => Err(mismatch(&other)),
    }
}

fn mismatch(out: &Out) -> StoreError {
    StoreError::backend(format!("operation returned an unexpected result: {out:?}"))
}

/// Implements `keypair_core::KeyPairStore` for a type that implements [`Executor`].
#[macro_export]
macro_rules! impl_key_pair_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl ::keypair_core::KeyPairStore for $store {
            async fn insert(
                &self,
                kp: ::keypair_core::KeyPair,
                quota: u32,
            ) -> Result<(), ::keypair_core::StoreError> {
                $crate::expect_done(
                    $crate::Executor::execute(self, $crate::Op::Insert(kp, quota)).await?,
                )
            }
            async fn get(
                &self,
                scope: &::keypair_core::Scope,
                ids: &[::keypair_core::KeyId],
            ) -> Result<Vec<::keypair_core::KeyPair>, ::keypair_core::StoreError> {
                $crate::expect_key_pairs(
                    $crate::Executor::execute(self, $crate::Op::Get(scope.clone(), ids.to_vec()))
                        .await?,
                )
            }
            async fn query(
                &self,
                scope: &::keypair_core::Scope,
                query: &::keypair_core::Query,
            ) -> Result<::keypair_core::Page, ::keypair_core::StoreError> {
                $crate::expect_page(
                    $crate::Executor::execute(
                        self,
                        $crate::Op::Query(scope.clone(), query.clone()),
                    )
                    .await?,
                )
            }
            async fn update(
                &self,
                scope: &::keypair_core::Scope,
                id: &::keypair_core::KeyId,
                change: &::keypair_core::Change,
            ) -> Result<(), ::keypair_core::StoreError> {
                $crate::expect_done(
                    $crate::Executor::execute(
                        self,
                        $crate::Op::Update(scope.clone(), id.clone(), change.clone()),
                    )
                    .await?,
                )
            }
            async fn delete(
                &self,
                scope: &::keypair_core::Scope,
                ids: &[::keypair_core::KeyId],
            ) -> Result<(), ::keypair_core::StoreError> {
                $crate::expect_done(
                    $crate::Executor::execute(
                        self,
                        $crate::Op::Delete(scope.clone(), ids.to_vec()),
                    )
                    .await?,
                )
            }
            async fn associate(
                &self,
                scope: &::keypair_core::Scope,
                keys: &[::keypair_core::KeyId],
                instances: &[::keypair_core::Association],
                repeated: ::keypair_core::RepeatedBinding,
            ) -> Result<(), ::keypair_core::StoreError> {
                let op = $crate::Op::Associate(
                    scope.clone(),
                    keys.to_vec(),
                    instances.to_vec(),
                    repeated,
                );
                $crate::expect_done($crate::Executor::execute(self, op).await?)
            }
            async fn scan(
                &self,
                after: Option<&::keypair_core::KeyId>,
                limit: usize,
            ) -> Result<Vec<::keypair_core::KeyPair>, ::keypair_core::StoreError> {
                let op = $crate::Op::Scan(after.cloned(), limit);
                $crate::expect_key_pairs($crate::Executor::execute(self, op).await?)
            }
            async fn load(
                &self,
                batch: &[::keypair_core::KeyPair],
            ) -> Result<::keypair_core::LoadReport, ::keypair_core::StoreError> {
                // The fast path first; the checked path when some record is already there.
                let fast =
                    $crate::Executor::execute(self, $crate::Op::Load(batch.to_vec(), false)).await;
                match fast {
                    Err(e) if $crate::needs_checked_load(&e) => {
                        let op = $crate::Op::Load(batch.to_vec(), true);
                        $crate::expect_loaded($crate::Executor::execute(self, op).await?)
                    }
                    other => $crate::expect_loaded(other?),
                }
            }
            async fn count_all(&self) -> Result<u64, ::keypair_core::StoreError> {
                $crate::expect_count($crate::Executor::execute(self, $crate::Op::CountAll).await?)
            }
            async fn ready(&self) -> Result<(), ::keypair_core::StoreError> {
                $crate::Executor::ready(self).await
            }
            async fn purge(
                &self,
                account: Option<&::keypair_core::AccountId>,
            ) -> Result<u64, ::keypair_core::StoreError> {
                let op = $crate::Op::Purge(account.cloned());
                $crate::expect_count($crate::Executor::execute(self, op).await?)
            }
            async fn disassociate(
                &self,
                scope: &::keypair_core::Scope,
                keys: &[::keypair_core::KeyId],
                unbind: &::keypair_core::Unbind<'_>,
            ) -> Result<(), ::keypair_core::StoreError> {
                let op = $crate::Op::Disassociate(
                    scope.clone(),
                    keys.to_vec(),
                    unbind.instances.to_vec(),
                    unbind.repeated,
                    unbind.username.map(str::to_owned),
                );
                $crate::expect_done($crate::Executor::execute(self, op).await?)
            }
        }
    };
}
