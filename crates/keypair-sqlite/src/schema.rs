//! The SQLite schema and its versioned migrations.
//!
//! Migrations are append-only: version N is `MIGRATIONS[N - 1]`. Opening applies the
//! missing ones in one `BEGIN IMMEDIATE` transaction, so concurrent openers do not race,
//! and refuses a database whose version is newer than this build knows.

use crate::OpenError;
use rusqlite::Connection;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const MIGRATIONS: &[&str] = &[
    // 1: key pairs, tags, instance bindings, per-scope counts.
    r#"
    CREATE TABLE key_pairs (
        key_id      TEXT    NOT NULL PRIMARY KEY,
        account     TEXT    NOT NULL,
        product     TEXT    NOT NULL CHECK (product IN ('cvm', 'lighthouse')),
        name        TEXT    NOT NULL,
        project_id  INTEGER NOT NULL CHECK (project_id >= 0),
        description TEXT    NOT NULL DEFAULT '',
        public_key  TEXT    NOT NULL,
        fingerprint TEXT    NOT NULL,
        key_bits    INTEGER NOT NULL,
        created_ms  INTEGER NOT NULL,
        UNIQUE (account, product, name),
        UNIQUE (account, product, fingerprint)
    ) STRICT;
    -- Serves the describe order (newest first, ties by id) within a scope.
    CREATE INDEX key_pairs_describe ON key_pairs (account, product, created_ms DESC, key_id);

    CREATE TABLE key_pair_tags (
        key_id    TEXT    NOT NULL REFERENCES key_pairs (key_id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        tag_key   TEXT    NOT NULL,
        tag_value TEXT    NOT NULL,
        PRIMARY KEY (key_id, tag_key)
    ) STRICT;
    CREATE INDEX key_pair_tags_by_key ON key_pair_tags (tag_key, tag_value);

    -- No cascade: a key pair with bindings cannot be deleted.
    CREATE TABLE key_pair_instances (
        key_id      TEXT NOT NULL REFERENCES key_pairs (key_id),
        instance_id TEXT NOT NULL,
        username    TEXT,
        PRIMARY KEY (key_id, instance_id)
    ) STRICT;

    CREATE TABLE scope_counts (
        account TEXT    NOT NULL,
        product TEXT    NOT NULL,
        n       INTEGER NOT NULL CHECK (n >= 0),
        PRIMARY KEY (account, product)
    ) STRICT;
    "#,
    // 2: an associate replaces the keys of the instances it names, so it finds an
    // instance's bindings by instance id.
    r#"
    CREATE INDEX key_pair_instances_by_instance ON key_pair_instances (instance_id);
    "#,
];

/// Brings the schema up to date.
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<(), OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT")
        .map_err(sqlite)?;
    let found: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite)?;
    if found > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql).map_err(sqlite)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [i as i64 + 1],
        )
        .map_err(sqlite)?;
    }
    tx.commit().map_err(sqlite)?;
    conn.execute_batch("PRAGMA optimize").map_err(sqlite)?;
    Ok(())
}
