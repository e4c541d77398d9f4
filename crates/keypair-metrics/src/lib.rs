//! A key-pair server's metrics in the Prometheus text format (`keypair-http` serves them
//! at `GET /metrics`): requests by action,
//! product and outcome code; request latency histograms; transport refusals; key pool
//! depth, hits and misses; store operation latencies (as the [`StoreObserver`] of a
//! `keypair_core::MeteredStore`); the
//! process's CPU, memory and file descriptors (`process_*`); and `keypair_build_info`.
//!
//! Recorded through the `metrics` crate into a `metrics-exporter-prometheus` recorder
//! that this value owns (no global recorder, so several servers in one process, as in
//! the tests, keep their own figures). Counters and histogram buckets are atomics behind
//! a sharded registry: no request takes a lock that every other request needs.
//!
//! Labels only take values from fixed sets (known actions, the two products, the codes
//! this server emits), so a client cannot grow them without bound.

use keypair_core::{Action, PoolStats, Product, StoreObserver, STORE_OPERATIONS};
use metrics::{
    Counter, Histogram, Key, KeyName as MetricName, Label, Level, Metadata, Recorder, SharedString,
    Unit,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Histogram bucket bounds in seconds.
const BUCKETS: [f64; 15] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0,
];

const REQUESTS: &str = "keypair_requests_total";
const REQUEST_SECONDS: &str = "keypair_request_duration_seconds";
const REFUSALS: &str = "keypair_transport_refusals_total";
const FAULTS: &str = "keypair_injected_faults_total";
const STORE_SECONDS: &str = "keypair_store_operation_duration_seconds";
const BUILD_INFO: &str = "keypair_build_info";

/// Where these calls come from, for the recorder (which ignores it).
static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

type PoolProbe = Box<dyn Fn() -> PoolStats + Send + Sync>;

/// The server's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    process: metrics_process::Collector,
    pool: Option<PoolProbe>,
    /// Which `Metrics` this is, for the per-thread counter handles ([`COUNTERS`]).
    id: u64,
    /// Request latency handles by [`series`] index, registered on first use (so a
    /// series appears once it has data).
    latency: Vec<OnceLock<Histogram>>,
    /// Store operation latency handles by operation name, registered on first use.
    store: HashMap<&'static str, OnceLock<Histogram>>,
    /// Counter handles of successful requests by [`series`] index, registered on first
    /// use; other codes go through the per-thread cache ([`COUNTERS`]).
    ok: Vec<OnceLock<Counter>>,
}

/// Every this many latency samples, the recorder's upkeep folds the samples waiting in
/// its histograms into their buckets. The exporter keeps each sample until then (its
/// docs ask for `run_upkeep` at a regular interval when, as here, no exporter task runs),
/// so without this a server nobody scrapes would hold every sample it ever took. With
/// it, at most this many (8 bytes each) per recording thread wait at once.
const UPKEEP_EVERY: u64 = 4096;

/// The labels of request series: every action and `unknown`, both products and `-`.
const ACTIONS: usize = Action::ALL.len() + 1;
const PRODUCTS: usize = 3;

/// The index of an (action, product) request series.
fn series(action: Option<Action>, product: &str) -> usize {
    let a = action
        .and_then(|a| Action::ALL.iter().position(|x| *x == a))
        .unwrap_or(ACTIONS - 1);
    let p = Product::ALL
        .iter()
        .position(|x| x.as_str() == product)
        .unwrap_or(PRODUCTS - 1);
    a * PRODUCTS + p
}

/// The labels of series `i`.
fn series_labels(i: usize) -> (&'static str, &'static str) {
    let action = Action::ALL
        .get(i / PRODUCTS)
        .map_or("unknown", |a| a.name());
    let product = Product::ALL.get(i % PRODUCTS).map_or("-", |p| p.as_str());
    (action, product)
}

