//! A [`KeyGenerator`] on `aws-lc-rs` (AWS-LC, BoringSSL's descendant), for services that
//! create many keys: RSA-2048 in about 80 ms a key here against about 200 ms for the
//! pure-Rust `rsa` crate (see docs/benchmarks.md).
//!
//! AWS-LC generates the key; its PKCS#8 form is then read into an `rsa::RsaPrivateKey`
//! and encoded by the core's [`GeneratedKey::from_rsa`], so both backends produce exactly
//! the same encodings (OpenSSH public key, PKCS#1 PEM private key). AWS-LC draws its
//! randomness from the operating system; there is no seeded mode.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use keypair_core::{Error, GeneratedKey, KeyBits, KeyGenerator, Result};
use rsa::pkcs8::DecodePrivateKey;

/// RSA key generation on AWS-LC.
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLcKeyGenerator {
    bits: KeyBits,
}

impl AwsLcKeyGenerator {
    /// A generator of `bits`-sized keys.
    pub fn new(bits: KeyBits) -> Self {
        AwsLcKeyGenerator { bits }
    }

    fn generate_now(&self) -> Result<GeneratedKey> {
        let size = match self.bits {
            KeyBits::Rsa2048 => KeySize::Rsa2048,
            KeyBits::Rsa3072 => KeySize::Rsa3072,
            KeyBits::Rsa4096 => KeySize::Rsa4096,
        };
        let failed = |what: &str| Error::key_generation(format!("aws-lc: {what}"));
        let pair = KeyPair::generate(size).map_err(|_| failed("generating the key"))?;
        let der = pair.as_der().map_err(|_| failed("exporting the key"))?;
        let key =
            rsa::RsaPrivateKey::from_pkcs8_der(der.as_ref()).map_err(Error::key_generation)?;
        GeneratedKey::from_rsa(&key)
    }
}

impl KeyGenerator for AwsLcKeyGenerator {
    fn generate(&self) -> Result<GeneratedKey> {
        self.generate_now()
    }
}
