//! The embedded default [`KeyPairStore`](keypair_core::KeyPairStore): one SQLite file.
//!
//! Why `rusqlite` (bundled) rather than `sqlx`: the store's work is short synchronous
//! transactions, and rusqlite gives direct control of the things that matter for them —
//! `BEGIN IMMEDIATE`, the busy timeout, WAL, prepared-statement caching — with SQLite
//! compiled in, so the binary needs no system library.
//!
//! The store runs under any executor (tokio, smol, `futures`' executors): every blocking
//! call runs on threads the store owns, one connection each: readers
//! (`max_connections`, default 4: more readers than cores only add page caches and
//! allocator arenas) and, for a file, one writer that commits the writes waiting for it
//! in groups (the `writer` module: SQLite has one writer at a time), each fed by a
//! bounded queue ([`QUEUE_LIMIT`]); the caller's task only awaits a runtime-agnostic
//! one-shot channel. When the last clone of the store is dropped, the
//! threads finish the operation they are running, close their connections (the last
//! close checkpoints the WAL into the database file) and are joined, so a process that
//! drops its store before exiting leaves a complete database file.
//!
//! - Schema migrations are versioned (`schema_version`) and applied on open; a database
//!   written by a newer version is refused with [`OpenError::NewerSchema`].
//! - WAL journal, `foreign_keys` on, a 5 s busy timeout (writers wait, they do not fail
//!   with "database is locked"), `synchronous = FULL` by default: a transaction is on disk
//!   when the call returns.
//! - Every write runs the shared SQL logic of `keypair-sql` in a `BEGIN IMMEDIATE`
//!   transaction (a savepoint of its own within a group's), so its checks and writes
//!   are atomic against every other connection and process.

mod schema;
mod writer;

use async_trait::async_trait;
use futures_channel::oneshot;
use keypair_core::{KeyPair, StoreError};
use keypair_sql::{Dialect, Executor, Operation, Row, SqlStore, Tx, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use schema::SCHEMA_VERSION;

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Most operations waiting for a connection thread. Past it an operation fails at once
/// with a "busy" backend error instead of queueing without bound; the HTTP adapter's
/// in-flight cap keeps keypaird below it.
pub const QUEUE_LIMIT: usize = 4096;

/// What to do about an error SQLite gives when opening a file, for the message.
fn hint(e: &rusqlite::Error) -> &'static str {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::CannotOpen) => {
            "; check that this user may create and write files in its directory"
        }
        Some(rusqlite::ErrorCode::NotADatabase) => {
            "; the file is not a SQLite database: give the path of a keypaird database or of a new file"
        }
        Some(rusqlite::ErrorCode::ReadOnly) => {
            "; the file or its directory is read-only for this user"
        }
        _ => "",
    }
}

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The directory the file would be in does not exist: SQLite creates the file, not
    /// its directories.
    #[error("opening SQLite database {path}: the directory {dir} does not exist; create it (mkdir -p {dir}) or give a path in an existing directory")]
    MissingDirectory {
        /// The file.
        path: String,
        /// The missing directory.
        dir: String,
    },
    /// SQLite refused (permissions, not a database, …).
    #[error("opening SQLite database {path}: {source}{}", hint(.source))]
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
    /// Another process holds the file's owner lock (`SqliteOptions::owner`).
    #[error("SQLite database {path} is in use by another process ({holder}): one process at a time may serve or write a keypaird database, because a server answers reads from memory and would not see another's writes; stop that process, or give this one another file")]
    Owned {
        /// The file.
        path: String,
        /// Who holds it, as it wrote in the lock file.
        holder: String,
    },
    /// The store's threads could not start or stopped during the open.
    #[error("opening SQLite database {path}: {source}")]
    Worker {
        /// The file.
        path: String,
        /// What happened.
        source: StoreError,
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

/// Options for [`Sqlite::open_with`].
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Commit durability.
    pub synchronous: Synchronous,
    /// Connections, each on a thread of the store's own (at least one).
    pub max_connections: usize,
    /// Pages the write-ahead log may hold before a commit checkpoints it into the
    /// database file; `None` keeps SQLite's 1,000 (4 MB). A bulk load wants more: each
    /// of its batches dirties index pages all over the file, and a checkpoint after
    /// every batch copies each page once per batch instead of once per several. The WAL
    /// file grows to about this many pages (4 KiB each) plus one batch.
    pub wal_autocheckpoint_pages: Option<u32>,
    /// Take the file's owner lock (an exclusive `flock` of `PATH-owner`, which records
    /// this process id and this text) for as long as the store is open, and refuse to
    /// open with [`OpenError::Owned`] while another process holds it: for a process that
    /// must be the file's only writer (a server with a read model of it, a migration
    /// into it). `None` (the default) takes no lock, so backups and exports read a file
    /// a server owns. Ignored for `:memory:`.
    pub owner: Option<String>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            max_connections: 4,
            wal_autocheckpoint_pages: None,
            owner: None,
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
        if let Some(pages) = self.options.wal_autocheckpoint_pages {
            conn.pragma_update(None, "wal_autocheckpoint", i64::from(pages))?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// The thread's connection, opened on first use (and again after a failure).
    fn connection<'c>(
        &self,
        slot: &'c mut Option<Connection>,
    ) -> Result<&'c mut Connection, StoreError> {
        if slot.is_none() {
            *slot = Some(self.connect().map_err(StoreError::backend)?);
        }
        Ok(slot.as_mut().expect("just opened"))
    }
}

