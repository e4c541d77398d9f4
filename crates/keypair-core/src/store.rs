//! The `KeyPairStore` port: what a storage backend must do, and the errors it reports.
//!
//! Every adapter runs the conformance suite in [`crate::testkit`] (feature `testkit`),
//! which checks this contract, including the atomicity rules.

use crate::{
    AccountId, Association, Change, Filter, Fingerprint, InstanceId, KeyId, KeyName, KeyPair,
    NameMatch, Page, Query, RepeatedBinding, Scope,
};
use async_trait::async_trait;

/// Most instances one key pair may be bound to. The real service documents no total,
/// only that one request names at most 100 instances; one full request is the bound
/// here, so a single associate can always reach it and an unbounded fan-out cannot.
pub const MAX_BINDINGS_PER_KEY_PAIR: usize = 100;
/// Most key pairs of one scope bound to one instance. An associate sets each listed
/// instance's keys to the keys it names, so an instance holds at most one request's
/// worth; one request names at most 100 key pairs.
pub const MAX_BINDINGS_PER_INSTANCE: usize = 100;

/// The checks every store makes inside an associate's transaction before writing,
/// written once here so every store (and the service's early check) decides the same
/// way, in this order: would a key pair pass [`MAX_BINDINGS_PER_KEY_PAIR`], or would the
/// request leave an instance with more than [`MAX_BINDINGS_PER_INSTANCE`] keys; then,
/// under [`RepeatedBinding::Reject`], is a pair already bound (`AlreadyAssociated`, the
/// first in key-major order)? `bound(k, i)` says whether a pair is bound today;
/// `per_key` gives today's count of a key pair's instances.
///
/// An associate ends the listed instances' bindings to keys it does not name, which
/// only lowers other key pairs' counts; so the per-key check counts what this request
/// adds, and the per-instance check is the number of distinct keys named.
pub fn check_associate(
    keys: &[KeyId],
    instances: &[InstanceId],
    repeated: RepeatedBinding,
    bound: impl Fn(&KeyId, &InstanceId) -> bool,
    per_key: impl Fn(&KeyId) -> usize,
) -> Result<(), StoreError> {
    for key in keys {
        let added = instances.iter().filter(|i| !bound(key, i)).count();
        if added > 0 && per_key(key) + added > MAX_BINDINGS_PER_KEY_PAIR {
            return Err(StoreError::KeyPairBindingsExceeded {
                key: key.clone(),
                limit: MAX_BINDINGS_PER_KEY_PAIR,
            });
        }
    }
    let distinct: std::collections::BTreeSet<&KeyId> = keys.iter().collect();
    if let (Some(instance), true) = (
        instances.first(),
        distinct.len() > MAX_BINDINGS_PER_INSTANCE,
    ) {
        return Err(StoreError::InstanceBindingsExceeded {
            instance: instance.clone(),
            limit: MAX_BINDINGS_PER_INSTANCE,
        });
    }
    if repeated == RepeatedBinding::Reject {
        let mut pairs = keys
            .iter()
            .flat_map(|k| instances.iter().map(move |i| (k, i)));
        if let Some((key, instance)) = pairs.find(|(k, i)| bound(k, i)) {
            return Err(StoreError::AlreadyAssociated {
                key: key.clone(),
                instance: instance.clone(),
            });
        }
    }
    Ok(())
}

/// What a disassociate removes, and under which rules.
#[derive(Clone, Copy, Debug)]
pub struct Unbind<'a> {
    /// The instances to unbind every key from.
    pub instances: &'a [InstanceId],
    /// What a pair that is not bound does.
    pub repeated: RepeatedBinding,
    /// If set, every bound pair must have been bound for this user (a binding made
    /// without a username counts as [`DEFAULT_USERNAME`](crate::DEFAULT_USERNAME)).
    pub username: Option<&'a str>,
}

