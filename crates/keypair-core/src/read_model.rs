//! A read model of the store port, beside the trait it wraps (as [`crate::MeteredStore`]
//! is): each scope's key pairs held in memory in describe order, loaded from the store on
//! first read and kept current by the writes that pass through it, so `query` and `get`
//! of a held scope are answered without the backend.
//!
//! **Only correct when every write reaches the backend through this one model**: an
//! in-memory store, or a file one process owns (the SQLite store's owner lock, which a
//! second server on the same file is refused by). A backend other processes write (a
//! PostgreSQL several servers share) must not be wrapped: this model cannot see their
//! writes.
//!
//! Coherence, per scope:
//! - A write changes the held view before it returns: an insert, a modify or a delete is
//!   applied to it; an associate, a disassociate, a load or a purge drops it (their
//!   effects reach other key pairs), and the next read loads it again.
//! - Two writes of one scope at once may commit in either order, so when they overlap the
//!   view is dropped rather than patched.
//! - A load installs its view only if no write of the scope ran while it read, so a
//!   view never misses a write that finished before it was installed.
//!
//! Bounds: the views hold at most `capacity` key pairs in all (about 1 KiB each). Past it
//! the least recently read scopes are dropped; a scope larger than `capacity` is never
//! held and is read from the store every time.

use crate::{
    AccountId, Association, Change, KeyId, KeyName, KeyPair, KeyPairStore, LoadReport, Page, Query,
    RepeatedBinding, Scope, StoreError, Unbind,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A scope's key pairs in describe order.
type View = Arc<Vec<Arc<KeyPair>>>;

/// What the model knows of one scope.
#[derive(Default)]
struct Slot {
    view: Option<View>,
    /// Writes of this scope not yet returned.
    writes_in_flight: u32,
    /// A write started while another was in flight: the view cannot be patched in
    /// commit order, so it is dropped when they are done.
    overlapped: bool,
    /// Writes of this scope finished so far: a load that sees it change discards what it
    /// read.
    writes_done: u64,
    /// A load of this scope is under way.
    loading: bool,
    /// Reads waiting for that load (woken by dropping these): at most one per read in
    /// flight, which the server bounds.
    waiters: Vec<futures_channel::oneshot::Sender<()>>,
    /// The scope held more than the model's capacity when last loaded; cleared by a write.
    oversized: bool,
    /// When the view was last read, for eviction.
    used: u64,
}

impl Slot {
    /// Whether the slot carries nothing worth keeping.
    fn idle(&self) -> bool {
        self.view.is_none() && self.writes_in_flight == 0 && !self.loading && !self.oversized
    }
}

#[derive(Default)]
struct State {
    slots: HashMap<Scope, Slot>,
    /// Key pairs in all views.
    held: usize,
    /// Read counter, for least-recently-used eviction.
    tick: u64,
}

impl State {
    fn drop_view(&mut self, scope: &Scope) {
        if let Some(view) = self.slots.get_mut(scope).and_then(|s| s.view.take()) {
            self.held -= view.len();
        }
    }

    /// Drops the least recently read views until at most `capacity` is held (no more:
    /// under reads spread evenly over more scopes than fit, every view dropped is a
    /// load soon after).
    fn evict(&mut self, capacity: usize) {
        if self.held <= capacity {
            return;
        }
        let mut held: Vec<(u64, Scope)> = self
            .slots
            .iter()
            .filter(|(_, s)| s.view.is_some())
            .map(|(scope, s)| (s.used, scope.clone()))
            .collect();
        held.sort_unstable_by_key(|(used, _)| *used);
        for (_, scope) in held {
            if self.held <= capacity {
                break;
            }
            self.drop_view(&scope);
            if self.slots.get(&scope).is_some_and(Slot::idle) {
                self.slots.remove(&scope);
            }
        }
    }
}

/// Marks the end of a scope's load when dropped: wakes its waiters and forgets a slot
/// left with nothing in it.
struct LoadGuard<'a> {
    model: &'a ReadModel,
    scope: &'a Scope,
}

impl Drop for LoadGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.model.lock();
        if let Some(slot) = state.slots.get_mut(self.scope) {
            slot.loading = false;
            slot.waiters.clear();
            if slot.idle() {
                state.slots.remove(self.scope);
            }
        }
    }
}

/// What a read does next.
enum Step {
    /// Answer from this view.
    View(View),
    /// Load the scope (the count of its writes done so far).
    Load(u64),
    /// Wait for the load under way, then answer from its view or the store.
    Wait(futures_channel::oneshot::Receiver<()>),
    /// Ask the store.
    Store,
}

