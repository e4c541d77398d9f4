//! The use-cases: validate a request, call the ports, return a domain result. One
//! service serves both products; the product comes with the caller's [`Scope`].

use crate::query::parse_ids;
use crate::{
    binding_decision, Admission, AnyInstance, BindingOp, InstanceDirectory, RunningInstance, Unbind,
};
use crate::{
    Association, Change, Clock, DefaultProjectOnly, Description, Error, GeneratedKey, IdGenerator,
    InstanceId, KeyGenerator, KeyId, KeyName, KeyPair, KeyPairStore, KeyPool, Page, PrivateKeyPem,
    ProjectCatalog, ProjectId, PublicKey, Query, RandomIds, RawFilter, Result, RsaKeyGenerator,
    Scope, StoreError, SystemClock, Tag, Tags,
};
use std::sync::Arc;

/// Default quota of key pairs per account and product.
pub const DEFAULT_QUOTA: u32 = 5000;
/// How often a colliding generated id is replaced before giving up. With random 8-char
/// ids a single collision is already rare; this bound only stops a broken generator.
const ID_ATTEMPTS: usize = 16;

/// A tag as it arrives on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawTag {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

/// CreateKeyPair input.
#[derive(Clone, Debug, Default)]
pub struct CreateKeyPair {
    /// `KeyName`.
    pub name: String,
    /// CVM `ProjectId`; `None` means the default project. Must be `None` on Lighthouse.
    pub project_id: Option<i64>,
    /// Tags (CVM `TagSpecification` flattened, Lighthouse `Tags`).
    pub tags: Vec<RawTag>,
    /// The `ResourceType` of each CVM `TagSpecification`: only `keypair` is accepted.
    pub tag_resource_types: Vec<String>,
}

/// ImportKeyPair input.
#[derive(Clone, Debug, Default)]
pub struct ImportKeyPair {
    /// `KeyName`.
    pub name: String,
    /// CVM `ProjectId`; `None` means the default project.
    pub project_id: Option<i64>,
    /// `PublicKey`, one OpenSSH line.
    pub public_key: String,
    /// Tags.
    pub tags: Vec<RawTag>,
    /// The `ResourceType` of each CVM `TagSpecification`: only `keypair` is accepted.
    pub tag_resource_types: Vec<String>,
}

/// Tags may be specified for key pairs only: every CVM `TagSpecification` must name
/// `ResourceType` `keypair`. Checked before anything else about a new key pair, as the
/// real service refuses the specification before it reads the rest.
fn check_tag_resource_types(types: &[String]) -> Result<()> {
    match types.iter().find(|t| t.as_str() != "keypair") {
        Some(other) => Err(Error::TagResourceType(other.clone())),
        None => Ok(()),
    }
}

/// DescribeKeyPairs input.
#[derive(Clone, Debug, Default)]
pub struct DescribeKeyPairs {
    /// `KeyIds`.
    pub key_ids: Option<Vec<String>>,
    /// `Filters`.
    pub filters: Option<Vec<RawFilter>>,
    /// `Offset`.
    pub offset: Option<i64>,
    /// `Limit`.
    pub limit: Option<i64>,
}

/// ModifyKeyPairAttribute input (CVM).
#[derive(Clone, Debug, Default)]
pub struct ModifyKeyPairAttribute {
    /// `KeyId`.
    pub key_id: String,
    /// `KeyName`.
    pub name: Option<String>,
    /// `Description`.
    pub description: Option<String>,
}

/// Associate/DisassociateInstancesKeyPairs input.
#[derive(Clone, Debug, Default)]
pub struct InstanceBinding {
    /// `KeyIds`.
    pub key_ids: Vec<String>,
    /// `InstanceIds`.
    pub instance_ids: Vec<String>,
    /// Lighthouse `Username`.
    pub username: Option<String>,
    /// CVM `ForceStop`: stop a running instance first instead of refusing it.
    pub force_stop: Option<bool>,
    /// Lighthouse `AssociateType` / `DisassociateType`: `ONLINE` binds a running
    /// instance as it runs, `OFFLINE` (the default) stops it first.
    pub binding_type: Option<String>,
}

/// The login user a Lighthouse binding made without a `Username` stands for.
pub const DEFAULT_USERNAME: &str = "root";

