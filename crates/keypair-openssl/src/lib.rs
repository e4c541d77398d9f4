//! [`KeyGenerator`]s on OpenSSL, built from source (the `openssl` crate's `vendored`
//! feature), for the two jobs the service has:
//!
//! - [`OpenSslKeyGenerator`]: RSA keys from the operating system's randomness, OpenSSL's
//!   own generation. On the project's machine it is the fastest RSA-2048 generation of
//!   the backends (docs/benchmarks.md, "Key generation").
//! - [`derive_key`]: the key that a seed and an index determine, for test suites that
//!   need the same keys on every run (`keypaird serve --seed`). OpenSSL has no seeded
//!   key generation, so the prime search is written here: candidates come from a
//!   ChaCha20 stream keyed by (seed, index), and OpenSSL's Miller–Rabin test (with trial
//!   division) accepts them. The keys are sound RSA keys, and predictable by
//!   construction: they must never protect anything.
//!
//! Both read the key into an `rsa::RsaPrivateKey` and encode it with the core's
//! [`GeneratedKey::from_rsa`], so every backend gives exactly the same encodings
//! (OpenSSH public key, PKCS#1 PEM private key).

use keypair_core::{Error, GeneratedKey, KeyBits, KeyGenerator, Result};
use openssl::bn::{BigNum, BigNumContext};
use openssl::rsa::Rsa;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::BigUint;

/// RSA key generation on OpenSSL, from the operating system's randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenSslKeyGenerator {
    bits: KeyBits,
}

impl OpenSslKeyGenerator {
    /// A generator of `bits`-sized keys.
    pub fn new(bits: KeyBits) -> Self {
        OpenSslKeyGenerator { bits }
    }

    fn generate_now(&self) -> Result<GeneratedKey> {
        let bits = u32::try_from(self.bits.bits()).map_err(Error::key_generation)?;
        let key = Rsa::generate(bits).map_err(|e| failed("generating the key", e))?;
        let der = key
            .private_key_to_der()
            .map_err(|e| failed("exporting the key", e))?;
        let key = rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(Error::key_generation)?;
        GeneratedKey::from_rsa(&key)
    }
}

impl KeyGenerator for OpenSslKeyGenerator {
    fn generate(&self) -> Result<GeneratedKey> {
        self.generate_now()
    }
}

fn failed(what: &str, e: openssl::error::ErrorStack) -> Error {
    Error::key_generation(format!("openssl: {what}: {e}"))
}

/// What a derived key depends on besides the seed and the index. Raised whenever the
/// derivation changes, so a cache of derived keys (keyed by it) is never read across a
/// change.
pub const DERIVATION: &str = "keypair-rsa-v1";

/// The public exponent of every key, 65537.
const E: u32 = 65_537;

/// The key that `seed` and `index` determine: the same pair gives the same key on every
/// run and every machine. For tests only: anyone who knows the seed knows the key.
pub fn derive_key(seed: u64, index: u64, bits: KeyBits) -> Result<GeneratedKey> {
    let mut stream = ChaCha20Rng::from_seed(stream_key(seed, index));
    let half = bits.bits() / 2;
    let mut ctx = BigNumContext::new().map_err(|e| failed("a context", e))?;
    let p = seeded_prime(&mut stream, half, &mut ctx)?;
    let q = loop {
        let q = seeded_prime(&mut stream, half, &mut ctx)?;
        if far_apart(&p, &q, half)? {
            break q;
        }
    };
    let key = rsa::RsaPrivateKey::from_p_q(biguint(&p), biguint(&q), BigUint::from(E))
        .map_err(Error::key_generation)?;
    GeneratedKey::from_rsa(&key)
}

/// The ChaCha20 key of (seed, index): the two numbers and the derivation's name, so
/// streams of different seeds, indexes or derivations never meet.
fn stream_key(seed: u64, index: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&index.to_le_bytes());
    // The name fits the 16 bytes left (a test checks it), so a new derivation's name
    // gives new streams.
    let tag = DERIVATION.as_bytes();
    key[16..16 + tag.len()].copy_from_slice(tag);
    key
}

/// A prime of exactly `bits` bits with its top two bits set (so the product of two has
/// exactly twice the bits), `p − 1` coprime with 65537: an incremental search upward from
/// a candidate drawn from `stream`, as FIPS 186-4's B.3.3 allows.
fn seeded_prime(stream: &mut ChaCha20Rng, bits: usize, ctx: &mut BigNumContext) -> Result<BigNum> {
    let err = |e| failed("the prime search", e);
    let mut bytes = vec![0u8; bits / 8];
    stream.fill_bytes(&mut bytes);
    bytes[0] |= 0xC0;
    if let Some(last) = bytes.last_mut() {
        *last |= 1;
    }
    let mut candidate = BigNum::from_slice(&bytes).map_err(err)?;
    loop {
        // A step past the top stays within `bits` bits: the search starts at most
        // 2^(bits-2) below the top and the gap to the next prime is far smaller.
        let coprime = (candidate.mod_word(E).map_err(err)?) != 1;
        if coprime && candidate.is_prime_fasttest(0, ctx, true).map_err(err)? {
            return Ok(candidate);
        }
        candidate.add_word(2).map_err(err)?;
    }
}

/// Whether `p` and `q` differ in their top 100 bits (FIPS 186-4 B.3.3: |p − q| >
/// 2^(bits − 100)), which two independent draws do but for a vanishing chance.
fn far_apart(p: &BigNum, q: &BigNum, bits: usize) -> Result<bool> {
    let err = |e| failed("comparing the primes", e);
    let mut diff = BigNum::new().map_err(err)?;
    diff.checked_sub(p, q).map_err(err)?;
    diff.set_negative(false);
    let shift = i32::try_from(bits.saturating_sub(100)).map_err(Error::key_generation)?;
    let mut bound = BigNum::new().map_err(err)?;
    bound.set_bit(shift).map_err(err)?;
    Ok(diff > bound)
}

fn biguint(n: &BigNum) -> BigUint {
    BigUint::from_bytes_be(&n.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_key_is_the_same_for_the_same_seed_and_index_only() {
        let a = derive_key(7, 0, KeyBits::Rsa2048).unwrap();
        let again = derive_key(7, 0, KeyBits::Rsa2048).unwrap();
        assert_eq!(a.private_pem.expose(), again.private_pem.expose());
        let next = derive_key(7, 1, KeyBits::Rsa2048).unwrap();
        let other_seed = derive_key(8, 0, KeyBits::Rsa2048).unwrap();
        assert_ne!(a.public, next.public);
        assert_ne!(a.public, other_seed.public);
    }

    #[test]
    fn stream_keys_separate_seeds_indexes_and_derivations() {
        assert!(DERIVATION.len() <= 16, "the name fits the stream key");
        assert_ne!(stream_key(1, 0), stream_key(0, 1));
        assert_ne!(stream_key(1, 2), stream_key(2, 1));
    }
}
