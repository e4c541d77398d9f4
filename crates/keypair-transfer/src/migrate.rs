//! Moving every key pair of one store into another, and verifying that two stores hold
//! the same key pairs.

use crate::error::TransferError;
use crate::format::{digest_line, record_line};
use crate::progress::Progress;
use crate::scan::Batches;
use keypair_core::{KeyPair, KeyPairStore, LoadReport, Scope};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::hash::BuildHasher;

/// Streams every key pair of `from` into `to` in batches, then verifies. Without
/// `merge`, a target holding key pairs the source lacks is refused before anything is
/// written (a target holding only source records is a migration being resumed).
///
/// Each batch is written as `lanes` load transactions at once (at least one), over
/// disjoint sets of accounts, so they never touch the same scope's rows (a store says
/// how many it wants: `keypair_stores::StoreUrl::load_lanes`).
pub async fn migrate(
    from: &dyn KeyPairStore,
    to: &dyn KeyPairStore,
    merge: bool,
    lanes: usize,
    progress: &mut dyn Progress,
) -> Result<LoadReport, TransferError> {
    if !merge {
        refuse_foreign_data(from, to).await?;
    }
    progress.start(from.count_all().await?);
    let mut total = LoadReport::default();
    let mut source = Batches::new(from);
    let mut batch = source.next().await?;
    while !batch.is_empty() {
        let n = batch.len() as u64;
        let parts = split_by_account(batch, lanes);
        // The next batch is read while this one is written: the two stores work at once.
        let loads = futures::future::try_join_all(parts.iter().map(|part| to.load(part)));
        let (reports, next) = futures::join!(loads, source.next());
        for report in reports? {
            total.loaded += report.loaded;
            total.present += report.present;
        }
        progress.advance(n);
        batch = next?;
    }
    progress.finish(&format!(
        "{} loaded, {} already present",
        total.loaded, total.present
    ));
    verify(from, to, merge).await?;
    Ok(total)
}

/// Splits a batch into `lanes` parts by a hash of the account id, so no two parts share
/// an account: their scope counts and name and key uniqueness are each decided within
/// one transaction. Empty parts are dropped.
fn split_by_account(batch: Vec<KeyPair>, lanes: usize) -> Vec<Vec<KeyPair>> {
    let lanes = lanes.max(1);
    if lanes == 1 {
        return vec![batch];
    }
    let mut parts: Vec<Vec<KeyPair>> = (0..lanes).map(|_| Vec::new()).collect();
    // Any hash keeps an account in one part; the partition only has to hold per batch.
    let hasher = std::collections::hash_map::RandomState::new();
    for kp in batch {
        let lane = hasher.hash_one(kp.account.as_str()) % lanes as u64;
        parts[lane as usize].push(kp);
    }
    parts.retain(|p| !p.is_empty());
    parts
}

async fn refuse_foreign_data(
    from: &dyn KeyPairStore,
    to: &dyn KeyPairStore,
) -> Result<(), TransferError> {
    let mut target = Batches::new(to);
    loop {
        let batch = target.next().await?;
        if batch.is_empty() {
            return Ok(());
        }
        for kp in batch {
            let found = from.get(&kp.scope(), std::slice::from_ref(&kp.id)).await?;
            if found.first() != Some(&kp) {
                return Err(TransferError::TargetNotEmpty(kp.id));
            }
        }
    }
}

/// Walks both stores in key-id order: per (account, product) counts and a digest of
/// each side, and the first record that differs. With `merge`, the target may hold
/// more (every source record must be in it, identical).
pub async fn verify(
    from: &dyn KeyPairStore,
    to: &dyn KeyPairStore,
    merge: bool,
) -> Result<(), TransferError> {
    let mut source = Side::new(from);
    let mut target = Side::new(to);
    loop {
        // Both sides read their next batches at once.
        let (s, t) = futures::join!(source.fill(), target.fill());
        s?;
        t?;
        let (s, t) = (
            source.buffer.front().cloned(),
            target.buffer.front().cloned(),
        );
        let target_only = match (&s, &t) {
            (None, None) => break,
            (Some(s), Some(t)) if s.id == t.id => {
                if s != t {
                    return Err(TransferError::Differs(format!(
                        "key pair {} differs between the stores",
                        s.id
                    )));
                }
                source.take();
                target.take();
                continue;
            }
            (Some(s), Some(t)) if t.id < s.id => t,
            (None, Some(t)) => t,
            (Some(s), _) => {
                return Err(TransferError::Differs(format!(
                    "key pair {} is missing from the target",
                    s.id
                )));
            }
        };
        if !merge {
            return Err(TransferError::Differs(format!(
                "the target holds key pair {}, which the source does not",
                target_only.id
            )));
        }
        target.skip(target_only);
    }
    if !merge && (source.counts != target.counts || source.digest() != target.digest()) {
        return Err(TransferError::Differs(
            "the counts per account and product or the digests differ".into(),
        ));
    }
    Ok(())
}

/// One side of a verification: its reader, its counts per scope and its digest.
struct Side<'s> {
    batches: Batches<'s>,
    buffer: std::collections::VecDeque<KeyPair>,
    counts: BTreeMap<(String, &'static str), u64>,
    digest: Sha256,
}

impl<'s> Side<'s> {
    fn new(store: &'s dyn KeyPairStore) -> Self {
        Side {
            batches: Batches::new(store),
            buffer: Default::default(),
            counts: BTreeMap::new(),
            digest: Sha256::new(),
        }
    }

    /// Reads the next batch if the buffer is empty.
    async fn fill(&mut self) -> Result<(), TransferError> {
        if self.buffer.is_empty() {
            self.buffer.extend(self.batches.next().await?);
        }
        Ok(())
    }

    /// Counts the front record and moves past it.
    fn take(&mut self) {
        if let Some(kp) = self.buffer.pop_front() {
            let scope: Scope = kp.scope();
            *self
                .counts
                .entry((scope.account.as_str().to_owned(), scope.product.as_str()))
                .or_default() += 1;
            // Serialising a record cannot fail; were it to, the digests would differ.
            if let Ok(line) = record_line(&kp) {
                digest_line(&mut self.digest, &line);
            }
        }
    }

    /// Moves past a target-only record (`--merge`), without counting it.
    fn skip(&mut self, kp: &KeyPair) {
        if self.buffer.front().is_some_and(|f| f.id == kp.id) {
            self.buffer.pop_front();
        }
    }

    fn digest(&self) -> String {
        hex::encode(self.digest.clone().finalize())
    }
}
