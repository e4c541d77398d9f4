//! The parts a server wires in test mode, built in one place so that a binary
//! (`keypaird`) stays wiring: the [`Steer`] hook, and, with a seed, the seeded ids,
//! RequestIds and keys; the clocks either way.

use crate::clock::{SteeredClock, SEEDED_START};
use crate::journal::{Journal, JournalError};
use crate::seeded::{KeyCache, SeededIds, SeededKeys, SeededRequestIds};
use crate::{Seeded, Steer};
use keypair_core::{Clock, IdGenerator, KeyBits, KeyGenerator};
use keypair_http::RequestIds;
use std::path::PathBuf;
use std::sync::Arc;

/// What a test-mode server was asked for.
#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    /// `--seed`: the deterministic mode.
    pub seed: Option<u64>,
    /// `--journal`: record into this file from the start.
    pub journal: Option<PathBuf>,
    /// `--key-cache`: keep derived keys here (with a seed only).
    pub key_cache: Option<PathBuf>,
}

/// Why the test-mode parts could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TestModeError {
    /// The journal file.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A key cache without a seed: only derived keys can be cached.
    #[error("--key-cache keeps keys derived from a seed; give --seed too")]
    CacheWithoutSeed,
}

/// The seeded sources, as the service and the HTTP shell take them.
pub struct SeededParts {
    /// The service's ids.
    pub ids: Arc<dyn IdGenerator>,
    /// The service's keys: hand them to a pool with one worker and no reserve, so they
    /// are issued in their order.
    pub keys: Arc<dyn KeyGenerator>,
    /// The shell's RequestIds.
    pub request_ids: Arc<dyn RequestIds>,
}

/// Everything a test-mode server wires.
pub struct TestParts {
    /// The hook and the admin API's state.
    pub steer: Arc<Steer>,
    /// The service's clock (`CreatedTime`).
    pub clock: Arc<dyn Clock>,
    /// The clock of signatures and rate windows.
    pub signing_clock: Arc<dyn Clock>,
    /// The deterministic mode's sources, with `--seed`.
    pub seeded: Option<SeededParts>,
}

impl TestParts {
    /// The parts for a server that is (`test_mode`) or is not in test mode; outside it
    /// the options must all be empty (the binary refuses them first) and the admin calls
    /// answer `403`. Keys are `bits` keys derived on `workers` threads.
    pub fn build(
        test_mode: bool,
        opts: &TestOptions,
        bits: KeyBits,
        workers: usize,
    ) -> Result<Self, TestModeError> {
        if opts.key_cache.is_some() && opts.seed.is_none() {
            return Err(TestModeError::CacheWithoutSeed);
        }
        let journal = match &opts.journal {
            Some(path) => Journal::to_file(path)?,
            None => Journal::new(),
        };
        let clock = match opts.seed {
            Some(_) => SteeredClock::fixed(SEEDED_START),
            None => SteeredClock::following(),
        };
        let seeded = opts.seed.map(|seed| {
            let cache = opts.key_cache.clone().map(KeyCache::new);
            let sources = Seeded {
                ids: Arc::new(SeededIds::new(seed)),
                request_ids: Arc::new(SeededRequestIds::new(seed)),
                keys: Arc::new(SeededKeys::new(seed, bits, workers, cache)),
            };
            (seed, sources)
        });
        let parts = seeded.as_ref().map(|(_, s)| SeededParts {
            ids: s.ids.clone(),
            keys: s.keys.clone(),
            request_ids: s.request_ids.clone(),
        });
        let signing_clock = clock.signing();
        let steer = Arc::new(Steer::new(test_mode, journal, clock.clone(), seeded));
        Ok(TestParts {
            steer,
            clock,
            signing_clock,
            seeded: parts,
        })
    }
}
