//! The aws-lc backend passes the same generator conformance as the rsa one.

use keypair_awslc::AwsLcKeyGenerator;
use keypair_core::testkit::key_generator_conformance;
use keypair_core::{KeyBits, KeyGenerator, PublicKey};

#[test]
fn passes_the_key_generator_conformance() {
    key_generator_conformance(&AwsLcKeyGenerator::default());
}

#[test]
fn larger_sizes_are_what_they_say() {
    let k = AwsLcKeyGenerator::new(KeyBits::Rsa3072).generate().unwrap();
    assert_eq!(PublicKey::from_key_data(k.public, "").unwrap().bits(), 3072);
}
