//! Every store behind one URL — `memory`, `sqlite:PATH`, `sqlite::memory:`,
//! `postgres://…` — and the one function that opens the store a URL names, for serving
//! ([`StoreUrl::open`], with a fleet's shared admission ports on PostgreSQL, and
//! [`StoreUrl::open_to_serve`], which adds the read model where it is sound) or for a
//! bulk transfer ([`StoreUrl::open_for_transfer`]). keypaird takes every store through
//! here; an embedder that wants its configuration to name a store can too.
//!
//! Where the read model ([`keypair_core::ReadModel`]) goes: over a SQLite file, whose
//! owner lock makes this process its only writer, and over `sqlite::memory:`. Not over
//! `memory`, which is its own read model, and not over PostgreSQL, which several servers
//! share: a view held here could not see another server's writes, and a write must be
//! visible to the next read on every server (docs/api.md says why reads there stay
//! uncached).

use keypair_core::{KeyPairStore, NonceLedger, RateCounter};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// WAL pages between checkpoints while a transfer writes into SQLite: 100,000 pages, so
/// the log grows to about 400 MB plus one batch before it is copied into the database.
/// Checkpointing after every batch (SQLite's default of 1,000 pages) copied each index
/// page once per batch; this took about 11% less time at 1,000,000 key pairs
/// (docs/benchmarks.md).
pub const TRANSFER_WAL_PAGES: u32 = 100_000;

/// Default of [`StoreUrl::open_to_serve`]'s read model bound: key pairs held in memory
/// (about 1 KiB each).
pub const DEFAULT_READ_MODEL_KEY_PAIRS: usize = 1_000_000;

/// Where key pairs are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `memory`: in this process only, gone at exit.
    Memory,
    /// `sqlite::memory:`: SQLite in memory, gone at exit.
    SqliteMemory,
    /// `sqlite:PATH`: a SQLite file, created if missing. `sqlite:PATH?synchronous=normal`
    /// trades durability on power loss (not on a process crash) for write throughput.
    Sqlite {
        /// The file.
        path: PathBuf,
        /// Commit durability.
        synchronous: keypair_sqlite::Synchronous,
    },
    /// `postgres://…` or `postgresql://…`, or the key-value form `host=… dbname=…`: a
    /// PostgreSQL database, possibly several hosts with `target_session_attrs=read-write`
    /// for failover.
    Postgres(String),
}

/// A store opened for serving, with where its servers keep nonces and rate counts.
pub struct OpenedStore {
    /// The key pairs.
    pub store: Arc<dyn KeyPairStore>,
    /// For a database several servers can share (PostgreSQL), the fleet-wide nonce
    /// ledger and rate counter; `None` keeps both in this process.
    pub shared_admission: Option<(Arc<dyn NonceLedger>, Arc<dyn RateCounter>)>,
}

/// A string that is not a store URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid store URL {given:?}: {reason}; use `memory`, `sqlite:PATH`, `sqlite::memory:` or `postgres://user:password@host:port/database`")]
pub struct InvalidStoreUrl {
    /// What was given (with any password hidden).
    pub given: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenStoreError {
    /// The SQLite file could not be opened or migrated.
    #[error(transparent)]
    Sqlite(#[from] keypair_sqlite::OpenError),
    /// The PostgreSQL database could not be reached or migrated.
    #[error(transparent)]
    Postgres(#[from] keypair_postgres::ConnectError),
}

impl FromStr for StoreUrl {
    type Err = InvalidStoreUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| InvalidStoreUrl {
            given: redact(s),
            reason,
        };
        if s == "memory" {
            return Ok(StoreUrl::Memory);
        }
        let key_value = s.starts_with("host=") || s.contains(" host=");
        if s.starts_with("postgres://") || s.starts_with("postgresql://") || key_value {
            return Ok(StoreUrl::Postgres(s.to_owned()));
        }
        if let Some(rest) = s.strip_prefix("sqlite:") {
            if rest == ":memory:" {
                return Ok(StoreUrl::SqliteMemory);
            }
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(invalid("the SQLite path is empty"));
            }
            let synchronous = match query {
                "" | "synchronous=full" => keypair_sqlite::Synchronous::Full,
                "synchronous=normal" => keypair_sqlite::Synchronous::Normal,
                _ => {
                    return Err(invalid(
                        "the only SQLite option is ?synchronous=full or ?synchronous=normal",
                    ))
                }
            };
            return Ok(StoreUrl::Sqlite {
                path: PathBuf::from(path),
                synchronous,
            });
        }
        Err(invalid("unknown scheme"))
    }
}

/// The URL with any password replaced by `***`, for logs and messages.
fn redact(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return redact_key_value(s);
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            let slash = if rest.contains('/') { "/" } else { "" };
            format!("{scheme}://{hidden}@{host}{slash}{tail}")
        }
        None => s.to_owned(),
    }
}

