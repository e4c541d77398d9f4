//! Bulk-preparing a store for the benchmarks (`--seed-keys N`): N synthetic CVM key pairs
//! spread over the seed accounts, newest last, written in batches.
//!
//! What the realistic mix ([`crate::mix`]) filters on is predictable: key pair `j` of an
//! account is named `seed_{j}_{base}` and tagged `env` = `prod`, `staging` or `dev` (by
//! `j % 3`) and, for even `j`, `team` = `t{j % 8}`.
//!
//! Ids are random, as the service's are, so they can collide: eight of `[a-z0-9]` give
//! 36⁸ ≈ 2.8 × 10¹² ids, and a million of them meet with a chance of about 16% (the
//! birthday bound). The seeder therefore does what the service does on
//! [`StoreError::DuplicateId`]: it draws another id. Ids drawn in this run are remembered,
//! so a batch never carries one twice; an id the store already held before the run
//! fails the batch, which is then written record by record, each collision redrawn.

use keypair_core::fixtures::synthetic_public_key;
use keypair_core::{
    AccountId, Description, IdGenerator, KeyId, KeyName, KeyPair, KeyPairStore, Product, ProjectId,
    StoreError, Tag, Tags, Timestamp,
};
use keypair_sqlite::SqliteStore;
use std::collections::HashSet;

/// The first seeded account id.
pub(crate) const SEED_ACCOUNT_BASE: u64 = 1_300_000_000;

/// Key pairs per write.
pub(crate) const BATCH: usize = 20_000;

/// Draws of an id that is new to this run before the seeder gives up: only an id space
/// nearly used up gets there.
const ID_DRAWS: usize = 64;

/// Where the key pairs go: SQLite takes whole batches in one transaction
/// (`bulk_insert`); any other store one insert at a time.
pub(crate) enum Sink<'a> {
    /// A SQLite store.
    Sqlite(&'a SqliteStore),
    /// Any store, through the port.
    Store(&'a dyn KeyPairStore),
}

/// The synthetic key pairs of one seeding run.
pub(crate) struct Seeder<'a> {
    ids: &'a dyn IdGenerator,
    used: HashSet<KeyId>,
    accounts: u64,
    /// Makes this run's names and keys differ from another run's.
    base: u64,
}

/// The tags of an account's key pair `j`: what the mix's tag filters find.
fn seed_tags(j: u64) -> Tags {
    let env = ["prod", "staging", "dev"][(j % 3) as usize];
    let mut tags = vec![Tag::from_stored("env".into(), env.into())];
    if j.is_multiple_of(2) {
        tags.push(Tag::from_stored("team".into(), format!("t{}", j % 8)));
    }
    Tags::from_stored(tags)
}

impl<'a> Seeder<'a> {
    /// A run over `accounts` accounts drawing ids from `ids`; `base` tells its names and
    /// keys from another run's.
    pub(crate) fn new(ids: &'a dyn IdGenerator, accounts: u64, base: u64) -> Self {
        Seeder {
            ids,
            used: HashSet::new(),
            accounts: accounts.max(1),
            base,
        }
    }

    /// An id no key pair of this run has had.
    fn fresh_id(&mut self) -> Result<KeyId, String> {
        for _ in 0..ID_DRAWS {
            let id = self.ids.next_id(Product::Cvm);
            if self.used.insert(id.clone()) {
                return Ok(id);
            }
        }
        Err(format!(
            "{ID_DRAWS} draws in a row gave ids this run already used: the id space is nearly used up"
        ))
    }

    /// Key pair `i` of the run, with `id`.
    fn record(&self, i: u64, id: KeyId) -> KeyPair {
        let a = i % self.accounts;
        let j = i / self.accounts;
        KeyPair {
            public_key: synthetic_public_key(self.base + i, &id.key_comment()),
            id,
            account: AccountId::parse(&(SEED_ACCOUNT_BASE + a).to_string())
                .expect("numeric account"),
            name: KeyName::parse(&format!("seed_{j}_{}", self.base)).expect("name"),
            project: ProjectId::DEFAULT,
            description: Description::default(),
            created_at: Timestamp::from_millis(1_700_000_000_000 + i as i64),
            tags: seed_tags(j),
            associations: Vec::new(),
        }
    }

