//! The async boundary of key generation: [`KeyPool`] owns the threads that call the
//! synchronous [`KeyGenerator`] port, keeps an optional reserve of ready keys, and hands
//! keys to async callers over a runtime-agnostic one-shot channel. No tokio, no
//! `block_on`: a caller's task only ever waits on a channel, so the caller's executor
//! (tokio multi- or current-thread, smol, `futures`' executors) is never blocked.
//!
//! - Each key is handed out at most once (it is moved out of the reserve or sent to
//!   exactly one waiter). A key taken but never shown to anyone (its create was refused
//!   by the store) may be given back with [`KeyPool::give_back`].
//! - Private keys live only in memory ([`PrivateKeyPem`](crate::PrivateKeyPem) zeroes its
//!   buffer when dropped) and are never written anywhere. At most
//!   `capacity + workers` unissued private keys exist at once: the reserve plus one in
//!   the hands of each worker.
//! - `workers` threads generate; that is also the most generations at once, so key
//!   generation never takes more than `workers` cores from the host. Waiting callers come
//!   before refilling the reserve.
//! - Fairness: callers wait in one queue per *tenant* (an account within a product) and
//!   are served round-robin across tenants. One tenant with many creates waiting gets
//!   one key in turn with every other waiting tenant, never the whole generation
//!   capacity, and keys in the reserve go to waiters before anyone else.
//! - The number of waiting callers is bounded by the caller's own concurrency (the HTTP
//!   adapter caps requests in flight); each waiter costs one queue entry.

use crate::{Error, GeneratedKey, KeyGenerator, Result, Scope};
use futures_channel::oneshot;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long a worker rests after its generator failed during a refill, so a broken
/// generator does not spin a core. Callers still get the generator's error directly.
const FAILED_REFILL_PAUSE: Duration = Duration::from_millis(100);

/// Counters for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Keys ready now.
    pub depth: usize,
    /// The most keys kept ready.
    pub capacity: usize,
    /// Keys served from the reserve.
    pub hits: u64,
    /// Callers that found the reserve empty and waited for a generation.
    pub misses: u64,
    /// Callers waiting now.
    pub waiting: usize,
}

type Reply = oneshot::Sender<Result<GeneratedKey>>;

/// Waiting callers, one FIFO per tenant, served round-robin across tenants.
#[derive(Default)]
struct FairQueue {
    queues: HashMap<Scope, VecDeque<Reply>>,
    /// Tenants with at least one waiter, in turn order.
    turn: VecDeque<Scope>,
    len: usize,
}

impl FairQueue {
    fn push(&mut self, tenant: &Scope, reply: Reply) {
        let queue = self.queues.entry(tenant.clone()).or_default();
        if queue.is_empty() {
            self.turn.push_back(tenant.clone());
        }
        queue.push_back(reply);
        self.len += 1;
    }

    /// The next waiter whose caller is still there, in round-robin order.
    fn pop(&mut self) -> Option<Reply> {
        while let Some(tenant) = self.turn.pop_front() {
            let queue = self.queues.get_mut(&tenant)?;
            let reply = queue.pop_front();
            if queue.is_empty() {
                self.queues.remove(&tenant);
            } else {
                self.turn.push_back(tenant);
            }
            if let Some(reply) = reply {
                self.len -= 1;
                if !reply.is_canceled() {
                    return Some(reply);
                }
            }
        }
        None
    }
}

#[derive(Default)]
struct State {
    reserve: VecDeque<GeneratedKey>,
    waiting: FairQueue,
    /// Refill generations under way (their keys are not in `reserve` yet).
    refilling: usize,
    stopped: bool,
}

impl State {
    /// Gives an unissued key to the next waiter, else keeps it if the reserve has room,
    /// else drops (and so wipes) it.
    fn deliver(&mut self, mut key: GeneratedKey, capacity: usize) {
        while let Some(reply) = self.waiting.pop() {
            match reply.send(Ok(key)) {
                Ok(()) => return,
                // The caller went away between the check and the send; try the next.
                Err(Ok(back)) => key = back,
                Err(Err(_)) => return,
            }
        }
        if !self.stopped && self.reserve.len() < capacity {
            self.reserve.push_back(key);
        }
    }
}

struct Shared {
    inner: Arc<dyn KeyGenerator>,
    capacity: usize,
    state: Mutex<State>,
    changed: Condvar,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|p| p.into_inner())
    }
}

/// What a worker does next.
enum Job {
    Serve(Reply),
    Refill,
}

/// Key generation on threads the pool owns, with an optional reserve of ready keys.
///
/// Dropping the pool stops its threads (each finishes the key it is making, then exits
/// without waiting to be joined, so a drop never blocks the caller) and wipes the keys
/// it holds; callers still waiting get an error.
pub struct KeyPool {
    shared: Arc<Shared>,
    workers: usize,
    /// Threads started so far; they start with the first `take` (or at once when there
    /// is a reserve to fill), and a start that failed is retried by the next `take`.
    started: Mutex<usize>,
}