impl Unbind<'_> {
    /// Whether a binding made for `bound_for` may be removed by this request.
    pub fn username_matches(&self, bound_for: Option<&str>) -> bool {
        self.username
            .is_none_or(|u| u == bound_for.unwrap_or(crate::DEFAULT_USERNAME))
    }

    /// The checks every store makes before removing anything, written once: for each key
    /// and instance in order, `binding(key, instance)` is `None` when the pair is not
    /// bound, else the username it was bound for. A pair not bound is refused under
    /// `Reject`; a bound pair for another user is refused when a username is given.
    pub fn check<'b>(
        &self,
        keys: &[KeyId],
        binding: impl Fn(&KeyId, &InstanceId) -> Option<Option<&'b str>>,
    ) -> Result<(), StoreError> {
        for key in keys {
            for instance in self.instances {
                let refusal = match binding(key, instance) {
                    None if self.repeated == RepeatedBinding::Reject => StoreError::NotAssociated {
                        key: key.clone(),
                        instance: instance.clone(),
                    },
                    Some(user) if !self.username_matches(user) => StoreError::UsernameMismatch {
                        key: key.clone(),
                        instance: instance.clone(),
                    },
                    _ => continue,
                };
                return Err(refusal);
            }
        }
        Ok(())
    }
}

/// What a bulk [`KeyPairStore::load`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Key pairs written.
    pub loaded: u64,
    /// Key pairs already there, identical: skipped.
    pub present: u64,
}

/// The rule of a bulk load, written once for every store: which records of `batch` to
/// write (in order) and how many are already stored identically, or the first conflict.
/// `stored(id)` is the stored key pair with that id; `taken(scope, name, fingerprint)`
/// the id of a stored key pair of the scope with that name or public key. Records of the
/// batch are checked against each other too.
pub fn plan_load(
    batch: &[KeyPair],
    stored: impl Fn(&KeyId) -> Option<KeyPair>,
    taken: impl Fn(&Scope, &KeyName, &Fingerprint) -> Option<KeyId>,
) -> Result<(Vec<&KeyPair>, u64), StoreError> {
    use std::collections::HashMap;
    let conflict = |kp: &KeyPair, reason: String| StoreError::LoadConflict {
        id: kp.id.clone(),
        reason,
    };
    let mut write: Vec<&KeyPair> = Vec::new();
    let mut present = 0;
    let mut ids: HashMap<&KeyId, &KeyPair> = HashMap::new();
    let mut names: HashMap<(Scope, &KeyName), &KeyId> = HashMap::new();
    let mut keys: HashMap<(Scope, &Fingerprint), &KeyId> = HashMap::new();
    for kp in batch {
        if let Some(earlier) = ids.get(&kp.id) {
            if *earlier == kp {
                present += 1;
                continue;
            }
            return Err(conflict(
                kp,
                "the batch holds this id twice with different content".into(),
            ));
        }
        if let Some(existing) = stored(&kp.id) {
            if existing == *kp {
                present += 1;
                ids.insert(&kp.id, kp);
                continue;
            }
            return Err(conflict(
                kp,
                "a stored key pair has this id with other content".into(),
            ));
        }
        let scope = kp.scope();
        let fingerprint = kp.public_key.fingerprint();
        let other = taken(&scope, &kp.name, fingerprint)
            .or_else(|| {
                names
                    .get(&(scope.clone(), &kp.name))
                    .map(|id| (*id).clone())
            })
            .or_else(|| {
                keys.get(&(scope.clone(), fingerprint))
                    .map(|id| (*id).clone())
            });
        if let Some(other) = other {
            return Err(conflict(
                kp,
                format!(
                    "key pair {other} of the same account and product has its name or public key"
                ),
            ));
        }
        ids.insert(&kp.id, kp);
        names.insert((scope.clone(), &kp.name), &kp.id);
        keys.insert((scope, fingerprint), &kp.id);
        write.push(kp);
    }
    Ok((write, present))
}

