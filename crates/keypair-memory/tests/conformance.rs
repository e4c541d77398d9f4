//! The shared store conformance suite, run against the in-memory store on a multi-thread
//! tokio runtime, on tokio's current-thread runtime, and with no tokio at all.

use keypair_memory::MemoryStore;
use std::sync::Arc;

keypair_core::store_conformance!(async { Arc::new(MemoryStore::new()) });

mod tokio_current_thread {
    use super::*;
    keypair_core::store_conformance!(current_thread: async { Arc::new(MemoryStore::new()) });
}

mod futures_executor {
    use super::*;
    keypair_core::store_conformance!(futures: async { Arc::new(MemoryStore::new()) });
}
