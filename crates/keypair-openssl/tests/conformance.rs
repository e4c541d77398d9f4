//! Both OpenSSL generators pass the same conformance as the other backends, and derived
//! keys are 2048-bit keys whose private half matches the public.

use keypair_core::testkit::key_generator_conformance;
use keypair_core::{GeneratedKey, KeyBits, KeyGenerator, PublicKey, Result};
use keypair_openssl::{derive_key, OpenSslKeyGenerator};
use std::sync::atomic::{AtomicU64, Ordering};

#[test]
fn the_random_generator_passes_the_conformance() {
    key_generator_conformance(&OpenSslKeyGenerator::default());
}

/// Derived keys, one index after another, as a generator.
struct Derived(AtomicU64);

impl KeyGenerator for Derived {
    fn generate(&self) -> Result<GeneratedKey> {
        derive_key(42, self.0.fetch_add(1, Ordering::Relaxed), KeyBits::Rsa2048)
    }
}

#[test]
fn derived_keys_pass_the_conformance() {
    key_generator_conformance(&Derived(AtomicU64::new(0)));
}

#[test]
fn larger_sizes_are_what_they_say() {
    let k = OpenSslKeyGenerator::new(KeyBits::Rsa3072)
        .generate()
        .unwrap();
    assert_eq!(PublicKey::from_key_data(k.public, "").unwrap().bits(), 3072);
    let d = derive_key(1, 1, KeyBits::Rsa3072).unwrap();
    assert_eq!(PublicKey::from_key_data(d.public, "").unwrap().bits(), 3072);
}
