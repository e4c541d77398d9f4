//! A complete, concurrency-safe in-memory [`KeyPairStore`], for embedding and tests.
//!
//! One `RwLock` guards all state, so every operation is atomic by construction: the
//! uniqueness, quota and all-or-nothing checks run under the same write lock as the
//! write. Per (account, product) namespace it keeps indexes by id, name, fingerprint and
//! describe order, so lookups are O(1) or O(log n) and an unfiltered page costs
//! O(offset + limit).
//!
//! Nothing survives the process: use `keypair-sqlite` or `keypair-postgres` to keep data.
//!
//! The crate also holds the in-process adapters of the admission ports ([`admission`]):
//! the token-bucket [`RateLimiter`] and the bounded [`NonceCache`] one server uses.

pub mod admission;

pub use admission::{
    in_process as in_process_admission, NonceCache, RateLimiter, DEFAULT_MAX_NONCES,
};

use async_trait::async_trait;
use keypair_core::{
    check_associate, describe_order, plan_load, AccountId, Association, Change, Fingerprint,
    InstanceId, KeyId, KeyName, KeyPair, KeyPairStore, LoadReport, Page, Query, RepeatedBinding,
    Scope, StoreError, Timestamp, Unbind,
};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

type OrderKey = (Reverse<Timestamp>, KeyId);

#[derive(Default)]
struct Namespace {
    by_id: HashMap<KeyId, KeyPair>,
    names: HashMap<KeyName, KeyId>,
    fingerprints: HashMap<Fingerprint, KeyId>,
    /// Describe order: newest first, ties by id.
    order: BTreeSet<OrderKey>,
}

impl Namespace {
    fn order_key(kp: &KeyPair) -> OrderKey {
        (Reverse(kp.created_at), kp.id.clone())
    }

    fn missing(&self, ids: &[KeyId]) -> Vec<KeyId> {
        ids.iter()
            .filter(|id| !self.by_id.contains_key(*id))
            .cloned()
            .collect()
    }

    fn require_all(&self, ids: &[KeyId]) -> Result<(), StoreError> {
        let missing = self.missing(ids);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::NotFound(missing))
        }
    }
}

#[derive(Default)]
struct Inner {
    /// Every id of every scope, because ids are unique store-wide.
    /// Ordered, for the key-id cursor of `scan`.
    ids: BTreeMap<KeyId, Scope>,
    scopes: HashMap<Scope, Namespace>,
}

impl Inner {
    /// Adds a key pair whose id, name and public key are known to be free.
    fn add(&mut self, key_pair: KeyPair) {
        let scope = key_pair.scope();
        let ns = self.scopes.entry(scope.clone()).or_default();
        ns.names.insert(key_pair.name.clone(), key_pair.id.clone());
        ns.fingerprints.insert(
            key_pair.public_key.fingerprint().clone(),
            key_pair.id.clone(),
        );
        ns.order.insert(Namespace::order_key(&key_pair));
        let id = key_pair.id.clone();
        ns.by_id.insert(id.clone(), key_pair);
        self.ids.insert(id, scope);
    }
}

/// The in-memory store. Cheap to create; share it behind an `Arc`.
#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Inner>, StoreError> {
        self.inner
            .read()
            .map_err(|_| StoreError::backend("memory store lock poisoned by a panic"))
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Inner>, StoreError> {
        self.inner
            .write()
            .map_err(|_| StoreError::backend("memory store lock poisoned by a panic"))
    }
}

/// Runs `f` on the scope's namespace, or fails with every id not found when the scope
/// has no key pairs at all.
fn with_namespace<T>(
    inner: &mut Inner,
    scope: &Scope,
    ids: &[KeyId],
    f: impl FnOnce(&mut Namespace) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match inner.scopes.get_mut(scope) {
        Some(ns) => f(ns),
        None => Err(StoreError::NotFound(ids.to_vec())),
    }
}