/// Numbers the `Metrics` values of this process.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Counter handles this thread has used, by (`Metrics` id, series, code): a request
    /// counts with one atomic increment and no lock shared with other threads. Bounded
    /// by the `Metrics` values × series × the fixed set of codes.
    static COUNTERS: RefCell<HashMap<(u64, usize, &'static str), Counter>> =
        RefCell::new(HashMap::new());
    /// Latency samples this thread recorded, for [`UPKEEP_EVERY`].
    static SAMPLES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics (but the build info and, at each scrape, the process).
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), &BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            // Only fails for an empty bucket list, which BUCKETS is not.
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let process = metrics_process::Collector::default();
        metrics::with_local_recorder(&recorder, || process.describe());
        let latency = (0..ACTIONS * PRODUCTS).map(|_| OnceLock::new()).collect();
        let store = STORE_OPERATIONS
            .into_iter()
            .map(|op| (op, OnceLock::new()))
            .collect();
        let metrics = Metrics {
            recorder,
            handle,
            process,
            pool: None,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            latency,
            store,
            ok: (0..ACTIONS * PRODUCTS).map(|_| OnceLock::new()).collect(),
        };
        metrics.describe();
        let version = Label::new("version", env!("CARGO_PKG_VERSION"));
        let info = Key::from_parts(BUILD_INFO, vec![version]);
        metrics.recorder.register_gauge(&info, &METADATA).set(1.0);
        metrics
    }

    fn describe(&self) {
        let help = [
            (
                REQUESTS,
                "API requests by action, product and outcome code.",
            ),
            (
                REFUSALS,
                "Requests and connections refused by a transport limit, by reason.",
            ),
            (
                FAULTS,
                "Faults a test suite injected, by effect (error, delay, drop) and point (before, after the call).",
            ),
            (
                BUILD_INFO,
                "The keypair version serving, as a label; always 1.",
            ),
        ];
        for (name, text) in help {
            self.recorder
                .describe_counter(MetricName::from(name), None, SharedString::from(text));
        }
        for (name, text) in [
            (REQUEST_SECONDS, "API request latency."),
            (STORE_SECONDS, "Store operation latency."),
        ] {
            let unit = Some(Unit::Seconds);
            self.recorder.describe_histogram(
                MetricName::from(name),
                unit,
                SharedString::from(text),
            );
        }
    }

    /// Also reports a key pool's state, read at each scrape.
    pub fn with_pool(mut self, probe: impl Fn() -> PoolStats + Send + Sync + 'static) -> Self {
        self.pool = Some(Box::new(probe));
        self
    }

    /// Records one API request.
    pub fn request(
        &self,
        action: Option<Action>,
        product: &'static str,
        code: &'static str,
        took: Duration,
    ) {
        let i = series(action, product);
        self.latency[i]
            .get_or_init(|| self.request_histogram(i))
            .record(took.as_secs_f64());
        self.sampled();
        if code == "OK" {
            // The common answer: a handle per series, like the histograms.
            return self.ok[i]
                .get_or_init(|| self.request_counter(i, code))
                .increment(1);
        }
        COUNTERS.with_borrow_mut(|counters| {
            counters
                .entry((self.id, i, code))
                .or_insert_with(|| self.request_counter(i, code))
                .increment(1);
        });
    }

    /// The latency histogram of series `i`, from the registry (once).
    fn request_histogram(&self, i: usize) -> Histogram {
        let (action, product) = series_labels(i);
        let labels = vec![
            Label::from_static_parts("action", action),
            Label::from_static_parts("product", product),
        ];
        self.recorder
            .register_histogram(&Key::from_parts(REQUEST_SECONDS, labels), &METADATA)
    }

    /// The counter of series `i` with `code`, from the registry (the slow path, once
    /// per thread).
    fn request_counter(&self, i: usize, code: &'static str) -> Counter {
        let (action, product) = series_labels(i);
        let labels = vec![
            Label::from_static_parts("action", action),
            Label::from_static_parts("product", product),
            Label::from_static_parts("code", code),
        ];
        self.recorder
            .register_counter(&Key::from_parts(REQUESTS, labels), &METADATA)
    }

    /// Records a request or connection refused by a transport limit (`reason` is one of
    /// a fixed set: `body_too_large`, `body_timeout`, `body_budget`, `body_incomplete`,
    /// `in_flight`, `per_address`).
    pub fn refusal(&self, reason: &'static str) {
        let key = Key::from_parts(REFUSALS, vec![Label::from_static_parts("reason", reason)]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    /// Records an injected fault (`effect`: `error`, `delay` or `drop`; `point`: `before`
    /// or `after` the call).
    pub fn injected(&self, effect: &'static str, point: &'static str) {
        let labels = vec![
            Label::from_static_parts("effect", effect),
            Label::from_static_parts("point", point),
        ];
        let key = Key::from_parts(FAULTS, labels);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    fn store_op(&self, op: &'static str, took: Duration) {
        let seconds = took.as_secs_f64();
        match self.store.get(op) {
            Some(h) => h
                .get_or_init(|| store_histogram(&self.recorder, op))
                .record(seconds),
            None => store_histogram(&self.recorder, op).record(seconds),
        }
        self.sampled();
    }

    /// Counts one latency sample on this thread, running the recorder's upkeep every
    /// [`UPKEEP_EVERY`] of them (a per-thread count: no cache line shared by every
    /// request; at most threads × `UPKEEP_EVERY` samples wait).
    fn sampled(&self) {
        let n = SAMPLES.get().wrapping_add(1);
        SAMPLES.set(n);
        if n.is_multiple_of(UPKEEP_EVERY) {
            self.handle.run_upkeep();
        }
    }

    /// The text exposition: the recorded series, then the key pool and the process
    /// read now.
    pub fn render(&self) -> String {
        metrics::with_local_recorder(&self.recorder, || self.process.collect());
        let mut out = self.handle.render();
        if let Some(probe) = &self.pool {
            out.push_str(&render_pool(&probe()));
        }
        out
    }
}

/// The latency histogram of store operation `op`.
fn store_histogram(recorder: &PrometheusRecorder, op: &'static str) -> Histogram {
    let labels = vec![Label::from_static_parts("op", op)];
    recorder.register_histogram(&Key::from_parts(STORE_SECONDS, labels), &METADATA)
}

/// The key pool's gauges and counters, read at the scrape (they live in the pool, not
/// in the recorder).
fn render_pool(s: &PoolStats) -> String {
    let series = [
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
    series
        .iter()
        .map(|(name, kind, help, v)| {
            format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n")
        })
        .collect()
}

impl StoreObserver for Metrics {
    fn operation(&self, op: &'static str, took: Duration) {
        self.store_op(op, took);
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
        assert!(
            text.contains("# TYPE keypair_requests_total counter"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE keypair_request_duration_seconds histogram"),
            "{text}"
        );
        let build = format!(
            "keypair_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        assert!(text.contains(&build), "{text}");
        assert!(text.contains("process_resident_memory_bytes "), "{text}");
        assert!(text.contains("process_cpu_seconds_total "), "{text}");
    }

    /// Samples folded by the upkeep (without a scrape) are all still counted.
    #[test]
    fn upkeep_keeps_every_sample() {
        let m = Metrics::new();
        let n = 3 * UPKEEP_EVERY + 5;
        for _ in 0..n {
            m.request(
                Some(Action::Describe),
                "cvm",
                "OK",
                Duration::from_micros(300),
            );
        }
        let line = format!(
            "keypair_request_duration_seconds_count{{action=\"DescribeKeyPairs\",product=\"cvm\"}} {n}"
        );
        assert!(m.render().contains(&line), "{}", m.render());
    }

    #[test]
    fn two_servers_in_one_process_keep_their_own_figures() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.request(
            Some(Action::Describe),
            "cvm",
            "OK",
            Duration::from_millis(1),
        );
        let line =
            "keypair_requests_total{action=\"DescribeKeyPairs\",product=\"cvm\",code=\"OK\"} 1";
        assert!(a.render().contains(line));
        assert!(!b.render().contains("DescribeKeyPairs"));
    }
}
