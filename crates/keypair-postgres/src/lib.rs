//! A [`KeyPairStore`](keypair_core::KeyPairStore) on PostgreSQL, for running several
//! `keypaird` servers on one database.
//!
//! Built on `tokio-postgres` with a `deadpool` pool. Every write is one
//! `SERIALIZABLE` transaction, every read one `REPEATABLE READ READ ONLY` snapshot, running the shared SQL of `keypair-sql`; when the
//! database aborts it for a serialization failure (SQLSTATE 40001), a deadlock (40P01)
//! or a unique violation raced in by a concurrent writer (23505), the whole operation is
//! retried with a short randomised backoff, and the retry's own checks then report the
//! precise outcome. The SQL is plain — no advisory locks, no PL/pgSQL, no `LOCK TABLE` —
//! so PostgreSQL-compatible distributed databases (CockroachDB, YugabyteDB) accept it.
//!
//! **Failover.** The URL may name several hosts with `target_session_attrs=read-write`
//! (`postgres://u@a:5432,b:5432/keys?target_session_attrs=read-write`, or the key-value
//! form `host=a,b port=5432,5432 … target_session_attrs=read-write`): each new
//! connection goes to whichever host is then the primary. A connection to a lost primary
//! is dropped from the pool when it fails, so once a standby is promoted the store is
//! back within one operation. Until then every operation fails within
//! [`PostgresOptions::operation_timeout`] with a backend error (a retryable internal
//! error on the wire), never a hang: connecting, waiting for a pooled connection and each
//! attempt are all bounded.
//!
//! **Fleets.** [`Postgres::admission`] gives the legacy-nonce ledger and the rate
//! counter on the same database, so several servers refuse each other's replays and share
//! one rate limit ([`admission`]).
//!
//! **Needs a tokio runtime.** `tokio-postgres` drives its connections as tokio tasks and
//! its I/O through tokio's reactor, so this store, unlike the memory and SQLite stores,
//! cannot run under another executor. Called outside a tokio runtime it says so with
//! [`ConnectError::NoTokioRuntime`] (at connect) or a backend error naming the cause (on
//! an operation), never with a panic.

pub mod admission;
#[cfg(feature = "test-server")]
mod pg_bin;
mod schema;
#[cfg(feature = "test-server")]
pub mod test_server;

use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::TryStreamExt;
use keypair_core::StoreError;
use keypair_sql::{Dialect, Executor, Operation, Row, SqlStore, Tx, Value};
use rand_core::{OsRng, RngCore};
use std::error::Error as StdError;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{IsolationLevel, NoTls};

pub use admission::PgAdmission;
pub use schema::SCHEMA_VERSION;

/// Most attempts of one operation before its contention is reported as an error.
const MAX_ATTEMPTS: u32 = 100;

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a valid PostgreSQL connection string.
    #[error("invalid PostgreSQL URL: {0}")]
    Url(String),
    /// The server could not be reached or refused the login.
    #[error("connecting to PostgreSQL: {0}")]
    Connect(String),
    /// Applying the schema failed.
    #[error("migrating the PostgreSQL schema: {0}")]
    Migrate(String),
    /// Called outside a tokio runtime; `tokio-postgres` needs one.
    #[error("the PostgreSQL store needs a tokio runtime (tokio-postgres runs on tokio); call it from inside one")]
    NoTokioRuntime,
    /// The database was written by a newer keypair.
    #[error("the database has schema version {found}, but this keypair supports up to {supported}; upgrade keypair")]
    NewerSchema {
        /// Its version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
}

/// Options for [`Postgres::connect_with`].
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    /// Most pooled connections (16). [`Postgres::admission`] opens a second pool
    /// of the same size for its rate counters.
    pub max_connections: usize,
    /// Longest wait to open one connection, when the URL sets no `connect_timeout` (5 s).
    pub connect_timeout: Duration,
    /// Longest one operation may take, from waiting for a connection to its commit,
    /// retries included (10 s). Past it the operation fails with a backend error.
    pub operation_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(10),
        }
    }
}

/// The operation did not finish within [`PostgresOptions::operation_timeout`].
#[derive(Debug, thiserror::Error)]
#[error("the PostgreSQL operation did not finish within {0:?} (is a primary reachable?)")]
pub struct OperationTimedOut(pub Duration);