/// How a finished write changes the views of the scopes it touched.
enum Effect {
    /// Add this key pair.
    Insert(Arc<KeyPair>),
    /// Rename or re-describe this key pair.
    Update(KeyId, Change),
    /// Remove these key pairs.
    Delete(Vec<KeyId>),
    /// Drop the view: the write's effects reach beyond what it names.
    Reload,
    /// Nothing changed (the store refused the write).
    Nothing,
}

/// The read model over a store: see the module documentation for when it is correct.
pub struct ReadModel {
    inner: Arc<dyn KeyPairStore>,
    capacity: usize,
    state: Mutex<State>,
}

impl ReadModel {
    /// Wraps `inner`, holding at most `capacity` key pairs. The caller promises that
    /// every write to `inner`'s backend goes through the returned model.
    pub fn new(inner: Arc<dyn KeyPairStore>, capacity: usize) -> Self {
        ReadModel {
            inner,
            capacity,
            state: Mutex::new(State::default()),
        }
    }

    /// Key pairs held in views now.
    pub fn held(&self) -> usize {
        self.lock().held
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing here panics while holding the lock; if something did, the state is
        // still a set of whole views, so carry on with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What a read of the scope does next.
    fn next_step(&self, scope: &Scope, may_load: bool) -> Step {
        let mut state = self.lock();
        state.tick += 1;
        let tick = state.tick;
        let slot = state.slots.entry(scope.clone()).or_default();
        if let Some(view) = &slot.view {
            slot.used = tick;
            return Step::View(view.clone());
        }
        if slot.loading && may_load {
            let (tx, rx) = futures_channel::oneshot::channel();
            slot.waiters.push(tx);
            return Step::Wait(rx);
        }
        if !may_load || slot.loading || slot.oversized || slot.writes_in_flight > 0 {
            if slot.idle() {
                state.slots.remove(scope);
            }
            return Step::Store;
        }
        slot.loading = true;
        Step::Load(slot.writes_done)
    }

    /// Loads the scope and installs its view if no write of the scope ran meanwhile.
    async fn load_view(&self, scope: &Scope, writes_done: u64) -> Option<View> {
        // Ends the load however this future ends, dropped midway included: otherwise
        // the scope would stay "loading" and its waiters would wait for ever.
        let _loading = LoadGuard { model: self, scope };
        let read = self.inner.scope_all(scope, self.capacity).await;
        let mut state = self.lock();
        let tick = state.tick;
        let slot = state.slots.entry(scope.clone()).or_default();
        let unchanged = slot.writes_done == writes_done && slot.writes_in_flight == 0;
        let view: View = match read {
            Ok(Some(items)) if unchanged => Arc::new(items.into_iter().map(Arc::new).collect()),
            Ok(None) => {
                slot.oversized = unchanged;
                return None;
            }
            _ => return None,
        };
        slot.view = Some(view.clone());
        slot.used = tick;
        state.held += view.len();
        state.evict(self.capacity);
        Some(view)
    }

    /// The scope's view, loading it (or waiting for the load under way) if need be;
    /// `None` when the store must answer.
    async fn view(&self, scope: &Scope) -> Option<View> {
        match self.next_step(scope, true) {
            Step::View(view) => Some(view),
            Step::Load(writes_done) => self.load_view(scope, writes_done).await,
            Step::Wait(loaded) => {
                let _ = loaded.await;
                match self.next_step(scope, false) {
                    Step::View(view) => Some(view),
                    _ => None,
                }
            }
            Step::Store => None,
        }
    }

    /// Runs a write of `scopes` (all scopes when `None`) and applies its effect.
    async fn write<T>(
        &self,
        scopes: Option<Vec<Scope>>,
        effect: Effect,
        write: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let Some(scopes) = scopes else {
            // A write of every scope (a purge of all): drop everything, and let loads
            // under way see a change.
            let out = write.await;
            let mut state = self.lock();
            state.held = 0;
            for slot in state.slots.values_mut() {
                slot.view = None;
                slot.writes_done += 1;
                slot.overlapped = slot.writes_in_flight > 0;
            }
            state.slots.retain(|_, s| !s.idle());
            return out;
        };
        self.begin(&scopes);
        let out = write.await;
        // A refusal changed nothing; any other error may hide a write that happened.
        let effect = match &out {
            Ok(_) => effect,
            Err(StoreError::Backend(_)) => Effect::Reload,
            Err(_) => Effect::Nothing,
        };
        self.end(&scopes, &effect);
        out
    }

    fn begin(&self, scopes: &[Scope]) {
        let mut state = self.lock();
        for scope in scopes {
            let slot = state.slots.entry(scope.clone()).or_default();
            slot.overlapped |= slot.writes_in_flight > 0;
            slot.writes_in_flight += 1;
        }
    }

    fn end(&self, scopes: &[Scope], effect: &Effect) {
        let mut state = self.lock();
        for scope in scopes {
            let Some(slot) = state.slots.get_mut(scope) else {
                continue;
            };
            slot.writes_in_flight -= 1;
            slot.writes_done += 1;
            slot.oversized = false;
            let patch = !slot.overlapped && !matches!(effect, Effect::Reload);
            if slot.writes_in_flight == 0 {
                slot.overlapped = false;
            }
            match slot.view.as_mut() {
                Some(view) if patch => {
                    let before = view.len();
                    apply(Arc::make_mut(view), effect);
                    let after = view.len();
                    state.held = state.held + after - before;
                }
                _ => state.drop_view(scope),
            }
            if state.slots.get(scope).is_some_and(Slot::idle) {
                state.slots.remove(scope);
            }
        }
        state.evict(self.capacity);
    }
}

/// Applies a write's effect to a view in describe order.
fn apply(view: &mut Vec<Arc<KeyPair>>, effect: &Effect) {
    match effect {
        Effect::Insert(kp) => {
            let at = view.partition_point(|x| crate::describe_order(x, kp).is_lt());
            view.insert(at, kp.clone());
        }
        Effect::Update(id, change) => {
            if let Some(item) = view.iter_mut().find(|x| &x.id == id) {
                let kp = Arc::make_mut(item);
                if let Some(name) = &change.name {
                    kp.name = name.clone();
                }
                if let Some(description) = &change.description {
                    kp.description = description.clone();
                }
            }
        }
        Effect::Delete(ids) => view.retain(|x| !ids.contains(&x.id)),
        Effect::Reload | Effect::Nothing => {}
    }
}

#[async_trait]
impl KeyPairStore for ReadModel {
    async fn insert(&self, kp: KeyPair, quota: u32) -> Result<(), StoreError> {
        let scope = kp.scope();
        let effect = Effect::Insert(Arc::new(kp.clone()));
        self.write(Some(vec![scope]), effect, self.inner.insert(kp, quota))
            .await
    }
    async fn check_new(&self, scope: &Scope, name: &KeyName, quota: u32) -> Result<(), StoreError> {
        self.inner.check_new(scope, name, quota).await
    }
    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError> {
        match self.view(scope).await {
            Some(view) => Ok(view
                .iter()
                .filter(|kp| ids.contains(&kp.id))
                .map(|kp| KeyPair::clone(kp))
                .collect()),
            None => self.inner.get(scope, ids).await,
        }
    }
    async fn scope_all(
        &self,
        scope: &Scope,
        limit: usize,
    ) -> Result<Option<Vec<KeyPair>>, StoreError> {
        self.inner.scope_all(scope, limit).await
    }
    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError> {
        match self.view(scope).await {
            Some(view) => Ok(crate::page_in_order(
                query,
                view.iter().map(|kp| &**kp),
                view.len(),
            )),
            None => self.inner.query(scope, query).await,
        }
    }
    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError> {
        let effect = Effect::Update(id.clone(), change.clone());
        let write = self.inner.update(scope, id, change);
        self.write(Some(vec![scope.clone()]), effect, write).await
    }
    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
        let effect = Effect::Delete(ids.to_vec());
        let write = self.inner.delete(scope, ids);
        self.write(Some(vec![scope.clone()]), effect, write).await
    }
    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError> {
        let write = self.inner.associate(scope, keys, instances, repeated);
        self.write(Some(vec![scope.clone()]), Effect::Reload, write)
            .await
    }
    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError> {
        let write = self.inner.disassociate(scope, keys, unbind);
        self.write(Some(vec![scope.clone()]), Effect::Reload, write)
            .await
    }
    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError> {
        self.inner.scan(after, limit).await
    }
    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let scopes: Vec<Scope> = batch
            .iter()
            .map(KeyPair::scope)
            .filter(|s| seen.insert(s.clone()))
            .collect();
        self.write(Some(scopes), Effect::Reload, self.inner.load(batch))
            .await
    }
    async fn count_all(&self) -> Result<u64, StoreError> {
        self.inner.count_all().await
    }
    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError> {
        let scopes = account.map(|a| {
            crate::Product::ALL
                .into_iter()
                .map(|p| Scope::new(a.clone(), p))
                .collect()
        });
        self.write(scopes, Effect::Reload, self.inner.purge(account))
            .await
    }
    async fn ready(&self) -> Result<(), StoreError> {
        self.inner.ready().await
    }
}
