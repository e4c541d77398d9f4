//! The core's hot paths: name validation, public-key parse + fingerprint, and describe on
//! the memory store at 1,000 and 100,000 key pairs in one scope. (Key generation per
//! backend is `cargo bench -p keypair-awslc`.)
//!
//! Run: `cargo bench -p keypair-core`

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use futures::executor::block_on;
use keypair_core::fixtures::{fresh_scope, key_pair, synthetic_public_key};
use keypair_core::{Filter, KeyName, KeyPairStore, NameMatch, Product, PublicKey, Query};
use keypair_memory::MemoryStore;
use std::hint::black_box;

fn names(c: &mut Criterion) {
    let mut g = c.benchmark_group("key_name");
    g.bench_function("valid_25", |b| {
        b.iter(|| KeyName::parse(black_box("abcdefghijklmnopqrstuvw_1")))
    });
    g.bench_function("illegal_char", |b| {
        b.iter(|| KeyName::parse(black_box("abc def")))
    });
    g.finish();
}

fn public_keys(c: &mut Criterion) {
    let line = synthetic_public_key(7, "user@laptop")
        .as_openssh()
        .to_owned();
    c.bench_function("public_key/parse_and_fingerprint_2048", |b| {
        b.iter(|| PublicKey::parse_openssh(black_box(&line)).expect("parses"))
    });
}

fn describe(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_describe");
    for size in [1_000u64, 100_000] {
        let store = MemoryStore::new();
        let scope = fresh_scope(Product::Lighthouse);
        for i in 0..size {
            let kp = key_pair(&scope, &format!("key_{i}"), i, i as i64);
            block_on(store.insert(kp, u32::MAX)).expect("insert");
        }
        let first = Query::new(vec![], 0, 20).expect("a valid query");
        g.bench_function(BenchmarkId::new("first_page", size), |b| {
            b.iter(|| block_on(store.query(&scope, &first)).expect("query"))
        });
        let by_name = Query::new(
            vec![Filter::Names(vec!["key_99".into()], NameMatch::Substring)],
            0,
            20,
        )
        .expect("a valid query");
        g.bench_function(BenchmarkId::new("name_filter", size), |b| {
            b.iter(|| block_on(store.query(&scope, &by_name)).expect("query"))
        });
    }
    g.finish();
}

criterion_group!(benches, names, public_keys, describe);
criterion_main!(benches);
