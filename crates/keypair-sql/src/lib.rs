//! The store logic the relational adapters share: the `KeyPairStore` contract written
//! once in SQL, over a minimal transaction trait ([`Tx`]) that `keypair-sqlite` and
//! `keypair-postgres` implement for their drivers.
//!
//! The adapter owns the transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL:
//! `SERIALIZABLE` with retries), so every function here runs inside one transaction and
//! its checks and writes are atomic together. The schema constraints (unique id, unique
//! (account, product, name) and (account, product, fingerprint)) back them up.
//!
//! SQL is written with `$n` placeholders; the SQLite transaction rewrites them to `?n`.
//!
//! Tables: `key_pairs`, `key_pair_tags`, `key_pair_instances`, `scope_counts` (the number
//! of key pairs per (account, product), so the quota check is one row read).

mod exec;
mod ops;
mod tx;

pub use exec::{
    Associate, CountAll, Delete, Describe, Disassociate, Executor, Get, Insert, Load, Operation,
    Purge, Scan, ScopeAll, SqlStore, Update,
};
pub use ops::{
    associate, count_all, delete, disassociate, get, insert, load_checked, load_fast,
    needs_checked_load, purge, query, scan, scope_all, update, NeedsCheckedLoad,
};
pub use tx::{Dialect, Row, Tx, Value};
