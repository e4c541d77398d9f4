//! Key generation: the `KeyGenerator` port, the private-key type that is never stored,
//! and the pure-Rust `rsa` implementation.
//!
//! The port is synchronous on purpose, like rustls' `SecureRandom`: generating a key is
//! pure CPU work, so an implementation simply does it on the thread that calls it. The
//! async service never calls it directly; it goes through [`KeyPool`](crate::KeyPool),
//! the one place that owns the threads generation runs on.

use crate::{Error, Result};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRngCore, OsRng, SeedableRng};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use ssh_key::public::{KeyData, RsaPublicKey};
use std::fmt;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// RSA modulus sizes the generator offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyBits {
    /// 2048 bits, the default.
    #[default]
    Rsa2048,
    /// 3072 bits.
    Rsa3072,
    /// 4096 bits.
    Rsa4096,
}

impl KeyBits {
    /// The size in bits.
    pub fn bits(self) -> usize {
        match self {
            KeyBits::Rsa2048 => 2048,
            KeyBits::Rsa3072 => 3072,
            KeyBits::Rsa4096 => 4096,
        }
    }

    /// The size for a bit count, if offered.
    pub fn from_bits(bits: usize) -> Option<Self> {
        [KeyBits::Rsa2048, KeyBits::Rsa3072, KeyBits::Rsa4096]
            .into_iter()
            .find(|k| k.bits() == bits)
    }
}

/// A PKCS#1 PEM private key (`-----BEGIN RSA PRIVATE KEY-----`). Its memory is zeroed
/// when dropped, and its `Debug` output is redacted so it never reaches a log.
pub struct PrivateKeyPem(Zeroizing<String>);

impl PrivateKeyPem {
    /// Wraps PEM text produced by a key generator.
    pub fn new(pem: Zeroizing<String>) -> Self {
        PrivateKeyPem(pem)
    }

    /// The PEM text, to hand to the caller exactly once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

/// A freshly generated key pair: the public key data (the caller adds the comment) and
/// the private key. There is deliberately no way to turn this into a stored record.
#[derive(Debug)]
pub struct GeneratedKey {
    /// The public half.
    pub public: KeyData,
    /// The private key, for the caller only.
    pub private_pem: PrivateKeyPem,
}

impl GeneratedKey {
    /// Encodes an `rsa` private key; any RSA backend can produce an `rsa::RsaPrivateKey`
    /// (or its PKCS#1 DER) and share this encoding.
    pub fn from_rsa(key: &rsa::RsaPrivateKey) -> Result<Self> {
        let public = RsaPublicKey::try_from(key.to_public_key()).map_err(Error::key_generation)?;
        let pem = key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(Error::key_generation)?;
        Ok(GeneratedKey {
            public: KeyData::Rsa(public),
            private_pem: PrivateKeyPem(pem),
        })
    }
}

/// Port: makes RSA key pairs, synchronously, on the calling thread.
///
/// Contract:
/// - every call returns a new key pair of the configured size, never one returned before;
/// - the work happens on the calling thread and may take tenths of a second of CPU, so
///   async code never calls this directly: the service reaches it through a
///   [`KeyPool`](crate::KeyPool), whose own threads make the call;
/// - an implementation never writes a private key anywhere (no file, no log).
///
/// `key_generator_conformance` in the `testkit` feature checks the encodings.
pub trait KeyGenerator: Send + Sync {
    /// A new key pair.
    fn generate(&self) -> Result<GeneratedKey>;
}

enum Randomness {
    Os,
    Seeded(Box<Mutex<ChaCha20Rng>>),
}

/// The pure-Rust `rsa` generator, with randomness from the OS CSPRNG or, for
/// reproducible tests, a seeded ChaCha20 stream.
pub struct RsaKeyGenerator {
    bits: KeyBits,
    rng: Randomness,
}

impl RsaKeyGenerator {
    /// A generator of `bits`-sized keys from the operating system's CSPRNG.
    pub fn new(bits: KeyBits) -> Self {
        RsaKeyGenerator {
            bits,
            rng: Randomness::Os,
        }
    }

    /// A generator whose keys are fully determined by `seed`: the same seed gives the
    /// same sequence of keys. For tests only.
    pub fn seeded(bits: KeyBits, seed: u64) -> Self {
        RsaKeyGenerator {
            bits,
            rng: Randomness::Seeded(Box::new(Mutex::new(ChaCha20Rng::seed_from_u64(seed)))),
        }
    }

    fn generate_now(&self) -> Result<GeneratedKey> {
        let bits = self.bits.bits();
        let key = match &self.rng {
            Randomness::Os => rsa_key(&mut OsRng, bits)?,
            Randomness::Seeded(rng) => {
                // A panic mid-generation leaves a usable stream behind; keep going.
                let mut rng = rng.lock().unwrap_or_else(|p| p.into_inner());
                rsa_key(&mut *rng, bits)?
            }
        };
        GeneratedKey::from_rsa(&key)
    }
}

fn rsa_key(rng: &mut impl CryptoRngCore, bits: usize) -> Result<rsa::RsaPrivateKey> {
    rsa::RsaPrivateKey::new(rng, bits).map_err(Error::key_generation)
}

impl Default for RsaKeyGenerator {
    fn default() -> Self {
        RsaKeyGenerator::new(KeyBits::default())
    }
}

impl KeyGenerator for RsaKeyGenerator {
    fn generate(&self) -> Result<GeneratedKey> {
        self.generate_now()
    }
}