#[async_trait]
impl KeyPairStore for MemoryStore {
    async fn insert(&self, key_pair: KeyPair, quota: u32) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        if inner.ids.contains_key(&key_pair.id) {
            return Err(StoreError::DuplicateId);
        }
        let ns = inner.scopes.entry(key_pair.scope()).or_default();
        if ns.names.contains_key(&key_pair.name) {
            return Err(StoreError::DuplicateName(key_pair.name));
        }
        let fingerprint = key_pair.public_key.fingerprint();
        if ns.fingerprints.contains_key(fingerprint) {
            return Err(StoreError::DuplicateFingerprint(fingerprint.clone()));
        }
        if ns.by_id.len() >= quota as usize {
            return Err(StoreError::QuotaExceeded { limit: quota });
        }
        inner.add(key_pair);
        Ok(())
    }

    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError> {
        use std::ops::Bound;
        let inner = self.read()?;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(inner
            .ids
            .range::<KeyId, _>((from, Bound::Unbounded))
            .take(limit)
            .filter_map(|(id, scope)| inner.scopes.get(scope)?.by_id.get(id).cloned())
            .collect())
    }

    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError> {
        let mut inner = self.write()?;
        let (write, present) = plan_load(
            batch,
            |id| {
                let scope = inner.ids.get(id)?;
                inner.scopes.get(scope)?.by_id.get(id).cloned()
            },
            |scope, name, fingerprint| {
                let ns = inner.scopes.get(scope)?;
                ns.names
                    .get(name)
                    .or_else(|| ns.fingerprints.get(fingerprint))
                    .cloned()
            },
        )?;
        let loaded = write.len() as u64;
        for kp in write {
            inner.add(kp.clone());
        }
        Ok(LoadReport { loaded, present })
    }

    async fn count_all(&self) -> Result<u64, StoreError> {
        Ok(self.read()?.ids.len() as u64)
    }

    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError> {
        let inner = self.read()?;
        let Some(ns) = inner.scopes.get(scope) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<KeyPair> = ids
            .iter()
            .filter_map(|id| ns.by_id.get(id))
            .cloned()
            .collect();
        found.sort_by(describe_order);
        found.dedup_by(|a, b| a.id == b.id);
        Ok(found)
    }

    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError> {
        let inner = self.read()?;
        let Some(ns) = inner.scopes.get(scope) else {
            return Ok(Page::default());
        };
        let in_order = ns.order.iter().filter_map(|(_, id)| ns.by_id.get(id));
        Ok(keypair_core::page_in_order(query, in_order, ns.by_id.len()))
    }

    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        with_namespace(&mut inner, scope, std::slice::from_ref(id), |ns| {
            ns.require_all(std::slice::from_ref(id))?;
            if let Some(name) = &change.name {
                if ns.names.get(name).is_some_and(|owner| owner != id) {
                    return Err(StoreError::DuplicateName(name.clone()));
                }
            }
            let kp = ns
                .by_id
                .get_mut(id)
                .ok_or_else(|| StoreError::NotFound(vec![id.clone()]))?;
            if let Some(name) = &change.name {
                ns.names.remove(&kp.name);
                ns.names.insert(name.clone(), id.clone());
                kp.name = name.clone();
            }
            if let Some(d) = &change.description {
                kp.description = d.clone();
            }
            Ok(())
        })
    }

    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        with_namespace(&mut inner, scope, ids, |ns| {
            ns.require_all(ids)?;
            if let Some(kp) = ids
                .iter()
                .filter_map(|id| ns.by_id.get(id))
                .find(|kp| !kp.associations.is_empty())
            {
                return Err(StoreError::InUse {
                    key: kp.id.clone(),
                    instances: kp.associations.iter().map(|a| a.instance.clone()).collect(),
                });
            }
            for id in ids {
                if let Some(kp) = ns.by_id.remove(id) {
                    ns.names.remove(&kp.name);
                    ns.fingerprints.remove(kp.public_key.fingerprint());
                    ns.order.remove(&Namespace::order_key(&kp));
                }
            }
            Ok(())
        })?;
        for id in ids {
            inner.ids.remove(id);
        }
        Ok(())
    }

    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        with_namespace(&mut inner, scope, keys, |ns| {
            ns.require_all(keys)?;
            let wanted: Vec<InstanceId> = instances.iter().map(|a| a.instance.clone()).collect();
            let is_bound = |k: &KeyId, i: &InstanceId| {
                ns.by_id[k].associations.iter().any(|b| b.instance == *i)
            };
            check_associate(keys, &wanted, repeated, is_bound, |k| {
                ns.by_id[k].associations.len()
            })?;
            for kp in ns.by_id.values_mut() {
                if !keys.contains(&kp.id) {
                    kp.associations.retain(|b| !wanted.contains(&b.instance));
                }
            }
            for key in keys {
                if let Some(kp) = ns.by_id.get_mut(key) {
                    for a in instances {
                        if !kp.associations.iter().any(|b| b.instance == a.instance) {
                            kp.associations.push(a.clone());
                        }
                    }
                    kp.associations.sort();
                }
            }
            Ok(())
        })
    }

    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError> {
        let mut inner = self.write()?;
        let gone: Vec<Scope> = inner
            .scopes
            .keys()
            .filter(|s| account.is_none_or(|a| s.account == *a))
            .cloned()
            .collect();
        let mut removed = 0;
        for scope in gone {
            if let Some(ns) = inner.scopes.remove(&scope) {
                removed += ns.by_id.len() as u64;
                for id in ns.by_id.keys() {
                    inner.ids.remove(id);
                }
            }
        }
        Ok(removed)
    }

    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        with_namespace(&mut inner, scope, keys, |ns| {
            ns.require_all(keys)?;
            unbind.check(keys, |k, i| {
                ns.by_id[k]
                    .associations
                    .iter()
                    .find(|b| b.instance == *i)
                    .map(|b| b.username.as_deref())
            })?;
            for key in keys {
                if let Some(kp) = ns.by_id.get_mut(key) {
                    kp.associations
                        .retain(|a| !unbind.instances.contains(&a.instance));
                }
            }
            Ok(())
        })
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
