//! Metrics in the Prometheus text format, served at `GET /metrics`: requests by action,
//! product and outcome code; request latency histograms; key pool depth, hits and misses;
//! store operation latencies (through [`MeteredStore`]).
//!
//! Labels only take values from fixed sets (known actions, the two products, the codes
//! this server emits), so a client cannot grow them without bound.

use async_trait::async_trait;
use keypair_core::{
    AccountId, Action, Association, Change, KeyId, KeyName, KeyPair, KeyPairStore, LoadReport,
    Page, PoolStats, Query, RepeatedBinding, Scope, StoreError, Unbind,
};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Histogram bucket bounds in seconds.
const BUCKETS: [f64; 15] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0,
];

#[derive(Clone, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (bound, c) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if s <= *bound {
                *c += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, c) in BUCKETS.iter().zip(self.counts.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {c}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

type PoolProbe = Box<dyn Fn() -> PoolStats + Send + Sync>;

#[derive(Default)]
struct Data {
    requests: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    latency: BTreeMap<(&'static str, &'static str), Histogram>,
    store: BTreeMap<&'static str, Histogram>,
    refusals: BTreeMap<&'static str, u64>,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    data: Mutex<Data>,
    pool: Option<PoolProbe>,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also reports a key pool's state, read at each scrape.
    pub fn with_pool(mut self, probe: impl Fn() -> PoolStats + Send + Sync + 'static) -> Self {
        self.pool = Some(Box::new(probe));
        self
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one API request.
    pub fn request(
        &self,
        action: Option<Action>,
        product: &'static str,
        code: &'static str,
        took: Duration,
    ) {
        let action = action.map_or("unknown", Action::name);
        let mut d = self.data();
        *d.requests.entry((action, product, code)).or_default() += 1;
        d.latency
            .entry((action, product))
            .or_default()
            .observe(took);
    }

    /// Records a request or connection refused by a transport limit (`reason` is one of
    /// a fixed set: `body_too_large`, `body_timeout`, `body_budget`, `body_incomplete`,
    /// `in_flight`, `per_address`).
    pub fn refusal(&self, reason: &'static str) {
        *self.data().refusals.entry(reason).or_default() += 1;
    }

    fn store_op(&self, op: &'static str, took: Duration) {
        self.data().store.entry(op).or_default().observe(took);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let d = self.data();
        let mut out = String::new();
        out.push_str(
            "# HELP keypair_requests_total API requests by action, product and outcome code.\n",
        );
        out.push_str("# TYPE keypair_requests_total counter\n");
        for ((action, product, code), n) in &d.requests {
            let _ = writeln!(
                out,
                "keypair_requests_total{{action=\"{action}\",product=\"{product}\",code=\"{code}\"}} {n}"
            );
        }
        out.push_str("# HELP keypair_request_duration_seconds API request latency.\n");
        out.push_str("# TYPE keypair_request_duration_seconds histogram\n");
        for ((action, product), h) in &d.latency {
            h.render(
                &mut out,
                "keypair_request_duration_seconds",
                &format!("action=\"{action}\",product=\"{product}\""),
            );
        }
        out.push_str("# HELP keypair_transport_refusals_total Requests and connections refused by a transport limit, by reason.\n");
        out.push_str("# TYPE keypair_transport_refusals_total counter\n");
        for (reason, n) in &d.refusals {
            let _ = writeln!(
                out,
                "keypair_transport_refusals_total{{reason=\"{reason}\"}} {n}"
            );
        }
        out.push_str("# HELP keypair_store_operation_duration_seconds Store operation latency.\n");
        out.push_str("# TYPE keypair_store_operation_duration_seconds histogram\n");
        for (op, h) in &d.store {
            h.render(
                &mut out,
                "keypair_store_operation_duration_seconds",
                &format!("op=\"{op}\""),
            );
        }
        drop(d);
        if let Some(probe) = &self.pool {
            let s = probe();
            let gauges = [
                (
                    "keypair_key_pool_depth",
                    "gauge",
                    "Pre-generated keys ready.",
                    s.depth as u64,
                ),
                (
                    "keypair_key_pool_capacity",
                    "gauge",
                    "Most keys the pool keeps.",
                    s.capacity as u64,
                ),
                (
                    "keypair_key_pool_hits_total",
                    "counter",
                    "Creates served from the pool.",
                    s.hits,
                ),
                (
                    "keypair_key_pool_misses_total",
                    "counter",
                    "Creates that found the reserve empty and waited for a generation.",
                    s.misses,
                ),
                (
                    "keypair_key_pool_waiting",
                    "gauge",
                    "Creates waiting for a key now.",
                    s.waiting as u64,
                ),
            ];
            for (name, kind, help, v) in gauges {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
                );
            }
        }
        out
    }
}

/// A store that records how long each operation takes.
pub struct MeteredStore {
    inner: Arc<dyn KeyPairStore>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn KeyPairStore>, metrics: Arc<Metrics>) -> Self {
        MeteredStore { inner, metrics }
    }

    async fn timed<T>(&self, op: &'static str, f: impl std::future::Future<Output = T>) -> T {
        let started = Instant::now();
        let out = f.await;
        self.metrics.store_op(op, started.elapsed());
        out
    }
}

