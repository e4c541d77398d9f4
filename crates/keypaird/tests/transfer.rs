//! The transfer commands as a user runs them: a `keypaird migrate` killed with SIGKILL
//! and run again ends with identical stores (into SQLite and into PostgreSQL), and
//! `export` writes a private file that `import` loads, twice with nothing new.

use keypair_core::fixtures::varied_key_pairs as records;
use keypair_core::KeyPairStore;
use keypair_sqlite::Sqlite;
use keypair_stores::StoreUrl;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Seeds a SQLite source with `records(accounts, per)`, kills `keypaird migrate` into
/// `to` with SIGKILL once its first batch is acknowledged, runs it again, and checks the
/// two stores are identical.
async fn killed_migration_resumes(dir: &Path, to: &str, accounts: u64, per: u64) {
    let src = dir.join("src.db");
    let (all, _) = records(accounts, per);
    let total = all.len() as u64;
    {
        let source = Sqlite::open(&src).await.unwrap();
        for batch in all.chunks(keypair_transfer::BATCH) {
            source.load(batch).await.unwrap();
        }
    }
    let migrate = || {
        Command::new(env!("CARGO_BIN_EXE_keypaird"))
            .args(["migrate", "--from", &format!("sqlite:{}", src.display())])
            .args(["--to", to])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = migrate();
    // The first progress line is printed once the first batch is acknowledged.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 && !line.contains("key pairs done") {
        line.clear();
    }
    assert!(
        line.contains("key pairs done"),
        "no progress line: {line:?}"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let target_url: StoreUrl = to.parse().unwrap();
    let partial = target_url
        .open_for_transfer(None)
        .await
        .unwrap()
        .count_all()
        .await
        .unwrap();
    assert!(
        partial > 0 && partial < total,
        "killed mid-way: {partial} of {total}"
    );
    let rerun = migrate().wait_with_output().unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let source = Sqlite::open(&src).await.unwrap();
    let target = target_url.open_for_transfer(None).await.unwrap();
    keypair_transfer::verify(&source, &*target, false)
        .await
        .unwrap();
    assert_eq!(target.count_all().await.unwrap(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_mid_way_resumes_to_identical_stores() {
    let dir = tempfile::tempdir().unwrap();
    let to = format!("sqlite:{}", dir.path().join("dst.db").display());
    killed_migration_resumes(dir.path(), &to, 40, 400).await;
}

keypair_postgres::postgres_test! {
    /// Into PostgreSQL a batch is written as two transactions at once (`load_lanes`): a kill
    /// can land between them, and the rerun still ends identical.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_migration_into_postgres_killed_mid_way_resumes_to_identical_stores() {
        let url = keypair_postgres::test_server::fresh_database("transfer_kill").await;
        let dir = tempfile::tempdir().unwrap();
        killed_migration_resumes(dir.path(), &url, 40, 400).await;
    }
}

#[test]
fn the_export_file_is_private_and_the_cli_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Sqlite::open(&db).await.unwrap();
        store.load(&records(2, 10).0).await.unwrap();
    });
    let out = dir.path().join("keys.jsonl");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_keypaird"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let summary = run(&[
        "export",
        "--store",
        &format!("sqlite:{}", db.display()),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(summary.contains("exported; 40 key pairs"), "{summary}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let b = dir.path().join("b.db");
    let summary = run(&[
        "import",
        "--store",
        &format!("sqlite:{}", b.display()),
        out.to_str().unwrap(),
    ]);
    assert!(
        summary.contains("40 loaded, 0 already present"),
        "{summary}"
    );
    let summary = run(&[
        "import",
        "--store",
        &format!("sqlite:{}", b.display()),
        out.to_str().unwrap(),
    ]);
    assert!(
        summary.contains("0 loaded, 40 already present"),
        "{summary}"
    );
    assert!(!Path::new(&dir.path().join("keypaird-credentials.toml")).exists());
}