    /// Writes key pairs `range` into `sink`.
    pub(crate) async fn write(
        &mut self,
        sink: &Sink<'_>,
        range: std::ops::Range<u64>,
    ) -> Result<(), String> {
        let batch = range
            .map(|i| {
                let id = self.fresh_id()?;
                Ok((i, self.record(i, id)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let store: &dyn KeyPairStore = match sink {
            Sink::Sqlite(sqlite) => {
                let records = batch.iter().map(|(_, kp)| kp.clone()).collect();
                match sqlite.bulk_insert(records, u32::MAX).await {
                    Ok(()) => return Ok(()),
                    // An id the store held before this run: record by record instead.
                    Err(StoreError::DuplicateId) => *sqlite,
                    Err(e) => return Err(e.to_string()),
                }
            }
            Sink::Store(store) => *store,
        };
        for (i, kp) in batch {
            self.insert_one(store, i, kp).await?;
        }
        Ok(())
    }

    /// Inserts key pair `i`, drawing another id while the store already has its id.
    async fn insert_one(
        &mut self,
        store: &dyn KeyPairStore,
        i: u64,
        mut kp: KeyPair,
    ) -> Result<(), String> {
        for _ in 0..ID_DRAWS {
            match store.insert(kp, u32::MAX).await {
                Ok(()) => return Ok(()),
                Err(StoreError::DuplicateId) => {
                    let id = self.fresh_id()?;
                    kp = self.record(i, id);
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!(
            "key pair {i}: {ID_DRAWS} ids in a row were already in the store"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keypair_sqlite::Sqlite;
    use std::sync::Mutex;

    /// Ids from a space of `n`, drawn with a fixed sequence: collisions are certain.
    struct SmallSpace(Mutex<u64>, u64);

    impl IdGenerator for SmallSpace {
        fn next_id(&self, product: Product) -> KeyId {
            let mut state = self.0.lock().unwrap();
            *state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let id = format!("skey-{:08}", (*state >> 33) % self.1);
            KeyId::parse(product, &id).unwrap()
        }
    }

    #[tokio::test]
    async fn seeding_draws_again_on_every_collision_in_the_run_and_with_the_store() {
        let store = Sqlite::open_in_memory().await.unwrap();
        let ids = SmallSpace(Mutex::new(7), 90);
        // 10 key pairs of an earlier run hold ids the next run will draw again.
        let mut earlier = Seeder::new(&ids, 3, 1_000);
        earlier.write(&Sink::Store(&store), 0..10).await.unwrap();
        // 60 more from the same 90 ids, in batches of 16: within a batch, across batches
        // and against the earlier run's ids, collisions are certain.
        let mut run = Seeder::new(&ids, 3, 2_000);
        for start in (0..60).step_by(16) {
            run.write(&Sink::Sqlite(&store), start..(start + 16).min(60))
                .await
                .unwrap();
        }
        assert_eq!(
            store.count_all().await.unwrap(),
            70,
            "every key pair was written"
        );
        let all = store.scan(None, 100).await.unwrap();
        let distinct: HashSet<_> = all.iter().map(|kp| kp.id.clone()).collect();
        assert_eq!(distinct.len(), 70, "no id twice");
    }

    #[tokio::test]
    async fn a_used_up_id_space_is_reported_not_looped_on() {
        let store = Sqlite::open_in_memory().await.unwrap();
        let ids = SmallSpace(Mutex::new(7), 5);
        let mut run = Seeder::new(&ids, 1, 1);
        let e = run.write(&Sink::Sqlite(&store), 0..6).await.unwrap_err();
        assert!(e.contains("nearly used up"), "{e}");
    }
}