/// A pool on `config` bounded in size and in every wait.
fn pool(config: tokio_postgres::Config, options: &PostgresOptions) -> Result<Pool, ConnectError> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(options.max_connections.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(options.operation_timeout))
        .create_timeout(Some(options.connect_timeout))
        .recycle_timeout(Some(options.connect_timeout))
        .build()
        .map_err(|e| ConnectError::Connect(e.to_string()))
}

/// Why a first connection failed and what to do about it, for the start-up message.
/// The pool's own wrapper ("Error occurred while creating a new object") says nothing
/// the user can act on, so the driver's error is reported with a hint by its kind.
fn connect_failure(e: &deadpool_postgres::PoolError, timeout: Duration) -> String {
    use deadpool_postgres::{PoolError, TimeoutType};
    let driver = match e {
        PoolError::Backend(driver) => driver,
        PoolError::Timeout(TimeoutType::Create | TimeoutType::Wait) => {
            return format!(
                "no answer within {} s: check the host and port, and that no firewall drops the connection",
                timeout.as_secs()
            )
        }
        other => return keypair_core::error_chain(other),
    };
    let cause = keypair_core::error_chain(driver);
    format!("{cause}{}", connect_hint(driver))
}

/// What to do about a driver error at connect time.
fn connect_hint(e: &tokio_postgres::Error) -> &'static str {
    if let Some(code) = e.code() {
        return match *code {
            SqlState::INVALID_PASSWORD | SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                "; check the user and password in the store URL (and pg_hba.conf on the server)"
            }
            SqlState::INVALID_CATALOG_NAME => {
                "; create the database first (createdb, or CREATE DATABASE), or name an existing one"
            }
            SqlState::TOO_MANY_CONNECTIONS => {
                "; the server is at max_connections: close other clients or raise it"
            }
            _ => "",
        };
    }
    let mut cause: Option<&(dyn StdError + 'static)> = e.source();
    let mut io = None;
    while let Some(c) = cause {
        if let Some(found) = c.downcast_ref::<std::io::Error>() {
            io = Some(found);
            break;
        }
        cause = c.source();
    }
    match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            "; nothing accepts connections there: start PostgreSQL, or check the host and port (listen_addresses and port in postgresql.conf)"
        }
        Some(std::io::ErrorKind::NotFound) => {
            "; no server socket there: start PostgreSQL, or give the directory of its socket as host (unix_socket_directories)"
        }
        _ => "",
    }
}

/// Where a connection goes, for messages: hosts, ports, user and database, never the
/// password.
fn target(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(dir) => dir.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "host {} port {} user {} database {}",
        hosts.join(","),
        if ports.is_empty() {
            "5432".to_owned()
        } else {
            ports.join(",")
        },
        config.get_user().unwrap_or("(default)"),
        config.get_dbname().unwrap_or("(default)"),
    )
}

/// The PostgreSQL store: the shared SQL of `keypair-sql` over [`Postgres`]. Cheap to
/// clone; clones share the pool. Open one with [`Postgres::connect`].
pub type PostgresStore = SqlStore<Postgres>;

/// The PostgreSQL executor: the pool, and how an operation is run and retried.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    config: tokio_postgres::Config,
    options: PostgresOptions,
}