#[async_trait]
impl KeyPairStore for MeteredStore {
    async fn insert(&self, kp: KeyPair, quota: u32) -> Result<(), StoreError> {
        self.timed("insert", self.inner.insert(kp, quota)).await
    }
    async fn check_new(&self, scope: &Scope, name: &KeyName, quota: u32) -> Result<(), StoreError> {
        self.timed("check_new", self.inner.check_new(scope, name, quota))
            .await
    }
    async fn get(&self, scope: &Scope, ids: &[KeyId]) -> Result<Vec<KeyPair>, StoreError> {
        self.timed("get", self.inner.get(scope, ids)).await
    }
    async fn query(&self, scope: &Scope, query: &Query) -> Result<Page, StoreError> {
        self.timed("query", self.inner.query(scope, query)).await
    }
    async fn update(&self, scope: &Scope, id: &KeyId, change: &Change) -> Result<(), StoreError> {
        self.timed("update", self.inner.update(scope, id, change))
            .await
    }
    async fn delete(&self, scope: &Scope, ids: &[KeyId]) -> Result<(), StoreError> {
        self.timed("delete", self.inner.delete(scope, ids)).await
    }
    async fn associate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        instances: &[Association],
        repeated: RepeatedBinding,
    ) -> Result<(), StoreError> {
        self.timed(
            "associate",
            self.inner.associate(scope, keys, instances, repeated),
        )
        .await
    }
    async fn scan(&self, after: Option<&KeyId>, limit: usize) -> Result<Vec<KeyPair>, StoreError> {
        self.timed("scan", self.inner.scan(after, limit)).await
    }
    async fn load(&self, batch: &[KeyPair]) -> Result<LoadReport, StoreError> {
        self.timed("load", self.inner.load(batch)).await
    }
    async fn count_all(&self) -> Result<u64, StoreError> {
        self.timed("count_all", self.inner.count_all()).await
    }
    async fn purge(&self, account: Option<&AccountId>) -> Result<u64, StoreError> {
        self.timed("purge", self.inner.purge(account)).await
    }
    async fn ready(&self) -> Result<(), StoreError> {
        self.timed("ready", self.inner.ready()).await
    }
    async fn disassociate(
        &self,
        scope: &Scope,
        keys: &[KeyId],
        unbind: &Unbind<'_>,
    ) -> Result<(), StoreError> {
        self.timed("disassociate", self.inner.disassociate(scope, keys, unbind))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_the_pool() {
        let m = Metrics::new().with_pool(|| PoolStats {
            depth: 3,
            capacity: 64,
            hits: 10,
            misses: 2,
            waiting: 1,
        });
        m.request(Some(Action::Create), "cvm", "OK", Duration::from_millis(2));
        m.request(
            Some(Action::Create),
            "cvm",
            "OK",
            Duration::from_millis(200),
        );
        m.request(None, "-", "InvalidAction", Duration::from_micros(100));
        m.store_op("insert", Duration::from_micros(400));
        let text = m.render();
        assert!(
            text.contains(
                "keypair_requests_total{action=\"CreateKeyPair\",product=\"cvm\",code=\"OK\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains(
            "keypair_requests_total{action=\"unknown\",product=\"-\",code=\"InvalidAction\"} 1"
        ));
        assert!(text.contains("keypair_request_duration_seconds_bucket{action=\"CreateKeyPair\",product=\"cvm\",le=\"0.0025\"} 1"));
        assert!(text.contains("keypair_request_duration_seconds_bucket{action=\"CreateKeyPair\",product=\"cvm\",le=\"+Inf\"} 2"));
        assert!(text.contains("keypair_store_operation_duration_seconds_count{op=\"insert\"} 1"));
        assert!(text.contains("keypair_key_pool_depth 3"));
        assert!(text.contains("keypair_key_pool_misses_total 2"));
    }
}
