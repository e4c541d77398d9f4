//! Key generation off the async workers: a `KeyGenerator` wrapper that runs the inner
//! generator on tokio's blocking pool, so a request waiting for a key never stalls the
//! threads that serve other requests.

use async_trait::async_trait;
use keypair_core::{Error, GeneratedKey, KeyGenerator};
use std::sync::Arc;

/// Runs an inner (blocking) generator on `spawn_blocking`.
pub struct OffloadedKeyGenerator(Arc<dyn KeyGenerator>);

impl OffloadedKeyGenerator {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn KeyGenerator>) -> Self {
        OffloadedKeyGenerator(inner)
    }
}

#[async_trait]
impl KeyGenerator for OffloadedKeyGenerator {
    async fn generate(&self) -> keypair_core::Result<GeneratedKey> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || futures::executor::block_on(inner.generate()))
            .await
            .map_err(|e| Error::KeyGeneration(format!("the key generation task failed: {e}")))?
    }
}
