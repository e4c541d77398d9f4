//! The shared store conformance suite, run against SQLite: a real file in a temporary
//! directory, and `:memory:`.

use keypair_sqlite::SqliteStore;
use std::sync::Arc;

mod file {
    use super::*;

    keypair_core::store_conformance!(async {
        // Each case gets its own file under cargo's per-target scratch directory.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir")
            .keep();
        Arc::new(SqliteStore::open(dir.join("keys.db")).await.expect("open"))
    });
}

mod memory {
    use super::*;

    keypair_core::store_conformance!(async {
        Arc::new(SqliteStore::open_in_memory().await.expect("open"))
    });
}