/// A unit of blocking work for a connection thread.
type Job = Box<dyn FnOnce(&Pool, &mut Option<Connection>) + Send>;

/// A connection thread: runs jobs on its own connection until the store is dropped.
/// Serves jobs until the store is dropped, then hands its connection back to be closed
/// in turn with the others ([`Threads`]'s `Drop`).
fn connection_thread(pool: Arc<Pool>, jobs: Arc<Mutex<Receiver<Job>>>) -> Option<Connection> {
    let mut conn = None;
    loop {
        let job = match jobs.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return conn, // every sender is gone: the store was dropped
        };
        // A panic inside a job must not take the thread with it; the job's caller sees
        // its reply channel closed. The connection may be mid-transaction, so drop it.
        if std::panic::catch_unwind(AssertUnwindSafe(|| job(&pool, &mut conn))).is_err() {
            conn = None;
        }
    }
}

/// The SQLite store: the shared SQL of `keypair-sql` over [`Sqlite`]. Cheap to clone;
/// clones share the connections. Open one with [`Sqlite::open`].
pub type SqliteStore = SqlStore<Sqlite>;

/// The SQLite executor: the connection threads and their queue. Its own methods (bulk
/// inserts, maintenance) are reached through the store.
#[derive(Clone)]
pub struct Sqlite {
    threads: Arc<Threads>,
    path: Arc<str>,
    /// The owner lock, released when the last clone is dropped.
    _owner: Option<Arc<std::fs::File>>,
}

/// The owner lock file of the database at `path`.
pub fn owner_lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-owner");
    PathBuf::from(name)
}

