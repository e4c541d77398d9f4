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
//! more, durable, for a legacy-signed request.

use crate::{pool, ConnectError, PostgresOptions};
use async_trait::async_trait;
use deadpool_postgres::Pool;
use keypair_core::{NonceLedger, NonceVerdict, RateCounter, RateKey, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};

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
        })
    }

    async fn sweep(&self, now: i64) -> Result<(), StoreError> {
        let client = self.durable.get().await.map_err(StoreError::backend)?;
        let stmt = client
            .prepare_cached("DELETE FROM legacy_nonces WHERE expires_at <= $1")
            .await
            .map_err(StoreError::backend)?;
        client
            .execute(&stmt, &[&now])
            .await
            .map_err(StoreError::backend)?;
        Ok(())
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
        let client = self.durable.get().await.map_err(StoreError::backend)?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO legacy_nonces AS n (secret_id, nonce, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (secret_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at \
                 WHERE n.expires_at <= $4 RETURNING 1",
            )
            .await
            .map_err(StoreError::backend)?;
        // BIGINT is signed: the nonce's 64 bits are stored as they are (a bijection).
        let rows = client
            .execute(&stmt, &[&secret_id, &(nonce as i64), &expires_at, &now])
            .await
            .map_err(StoreError::backend)?;
        Ok(if rows == 1 {
            NonceVerdict::Fresh
        } else {
            NonceVerdict::Replayed
        })
    }
}

#[async_trait]
impl RateCounter for PgAdmission {
    async fn admit(&self, key: &RateKey, rate: u32, now_ms: i64) -> Result<bool, StoreError> {
        let client = self.counters.get().await.map_err(StoreError::backend)?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO rate_windows AS w (account, product, action, window_s, n) \
                 VALUES ($1, $2, $3, $4, 1) \
                 ON CONFLICT (account, product, action) DO UPDATE SET \
                 n = CASE WHEN EXCLUDED.window_s > w.window_s THEN 1 ELSE w.n + 1 END, \
                 window_s = GREATEST(w.window_s, EXCLUDED.window_s) \
                 RETURNING n",
            )
            .await
            .map_err(StoreError::backend)?;
        let window_s = now_ms.div_euclid(1000);
        let row = client
            .query_one(
                &stmt,
                &[
                    &key.account.as_str(),
                    &key.product.as_str(),
                    &key.action.name(),
                    &window_s,
                ],
            )
            .await
            .map_err(StoreError::backend)?;
        let n: i32 = row.get(0);
        Ok(i64::from(n) <= i64::from(rate))
    }
}
