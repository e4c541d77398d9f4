//! The metrics path: what recording one API request costs, alone and with two threads
//! recording at once (the two cores of the benchmark machine), against the design it
//! replaced, kept here as the yardstick: one `Mutex` over `BTreeMap`s of counters and
//! hand-rolled histograms, taken by every request.

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, Criterion};
use keypair_core::Action;
use keypair_metrics::Metrics;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bucket bounds of the replaced design (the same as today's).
const BUCKETS: [f64; 15] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0,
];

/// The replaced design: everything behind one lock.
#[derive(Default)]
struct Locked {
    data: Mutex<LockedData>,
}

#[derive(Default)]
struct LockedData {
    requests: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    latency: BTreeMap<(&'static str, &'static str), ([u64; 15], u64, f64)>,
}

impl Locked {
    fn request(&self, action: Action, product: &'static str, code: &'static str, took: Duration) {
        let mut d = self.data.lock().unwrap();
        *d.requests
            .entry((action.name(), product, code))
            .or_default() += 1;
        let h = d.latency.entry((action.name(), product)).or_default();
        let s = took.as_secs_f64();
        for (bound, c) in BUCKETS.iter().zip(h.0.iter_mut()) {
            if s <= *bound {
                *c += 1;
            }
        }
        h.1 += 1;
        h.2 += s;
    }
}

/// `n` recordings split over two threads; the wall time of the whole.
fn two_threads(n: u64, record: &(dyn Fn(u64) + Sync)) -> Duration {
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2 {
            s.spawn(move || (t..n).step_by(2).for_each(record));
        }
    });
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let metrics = Metrics::new();
    let locked = Locked::default();
    let took = Duration::from_micros(700);
    let new = |i: u64| {
        let code = if i.is_multiple_of(10) {
            "InvalidParameter"
        } else {
            "OK"
        };
        metrics.request(Some(Action::Describe), "cvm", code, black_box(took));
    };
    let old = |i: u64| {
        let code = if i.is_multiple_of(10) {
            "InvalidParameter"
        } else {
            "OK"
        };
        locked.request(Action::Describe, "cvm", code, black_box(took));
    };
    let mut g = c.benchmark_group("metrics: record one request");
    g.bench_function("metrics-exporter-prometheus, 1 thread", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            new(i)
        })
    });
    g.bench_function("one Mutex (replaced), 1 thread", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            old(i)
        })
    });
    g.bench_function("metrics-exporter-prometheus, 2 threads", |b| {
        b.iter_custom(|n| two_threads(n, &new))
    });
    g.bench_function("one Mutex (replaced), 2 threads", |b| {
        b.iter_custom(|n| two_threads(n, &old))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
