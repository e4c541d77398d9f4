//! Metrics in the Prometheus text format, served at `GET /metrics`: requests by action,
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

use keypair_core::{Action, PoolStats, StoreObserver};
use metrics::{Key, KeyName as MetricName, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::time::Duration;

/// Histogram bucket bounds in seconds.
const BUCKETS: [f64; 15] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0,
];

const REQUESTS: &str = "keypair_requests_total";
const REQUEST_SECONDS: &str = "keypair_request_duration_seconds";
const REFUSALS: &str = "keypair_transport_refusals_total";
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
        let metrics = Metrics {
            recorder,
            handle,
            process,
            pool: None,
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
        let action = Label::from_static_parts("action", action.map_or("unknown", Action::name));
        let product = Label::from_static_parts("product", product);
        let code = Label::from_static_parts("code", code);
        let timed = Key::from_parts(REQUEST_SECONDS, vec![action.clone(), product.clone()]);
        let counted = Key::from_parts(REQUESTS, vec![action, product, code]);
        self.recorder
            .register_counter(&counted, &METADATA)
            .increment(1);
        self.recorder
            .register_histogram(&timed, &METADATA)
            .record(took.as_secs_f64());
    }

    /// Records a request or connection refused by a transport limit (`reason` is one of
    /// a fixed set: `body_too_large`, `body_timeout`, `body_budget`, `body_incomplete`,
    /// `in_flight`, `per_address`).
    pub fn refusal(&self, reason: &'static str) {
        let key = Key::from_parts(REFUSALS, vec![Label::from_static_parts("reason", reason)]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    fn store_op(&self, op: &'static str, took: Duration) {
        let key = Key::from_parts(STORE_SECONDS, vec![Label::from_static_parts("op", op)]);
        self.recorder
            .register_histogram(&key, &METADATA)
            .record(took.as_secs_f64());
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