/// A key-value connection string with its `password=` value hidden (values with spaces
/// are single-quoted in that form, so a quoted password is hidden to its closing quote).
fn redact_key_value(s: &str) -> String {
    let Some(at) = s.find("password=") else {
        return s.to_owned();
    };
    let value = &s[at + "password=".len()..];
    let end = if let Some(quoted) = value.strip_prefix('\'') {
        quoted.find('\'').map_or(value.len(), |i| i + 2)
    } else {
        value.find(' ').unwrap_or(value.len())
    };
    format!("{}password=***{}", &s[..at], &value[end..])
}

impl fmt::Display for StoreUrl {
    /// The URL as a user wrote it, password hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Memory => f.write_str("memory"),
            StoreUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            StoreUrl::Sqlite { path, synchronous } => {
                write!(f, "sqlite:{}", path.display())?;
                if *synchronous == keypair_sqlite::Synchronous::Normal {
                    f.write_str("?synchronous=normal")?;
                }
                Ok(())
            }
            StoreUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

impl StoreUrl {
    /// Opens the store this URL names for serving, applying schema migrations.
    pub async fn open(&self) -> Result<OpenedStore, OpenStoreError> {
        self.open_with(keypair_sqlite::SqliteOptions::default())
            .await
    }

    /// Opens the store for a server that answers reads from a read model of at most
    /// `read_model_key_pairs` key pairs where that is sound (see the crate docs); `0`
    /// turns it off, `None` holds [`DEFAULT_READ_MODEL_KEY_PAIRS`]. A SQLite file is then owned: `who` (for example `keypaird serve`)
    /// takes its owner lock, and a second server on the file is refused with a message
    /// naming the file and this process.
    pub async fn open_to_serve(
        &self,
        read_model_key_pairs: Option<usize>,
        who: &str,
    ) -> Result<OpenedStore, OpenStoreError> {
        let read_model_key_pairs = read_model_key_pairs.unwrap_or(DEFAULT_READ_MODEL_KEY_PAIRS);
        let modelled = read_model_key_pairs > 0
            && matches!(self, StoreUrl::Sqlite { .. } | StoreUrl::SqliteMemory);
        if !modelled {
            return self.open().await;
        }
        let sqlite = keypair_sqlite::SqliteOptions {
            owner: Some(who.to_owned()),
            ..keypair_sqlite::SqliteOptions::default()
        };
        let mut opened = self.open_with(sqlite).await?;
        opened.store = Arc::new(keypair_core::ReadModel::new(
            opened.store,
            read_model_key_pairs,
        ));
        Ok(opened)
    }

    /// Opens the store for a bulk transfer, which runs one operation at a time: one
    /// SQLite connection, so one thread (and one allocator arena) holds its batches, and
    /// a write-ahead log checkpointed every [`TRANSFER_WAL_PAGES`] pages. A transfer
    /// that writes (`writer`, for example `keypaird import`) owns a SQLite file while it
    /// runs, so it is refused while a server serves the file; one that only reads is not.
    pub async fn open_for_transfer(
        &self,
        writer: Option<&str>,
    ) -> Result<Arc<dyn KeyPairStore>, OpenStoreError> {
        let sqlite = keypair_sqlite::SqliteOptions {
            max_connections: 1,
            wal_autocheckpoint_pages: Some(TRANSFER_WAL_PAGES),
            owner: writer.map(str::to_owned),
            ..keypair_sqlite::SqliteOptions::default()
        };
        Ok(self.open_with(sqlite).await?.store)
    }

    /// The store, and for PostgreSQL its fleet-wide admission ports (their pool opens no
    /// connection until one is used). `sqlite` applies to a SQLite file, but for the
    /// durability its URL names.
    async fn open_with(
        &self,
        sqlite: keypair_sqlite::SqliteOptions,
    ) -> Result<OpenedStore, OpenStoreError> {
        let store: Arc<dyn KeyPairStore> = match self {
            StoreUrl::Memory => Arc::new(keypair_memory::MemoryStore::new()),
            StoreUrl::SqliteMemory => Arc::new(keypair_sqlite::Sqlite::open_in_memory().await?),
            StoreUrl::Sqlite { path, synchronous } => {
                let options = keypair_sqlite::SqliteOptions {
                    synchronous: *synchronous,
                    ..sqlite
                };
                Arc::new(keypair_sqlite::Sqlite::open_with(path, options).await?)
            }
            StoreUrl::Postgres(url) => {
                let store = keypair_postgres::Postgres::connect(url).await?;
                let admission = Arc::new(store.admission()?);
                return Ok(OpenedStore {
                    store: Arc::new(store),
                    shared_admission: Some((admission.clone(), admission)),
                });
            }
        };
        Ok(OpenedStore {
            store,
            shared_admission: None,
        })
    }

