//! The shared store conformance suite, run against the in-memory store.

use keypair_memory::MemoryStore;
use std::sync::Arc;

keypair_core::store_conformance!(async { Arc::new(MemoryStore::new()) });