/// Takes the owner lock of the database at `path` for `who`, or says who holds it.
fn take_owner_lock(path: &Path, who: &str) -> Result<std::fs::File, OpenError> {
    use std::io::{Read, Write};
    let lock = owner_lock_path(path);
    let io = |source: std::io::Error| OpenError::Worker {
        path: path.display().to_string(),
        source: StoreError::backend(format!("the owner lock {}: {source}", lock.display())),
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(OpenError::Owned {
                path: path.display().to_string(),
                holder: if holder.is_empty() {
                    format!("it did not say which; its lock is {}", lock.display())
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    writeln!(file, "pid {}: {who}", std::process::id()).map_err(io)?;
    Ok(file)
}

/// The store's connection threads and the queues that feed them.
struct Threads {
    jobs: Option<SyncSender<Job>>,
    /// The writer's queue ([`writer`]); `None` for `:memory:`, whose one connection
    /// does everything (another connection would be another database).
    writes: Option<SyncSender<Box<dyn writer::Write>>>,
    handles: Vec<std::thread::JoinHandle<Option<Connection>>>,
}

impl Drop for Threads {
    fn drop(&mut self) {
        // Closing the queues ends each thread after its current job.
        self.jobs = None;
        self.writes = None;
        let me = std::thread::current().id();
        let mut connections = Vec::new();
        for handle in self.handles.drain(..) {
            if handle.thread().id() != me {
                connections.extend(handle.join().ok().flatten());
            }
        }
        // Closed one after another, here: the last close checkpoints the WAL into the
        // database file only if no other connection is open at that moment, and threads
        // closing their connections at once could each see another still open.
        for conn in connections {
            drop(conn);
        }
    }
}

impl Sqlite {
    /// Opens (creating if needed) the database file at `path` with default options and
    /// brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, OpenError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// Opens a file with options.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<SqliteStore, OpenError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(OpenError::MissingDirectory {
                    path: path.display().to_string(),
                    dir: dir.display().to_string(),
                });
            }
        }
        let owner = match &options.owner {
            Some(who) => Some(Arc::new(take_owner_lock(path, who)?)),
            None => None,
        };
        let target = Target::File(path.to_path_buf());
        let mut store = Self::start(target, options).await?;
        store._owner = owner;
        Ok(SqlStore::new(store))
    }

    /// A private in-memory database, gone when the store is dropped.
    pub async fn open_in_memory() -> Result<SqliteStore, OpenError> {
        let options = SqliteOptions {
            max_connections: 1,
            ..SqliteOptions::default()
        };
        Self::start(Target::Memory, options)
            .await
            .map(SqlStore::new)
    }

    async fn start(target: Target, options: SqliteOptions) -> Result<Self, OpenError> {
        let threads = options.max_connections.max(1);
        let pool = Arc::new(Pool { target, options });
        let path: Arc<str> = pool.describe().into();
        let (jobs, queue) = sync_channel::<Job>(QUEUE_LIMIT);
        let queue = Arc::new(Mutex::new(queue));
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let (pool, queue) = (pool.clone(), queue.clone());
            let handle = std::thread::Builder::new()
                .name(format!("keypair-sqlite-{i}"))
                .spawn(move || connection_thread(pool, queue))
                .map_err(|e| OpenError::Worker {
                    path: path.to_string(),
                    source: StoreError::backend(e),
                })?;
            handles.push(handle);
        }
        let writes = match pool.target {
            Target::Memory => None,
            Target::File(_) => {
                let (writes, queue) = sync_channel(QUEUE_LIMIT);
                let pool = pool.clone();
                let handle = std::thread::Builder::new()
                    .name("keypair-sqlite-writer".into())
                    .spawn(move || writer::writer_thread(pool, queue))
                    .map_err(|e| OpenError::Worker {
                        path: path.to_string(),
                        source: StoreError::backend(e),
                    })?;
                handles.push(handle);
                Some(writes)
            }
        };
        let threads = Arc::new(Threads {
            jobs: Some(jobs),
            writes,
            handles,
        });
        let store = Sqlite {
            threads,
            path,
            _owner: None,
        };
        let path = store.path.to_string();
        store
            .run(move |pool, slot| {
                let conn = pool.connection(slot).map_err(MigrateError::Open)?;
                schema::migrate(conn, &path).map_err(MigrateError::Schema)
            })
            .await
            .map_err(|e| store.open_error(e))?
            .map_err(|e| match e {
                MigrateError::Schema(e) => e,
                MigrateError::Open(e) => store.open_error(e),
            })?;
        Ok(store)
    }

    fn open_error(&self, source: StoreError) -> OpenError {
        match source {
            StoreError::Backend(e) => match e.downcast::<rusqlite::Error>() {
                Ok(source) => OpenError::Sqlite {
                    path: self.path.to_string(),
                    source: *source,
                },
                Err(e) => OpenError::Worker {
                    path: self.path.to_string(),
                    source: StoreError::Backend(e),
                },
            },
            other => OpenError::Worker {
                path: self.path.to_string(),
                source: other,
            },
        }
    }

    /// Inserts many key pairs in one transaction, all or none, with the same checks as
    /// `insert` (for bulk imports and preparing benchmarks).
    pub async fn bulk_insert(&self, key_pairs: Vec<KeyPair>, quota: u32) -> Result<(), StoreError> {
        self.blocking(false, move |tx| {
            // Not a bridge to async I/O; see `Executor::execute` for why driving this
            // future here, on a store-owned thread, never parks.
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

    /// Runs `job` on a connection thread and awaits its answer without blocking the
    /// caller's executor.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Pool, &mut Option<Connection>) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |pool, conn| {
            let _ = tx.send(job(pool, conn));
        });
        let jobs = self
            .threads
            .jobs
            .as_ref()
            .ok_or_else(|| self.queue_error(false))?;
        jobs.try_send(job)
            .map_err(|e| self.queue_error(matches!(e, TrySendError::Full(_))))?;
        rx.await.map_err(|_| self.no_answer())
    }

    /// Queues `f` for the writer and awaits its answer.
    async fn write<T: Send + 'static>(
        &self,
        writes: &SyncSender<Box<dyn writer::Write>>,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        writes
            .try_send(Box::new(writer::Pending::new(f, tx)))
            .map_err(|e| self.queue_error(matches!(e, TrySendError::Full(_))))?;
        rx.await.map_err(|_| self.no_answer())?
    }

    fn queue_error(&self, full: bool) -> StoreError {
        if full {
            StoreError::backend(format!(
                "the SQLite store {} has {QUEUE_LIMIT} operations waiting; retry shortly",
                self.path
            ))
        } else {
            StoreError::backend(format!("the SQLite store {} has stopped", self.path))
        }
    }

    fn no_answer(&self) -> StoreError {
        StoreError::backend(format!(
            "an operation on the SQLite store {} failed without an answer",
            self.path
        ))
    }

    /// Runs `f` with the connection of a store thread.
    async fn with_connection<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(move |pool, slot| pool.connection(slot).and_then(f))
            .await?
    }

    /// Runs `f` in one transaction on a store thread: deferred for reads,
    /// `BEGIN IMMEDIATE` for writes; committed on `Ok`, rolled back on `Err`. A write to
    /// a file goes to the writer, which commits it with the others waiting ([`writer`]).
    async fn blocking<T: Send + 'static>(
        &self,
        read_only: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if let (false, Some(writes)) = (read_only, &self.threads.writes) {
            return self.write(writes, f).await;
        }
        self.with_connection(move |conn| {
            let begin = if read_only {
                "BEGIN DEFERRED"
            } else {
                "BEGIN IMMEDIATE"
            };
            // Through the statement cache: parsed once per connection, not per operation.
            let run = |conn: &Connection, sql: &str| {
                conn.prepare_cached(sql)
                    .and_then(|mut s| s.execute([]))
                    .map(drop)
            };
            run(conn, begin).map_err(StoreError::backend)?;
            let result = f(&mut SqliteTx { conn });
            let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
            match (run(conn, end), result) {
                (Ok(()), result) => result,
                (Err(e), Ok(_)) => {
                    // A failed COMMIT leaves the transaction open; close it so the
                    // connection can be reused.
                    let _ = run(conn, "ROLLBACK");
                    Err(StoreError::backend(e))
                }
                (Err(_), Err(original)) => Err(original),
            }
        })
        .await
    }
}