/// CreateKeyPair's answer: the stored key pair and the private key, which exists only
/// here.
#[derive(Debug)]
pub struct CreatedKeyPair {
    /// The key pair as stored.
    pub key_pair: KeyPair,
    /// The private key, to return to the caller once.
    pub private_key: PrivateKeyPem,
}

/// Where the service's keys come from: a generator it will wrap in its own pool, or a
/// pool the caller shares (to read its statistics, or to serve several services).
enum KeySource {
    Generator(Arc<dyn KeyGenerator>),
    Pool(Arc<KeyPool>),
}

/// The ports a service runs on. Defaults: random ids, the system clock, RSA-2048 from the
/// OS CSPRNG generated on one thread of the service's own (no reserve), only project 0, a
/// quota of [`DEFAULT_QUOTA`].
pub struct ServiceBuilder {
    store: Arc<dyn KeyPairStore>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
    keys: KeySource,
    projects: Arc<dyn ProjectCatalog>,
    instances: Arc<dyn InstanceDirectory>,
    quota: u32,
}

impl ServiceBuilder {
    /// Sets the instance directory (default [`AnyInstance`]: every well-formed id exists,
    /// is stopped and runs Linux).
    pub fn instances(mut self, instances: Arc<dyn InstanceDirectory>) -> Self {
        self.instances = instances;
        self
    }
    /// Sets the id generator.
    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }
    /// Sets the clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Sets the key generator. The service runs it on threads of its own (a
    /// [`KeyPool`] with no reserve and [`default_workers`](crate::default_workers)
    /// threads), never on the caller's executor.
    pub fn key_generator(mut self, keygen: Arc<dyn KeyGenerator>) -> Self {
        self.keys = KeySource::Generator(keygen);
        self
    }
    /// Takes keys from `pool`, for a reserve of ready keys or a pool shared with other
    /// services.
    pub fn key_pool(mut self, pool: Arc<KeyPool>) -> Self {
        self.keys = KeySource::Pool(pool);
        self
    }
    /// Sets the project catalog.
    pub fn projects(mut self, projects: Arc<dyn ProjectCatalog>) -> Self {
        self.projects = projects;
        self
    }
    /// Sets the quota of key pairs per account and product.
    pub fn quota(mut self, quota: u32) -> Self {
        self.quota = quota;
        self
    }
    /// Builds the service.
    pub fn build(self) -> KeyPairService {
        KeyPairService {
            store: self.store,
            ids: self.ids,
            clock: self.clock,
            keys: match self.keys {
                KeySource::Pool(pool) => pool,
                KeySource::Generator(g) => Arc::new(KeyPool::new(g, 0, crate::default_workers())),
            },
            projects: self.projects,
            instances: self.instances,
            quota: self.quota,
        }
    }
}

/// The key-pair use-cases over the ports.
pub struct KeyPairService {
    store: Arc<dyn KeyPairStore>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyPool>,
    projects: Arc<dyn ProjectCatalog>,
    instances: Arc<dyn InstanceDirectory>,
    quota: u32,
}

impl KeyPairService {
    /// Starts building a service over `store`.
    pub fn builder(store: Arc<dyn KeyPairStore>) -> ServiceBuilder {
        ServiceBuilder {
            store,
            ids: Arc::new(RandomIds),
            clock: Arc::new(SystemClock),
            keys: KeySource::Generator(Arc::new(RsaKeyGenerator::default())),
            projects: Arc::new(DefaultProjectOnly),
            instances: Arc::new(AnyInstance),
            quota: DEFAULT_QUOTA,
        }
    }

    /// The store, for adapters that need direct access (backups, health checks).
    pub fn store(&self) -> &Arc<dyn KeyPairStore> {
        &self.store
    }

    /// The clock the service stamps creation times with; adapters that need the time
    /// (signature windows, rate limits) use this one, so tests pin a single clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The pool the service takes keys from (for its statistics).
    pub fn key_pool(&self) -> &Arc<KeyPool> {
        &self.keys
    }