/// Why a store refused or failed an operation. Every variant but `Backend` is a
/// business outcome the service turns into a domain error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The key id is taken (by any account or product). The service retries with a new id.
    #[error("key id is already used")]
    DuplicateId,
    /// The scope already has a key pair with this name.
    #[error("name {0} is already used")]
    DuplicateName(KeyName),
    /// The scope already has a key pair with this public-key fingerprint.
    #[error("public key {0} is already used")]
    DuplicateFingerprint(Fingerprint),
    /// The scope already holds `limit` key pairs.
    #[error("quota of {limit} key pairs reached")]
    QuotaExceeded {
        /// The quota that was passed in.
        limit: u32,
    },
    /// These ids do not exist in the scope (nothing was changed).
    #[error("not found: {0:?}")]
    NotFound(Vec<KeyId>),
    /// The key pair has associations and cannot be deleted (nothing was changed).
    #[error("key pair {key} is associated with {instances:?}")]
    InUse {
        /// The key pair.
        key: KeyId,
        /// Its instances.
        instances: Vec<InstanceId>,
    },
    /// With [`RepeatedBinding::Reject`]: the pair is already bound (nothing was changed).
    #[error("{key} is already associated with {instance}")]
    AlreadyAssociated {
        /// The key pair.
        key: KeyId,
        /// The instance.
        instance: InstanceId,
    },
    /// With [`RepeatedBinding::Reject`]: the pair is not bound (nothing was changed).
    #[error("{key} is not associated with {instance}")]
    NotAssociated {
        /// The key pair.
        key: KeyId,
        /// The instance.
        instance: InstanceId,
    },
    /// With a username to match: the pair is bound for another user (nothing was
    /// changed).
    #[error("{key} is bound to {instance} for another user")]
    UsernameMismatch {
        /// The key pair.
        key: KeyId,
        /// The instance.
        instance: InstanceId,
    },
    /// The associate would bind the key pair to more than `limit` instances (nothing
    /// was changed).
    #[error("{key} would be bound to more than {limit} instances")]
    KeyPairBindingsExceeded {
        /// The key pair.
        key: KeyId,
        /// [`MAX_BINDINGS_PER_KEY_PAIR`].
        limit: usize,
    },
    /// The associate would bind more than `limit` key pairs of the scope to the
    /// instance (nothing was changed).
    #[error("{instance} would be bound to more than {limit} key pairs")]
    InstanceBindingsExceeded {
        /// The instance.
        instance: InstanceId,
        /// [`MAX_BINDINGS_PER_INSTANCE`].
        limit: usize,
    },
    /// A bulk load met a record that conflicts with what is stored: the same id with
    /// other content, or another key pair of the scope with the same name or public key
    /// (nothing of the batch was written).
    #[error("key pair {id} conflicts with a stored key pair: {reason}")]
    LoadConflict {
        /// The record's id.
        id: KeyId,
        /// What differs.
        reason: String,
    },
    /// The backend failed (I/O, connection, corruption). The operation may or may not
    /// have taken effect only where the backend says so; adapters make writes atomic.
    #[error("storage backend: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend failure.
    pub fn backend(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Backend(e.into())
    }
}

/// Port: durable (or not) storage of key pairs, partitioned by [`Scope`].
///
/// Contract, checked by the conformance suite:
/// - Scopes are isolated: no method ever reads or changes a key pair outside the scope it
///   is given; an id of another scope behaves exactly like an id that does not exist.
/// - Every method is atomic: it takes full effect or none, also under concurrent calls
///   from many tasks, threads or processes sharing the backend. Uniqueness and quota are
///   enforced by the store inside the write, never by a separate check before it.
/// - Reads return key pairs as they were written (field for field); pages come in
///   [`crate::describe_order`] order and `total` counts all matches.
/// - The store never holds a private key: [`KeyPair`] has none to give it.
#[async_trait]
pub trait KeyPairStore: Send + Sync {
    /// Adds a key pair. Atomically rejects, in this order of precedence: a used id
    /// (any scope) with `DuplicateId`; a used name with `DuplicateName`; a used
    /// fingerprint with `DuplicateFingerprint`; a scope already holding `quota` key pairs
    /// with `QuotaExceeded`.
    async fn insert(&self, key_pair: KeyPair, quota: u32) -> Result<(), StoreError>;

    /// A cheap early answer to "would an insert named `name` be refused for its name or
    /// the quota?", so a create can skip generating a key it could not store. Not
    /// atomic and not the authority: `insert` decides. Returns `DuplicateName` or
    /// `QuotaExceeded` as `insert` would. The default asks `query` twice; a store may
    /// answer in one round trip.
    async fn check_new(&self, scope: &Scope, name: &KeyName, quota: u32) -> Result<(), StoreError> {
        let by_name = Query::new(
            vec![Filter::Names(
                vec![name.as_str().to_owned()],
                NameMatch::Exact,
            )],
            0,
            1,
        )
        .map_err(StoreError::backend)?;
        if self.query(scope, &by_name).await?.total > 0 {
            return Err(StoreError::DuplicateName(name.clone()));
        }
        let count = Query::new(Vec::new(), 0, 1).map_err(StoreError::backend)?;
        if self.query(scope, &count).await?.total >= u64::from(quota) {
            return Err(StoreError::QuotaExceeded { limit: quota });
        }
        Ok(())
    }

