//! The key-pair domain of the Tencent Cloud API 3.0, for CVM (2017-03-12) and Lighthouse
//! (2020-03-24): every rule of the API as pure, runtime-agnostic Rust.
//!
//! The crate knows no HTTP, SQL or async runtime. It talks to the world through small
//! ports, each an object-safe `Send + Sync` trait with a documented contract:
//!
//! | port | what it does | implementations here |
//! |---|---|---|
//! | [`KeyPairStore`] | atomic storage of key pairs | `keypair-memory`, `keypair-sqlite`, `keypair-postgres` crates |
//! | [`KeyGenerator`] | new RSA key pairs, synchronously (CPU work) | [`RsaKeyGenerator`]; `keypair-awslc` |
//! | [`IdGenerator`] | new key ids | [`RandomIds`], [`SequentialIds`] |
//! | [`Clock`] | the time | [`SystemClock`], [`ManualClock`] |
//! | [`ProjectCatalog`] | which CVM projects exist | [`DefaultProjectOnly`], [`StaticProjects`] |
//! | [`InstanceDirectory`] | which instances exist, their state and OS; stops them | [`AnyInstance`] (default), [`StaticInstances`] |
//!
//! Two decorators of the store port sit beside it: [`MeteredStore`] times each
//! operation, and [`ReadModel`] answers reads from each scope's key pairs held in memory
//! (for a store this process alone writes).
//!
//! [`KeyPairService`] holds the use-cases over those ports. Errors are one enum,
//! [`Error`]; mapping them to Tencent error codes is the HTTP adapter's job.
//!
//! ## Executors
//!
//! The crate runs under any executor. Its one async boundary around CPU work is
//! [`KeyPool`]: it owns the threads that call the synchronous [`KeyGenerator`] and hands
//! keys back over a runtime-agnostic channel, so [`KeyPairService::create`] never blocks
//! the caller's executor. The service builds a pool with no reserve by default; give it
//! one with a reserve ([`ServiceBuilder::key_pool`]) for fast bursts.
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `fixtures` | cheap synthetic public keys and records, and a fake key generator (`fixtures` module) |
//! | `testkit` | the store conformance suite, `store_conformance!` and the key-generator conformance (`testkit` module); implies `fixtures`. The macro's tokio forms need `tokio` (`macros`, `rt-multi-thread` or `rt`) in the calling crate; its `futures:` form needs nothing more |
//! | `serde` | serde for [`KeyPair`] through `KeyPairRecord` (plain fields, re-validated through the value types when deserialised): the export format of `keypaird export` |
//! | `proptest` | proptest strategies for valid and invalid names, ids, tags and public keys (`strategies` module); implies `fixtures` |

mod admission;
mod clock;
mod error;
mod id;
mod instance;
mod keygen;
mod metered;
mod model;
mod name;
mod openssh;
mod pool;
mod product;
mod project;
mod query;
mod read_model;
#[cfg(feature = "serde")]
mod record;
mod service;
mod store;
mod tag;
mod text;

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
#[cfg(feature = "proptest")]
pub mod strategies;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use admission::{NonceLedger, NonceVerdict, RateCounter, RateKey};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{error_chain, BoxError, Error, Result};
pub use id::{AccountId, IdGenerator, InstanceId, KeyId, ProjectId, RandomIds, SequentialIds};
pub use instance::{
    binding_decision, Admission, AnyInstance, BindingOp, Busy, Instance, InstanceDirectory,
    InstanceState, OsFamily, RunningInstance, StaticInstances,
};
pub use keygen::{GeneratedKey, KeyBits, KeyGenerator, PrivateKeyPem, RsaKeyGenerator};
pub use metered::{MeteredStore, StoreObserver, STORE_OPERATIONS};
pub use model::{Association, Change, KeyPair, Scope};
pub use name::{Description, KeyName};
pub use openssh::{
    Fingerprint, PublicKey, MAX_COMMENT_CHARS, MAX_PUBLIC_KEY_LEN, MAX_RSA_BITS, MIN_RSA_BITS,
};
pub use pool::{default_workers, KeyPool, PoolStats};
pub use product::{Action, NameMatch, Product, ProductSpec, RepeatedBinding, UnknownProduct};
pub use project::{DefaultProjectOnly, ProjectCatalog, StaticProjects};
pub use query::{
    describe_order, evaluate, page_in_order, parse_key_ids, Filter, Page, Query, RawFilter,
    DEFAULT_LIMIT, MAX_LIMIT,
};
pub use read_model::ReadModel;
#[cfg(feature = "serde")]
pub use record::{AssociationRecord, KeyPairRecord, TagRecord};
pub use service::{
    CreateKeyPair, CreatedKeyPair, DescribeKeyPairs, ImportKeyPair, InstanceBinding,
    KeyPairService, ModifyKeyPairAttribute, RawTag, ServiceBuilder, DEFAULT_QUOTA,
    DEFAULT_USERNAME,
};
pub use store::{
    check_associate, plan_load, KeyPairStore, LoadReport, StoreError, Unbind,
    MAX_BINDINGS_PER_INSTANCE, MAX_BINDINGS_PER_KEY_PAIR,
};
pub use tag::{RepeatedTagKey, Tag, Tags};