    /// CreateKeyPair: generates an RSA key pair, stores its public half and returns the
    /// private key once.
    ///
    /// The name and the quota are checked before a key is taken, so a create the store
    /// would refuse costs no generation; the store still decides atomically at insert,
    /// and a key whose insert was refused goes back to the pool unseen.
    pub async fn create(&self, scope: &Scope, req: CreateKeyPair) -> Result<CreatedKeyPair> {
        check_tag_resource_types(&req.tag_resource_types)?;
        let (name, project, tags) =
            self.validate_new(scope, &req.name, req.project_id, &req.tags)?;
        self.store.check_new(scope, &name, self.quota).await?;
        let GeneratedKey {
            public,
            private_pem,
        } = self.keys.take(scope).await?;
        let inserted = self
            .insert_with_fresh_id(scope, |id| {
                let public_key = PublicKey::from_key_data(public.clone(), &id.key_comment())?;
                Ok(self.record(scope, id, name.clone(), project, public_key, tags.clone()))
            })
            .await;
        match inserted {
            Ok(key_pair) => Ok(CreatedKeyPair {
                key_pair,
                private_key: private_pem,
            }),
            Err(e) => {
                self.keys.give_back(GeneratedKey {
                    public,
                    private_pem,
                });
                Err(e)
            }
        }
    }

    /// ImportKeyPair: stores a user's OpenSSH RSA public key.
    pub async fn import(&self, scope: &Scope, req: ImportKeyPair) -> Result<KeyPair> {
        check_tag_resource_types(&req.tag_resource_types)?;
        let (name, project, tags) =
            self.validate_new(scope, &req.name, req.project_id, &req.tags)?;
        let public_key = PublicKey::parse_openssh(&req.public_key)?;
        self.insert_with_fresh_id(scope, |id| {
            Ok(self.record(
                scope,
                id,
                name.clone(),
                project,
                public_key.clone(),
                tags.clone(),
            ))
        })
        .await
    }

    /// DescribeKeyPairs: one page of matches and their total.
    pub async fn describe(&self, scope: &Scope, req: &DescribeKeyPairs) -> Result<Page> {
        let query = Query::parse(
            scope.product,
            req.key_ids.as_deref(),
            req.filters.as_deref(),
            req.offset,
            req.limit,
        )?;
        Ok(self.store.query(scope, &query).await?)
    }

    /// DeleteKeyPairs: all or nothing; key pairs bound to instances are refused.
    pub async fn delete(&self, scope: &Scope, key_ids: &[String]) -> Result<()> {
        let max = scope.product.spec().max_delete_ids;
        let ids = parse_ids(scope.product, "KeyIds", key_ids, max, KeyId::parse)?;
        Ok(self.store.delete(scope, &ids).await?)
    }

    /// ModifyKeyPairAttribute (CVM): renames and/or re-describes a key pair.
    pub async fn modify(&self, scope: &Scope, req: &ModifyKeyPairAttribute) -> Result<()> {
        if !scope.product.spec().has_action(crate::Action::Modify) {
            return Err(Error::UnsupportedAction {
                product: scope.product,
                action: crate::Action::Modify.name(),
            });
        }
        let id = KeyId::parse(scope.product, &req.key_id)?;
        if req.name.is_none() && req.description.is_none() {
            return Err(Error::NothingToModify);
        }
        let change = Change {
            name: req.name.as_deref().map(KeyName::parse).transpose()?,
            description: req
                .description
                .as_deref()
                .map(Description::parse)
                .transpose()?,
        };
        Ok(self.store.update(scope, &id, &change).await?)
    }

    /// AssociateInstancesKeyPairs: binds every key to every instance, replacing the
    /// instances' earlier keys, once the instance directory admits every instance
    /// (stopping running ones where asked).
    pub async fn associate(&self, scope: &Scope, req: &InstanceBinding) -> Result<()> {
        let (keys, instances) = self.validate_binding(scope, req)?;
        let running = running_instances(scope.product, req, "AssociateType")?;
        let username = req.username.as_deref().map(validate_username).transpose()?;
        let to_stop = self
            .instances_to_stop(scope, BindingOp::Associate, &instances, running)
            .await?;
        let repeated = scope.product.spec().repeated_binding;
        let bindings: Vec<Association> = instances
            .iter()
            .map(|instance| Association {
                instance: instance.clone(),
                username: username.clone(),
            })
            .collect();
        if !to_stop.is_empty() {
            let found = self.existing(scope, &keys).await?;
            let bound = |k: &KeyId, i: &InstanceId| bound_for(&found, k, i).is_some();
            let per_key = |k: &KeyId| {
                found
                    .iter()
                    .find(|kp| kp.id == *k)
                    .map_or(0, |kp| kp.associations.len())
            };
            // The stores' own rule, ahead of them, so nothing is stopped for a request
            // the store would refuse.
            crate::check_associate(&keys, &instances, repeated, bound, per_key)?;
            self.stop_all(scope, &to_stop).await?;
        }
        Ok(self
            .store
            .associate(scope, &keys, &bindings, repeated)
            .await?)
    }

