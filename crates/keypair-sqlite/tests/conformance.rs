//! The shared store conformance suite, run against SQLite: a real file in a temporary
//! directory, and `:memory:`; on a multi-thread tokio runtime, on tokio's current-thread
//! runtime, and under `futures::executor::block_on` with no tokio at all (the store runs
//! its blocking work on threads of its own).

use keypair_sqlite::{Sqlite, SqliteStore};
use std::sync::Arc;

/// A store on a fresh file under cargo's per-target scratch directory.
async fn file_store() -> Arc<SqliteStore> {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir")
        .keep();
    Arc::new(Sqlite::open(dir.join("keys.db")).await.expect("open"))
}

async fn memory_store() -> Arc<SqliteStore> {
    Arc::new(Sqlite::open_in_memory().await.expect("open"))
}

mod file {
    keypair_core::store_conformance!(super::file_store());
}

mod memory {
    keypair_core::store_conformance!(super::memory_store());
}

mod file_tokio_current_thread {
    keypair_core::store_conformance!(current_thread: super::file_store());
}

mod file_futures_executor {
    keypair_core::store_conformance!(futures: super::file_store());
}

mod memory_futures_executor {
    keypair_core::store_conformance!(futures: super::memory_store());
}

/// The read model over a file, as `keypaird serve` runs it.
async fn read_model_store() -> Arc<keypair_core::ReadModel> {
    Arc::new(keypair_core::ReadModel::new(file_store().await, 1_000_000))
}

mod file_read_model {
    keypair_core::store_conformance!(super::read_model_store());
}
