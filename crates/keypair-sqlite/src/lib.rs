//! The embedded default [`KeyPairStore`](keypair_core::KeyPairStore): one SQLite file.
//!
//! Why `rusqlite` (bundled) rather than `sqlx`: the store's work is short synchronous
//! transactions, and rusqlite gives direct control of the things that matter for them —
//! `BEGIN IMMEDIATE`, the busy timeout, WAL, prepared-statement caching — with SQLite
//! compiled in, so the binary needs no system library. The blocking calls run on tokio's
//! blocking pool (`spawn_blocking`), never on async worker threads, behind a semaphore
//! that bounds open connections.
//!
//! - Schema migrations are versioned (`schema_version`) and applied on open; a database
//!   written by a newer version is refused with [`OpenError::NewerSchema`].
//! - WAL journal, `foreign_keys` on, a 5 s busy timeout (writers wait, they do not fail
//!   with "database is locked"), `synchronous = FULL` by default: a transaction is on disk
//!   when the call returns.
//! - Every write is one `BEGIN IMMEDIATE` transaction running the shared SQL logic of
//!   `keypair-sql`, so its checks and writes are atomic against every other connection
//!   and process.

mod schema;

use async_trait::async_trait;
use keypair_core::{KeyPair, StoreError};
use keypair_sql::{Dialect, Executor, Op, Out, Row, Tx, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

pub use schema::SCHEMA_VERSION;

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// SQLite refused (missing directory, permissions, not a database, …).
    #[error("opening SQLite database {path}: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer keypair with a schema this version does not know.
    #[error("SQLite database {path} has schema version {found}, but this keypair supports up to {supported}; upgrade keypair or restore a backup")]
    NewerSchema {
        /// The file.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The blocking open task failed.
    #[error("opening SQLite database {path}: {reason}")]
    Task {
        /// The file.
        path: String,
        /// What happened.
        reason: String,
    },
}

/// How hard a commit waits for the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync at every commit: nothing acknowledged is lost, even on power loss.
    #[default]
    Full,
    /// fsync at checkpoints: survives a process crash, may lose the last commits on
    /// power loss. Faster.
    Normal,
}

/// Options for [`SqliteStore::open_with`].
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Commit durability.
    pub synchronous: Synchronous,
    /// Most connections open at once (each runs on a blocking thread).
    pub max_connections: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            max_connections: 8,
        }
    }
}

enum Target {
    File(PathBuf),
    /// One private in-memory database; its single connection is never closed.
    Memory,
}