    /// DisassociateInstancesKeyPairs: unbinds every key from every instance. On
    /// Lighthouse a `Username` must be the one each key was bound with.
    pub async fn disassociate(&self, scope: &Scope, req: &InstanceBinding) -> Result<()> {
        let (keys, instances) = self.validate_binding(scope, req)?;
        let running = running_instances(scope.product, req, "DisassociateType")?;
        let username = req.username.as_deref().map(validate_username).transpose()?;
        let to_stop = self
            .instances_to_stop(scope, BindingOp::Disassociate, &instances, running)
            .await?;
        let unbind = Unbind {
            instances: &instances,
            repeated: scope.product.spec().repeated_binding,
            username: username.as_deref(),
        };
        if !to_stop.is_empty() {
            let found = self.existing(scope, &keys).await?;
            unbind.check(&keys, |k, i| bound_for(&found, k, i))?;
            self.stop_all(scope, &to_stop).await?;
        }
        Ok(self.store.disassociate(scope, &keys, &unbind).await?)
    }

    /// Asks the directory about every instance, in order: the first refusal answers;
    /// otherwise the running instances the caller asked to stop.
    async fn instances_to_stop<'i>(
        &self,
        scope: &Scope,
        op: BindingOp,
        instances: &'i [InstanceId],
        running: RunningInstance,
    ) -> Result<Vec<&'i InstanceId>> {
        let mut to_stop = Vec::new();
        for id in instances {
            let found = self.instances.lookup(scope, id).await?;
            if binding_decision(scope.product, op, id, found, running)? == Admission::StopFirst {
                to_stop.push(id);
            }
        }
        Ok(to_stop)
    }

    /// Stopping is a side effect, so it happens only once every check the service can
    /// make ahead of the store has passed; the store still decides atomically.
    async fn stop_all(&self, scope: &Scope, to_stop: &[&InstanceId]) -> Result<()> {
        for id in to_stop {
            self.instances.force_stop(scope, id).await?;
        }
        Ok(())
    }

    /// The key pairs with these ids, or `KeyPairNotFound` naming the missing ones.
    async fn existing(&self, scope: &Scope, keys: &[KeyId]) -> Result<Vec<KeyPair>> {
        let found = self.store.get(scope, keys).await?;
        let missing: Vec<KeyId> = keys
            .iter()
            .filter(|k| !found.iter().any(|kp| kp.id == **k))
            .cloned()
            .collect();
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(Error::KeyPairNotFound(missing))
        }
    }

    /// The checks Create and Import share, in the spec's order: name, project, tags.
    fn validate_new(
        &self,
        scope: &Scope,
        name: &str,
        project_id: Option<i64>,
        tags: &[RawTag],
    ) -> Result<(KeyName, ProjectId, Tags)> {
        let name = KeyName::parse(name)?;
        let project = match project_id {
            None => ProjectId::DEFAULT,
            Some(p) => {
                let p = ProjectId::parse(p)?;
                let exists =
                    scope.product.spec().has_projects && self.projects.exists(&scope.account, p);
                if !exists && p != ProjectId::DEFAULT {
                    return Err(Error::ProjectNotFound(p.get()));
                }
                p
            }
        };
        let tags = tags
            .iter()
            .map(|t| Tag::new(&t.key, &t.value))
            .collect::<Result<Vec<_>>>()?;
        Ok((name, project, Tags::new(scope.product, tags)?))
    }

    fn validate_binding(
        &self,
        scope: &Scope,
        req: &InstanceBinding,
    ) -> Result<(Vec<KeyId>, Vec<InstanceId>)> {
        let max = scope.product.spec().max_association_ids;
        let keys = parse_ids(scope.product, "KeyIds", &req.key_ids, max, KeyId::parse)?;
        let instances = parse_ids(
            scope.product,
            "InstanceIds",
            &req.instance_ids,
            max,
            InstanceId::parse,
        )?;
        Ok((keys, instances))
    }

    fn record(
        &self,
        scope: &Scope,
        id: KeyId,
        name: KeyName,
        project: ProjectId,
        public_key: PublicKey,
        tags: Tags,
    ) -> KeyPair {
        KeyPair {
            id,
            account: scope.account.clone(),
            name,
            project,
            description: Description::default(),
            public_key,
            created_at: self.clock.now(),
            tags,
            associations: Vec::new(),
        }
    }

    /// Inserts the record `build` makes for a fresh id, replacing the id while the store
    /// reports a collision.
    async fn insert_with_fresh_id(
        &self,
        scope: &Scope,
        build: impl Fn(KeyId) -> Result<KeyPair>,
    ) -> Result<KeyPair> {
        for _ in 0..ID_ATTEMPTS {
            let key_pair = build(self.ids.next_id(scope.product))?;
            match self.store.insert(key_pair.clone(), self.quota).await {
                Ok(()) => return Ok(key_pair),
                Err(StoreError::DuplicateId) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::storage(format!(
            "no free key id after {ID_ATTEMPTS} attempts; the id generator is not random"
        )))
    }
}

