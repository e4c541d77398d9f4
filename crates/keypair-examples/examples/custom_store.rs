//! A store of the embedder's own, written here from scratch, that passes the shared
//! conformance suite: every key pair in one list behind one lock. One lock around
//! every check and write is the simplest way to meet the contract's atomicity rules.
//!
//! Run the program: `cargo run -p keypair-examples --example custom_store`
//! Run its conformance cases: `cargo test -p keypair-examples --example custom_store`

use async_trait::async_trait;
use keypair_core::{
    check_associate, describe_order, evaluate, plan_load, AccountId, Association, Change,
    CreateKeyPair, DescribeKeyPairs, InstanceId, KeyId, KeyPair, KeyPairService, KeyPairStore,
    LoadReport, Page, Product, Query, RepeatedBinding, Scope, StoreError, Unbind,
};
use std::sync::{Arc, Mutex, MutexGuard};

/// Every key pair of every scope, in one list.
#[derive(Default)]
struct ListStore(Mutex<Vec<KeyPair>>);

impl ListStore {
    fn all(&self) -> MutexGuard<'_, Vec<KeyPair>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The ids of `ids` that `list` does not hold in `scope`.
fn missing(list: &[KeyPair], scope: &Scope, ids: &[KeyId]) -> Vec<KeyId> {
    ids.iter()
        .filter(|id| !list.iter().any(|kp| kp.scope() == *scope && kp.id == **id))
        .cloned()
        .collect()
}

fn in_scope<'a>(
    list: &'a mut [KeyPair],
    scope: &'a Scope,
) -> impl Iterator<Item = &'a mut KeyPair> {
    list.iter_mut().filter(move |kp| kp.scope() == *scope)
}

