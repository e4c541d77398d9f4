//! The PostgreSQL schema and its versioned migrations.
//!
//! Several servers may start at once against one database. Each migration runs in a
//! `SERIALIZABLE` transaction that also inserts its row in `schema_version` (primary
//! key), so of two concurrent migrators one commits and the other fails, retries, and
//! finds the work done — no advisory lock needed.

use crate::ConnectError;
use deadpool_postgres::Object;
use tokio_postgres::IsolationLevel;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const MIGRATIONS: &[&str] = &[
    // 1: key pairs, tags, instance bindings, per-scope counts. Key ids sort bytewise
    // (COLLATE "C") so the describe order matches every other store whatever the
    // database's default collation.
    r#"
    CREATE TABLE key_pairs (
        key_id      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        account     TEXT   NOT NULL,
        product     TEXT   NOT NULL CHECK (product IN ('cvm', 'lighthouse')),
        name        TEXT   NOT NULL,
        project_id  BIGINT NOT NULL CHECK (project_id >= 0),
        description TEXT   NOT NULL DEFAULT '',
        public_key  TEXT   NOT NULL,
        fingerprint TEXT   NOT NULL,
        key_bits    BIGINT NOT NULL,
        created_ms  BIGINT NOT NULL,
        UNIQUE (account, product, name),
        UNIQUE (account, product, fingerprint)
    );
    CREATE INDEX key_pairs_describe ON key_pairs (account, product, created_ms DESC, key_id);
    CREATE TABLE key_pair_tags (
        key_id    TEXT COLLATE "C" NOT NULL REFERENCES key_pairs (key_id) ON DELETE CASCADE,
        position  BIGINT NOT NULL,
        tag_key   TEXT   NOT NULL,
        tag_value TEXT   NOT NULL,
        PRIMARY KEY (key_id, tag_key)
    );
    CREATE INDEX key_pair_tags_by_key ON key_pair_tags (tag_key, tag_value);
    CREATE TABLE key_pair_instances (
        key_id      TEXT COLLATE "C" NOT NULL REFERENCES key_pairs (key_id),
        instance_id TEXT NOT NULL,
        username    TEXT,
        PRIMARY KEY (key_id, instance_id)
    );
    CREATE TABLE scope_counts (
        account TEXT   NOT NULL,
        product TEXT   NOT NULL,
        n       BIGINT NOT NULL CHECK (n >= 0),
        PRIMARY KEY (account, product)
    );
    "#,
    // 2: what a fleet of servers shares besides the key pairs (the `admission` module):
    // legacy nonces, durable so a replay after a failover is still refused, and the
    // per-second rate windows, unlogged because losing a second's count in a crash or a
    // failover costs nothing worth a WAL record (or a wait for the standby) per request.
    r#"
    CREATE TABLE legacy_nonces (
        secret_id  TEXT   NOT NULL,
        nonce      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (secret_id, nonce)
    );
    CREATE INDEX legacy_nonces_expiry ON legacy_nonces (expires_at);
    CREATE UNLOGGED TABLE rate_windows (
        account  TEXT    NOT NULL,
        product  TEXT    NOT NULL,
        action   TEXT    NOT NULL,
        window_s BIGINT  NOT NULL,
        n        INTEGER NOT NULL,
        PRIMARY KEY (account, product, action)
    );
    "#,
    // 3: an associate replaces the keys of the instances it names, so it finds an
    // instance's bindings by instance id.
    r#"
    CREATE INDEX key_pair_instances_by_instance ON key_pair_instances (instance_id);
    "#,
];

const ATTEMPTS: usize = 20;

pub(crate) async fn migrate(client: &mut Object) -> Result<(), ConnectError> {
    let err = |e: tokio_postgres::Error| ConnectError::Migrate(e.to_string());
    // Concurrent `CREATE TABLE IF NOT EXISTS` can still collide on the catalog; retry.
    let mut created = false;
    for _ in 0..ATTEMPTS {
        match client
            .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY)")
            .await
        {
            Ok(()) => {
                created = true;
                break;
            }
            Err(e) if e.code().is_some() => continue,
            Err(e) => return Err(err(e)),
        }
    }
    if !created {
        return Err(ConnectError::Migrate(
            "could not create schema_version".into(),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match apply(client, version, sql).await {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(MigrateStep::Fatal(e)) => return Err(e),
                Err(MigrateStep::Retry(e)) => last = Some(e),
            }
        }
        if let Some(e) = last {
            return Err(ConnectError::Migrate(e));
        }
    }
    Ok(())
}

enum MigrateStep {
    Retry(String),
    Fatal(ConnectError),
}

async fn apply(client: &mut Object, version: i64, sql: &str) -> Result<(), MigrateStep> {
    let retry = |e: tokio_postgres::Error| {
        if e.code().is_some() {
            MigrateStep::Retry(e.to_string())
        } else {
            MigrateStep::Fatal(ConnectError::Migrate(e.to_string()))
        }
    };
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()
        .await
        .map_err(retry)?;
    let found: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await
        .map_err(retry)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(MigrateStep::Fatal(ConnectError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        }));
    }
    if found >= version {
        return Ok(());
    }
    tx.batch_execute(sql).await.map_err(retry)?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&version],
    )
    .await
    .map_err(retry)?;
    tx.commit().await.map_err(retry)
}