    /// The kind of store, `memory`, `sqlite` or `postgres`: what an export names as its
    /// source. Never the URL itself, which may hold a password.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreUrl::Memory => "memory",
            StoreUrl::SqliteMemory | StoreUrl::Sqlite { .. } => "sqlite",
            StoreUrl::Postgres(_) => "postgres",
        }
    }

    /// Load transactions a migration runs at once into a store of this kind
    /// (`keypair_transfer::migrate`'s `lanes`). PostgreSQL
    /// runs each transaction on one server process, so one lane keeps one server core busy
    /// (index maintenance is most of a bulk load's cost there) while the others idle. On the
    /// 2-core benchmark machine, loading one 1,000,000-key store took 18.2 s with two lanes
    /// and 27.7 s with one (docs/benchmarks.md has the benchmark runs).
    /// SQLite has one writer, and each extra transaction is one more commit rewriting the
    /// batch's index pages; memory is bound by this process's own CPU.
    pub fn load_lanes(&self) -> usize {
        match self {
            StoreUrl::Postgres(_) => 2,
            StoreUrl::Memory | StoreUrl::SqliteMemory | StoreUrl::Sqlite { .. } => 1,
        }
    }

    /// For a SQLite file, its path.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            StoreUrl::Sqlite { path, .. } => Some(path.clone()),
            _ => None,
        }
    }

    /// For a SQLite file, the directory it lives in (where the credentials file goes).
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        match self {
            StoreUrl::Sqlite { path, .. } => {
                Some(path.parent().map(PathBuf::from).unwrap_or_default())
            }
            _ => None,
        }
    }
}

/// Removes a SQLite database and its write-ahead log, shared-memory and owner lock files:
/// what a start or an import that created them leaves behind when it fails.
pub fn remove_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-owner"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("memory".parse(), Ok(StoreUrl::Memory));
        assert_eq!("sqlite::memory:".parse(), Ok(StoreUrl::SqliteMemory));
        let sqlite = |p: &str, synchronous| StoreUrl::Sqlite {
            path: p.into(),
            synchronous,
        };
        use keypair_sqlite::Synchronous::{Full, Normal};
        assert_eq!(
            "sqlite:keypaird.db".parse(),
            Ok(sqlite("keypaird.db", Full))
        );
        assert_eq!(
            "sqlite:///var/lib/k.db".parse(),
            Ok(sqlite("/var/lib/k.db", Full))
        );
        let normal: StoreUrl = "sqlite:k.db?synchronous=normal".parse().unwrap();
        assert_eq!(normal, sqlite("k.db", Normal));
        assert_eq!(normal.to_string(), "sqlite:k.db?synchronous=normal");
        assert!("sqlite:k.db?cache=huge".parse::<StoreUrl>().is_err());
        let pg = "postgres://u:secret@db:5432/keys";
        assert_eq!(pg.parse(), Ok(StoreUrl::Postgres(pg.into())));
        assert!("postgresql://db/keys".parse::<StoreUrl>().is_ok());
        let fleet = "postgres://u@a:5432,b:5433/keys?target_session_attrs=read-write";
        assert_eq!(fleet.parse(), Ok(StoreUrl::Postgres(fleet.into())));
        let kv = "host=a,b port=5432,5433 user=u dbname=keys target_session_attrs=read-write";
        assert_eq!(kv.parse(), Ok(StoreUrl::Postgres(kv.into())));
    }

    #[test]
    fn hides_key_value_passwords() {
        let url: StoreUrl = "host=a password=s3cret user=u".parse().unwrap();
        assert_eq!(url.to_string(), "host=a password=*** user=u");
        let quoted: StoreUrl = "host=a password='s3 cret' user=u".parse().unwrap();
        assert_eq!(quoted.to_string(), "host=a password=*** user=u");
    }

    #[test]
    fn names_its_kind_without_the_url() {
        // An export writes the kind into its header: a password must not ride along.
        let kinds = [
            ("memory", "memory"),
            ("sqlite::memory:", "sqlite"),
            ("sqlite:k.db?synchronous=normal", "sqlite"),
            ("postgres://u:s3cret@db/keys", "postgres"),
            ("host=a password=s3cret user=u", "postgres"),
        ];
        for (given, kind) in kinds {
            assert_eq!(given.parse::<StoreUrl>().unwrap().kind(), kind, "{given}");
        }
    }

    #[test]
    fn rejects_nonsense_without_leaking_passwords() {
        let e = "mysql://u:secret@db/keys".parse::<StoreUrl>().unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.to_string().contains("sqlite:PATH"), "{e}");
        assert!("sqlite:".parse::<StoreUrl>().is_err());
        assert!("".parse::<StoreUrl>().is_err());
        let url: StoreUrl = "postgres://u:secret@db:5432/keys".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://u:***@db:5432/keys");
        assert!(!format!("{url:?}").contains("secret"));
    }
}