/// One generation thread per core less one, at least one.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

impl KeyPool {
    /// Generation on `workers` threads (at least one) with a reserve of up to `capacity`
    /// ready keys. `capacity` 0 keeps no reserve: every key is generated when asked for,
    /// still on the pool's threads, which then start with the first request. With a
    /// reserve, the threads start now and begin filling it.
    pub fn new(inner: Arc<dyn KeyGenerator>, capacity: usize, workers: usize) -> Self {
        let pool = KeyPool {
            shared: Arc::new(Shared {
                inner,
                capacity,
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
            workers: workers.max(1),
            started: Mutex::new(0),
        };
        if capacity > 0 {
            // A failure here is retried, and reported, by the first `take`.
            let _ = pool.start_workers();
        }
        pool
    }

    /// Starts the threads not started yet. Fails only if none runs at all.
    fn start_workers(&self) -> Result<()> {
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        while *started < self.workers {
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("keypair-keygen-{started}"))
                .spawn(move || work(&shared));
            match spawned {
                Ok(_detached) => *started += 1,
                Err(e) if *started == 0 => return Err(Error::key_generation(e)),
                // Run with the threads there are; the next call tries again.
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// A new key for a caller of `tenant`: from the reserve if one is ready, else the
    /// next generation in the tenant's turn. Never blocks the calling thread.
    pub async fn take(&self, tenant: &Scope) -> Result<GeneratedKey> {
        self.start_workers()?;
        let rx = {
            let mut state = self.shared.lock();
            if state.stopped {
                return Err(stopped());
            }
            if let Some(key) = state.reserve.pop_front() {
                drop(state);
                self.shared.hits.fetch_add(1, Ordering::Relaxed);
                // A worker may refill the slot just freed.
                self.shared.changed.notify_one();
                return Ok(key);
            }
            let (tx, rx) = oneshot::channel();
            state.waiting.push(tenant, tx);
            rx
        };
        self.shared.misses.fetch_add(1, Ordering::Relaxed);
        self.shared.changed.notify_one();
        rx.await.map_err(|_| stopped())?
    }

    /// Returns a key that was taken but never shown to anyone (its create was refused),
    /// so it serves the next caller instead of being wasted. Never give back a key whose
    /// private half has left the process.
    pub fn give_back(&self, key: GeneratedKey) {
        self.shared.lock().deliver(key, self.shared.capacity);
    }

    /// Depth, capacity, hits, misses and waiters.
    pub fn stats(&self) -> PoolStats {
        let state = self.shared.lock();
        PoolStats {
            depth: state.reserve.len(),
            capacity: self.shared.capacity,
            hits: self.shared.hits.load(Ordering::Relaxed),
            misses: self.shared.misses.load(Ordering::Relaxed),
            waiting: state.waiting.len,
        }
    }

    /// The most unissued private keys this pool can hold in memory at once.
    pub fn max_unissued_keys(&self) -> usize {
        self.shared.capacity + self.workers
    }

    /// The number of generation threads.
    pub fn workers(&self) -> usize {
        self.workers
    }
}

fn stopped() -> Error {
    Error::key_generation("the key pool has been shut down")
}

/// A worker: serve waiters first, then refill the reserve, else sleep.
fn work(shared: &Shared) {
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if state.stopped {
                    return;
                }
                if let Some(reply) = state.waiting.pop() {
                    break Job::Serve(reply);
                }
                if state.reserve.len() + state.refilling < shared.capacity {
                    state.refilling += 1;
                    break Job::Refill;
                }
                state = shared.wait(state);
            }
        };
        // The CPU work, on this thread the pool owns, outside the lock.
        let key = shared.inner.generate();
        match job {
            Job::Serve(reply) => {
                if let Err(Ok(unissued)) = reply.send(key) {
                    // The caller went away while its key was made; keep the key.
                    shared.lock().deliver(unissued, shared.capacity);
                }
            }
            Job::Refill => {
                let failed = key.is_err();
                {
                    let mut state = shared.lock();
                    state.refilling -= 1;
                    if let Ok(key) = key {
                        state.deliver(key, shared.capacity);
                    }
                }
                if failed {
                    std::thread::sleep(FAILED_REFILL_PAUSE);
                }
            }
        }
    }
}

fn stop(shared: &Shared) {
    let (reserve, waiting) = {
        let mut state = shared.lock();
        state.stopped = true;
        (
            std::mem::take(&mut state.reserve),
            std::mem::take(&mut state.waiting),
        )
    };
    shared.changed.notify_all();
    // Wipe the unissued keys now rather than when the last thread lets go; dropping the
    // waiters' senders wakes their callers with an error.
    drop(reserve);
    drop(waiting);
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        stop(&self.shared);
    }
}
