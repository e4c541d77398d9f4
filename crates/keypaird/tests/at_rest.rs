//! Private keys never at rest: after many creates over HTTP, no 32-byte run of any
//! generated private key (its DER) appears in the SQLite file and its WAL, in a
//! `pg_dump` of PostgreSQL, or in the server's debug-level log; nor does the secret key.

mod support;

use base64ct::{Base64, Encoding};
use serde_json::json;
use std::collections::HashSet;
use std::path::Path;
use support::*;

const WINDOW: usize = 32;

/// Creates key pairs on both products and returns their private keys as DER.
fn create_many(addr: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let (version, body) = if i % 2 == 0 {
                (CVM, json!({"KeyName": format!("rest{i}"), "ProjectId": 0}))
            } else {
                (LH, json!({"KeyName": format!("rest{i}")}))
            };
            let r = call(addr, version, "CreateKeyPair", &body).expect("create");
            let pem = r["KeyPair"]["PrivateKey"]
                .as_str()
                .unwrap_or_else(|| panic!("{r}"))
                .to_owned();
            let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            Base64::decode_vec(&b64).expect("PEM body")
        })
        .collect()
}

/// Which of the secrets' 32-byte windows occur in `haystack`.
fn leaked(secrets: &[Vec<u8>], haystack: &[u8]) -> usize {
    let windows: HashSet<&[u8]> = secrets.iter().flat_map(|s| s.windows(WINDOW)).collect();
    haystack
        .windows(WINDOW)
        .filter(|w| windows.contains(w))
        .count()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn no_private_key_reaches_sqlite_or_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("keys.db");
    let log = dir.path().join("server.log");
    let server = start(
        &config(dir.path(), &format!("sqlite:{}", db.display())),
        &log,
        "debug",
    );
    let secrets = create_many(&server.addr, 40);
    // While running, recent pages are in the WAL; check both files.
    let wal = read(&dir.path().join("keys.db-wal"));
    assert!(!wal.is_empty(), "the WAL is in use");
    assert_eq!(leaked(&secrets, &wal), 0, "WAL");
    assert_eq!(leaked(&secrets, &read(&db)), 0, "database file");
    assert!(server.stop());
    assert_eq!(
        leaked(&secrets, &read(&db)),
        0,
        "database file after checkpoint"
    );
    let log = read(&log);
    assert!(log.len() > 1000, "the debug log has content");
    assert_eq!(leaked(&secrets, &log), 0, "server log");
    assert!(
        !String::from_utf8_lossy(&log).contains(KEY),
        "the secret key is not logged"
    );
    // The check can fail: the created public keys are in the database.
    let stored = read(&db);
    assert!(stored.windows(7).any(|w| w == b"ssh-rsa"));
}

keypair_postgres::postgres_test! {
    #[test]
    fn no_private_key_reaches_postgres() {
        let url = keypair_postgres::test_server::url("no_private_key_reaches_postgres");
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("server.log");
        let server = start(&config(dir.path(), &url), &log, "debug");
        let secrets = create_many(&server.addr, 20);
        assert!(server.stop());
        let dump = std::process::Command::new(keypair_postgres::test_server::pg_dump())
            .arg(&url)
            .output()
            .expect("pg_dump");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        assert!(
            String::from_utf8_lossy(&dump.stdout).contains("key_pairs"),
            "the dump has the table"
        );
        assert_eq!(leaked(&secrets, &dump.stdout), 0, "pg_dump");
        assert_eq!(leaked(&secrets, &read(&log)), 0, "server log");
    }
}