    /// The key pairs of the scope with these ids, in describe order; missing ids are
    /// left out.
    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError>;

    /// One page of the scope's key pairs matching the query, and the number of matches.
    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError>;

    /// Every key pair of the scope in describe order, or `None` when it holds more than
    /// `limit`: what a read model ([`crate::ReadModel`]) loads. A store should read it
    /// in one snapshot; the default pages through `query`, which is whole only when no
    /// write runs meanwhile (the read model discards a load that a write overlapped).
    async fn scope_all(
        &self,
        scope: &Scope,
        limit: usize,
    ) -> Result<Option<Vec<KeyPair>>, StoreError> {
        let mut items = Vec::new();
        loop {
            let page = Query::new(Vec::new(), items.len() as u64, crate::MAX_LIMIT)
                .map_err(StoreError::backend)?;
            let page = self.query(scope, &page).await?;
            if page.total > limit as u64 {
                return Ok(None);
            }
            let done = page.items.len() < crate::MAX_LIMIT as usize;
            items.extend(page.items);
            if done {
                return Ok(Some(items));
            }
        }
    }

    /// Renames and/or re-describes one key pair. `NotFound` if it is not in the scope;
    /// `DuplicateName` if another key pair of the scope has the new name (renaming to
    /// its own name is allowed).
    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError>;

    /// Deletes all the key pairs or none: `NotFound` lists every id not in the scope;
    /// `InUse` names the first one with associations.
    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError>;

    /// Every key pair of every account and product, in key-id order, after `after`
    /// (exclusive; `None` from the start), at most `limit`: the cursor of an export or a
    /// migration, resumable from the last id seen.
    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError>;

    /// Writes a batch of key pairs as they are — id, name, project, description, public
    /// key, creation time, tags, bindings and their usernames — all or nothing. A record
    /// already stored identically is skipped; one that conflicts with a stored key pair
    /// (same id with other content, or the same name or public key in its scope) fails
    /// the batch with `LoadConflict` naming it, and nothing is overwritten. Uniqueness is
    /// kept; the quota is **not** applied: a restore brings back what a store held, which
    /// was within its quota when written, and refusing part of it would lose data.
    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError>;

    /// The number of key pairs of every account and product.
    async fn count_all(&self) -> Result<u64, StoreError>;

    /// Removes every key pair of `account` (both products), or of every account when
    /// `None`, with their tags and bindings, atomically; returns how many were removed.
    /// For resetting a test environment (keypaird's admin API); a production service
    /// never calls it.
    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError>;

    /// Whether the store can serve requests now, checked with a real round trip to the
    /// backend (readiness). The default runs a one-row query; a store whose connections
    /// outlive the thing they depend on (a file) checks that thing afresh.
    async fn ready(&self) -> Result<(), StoreError> {
        let probe = Scope::new(
            AccountId::parse("readiness-probe").map_err(StoreError::backend)?,
            crate::Product::Cvm,
        );
        let one = Query::new(Vec::new(), 0, 1).map_err(StoreError::backend)?;
        self.query(&probe, &one).await.map(drop)
    }

    /// Sets each listed instance's keys (within the scope) to `keys`, all or nothing:
    /// every key is bound to every instance, and the instances' earlier bindings to
    /// key pairs of the scope that `keys` does not name end (both products' documented
    /// rule: "if the instance is already associated with a key, the old key will become
    /// invalid"). Bindings of other instances, and other scopes' bindings of the same
    /// instance id, are untouched. `NotFound` lists keys not in the scope. A pair
    /// already bound is kept (`Ignore`, with its first username) or refused with
    /// `AlreadyAssociated` (`Reject`). The bounds and the repeat rule are checked with
    /// [`check_associate`], atomically with the write: `KeyPairBindingsExceeded` or
    /// `InstanceBindingsExceeded` first, then `AlreadyAssociated`; a refusal changes
    /// nothing, so no binding ends.
    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError>;

    /// Unbinds every key from every instance, all or nothing. `NotFound` lists keys not
    /// in the scope. A pair not bound is skipped (`Ignore`) or refused with
    /// `NotAssociated` (`Reject`). With `unbind.username` set, a bound pair made for
    /// another user is refused with `UsernameMismatch` ([`Unbind::username_matches`]),
    /// atomically with the write.
    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError>;
}