/// `None` if the pair is not bound among `found`, else the username it was bound for.
fn bound_for<'a>(
    found: &'a [KeyPair],
    key: &KeyId,
    instance: &InstanceId,
) -> Option<Option<&'a str>> {
    let kp = found.iter().find(|kp| kp.id == *key)?;
    let binding = kp.associations.iter().find(|a| a.instance == *instance)?;
    Some(binding.username.as_deref())
}

/// What to do with a running instance, from CVM `ForceStop` or the Lighthouse type
/// parameter (`field`), checked here so both wire encodings share the rule.
fn running_instances(
    product: crate::Product,
    req: &InstanceBinding,
    field: &'static str,
) -> Result<RunningInstance> {
    if !product.spec().binding_type_parameter {
        return Ok(if req.force_stop == Some(true) {
            RunningInstance::Stop
        } else {
            RunningInstance::Refuse
        });
    }
    match req.binding_type.as_deref() {
        Some("OFFLINE") if req.username.is_some() => Err(Error::UsernameWithOffline { field }),
        None | Some("OFFLINE") => Ok(RunningInstance::Stop),
        Some("ONLINE") => Ok(RunningInstance::Online),
        Some(other) => Err(Error::BindingTypeInvalid {
            field,
            value: other.to_owned(),
        }),
    }
}

/// A Lighthouse login user: 1–32 of `[a-z0-9_-]`, starting with a letter or `_`.
pub(crate) fn validate_username(u: &str) -> Result<String> {
    let ok = (1..=32).contains(&u.len())
        && u.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(u.to_owned())
    } else {
        Err(Error::InvalidUsername(u.to_owned()))
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DuplicateName(n) => Error::DuplicateName(n.as_str().to_owned()),
            StoreError::DuplicateFingerprint(f) => Error::DuplicatePublicKey {
                fingerprint: f.as_str().to_owned(),
            },
            StoreError::QuotaExceeded { limit } => Error::QuotaExceeded { limit },
            StoreError::NotFound(ids) => Error::KeyPairNotFound(ids),
            StoreError::InUse { key, instances } => Error::KeyPairInUse { key, instances },
            StoreError::AlreadyAssociated { key, instance } => {
                Error::AlreadyAssociated { key, instance }
            }
            StoreError::NotAssociated { key, instance } => Error::NotAssociated { key, instance },
            StoreError::KeyPairBindingsExceeded { key, limit } => {
                Error::TooManyInstancesForKeyPair { key, limit }
            }
            StoreError::InstanceBindingsExceeded { instance, limit } => {
                Error::TooManyKeyPairsForInstance { instance, limit }
            }
            StoreError::UsernameMismatch { key, instance } => {
                Error::UnbindUsernameMismatch { key, instance }
            }
            e @ StoreError::LoadConflict { .. } => Error::storage(e),
            StoreError::DuplicateId => Error::storage("key id collision"),
            StoreError::Backend(e) => Error::Storage(e),
        }
    }
}
