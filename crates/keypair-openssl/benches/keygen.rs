//! RSA-2048 key generation on OpenSSL, random and derived from a seed, beside AWS-LC (the
//! backend it replaces as the default) measured in the same run; each including the
//! encodings a create needs (OpenSSH public key, PKCS#1 PEM).
//!
//! Run: `cargo bench -p keypair-openssl`

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, Criterion};
use keypair_awslc::AwsLcKeyGenerator;
use keypair_core::{GeneratedKey, KeyBits, KeyGenerator, PublicKey};
use keypair_openssl::{derive_key, OpenSslKeyGenerator};
use std::time::Duration;

fn encode(k: GeneratedKey) -> usize {
    let public = PublicKey::from_key_data(k.public, "skey_bench").expect("encode");
    public.as_openssh().len() + k.private_pem.expose().len()
}

fn keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("keygen_rsa2048");
    g.sample_size(40)
        .measurement_time(Duration::from_secs(30))
        .warm_up_time(Duration::from_secs(2));
    let openssl = OpenSslKeyGenerator::new(KeyBits::Rsa2048);
    g.bench_function("openssl", |b| {
        b.iter(|| encode(openssl.generate().expect("key")))
    });
    let mut index = 0u64;
    g.bench_function("openssl-derived", |b| {
        b.iter(|| {
            index += 1;
            encode(derive_key(7, index, KeyBits::Rsa2048).expect("key"))
        })
    });
    let aws = AwsLcKeyGenerator::new(KeyBits::Rsa2048);
    g.bench_function("aws-lc", |b| {
        b.iter(|| encode(aws.generate().expect("key")))
    });
    g.finish();
}

criterion_group!(benches, keygen);
criterion_main!(benches);
