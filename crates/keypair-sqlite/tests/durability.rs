//! SQLite-specific promises: schema versions, persistence across reopen, atomicity
//! across independent stores on one file, and crash safety under SIGKILL.

use keypair_core::fixtures::{all_in_scope, fresh_scope, key_pair};
use keypair_core::{KeyId, KeyPairStore, Product, Query, Tag, Tags};
use keypair_sqlite::{OpenError, Sqlite, SCHEMA_VERSION};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir")
}

#[tokio::test]
async fn a_newer_schema_is_refused_with_a_clear_error() {
    let dir = scratch();
    let path = dir.path().join("keys.db");
    drop(Sqlite::open(&path).await.expect("create"));
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [SCHEMA_VERSION + 1],
        )
        .expect("bump version");
    }
    let err = Sqlite::open(&path).await.err().expect("must refuse");
    assert!(
        matches!(err, OpenError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("keys.db") && message.contains("upgrade"),
        "{message}"
    );
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = scratch();
    let path = dir.path().join("keys.db");
    let scope = fresh_scope(Product::Cvm);
    let mut kp = key_pair(&scope, "persisted", 1, 1_700_000_000_000);
    kp.tags = Tags::new(Product::Cvm, vec![Tag::new("env", "prod").expect("tag")]).expect("tags");
    {
        let store = Sqlite::open(&path).await.expect("open");
        store.insert(kp.clone(), 10).await.expect("insert");
    }
    let store = Sqlite::open(&path).await.expect("reopen");
    assert_eq!(all_in_scope(&store, &scope).await, vec![kp]);
    assert_eq!(store.integrity_check().await.expect("check"), "ok");
}

#[tokio::test]
async fn a_missing_directory_is_reported_with_the_path_and_the_fix() {
    let err = Sqlite::open("/nonexistent-dir/sub/keys.db")
        .await
        .err()
        .expect("must fail");
    assert!(matches!(err, OpenError::MissingDirectory { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "opening SQLite database /nonexistent-dir/sub/keys.db: the directory /nonexistent-dir/sub does not exist; create it (mkdir -p /nonexistent-dir/sub) or give a path in an existing directory"
    );
    assert!(
        !std::path::Path::new("/nonexistent-dir").exists(),
        "nothing was created"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_named_as_such() {
    let dir = scratch();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are not the pages of a database, ".repeat(200)).unwrap();
    let err = Sqlite::open(&path).await.err().expect("must fail");
    let message = err.to_string();
    assert!(
        message.contains("the file is not a SQLite database: give the path of a keypaird database or of a new file"),
        "{message}"
    );
}

/// Two stores with their own connection pools (as two processes would have) race 64
/// creates of one name: exactly one is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn independent_stores_on_one_file_admit_one_name() {
    let dir = scratch();
    let path = dir.path().join("keys.db");
    let a: Arc<dyn KeyPairStore> = Arc::new(Sqlite::open(&path).await.expect("open a"));
    let b: Arc<dyn KeyPairStore> = Arc::new(Sqlite::open(&path).await.expect("open b"));
    keypair_core::testkit::concurrent_inserts_across_stores_admit_one(&[a, b]).await;
}

const CHILD_ENV: &str = "KEYPAIR_SQLITE_CRASH_CHILD";

/// Not a test on its own: the writer the crash test runs in a child process. It inserts
/// key pairs forever and prints each id once the insert has returned.
#[tokio::test]
async fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Sqlite::open(&path).await.expect("child open");
    let scope = fresh_scope(Product::Cvm);
    let mut out = std::io::stdout().lock();
    writeln!(out, "@@account {}", scope.account).expect("stdout");
    for i in 0u64.. {
        let mut kp = key_pair(&scope, &format!("k{i}"), i, i as i64);
        kp.tags = Tags::new(
            Product::Cvm,
            vec![Tag::new("n", &i.to_string()).expect("tag")],
        )
        .expect("tags");
        store
            .insert(kp.clone(), u32::MAX)
            .await
            .expect("child insert");
        writeln!(out, "@@ack {} {i}", kp.id).expect("stdout");
        out.flush().expect("flush");
    }
}

/// The words after the child's `@@` marker (libtest may print its own text before it).
fn marked(line: &str) -> Vec<&str> {
    line.split_once("@@")
        .map_or_else(Vec::new, |(_, rest)| rest.split_whitespace().collect())
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = scratch();
    let path = dir.path().join("keys.db");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut account = None;
    let mut acked: Vec<(String, u64)> = Vec::new();
    // Kill the writer mid-stream, after a fair number of acknowledged inserts.
    while acked.len() < 150 {
        let line = lines.next().expect("child ended early").expect("read");
        match marked(&line).as_slice() {
            ["account", a] => account = Some(a.to_string()),
            ["ack", id, n] => acked.push((id.to_string(), n.parse().expect("n"))),
            _ => {}
        }
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    // Lines already written before the kill were acknowledged too.
    for line in lines.map_while(Result::ok) {
        if let ["ack", id, n] = marked(&line).as_slice() {
            acked.push((id.to_string(), n.parse().expect("n")));
        }
    }
    let store = Sqlite::open(&path).await.expect("reopen after crash");
    assert_eq!(store.integrity_check().await.expect("check"), "ok");
    let account = keypair_core::AccountId::parse(&account.expect("account line")).expect("account");
    let scope = keypair_core::Scope::new(account, Product::Cvm);
    let ids: Vec<KeyId> = acked
        .iter()
        .map(|(id, _)| KeyId::parse(Product::Cvm, id).expect("id"))
        .collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(100) {
        found.extend(store.get(&scope, chunk).await.expect("get"));
    }
    assert_eq!(
        found.len(),
        acked.len(),
        "every acknowledged key pair is there"
    );
    for (id, n) in &acked {
        let kp = found
            .iter()
            .find(|kp| kp.id.as_str() == id)
            .expect("present");
        assert_eq!(
            kp.tags.get("n"),
            Some(n.to_string().as_str()),
            "with its tags"
        );
    }
    // Nothing half-written: every stored key pair has its tag.
    let all = store.query(&scope, &Query::all()).await.expect("query");
    assert!(all.total >= acked.len() as u64);
    let page = store
        .query(&scope, &Query::new(vec![], 0, 100).expect("a valid query"))
        .await
        .expect("query");
    assert!(page.items.iter().all(|kp| kp.tags.get("n").is_some()));
}
