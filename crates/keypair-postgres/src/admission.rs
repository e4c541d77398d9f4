//! The admission ports on PostgreSQL, so a fleet of servers sharing one database shares
//! its legacy nonces and its rate limits.
//!
//! - **Nonces** ([`NonceLedger`]): one row per `(SecretId, Nonce)` with its expiry. The
//!   insert conflicts on reuse and takes the row over only once it has expired, so of
//!   concurrent uses on any servers exactly one wins. Written with the store's durable
//!   commits: a nonce acknowledged before a failover is on the standby, and a replay to
//!   the promoted primary is still refused. Expired rows are deleted by every
//!   [`SWEEP_EVERY`]th insert. The table holds at most the legacy requests admitted in
//!   the 600 s window, which the rate limits bound; unlike the in-process cache it has no
//!   count limit of its own, because counting rows would cost a scan per request.
//! - **Rates** ([`RateCounter`]): one row per (account, product, action) holding the
//!   current one-second window and its count, bumped by one `INSERT … ON CONFLICT DO
//!   UPDATE … RETURNING` per limited request, on an unlogged table through connections
//!   with `synchronous_commit = off`: a count lost in a crash is worth less than a WAL
//!   flush and a standby round trip per request. A fixed window lets through at most
//!   `rate` per calendar second across the fleet, so over any `T` seconds at most
//!   `rate × (T + 1)`: within 1.2× of the rate for any period of 5 s or more. Servers
//!   whose clocks disagree share the newest window any of them has seen.
//!
//! Cost per request: one round trip and one row update for a rate-limited action; one
//! more, durable, for a legacy-signed request. Each statement is bounded by the store's
//! operation timeout, like a store operation: an unreachable primary refuses the
//! request instead of holding it.

use crate::{pool, ConnectError, OperationTimedOut, PostgresOptions};
use async_trait::async_trait;
use deadpool_postgres::Pool;
use keypair_core::{NonceLedger, NonceVerdict, RateCounter, RateKey, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Every this many nonce inserts, expired nonces are deleted.
pub const SWEEP_EVERY: u64 = 256;

/// Legacy nonces and rate windows kept in PostgreSQL for every server of a fleet.
/// Cheap to clone; clones share their pools.
#[derive(Clone)]
pub struct PgAdmission {
    /// The store's pool: durable commits.
    durable: Pool,
    /// Connections with `synchronous_commit = off`, for the rate windows.
    counters: Pool,
    inserts: std::sync::Arc<AtomicU64>,
    /// The store's operation timeout, which bounds each statement here too.
    timeout: Duration,
}

impl PgAdmission {
    pub(crate) fn new(
        durable: Pool,
        config: &tokio_postgres::Config,
        options: &PostgresOptions,
    ) -> Result<Self, ConnectError> {
        let mut config = config.clone();
        let extra = "-c synchronous_commit=off";
        let joined = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} {extra}"),
            _ => extra.to_owned(),
        };
        config.options(&joined);
        Ok(PgAdmission {
            durable,
            counters: pool(config, options)?,
            inserts: Default::default(),
            timeout: options.operation_timeout,
        })
    }

    /// Runs `sql` (prepared once per connection) with `params` on a connection of
    /// `pool`, within the operation timeout; the rows it returned.
    async fn query(
        &self,
        pool: &Pool,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let statement = async {
            let client = pool.get().await.map_err(StoreError::backend)?;
            let stmt = client
                .prepare_cached(sql)
                .await
                .map_err(StoreError::backend)?;
            client
                .query(&stmt, params)
                .await
                .map_err(StoreError::backend)
        };
        tokio::time::timeout(self.timeout, statement)
            .await
            .unwrap_or_else(|_| Err(StoreError::backend(OperationTimedOut(self.timeout))))
    }

    async fn sweep(&self, now: i64) -> Result<(), StoreError> {
        let sql = "DELETE FROM legacy_nonces WHERE expires_at <= $1";
        self.query(&self.durable, sql, &[&now]).await.map(drop)
    }
}

#[async_trait]
impl NonceLedger for PgAdmission {
    async fn record(
        &self,
        secret_id: &str,
        nonce: u64,
        now: i64,
        expires_at: i64,
    ) -> Result<NonceVerdict, StoreError> {
        if self.inserts.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep(now).await?;
        }
        let sql =
            "INSERT INTO legacy_nonces AS n (secret_id, nonce, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (secret_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at \
                   WHERE n.expires_at <= $4 RETURNING 1";
        // BIGINT is signed: the nonce's 64 bits are stored as they are (a bijection).
        let params: [&(dyn ToSql + Sync); 4] = [&secret_id, &(nonce as i64), &expires_at, &now];
        let rows = self.query(&self.durable, sql, &params).await?;
        Ok(if rows.len() == 1 {
            NonceVerdict::Fresh
        } else {
            NonceVerdict::Replayed
        })
    }
}

#[async_trait]
impl RateCounter for PgAdmission {
    async fn admit(&self, key: &RateKey, rate: u32, now_ms: i64) -> Result<bool, StoreError> {
        let sql = "INSERT INTO rate_windows AS w (account, product, action, window_s, n) \
                   VALUES ($1, $2, $3, $4, 1) \
                   ON CONFLICT (account, product, action) DO UPDATE SET \
                   n = CASE WHEN EXCLUDED.window_s > w.window_s THEN 1 ELSE w.n + 1 END, \
                   window_s = GREATEST(w.window_s, EXCLUDED.window_s) \
                   RETURNING n";
        let window_s = now_ms.div_euclid(1000);
        let params: [&(dyn ToSql + Sync); 4] = [
            &key.account.as_str(),
            &key.product.as_str(),
            &key.action.name(),
            &window_s,
        ];
        let rows = self.query(&self.counters, sql, &params).await?;
        let n: i32 = rows
            .first()
            .ok_or_else(|| StoreError::backend("the rate window upsert returned no row"))?
            .try_get(0)
            .map_err(StoreError::backend)?;
        Ok(i64::from(n) <= i64::from(rate))
    }
}
