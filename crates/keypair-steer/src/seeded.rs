//! The deterministic mode's sources (`keypaird serve --seed N`): key ids, RequestIds and
//! RSA keys that derive from a seed, so the same seed and the same requests give
//! byte-identical answers on every run and every store. Each source can be seeded again
//! at run time (`POST /_keypaird/seed`), which starts its sequence over.
//!
//! Keys are derived by index ([`keypair_openssl::derive_key`]) on threads this module
//! owns, ahead of use and in parallel, and handed out strictly in index order, so which
//! thread finished first never changes which key a create gets. With a [`KeyCache`], a
//! key derived once is read back from disk on the next run instead of derived again.
//!
//! These keys are predictable by construction (anyone with the seed derives them), which
//! is why the mode is refused outside test mode, and why the cache may write them to
//! disk: it holds nothing that the seed does not already give away.

use keypair_core::{Error, GeneratedKey, IdGenerator, KeyBits, KeyGenerator, KeyId, Product};
use keypair_http::RequestIds;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// A ChaCha20 stream for one purpose of one seed: streams of different purposes never
/// meet, so adding a create does not shift the RequestIds.
fn stream(seed: u64, purpose: u64) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&purpose.to_le_bytes());
    key[16..].copy_from_slice(b"keypair-steer-v1");
    ChaCha20Rng::from_seed(key)
}

const IDS: u64 = 1;
const REQUEST_IDS: u64 = 2;

/// Key ids from a seed: the id form of the product (`skey-` or `lhkp-` and eight of
/// `[0-9a-z]`), in a sequence the seed fixes.
pub struct SeededIds(Mutex<ChaCha20Rng>);

impl SeededIds {
    /// The sequence of `seed`.
    pub fn new(seed: u64) -> Self {
        SeededIds(Mutex::new(stream(seed, IDS)))
    }

    /// Starts the sequence of `seed` over.
    pub fn reseed(&self, seed: u64) {
        *lock(&self.0) = stream(seed, IDS);
    }
}

impl IdGenerator for SeededIds {
    fn next_id(&self, product: Product) -> KeyId {
        const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut rng = lock(&self.0);
        let suffix: String = (0..8)
            .map(|_| char::from(ALPHABET[(rng.next_u32() % 36) as usize]))
            .collect();
        let id = format!("{}{suffix}", product.spec().key_id_prefix);
        KeyId::parse(product, &id).expect("a prefix and eight of [0-9a-z] is a key id")
    }
}

/// RequestIds from a seed, in the form the real service uses (lower-case version-4
/// UUIDs).
pub struct SeededRequestIds(Mutex<ChaCha20Rng>);

impl SeededRequestIds {
    /// The sequence of `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRequestIds(Mutex::new(stream(seed, REQUEST_IDS)))
    }

    /// Starts the sequence of `seed` over.
    pub fn reseed(&self, seed: u64) {
        *lock(&self.0) = stream(seed, REQUEST_IDS);
    }
}

impl RequestIds for SeededRequestIds {
    fn next_id(&self) -> String {
        let mut b = [0u8; 16];
        lock(&self.0).fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

/// Derived keys kept on disk between runs: one PKCS#1 PEM file per (derivation, size,
/// seed, index), written once (through a temporary file and a rename, so a reader never
/// sees half a key), readable by the owner only. Indexes from [`MAX_CACHED_INDEX`] on are
/// derived but not kept, which bounds the cache at that many keys per seed.
#[derive(Clone, Debug)]
pub struct KeyCache {
    dir: PathBuf,
}

/// The first index not kept in a [`KeyCache`].
pub const MAX_CACHED_INDEX: u64 = 10_000;

impl KeyCache {
    /// A cache under `dir` (created when the first key is kept).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyCache { dir: dir.into() }
    }

    fn path(&self, bits: KeyBits, seed: u64, index: u64) -> PathBuf {
        let series = format!("{}-{}", keypair_openssl::DERIVATION, bits.bits());
        self.dir
            .join(series)
            .join(seed.to_string())
            .join(format!("{index}.pem"))
    }

    /// The key kept for `(seed, index)`, if there is a readable one.
    fn load(&self, bits: KeyBits, seed: u64, index: u64) -> Option<GeneratedKey> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let pem = std::fs::read_to_string(self.path(bits, seed, index)).ok()?;
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(&pem).ok()?;
        GeneratedKey::from_rsa(&key).ok()
    }