struct Pool {
    target: Target,
    options: SqliteOptions,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    fn describe(&self) -> String {
        match &self.target {
            Target::File(p) => p.display().to_string(),
            Target::Memory => ":memory:".into(),
        }
    }

    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        let conn = match &self.target {
            Target::File(path) => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
            Target::Memory => Connection::open_in_memory()?,
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        debug_assert!(mode.eq_ignore_ascii_case("wal") || mode.eq_ignore_ascii_case("memory"));
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let sync = match self.options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .map_err(|_| StoreError::backend("connection pool poisoned"))?
            .pop();
        match idle {
            Some(c) => Ok(c),
            None => self.connect().map_err(StoreError::backend),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }
}

/// A SQLite-backed store. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
    permits: Arc<Semaphore>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` with default options and
    /// brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// Opens a file with options.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<Self, OpenError> {
        Self::start(Target::File(path.as_ref().to_path_buf()), options).await
    }

    /// A private in-memory database, gone when the store is dropped.
    pub async fn open_in_memory() -> Result<Self, OpenError> {
        let options = SqliteOptions {
            max_connections: 1,
            ..SqliteOptions::default()
        };
        Self::start(Target::Memory, options).await
    }

    async fn start(target: Target, options: SqliteOptions) -> Result<Self, OpenError> {
        let permits = options.max_connections.max(1);
        let pool = Arc::new(Pool {
            target,
            options,
            idle: Mutex::new(Vec::new()),
        });
        let p = pool.clone();
        let path = pool.describe();
        tokio::task::spawn_blocking(move || -> Result<(), OpenError> {
            let path = p.describe();
            let sqlite = |source| OpenError::Sqlite {
                path: path.clone(),
                source,
            };
            let mut conn = p.connect().map_err(sqlite)?;
            schema::migrate(&mut conn, &path)?;
            p.give_back(conn);
            Ok(())
        })
        .await
        .map_err(|e| OpenError::Task {
            path,
            reason: e.to_string(),
        })??;
        Ok(SqliteStore {
            pool,
            permits: Arc::new(Semaphore::new(permits)),
        })
    }

    /// Inserts many key pairs in one transaction, all or none, with the same checks as
    /// `insert` (for bulk imports and preparing benchmarks).
    pub async fn bulk_insert(&self, key_pairs: Vec<KeyPair>, quota: u32) -> Result<(), StoreError> {
        self.blocking(false, move |tx| {
            futures::executor::block_on(async {
                for kp in &key_pairs {
                    keypair_sql::insert(tx, kp, quota).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Runs `PRAGMA integrity_check` and returns its verdict (`"ok"` when sound).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        self.with_connection(|conn| {
            conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
                .map_err(StoreError::backend)
        })
        .await
    }

    /// Refreshes the query planner's statistics; worth running after bulk loads.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        self.with_connection(|conn| {
            conn.execute_batch("ANALYZE; PRAGMA optimize;")
                .map_err(StoreError::backend)
        })
        .await
    }

    async fn with_connection<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(StoreError::backend)?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.take()?;
            let result = f(&mut conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(StoreError::backend)?
    }

    /// Runs `f` in one transaction on a blocking thread: deferred for reads,
    /// `BEGIN IMMEDIATE` for writes; committed on `Ok`, rolled back on `Err`.
    async fn blocking<T: Send + 'static>(
        &self,
        read_only: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.with_connection(move |conn| {
            let begin = if read_only {
                "BEGIN DEFERRED"
            } else {
                "BEGIN IMMEDIATE"
            };
            conn.execute_batch(begin).map_err(StoreError::backend)?;
            let result = f(&mut SqliteTx { conn });
            let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
            match (conn.execute_batch(end), result) {
                (Ok(()), result) => result,
                (Err(e), Ok(_)) => {
                    // A failed COMMIT leaves the transaction open; close it so the
                    // connection can be reused.
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(StoreError::backend(e))
                }
                (Err(_), Err(original)) => Err(original),
            }
        })
        .await
    }
}

#[async_trait]
impl Executor for SqliteStore {
    async fn execute(&self, op: Op) -> Result<Out, StoreError> {
        self.blocking(op.is_read_only(), move |tx| {
            futures::executor::block_on(keypair_sql::apply(tx, &op))
        })
        .await
    }
}

keypair_sql::impl_key_pair_store!(SqliteStore);

/// A transaction on a connection; `blocking` begins and ends it.
struct SqliteTx<'c> {
    conn: &'c mut Connection,
}

struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// `$n` placeholders to SQLite's `?n`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn column(v: ValueRef<'_>) -> Result<Value, StoreError> {
    match v {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(i) => Ok(Value::Int(i)),
        ValueRef::Text(t) => String::from_utf8(t.to_vec())
            .map(Value::Text)
            .map_err(StoreError::backend),
        other => Err(StoreError::backend(format!(
            "unexpected column type {:?}",
            other.data_type()
        ))),
    }
}

#[async_trait]
impl Tx for SqliteTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_sql(sql))
            .map_err(StoreError::backend)?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter().map(Param)))
            .map_err(StoreError::backend)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(StoreError::backend)? {
            let values = (0..n)
                .map(|i| row.get_ref(i).map_err(StoreError::backend).and_then(column))
                .collect::<Result<_, _>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_sql(sql))
            .map_err(StoreError::backend)?;
        let changed = stmt
            .execute(rusqlite::params_from_iter(params.iter().map(Param)))
            .map_err(StoreError::backend)?;
        Ok(changed as u64)
    }
}
