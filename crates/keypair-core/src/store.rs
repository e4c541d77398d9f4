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
/// Most key pairs of one scope bound to one instance, for the same reason: one request
/// names at most 100 key pairs.
pub const MAX_BINDINGS_PER_INSTANCE: usize = 100;

/// The binding bounds every store enforces inside an associate's transaction: with
/// `keys` bound to `instances`, would a key pair pass [`MAX_BINDINGS_PER_KEY_PAIR`] or
/// an instance pass [`MAX_BINDINGS_PER_INSTANCE`]? `bound(k, i)` says whether a pair
/// is bound today; `per_key` and `per_instance` give today's counts (per instance:
/// within the scope). Written once here so every store decides the same way.
pub fn check_binding_limits(
    keys: &[KeyId],
    instances: &[InstanceId],
    bound: impl Fn(&KeyId, &InstanceId) -> bool,
    per_key: impl Fn(&KeyId) -> usize,
    per_instance: impl Fn(&InstanceId) -> usize,
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
    for instance in instances {
        let added = keys.iter().filter(|k| !bound(k, instance)).count();
        if added > 0 && per_instance(instance) + added > MAX_BINDINGS_PER_INSTANCE {
            return Err(StoreError::InstanceBindingsExceeded {
                instance: instance.clone(),
                limit: MAX_BINDINGS_PER_INSTANCE,
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

    /// Renames and/or re-describes one key pair. `NotFound` if it is not in the scope;
    /// `DuplicateName` if another key pair of the scope has the new name (renaming to
    /// its own name is allowed).
    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError>;

    /// Deletes all the key pairs or none: `NotFound` lists every id not in the scope;
    /// `InUse` names the first one with associations.
    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError>;

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

    /// Binds every key to every instance, all or nothing. `NotFound` lists keys not in
    /// the scope. A pair already bound is skipped (`Ignore`) or refused with
    /// `AlreadyAssociated` (`Reject`). A rebind with `Ignore` keeps the first username.
    /// The binding bounds are checked with [`check_binding_limits`], atomically with the
    /// write: `KeyPairBindingsExceeded` or `InstanceBindingsExceeded`.
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