    /// Keeps `key` for `(seed, index)`; a failure only costs the next run a derivation.
    fn store(&self, bits: KeyBits, seed: u64, index: u64, key: &GeneratedKey) {
        if index >= MAX_CACHED_INDEX {
            return;
        }
        let path = self.path(bits, seed, index);
        if let Err(e) = write_private(&path, key.private_pem.expose()) {
            tracing::warn!(path = %path.display(), error = %e, "cannot keep a derived key in the key cache");
        }
    }
}

/// Writes `text` to `path` readable by the owner only, through a temporary file.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no directory"))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// How many keys are derived ahead of the next one handed out.
pub const LOOKAHEAD: u64 = 16;

/// What the deriving threads and the handing-out side share.
struct Sequence {
    seed: u64,
    /// Bumped by a reseed: a key derived for an earlier seed is thrown away.
    epoch: u64,
    next_out: u64,
    next_claim: u64,
    done: BTreeMap<u64, keypair_core::Result<GeneratedKey>>,
    stop: bool,
}

struct Shared {
    seq: Mutex<Sequence>,
    changed: Condvar,
    bits: KeyBits,
    cache: Option<KeyCache>,
}

/// Keys derived from a seed and their index, handed out in index order: a
/// [`KeyGenerator`] for the deterministic mode. Its own `workers` threads derive up to
/// [`LOOKAHEAD`] keys ahead (reading them from the [`KeyCache`] where it has them); they
/// stop when this is dropped.
pub struct SeededKeys {
    shared: Arc<Shared>,
}

impl SeededKeys {
    /// Keys of `bits` from `seed`, derived on `workers` threads (at least one).
    pub fn new(seed: u64, bits: KeyBits, workers: usize, cache: Option<KeyCache>) -> Self {
        let shared = Arc::new(Shared {
            seq: Mutex::new(Sequence {
                seed,
                epoch: 0,
                next_out: 0,
                next_claim: 0,
                done: BTreeMap::new(),
                stop: false,
            }),
            changed: Condvar::new(),
            bits,
            cache,
        });
        for n in 0..workers.max(1) {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("keypaird-seeded-keys-{n}"))
                .spawn(move || derive_ahead(&shared));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a key-deriving thread");
            }
        }
        SeededKeys { shared }
    }

    /// Starts the keys of `seed` over from index 0; keys derived ahead for the earlier
    /// seed are dropped.
    pub fn reseed(&self, seed: u64) {
        let mut seq = lock(&self.shared.seq);
        seq.seed = seed;
        seq.epoch += 1;
        seq.next_out = 0;
        seq.next_claim = 0;
        seq.done.clear();
        self.shared.changed.notify_all();
    }
}

impl Drop for SeededKeys {
    fn drop(&mut self) {
        lock(&self.shared.seq).stop = true;
        self.shared.changed.notify_all();
    }
}

impl KeyGenerator for SeededKeys {
    fn generate(&self) -> keypair_core::Result<GeneratedKey> {
        let mut seq = lock(&self.shared.seq);
        loop {
            let next = seq.next_out;
            if let Some(key) = seq.done.remove(&next) {
                seq.next_out += 1;
                self.shared.changed.notify_all();
                return key;
            }
            if seq.stop {
                return Err(Error::key_generation("the seeded key source has stopped"));
            }
            seq = self
                .shared
                .changed
                .wait(seq)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// One deriving thread: claims the next index within the lookahead, derives (or reads)
/// its key, and files it under the epoch it was claimed in.
fn derive_ahead(shared: &Shared) {
    loop {
        let (seed, epoch, index) = {
            let mut seq = lock(&shared.seq);
            loop {
                if seq.stop {
                    return;
                }
                if seq.next_claim < seq.next_out + LOOKAHEAD {
                    break;
                }
                seq = shared.changed.wait(seq).unwrap_or_else(|p| p.into_inner());
            }
            seq.next_claim += 1;
            (seq.seed, seq.epoch, seq.next_claim - 1)
        };
        let key = key_for(shared, seed, index);
        let mut seq = lock(&shared.seq);
        if seq.epoch == epoch {
            seq.done.insert(index, key);
            shared.changed.notify_all();
        }
    }
}

fn key_for(shared: &Shared, seed: u64, index: u64) -> keypair_core::Result<GeneratedKey> {
    if let Some(key) = shared
        .cache
        .as_ref()
        .and_then(|c| c.load(shared.bits, seed, index))
    {
        return Ok(key);
    }
    let key = keypair_openssl::derive_key(seed, index, shared.bits)?;
    if let Some(cache) = &shared.cache {
        cache.store(shared.bits, seed, index, &key);
    }
    Ok(key)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