impl Postgres {
    /// Connects to `url` (`postgres://user:pass@host:port/db`, or with `?host=/socket/dir`)
    /// and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore, ConnectError> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects with options.
    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, ConnectError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ConnectError::NoTokioRuntime);
        }
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| ConnectError::Url(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        let store = Postgres {
            pool: pool(config.clone(), &options)?,
            config,
            options,
        };
        let mut client = store.pool.get().await.map_err(|e| {
            ConnectError::Connect(format!(
                "{}: {}",
                target(&store.config),
                connect_failure(&e, store.options.connect_timeout)
            ))
        })?;
        schema::migrate(&mut client).await?;
        Ok(SqlStore::new(store))
    }

    /// The legacy-nonce ledger and rate counter on this database, for a fleet of
    /// servers sharing it ([`admission`]). Opens a second pool for the counters.
    pub fn admission(&self) -> Result<PgAdmission, ConnectError> {
        PgAdmission::new(self.pool.clone(), &self.config, &self.options)
    }

    /// Runs the operation to its end within the operation timeout.
    async fn run<O: Operation>(&self, op: &O) -> Result<O::Output, StoreError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::backend(ConnectError::NoTokioRuntime));
        }
        let limit = self.options.operation_timeout;
        tokio::time::timeout(limit, self.attempts(op))
            .await
            .unwrap_or_else(|_| Err(StoreError::backend(OperationTimedOut(limit))))
    }

    /// Attempts until the operation commits or fails for a reason a retry cannot fix.
    async fn attempts<O: Operation>(&self, op: &O) -> Result<O::Output, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(op).await {
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => backoff(attempt).await,
                other => return other,
            }
        }
    }

    async fn attempt<O: Operation>(&self, op: &O) -> Result<O::Output, StoreError> {
        let mut client = self.pool.get().await.map_err(StoreError::backend)?;
        // Reads run on one snapshot (REPEATABLE READ READ ONLY): count and page agree,
        // and they take none of SERIALIZABLE's predicate locks, which only writes need.
        let isolation = if O::READ_ONLY {
            IsolationLevel::RepeatableRead
        } else {
            IsolationLevel::Serializable
        };
        let tx = client
            .build_transaction()
            .isolation_level(isolation)
            .read_only(O::READ_ONLY)
            .start()
            .await
            .map_err(StoreError::backend)?;
        let out = op.run(&mut PgTx { tx: &tx }).await;
        match out {
            Ok(out) => {
                tx.commit().await.map_err(StoreError::backend)?;
                Ok(out)
            }
            Err(e) => {
                // Dropping the transaction rolls it back; an explicit rollback frees the
                // connection sooner and its own failure changes nothing.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl Executor for Postgres {
    async fn execute<O: Operation>(&self, op: O) -> Result<O::Output, StoreError> {
        self.run(&op).await
    }
}

/// Whether the error is a transient conflict with a concurrent transaction.
fn is_retryable(e: &StoreError) -> bool {
    let StoreError::Backend(inner) = e else {
        return false;
    };
    let code = inner
        .downcast_ref::<tokio_postgres::Error>()
        .and_then(|e| e.code());
    matches!(
        code,
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    )
}

/// Sleeps a random time growing with the attempt number (capped at ~50 ms), so
/// conflicting transactions spread out instead of colliding again in lockstep.
async fn backoff(attempt: u32) {
    let cap_us = 1_000u64.saturating_mul(u64::from(attempt.min(50)));
    tokio::time::sleep(Duration::from_micros(OsRng.next_u64() % cap_us.max(1))).await;
}

struct PgTx<'a> {
    tx: &'a deadpool_postgres::Transaction<'a>,
}

impl PgTx<'_> {
    /// The prepared statement for `sql`, from the connection's cache.
    async fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        self.tx
            .prepare_cached(sql)
            .await
            .map_err(StoreError::backend)
    }
}

#[derive(Debug)]
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT8 | Type::INT4 | Type::TEXT | Type::VARCHAR)
    }

    to_sql_checked!();
}

fn column(row: &tokio_postgres::Row, i: usize) -> Result<Value, StoreError> {
    let ty = row.columns()[i].type_();
    let v = if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int))
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)
            .map(|v| v.map(|n| Value::Int(n.into())))
    } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
        row.try_get::<_, Option<String>>(i)
            .map(|v| v.map(Value::Text))
    } else {
        return Err(StoreError::backend(format!("unexpected column type {ty}")));
    };
    Ok(v.map_err(StoreError::backend)?.unwrap_or(Value::Null))
}

#[async_trait]
impl Tx for PgTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql).await?;
        let rows: Vec<tokio_postgres::Row> = self
            .tx
            .query_raw(&stmt, params.iter().map(Param))
            .await
            .map_err(StoreError::backend)?
            .try_collect()
            .await
            .map_err(StoreError::backend)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| column(r, i))
                    .collect::<Result<_, _>>()
                    .map(Row)
            })
            .collect()
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql).await?;
        self.tx
            .execute_raw(&stmt, params.iter().map(Param))
            .await
            .map_err(StoreError::backend)
    }
}
