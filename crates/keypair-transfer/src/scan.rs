//! The cursor every transfer walks: a store read in key-id order, a batch at a time.

use crate::BATCH;
use keypair_core::{KeyId, KeyPair, KeyPairStore, StoreError};

/// A store read in key-id order, a batch of [`BATCH`] at a time: the cursor every
/// transfer walks.
pub(crate) struct Batches<'s> {
    store: &'s dyn KeyPairStore,
    cursor: Option<KeyId>,
    done: bool,
}

impl<'s> Batches<'s> {
    pub(crate) fn new(store: &'s dyn KeyPairStore) -> Self {
        Batches {
            store,
            cursor: None,
            done: false,
        }
    }

    /// The next batch; empty once the store has been read to its end.
    pub(crate) async fn next(&mut self) -> Result<Vec<KeyPair>, StoreError> {
        if self.done {
            return Ok(Vec::new());
        }
        let batch = self.store.scan(self.cursor.as_ref(), BATCH).await?;
        match batch.last() {
            Some(last) => self.cursor = Some(last.id.clone()),
            None => self.done = true,
        }
        Ok(batch)
    }
}
