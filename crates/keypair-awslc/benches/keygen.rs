//! RSA-2048 key generation per backend, including the encoding (OpenSSH public key,
//! PKCS#1 PEM, fingerprint) a create needs.
//!
//! Run: `cargo bench -p keypair-awslc`

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, Criterion};
use keypair_awslc::AwsLcKeyGenerator;
use keypair_core::{GeneratedKey, KeyBits, KeyGenerator, PublicKey, RsaKeyGenerator};
use std::time::Duration;

fn encode(k: GeneratedKey) -> usize {
    let public = PublicKey::from_key_data(k.public, "skey_bench").expect("encode");
    public.as_openssh().len() + k.private_pem.expose().len()
}

fn keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("keygen_rsa2048");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2));
    let aws = AwsLcKeyGenerator::new(KeyBits::Rsa2048);
    g.bench_function("aws-lc", |b| {
        b.iter(|| encode(aws.generate().expect("key")))
    });
    let rsa = RsaKeyGenerator::new(KeyBits::Rsa2048);
    g.bench_function("rsa", |b| b.iter(|| encode(rsa.generate().expect("key"))));
    g.finish();
}

criterion_group!(benches, keygen);
criterion_main!(benches);