#[async_trait]
impl KeyPairStore for ListStore {
    async fn insert(&self, kp: KeyPair, quota: u32) -> Result<(), StoreError> {
        let mut list = self.all();
        if list.iter().any(|o| o.id == kp.id) {
            return Err(StoreError::DuplicateId);
        }
        let scope = kp.scope();
        let same_scope: Vec<&KeyPair> = list.iter().filter(|o| o.scope() == scope).collect();
        if same_scope.iter().any(|o| o.name == kp.name) {
            return Err(StoreError::DuplicateName(kp.name));
        }
        let fingerprint = kp.public_key.fingerprint();
        if same_scope
            .iter()
            .any(|o| o.public_key.fingerprint() == fingerprint)
        {
            return Err(StoreError::DuplicateFingerprint(fingerprint.clone()));
        }
        if same_scope.len() >= quota as usize {
            return Err(StoreError::QuotaExceeded { limit: quota });
        }
        list.push(kp);
        Ok(())
    }

    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError> {
        let mut found: Vec<KeyPair> = self
            .all()
            .iter()
            .filter(|kp| kp.scope() == *scope && ids.contains(&kp.id))
            .cloned()
            .collect();
        found.sort_by(describe_order);
        Ok(found)
    }

    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError> {
        // `evaluate` is the core's reference semantics of a describe.
        Ok(evaluate(
            query,
            self.all().iter().filter(|kp| kp.scope() == *scope),
        ))
    }

    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError> {
        let mut list = self.all();
        if let Some(name) = &change.name {
            let taken = list
                .iter()
                .any(|kp| kp.scope() == *scope && kp.name == *name && kp.id != *id);
            if taken {
                return Err(StoreError::DuplicateName(name.clone()));
            }
        }
        let kp = in_scope(&mut list, scope)
            .find(|kp| kp.id == *id)
            .ok_or_else(|| StoreError::NotFound(vec![id.clone()]))?;
        if let Some(name) = &change.name {
            kp.name = name.clone();
        }
        if let Some(description) = &change.description {
            kp.description = description.clone();
        }
        Ok(())
    }

    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
        let mut list = self.all();
        let absent = missing(&list, scope, ids);
        if !absent.is_empty() {
            return Err(StoreError::NotFound(absent));
        }
        for id in ids {
            let kp = list.iter().find(|kp| kp.scope() == *scope && kp.id == *id);
            if let Some(kp) = kp.filter(|kp| !kp.associations.is_empty()) {
                let instances = kp.associations.iter().map(|a| a.instance.clone()).collect();
                return Err(StoreError::InUse {
                    key: kp.id.clone(),
                    instances,
                });
            }
        }
        list.retain(|kp| !(kp.scope() == *scope && ids.contains(&kp.id)));
        Ok(())
    }

    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError> {
        let mut list = self.all();
        let absent = missing(&list, scope, keys);
        if !absent.is_empty() {
            return Err(StoreError::NotFound(absent));
        }
        // Check everything first, then write: all or nothing.
        let wanted: Vec<InstanceId> = instances.iter().map(|a| a.instance.clone()).collect();
        let view: Vec<&KeyPair> = list.iter().filter(|kp| kp.scope() == *scope).collect();
        let holder = |k: &KeyId| view.iter().find(|kp| kp.id == *k).copied();
        check_associate(
            keys,
            &wanted,
            repeated,
            |k, i| holder(k).is_some_and(|kp| kp.associations.iter().any(|a| a.instance == *i)),
            |k| holder(k).map_or(0, |kp| kp.associations.len()),
        )?;
        // An associate replaces the listed instances' keys: their other bindings end.
        for kp in in_scope(&mut list, scope) {
            if !keys.contains(&kp.id) {
                kp.associations.retain(|a| !wanted.contains(&a.instance));
            }
        }
        for kp in in_scope(&mut list, scope).filter(|kp| keys.contains(&kp.id)) {
            for binding in instances {
                if !kp
                    .associations
                    .iter()
                    .any(|a| a.instance == binding.instance)
                {
                    kp.associations.push(binding.clone());
                }
            }
            kp.associations.sort_by(|a, b| a.instance.cmp(&b.instance));
        }
        Ok(())
    }

    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError> {
        let mut all: Vec<KeyPair> = self
            .all()
            .iter()
            .filter(|kp| after.is_none_or(|a| kp.id > *a))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.truncate(limit);
        Ok(all)
    }

    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError> {
        let mut list = self.all();
        // The core's rule for what a load writes, skips or refuses.
        let (write, present) = plan_load(
            batch,
            |id| list.iter().find(|kp| kp.id == *id).cloned(),
            |scope, name, fp| {
                list.iter()
                    .find(|kp| {
                        kp.scope() == *scope
                            && (kp.name == *name || kp.public_key.fingerprint() == fp)
                    })
                    .map(|kp| kp.id.clone())
            },
        )?;
        let loaded = write.len() as u64;
        list.extend(write.into_iter().cloned());
        Ok(LoadReport { loaded, present })
    }

    async fn count_all(&self) -> Result<u64, StoreError> {
        Ok(self.all().len() as u64)
    }

    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError> {
        let mut list = self.all();
        let before = list.len();
        list.retain(|kp| account.is_some_and(|a| kp.account != *a));
        Ok((before - list.len()) as u64)
    }

    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError> {
        let mut list = self.all();
        let absent = missing(&list, scope, keys);
        if !absent.is_empty() {
            return Err(StoreError::NotFound(absent));
        }
        // The core's own check: not bound (under Reject) or bound for another user.
        let view: Vec<&KeyPair> = list.iter().filter(|kp| kp.scope() == *scope).collect();
        unbind.check(keys, |k, i| {
            let kp = view.iter().find(|kp| kp.id == *k)?;
            let binding = kp.associations.iter().find(|a| a.instance == *i)?;
            Some(binding.username.as_deref())
        })?;
        for kp in in_scope(&mut list, scope).filter(|kp| keys.contains(&kp.id)) {
            kp.associations
                .retain(|a| !unbind.instances.contains(&a.instance));
        }
        Ok(())
    }
}

fn main() -> Result<(), keypair_core::Error> {
    futures::executor::block_on(async {
        let service = KeyPairService::builder(Arc::new(ListStore::default())).build();
        let scope = Scope::new(AccountId::parse("1250000001")?, Product::Cvm);
        let req = CreateKeyPair {
            name: "listed".into(),
            ..Default::default()
        };
        let created = service.create(&scope, req).await?;
        let page = service
            .describe(&scope, &DescribeKeyPairs::default())
            .await?;
        println!(
            "custom store holds {} key pair(s): {}",
            page.total, created.key_pair.id
        );
        Ok(())
    })
}

#[cfg(test)]
mod conformance {
    use super::*;

    keypair_core::store_conformance!(async { Arc::new(ListStore::default()) });
}