#[async_trait]
impl Executor for Sqlite {
    /// Readiness checks the database file itself with a new read-only connection (and
    /// no create): the store's own connections keep working on open file descriptors
    /// after the file is moved or lost, so only a fresh open sees that.
    async fn ready(&self) -> Result<(), StoreError> {
        self.run(|pool, _| match &pool.target {
            Target::Memory => Ok(()),
            Target::File(path) => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(path, flags).map_err(StoreError::backend)?;
                conn.busy_timeout(BUSY_TIMEOUT)
                    .map_err(StoreError::backend)?;
                conn.query_row("SELECT count(*) FROM schema_version", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(drop)
                .map_err(StoreError::backend)
            }
        })
        .await?
    }

    async fn execute<O: Operation>(&self, op: O) -> Result<O::Output, StoreError> {
        self.blocking(O::READ_ONLY, move |tx| {
            // Not a bridge to async I/O: the shared SQL logic is written as async so the
            // PostgreSQL driver can await, but `SqliteTx` never returns `Pending` (each
            // call runs to completion on this store-owned thread), so this drives the
            // future straight through without ever parking.
            futures::executor::block_on(op.run(tx))
        })
        .await
    }
}

/// Why the open-time migration failed, before it is turned into an [`OpenError`].
enum MigrateError {
    Open(StoreError),
    Schema(OpenError),
}

/// A transaction on a connection; `blocking` (or the writer) begins and ends it.
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
