//! A key pool: a `KeyGenerator` that keeps up to N pre-generated key pairs in memory so a
//! create answers in microseconds, refilled by a fixed set of background threads.
//!
//! - Each key is handed out at most once (it is moved out of the queue).
//! - Private keys live only in memory ([`PrivateKeyPem`](crate::PrivateKeyPem) zeroes its
//!   buffer when dropped, so the queue's keys are wiped when the pool goes) and are never
//!   written anywhere. At most `capacity + workers` unissued private keys exist at once:
//!   the queue plus one in the hands of each refill thread.
//! - When the pool is empty a request generates its own key on its (blocking) thread.
//! - Refills and those misses share one budget of `workers` concurrent generations, so
//!   key generation never takes more than `workers` cores from request handling. The
//!   sustained rate is therefore the generation rate of `workers` threads; the pool buys
//!   latency for bursts of up to `capacity` creates, not throughput.

use crate::{GeneratedKey, KeyGenerator, Result};
use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Counters for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Keys ready now.
    pub depth: usize,
    /// The most keys kept.
    pub capacity: usize,
    /// Creates served from the pool.
    pub hits: u64,
    /// Creates that found it empty and generated their own key.
    pub misses: u64,
}

#[derive(Default)]
struct State {
    keys: VecDeque<GeneratedKey>,
    /// Refill generations under way (their keys are not in `keys` yet).
    refilling: usize,
    /// Generations under way of either kind, bounded by `workers`.
    generating: usize,
    stopped: bool,
}

struct Shared {
    inner: Arc<dyn KeyGenerator>,
    capacity: usize,
    workers: usize,
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

/// The pool. Dropping it stops the refill threads and wipes the keys it holds.
pub struct KeyPool {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// One refill thread per core less one, at least one.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

impl KeyPool {
    /// A pool of up to `capacity` keys from `inner`, refilled by `workers` threads (at
    /// least one). `capacity` 0 makes a pass-through that still bounds concurrent
    /// generations to `workers`.
    pub fn new(inner: Arc<dyn KeyGenerator>, capacity: usize, workers: usize) -> Self {
        let workers = workers.max(1);
        let shared = Arc::new(Shared {
            inner,
            capacity,
            workers,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let threads = if capacity == 0 {
            Vec::new()
        } else {
            (0..workers)
                .map(|i| {
                    let shared = shared.clone();
                    std::thread::Builder::new()
                        .name(format!("keypool-{i}"))
                        .spawn(move || refill(&shared))
                        .expect("spawning a key pool thread")
                })
                .collect()
        };
        KeyPool { shared, threads }
    }

    /// Depth, capacity, hits and misses.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            depth: self.shared.lock().keys.len(),
            capacity: self.shared.capacity,
            hits: self.shared.hits.load(Ordering::Relaxed),
            misses: self.shared.misses.load(Ordering::Relaxed),
        }
    }

    /// The most unissued private keys this pool can hold in memory at once.
    pub fn max_unissued_keys(&self) -> usize {
        self.shared.capacity + self.threads.len()
    }
}

/// A refill thread: while the pool has room and the generation budget allows, make a key.
fn refill(shared: &Shared) {
    loop {
        let mut state = shared.lock();
        while !state.stopped
            && (state.keys.len() + state.refilling >= shared.capacity
                || state.generating >= shared.workers)
        {
            state = shared.wait(state);
        }
        if state.stopped {
            return;
        }
        state.refilling += 1;
        state.generating += 1;
        drop(state);
        let key = block_on(shared.inner.generate());
        let failed = key.is_err();
        let mut state = shared.lock();
        state.refilling -= 1;
        state.generating -= 1;
        if let Ok(key) = key {
            if !state.stopped {
                state.keys.push_back(key);
            }
            // Stopped: the key is dropped, and wiped, here.
        }
        drop(state);
        shared.changed.notify_all();
        if failed {
            // A failing generator would otherwise spin; requests still get its error
            // directly when they miss.
            std::thread::park_timeout(std::time::Duration::from_millis(100));
        }
    }
}

/// Polls a future to completion on this thread. Generators do their work synchronously
/// inside `generate`, so this never waits on I/O.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

#[async_trait]
impl KeyGenerator for KeyPool {
    /// A pooled key if one is ready, else one generated on this thread once the
    /// generation budget allows. Callers on an async runtime call this where blocking is
    /// allowed, as with any generator.
    async fn generate(&self) -> Result<GeneratedKey> {
        if let Some(key) = self.take_or_reserve() {
            return Ok(key);
        }
        let shared = &self.shared;
        shared.misses.fetch_add(1, Ordering::Relaxed);
        let key = shared.inner.generate().await;
        shared.lock().generating -= 1;
        shared.changed.notify_all();
        key
    }
}

impl KeyPool {
    /// A ready key, or `None` after reserving a generation slot for the caller.
    fn take_or_reserve(&self) -> Option<GeneratedKey> {
        let shared = &self.shared;
        let mut state = shared.lock();
        loop {
            if let Some(key) = state.keys.pop_front() {
                drop(state);
                shared.hits.fetch_add(1, Ordering::Relaxed);
                shared.changed.notify_all();
                return Some(key);
            }
            if state.generating < shared.workers {
                state.generating += 1;
                return None;
            }
            // Every generation slot is busy; one of them ends soon, either with a key in
            // the queue or a free slot.
            state = shared.wait(state);
        }
    }
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        let keys = {
            let mut state = self.shared.lock();
            state.stopped = true;
            std::mem::take(&mut state.keys)
        };
        self.shared.changed.notify_all();
        // Wipe the unissued keys now rather than when the last thread lets go.
        drop(keys);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
