//! Moving key pairs between stores through the `KeyPairStore` port alone, so any two
//! stores work: [`export`] a store as a file, [`import`] one (checked whole first),
//! [`migrate`] from store to store, and [`verify`] that two stores hold the same key
//! pairs. keypaird's `export`, `import` and `migrate` commands and its admin API's
//! snapshot and restore are this crate.
//!
//! **The export format** is JSON Lines, one object a line:
//! 1. a header: `{"format":"keypair-export","version":1,"source":"sqlite","count":N}`;
//! 2. one `KeyPairRecord` a line, in key-id order (the order of `KeyPairStore::scan`);
//! 3. a trailer: `{"trailer":true,"count":N,"digest":"sha256:<hex>"}`, the SHA-256 of
//!    every record line's bytes, each followed by `\n`.
//!
//! Everything streams in batches of [`BATCH`]: memory stays constant whatever the size.
//! An import checks the whole file first (every line within [`MAX_LINE`], every record
//! through the core's value types, the count and the digest), so a damaged or hostile
//! file changes nothing; then it loads in atomic batches. Loading a record that is
//! already there, identical, is a no-op, so running an import or a migration again
//! resumes it and changes nothing once done. How far a transfer got is told to a
//! [`Progress`] of the caller's.

mod error;
mod export;
mod format;
mod import;
mod migrate;
mod progress;
mod scan;

pub use error::TransferError;
pub use export::export;
pub use format::check;
pub use import::{import, load, Open};
pub use migrate::{migrate, verify};
pub use progress::{Progress, Quiet};

/// Key pairs per scan and per load transaction: large batches amortise the index pages a
/// SQLite commit rewrites (2,000 gave 22k key pairs/s into SQLite, 20,000 gives 40k+),
/// and a batch is about 20 MB in memory, two at once while migrating.
pub const BATCH: usize = 20_000;
/// Longest line an import reads, in bytes; a record at every bound is under 100 KB.
pub const MAX_LINE: usize = 1 << 20;
/// The export format's version.
pub const FORMAT_VERSION: u64 = 1;
/// The export format's name, in its header.
pub const FORMAT: &str = "keypair-export";
