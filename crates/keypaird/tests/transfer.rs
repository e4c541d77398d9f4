//! Export, import and migration between stores: a 10,000-key round trip through every
//! store and a file, a migration killed with SIGKILL and resumed, and a table of hostile
//! export files.

use keypair_core::fixtures::{key_pair, synthetic_public_key};
use keypair_core::{
    AccountId, Association, InstanceId, KeyPair, KeyPairStore, Product, Query, Scope, Tag, Tags,
};
use keypair_memory::MemoryStore;
use keypair_sqlite::Sqlite;
use keypaird::store_url::StoreUrl;
use keypaird::transfer::{self, TransferError};
use std::io::{BufRead, BufReader, Cursor};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

/// `accounts` accounts × both products × `per` key pairs, with tags on every third and
/// two bindings (Lighthouse with a username) on every fifth.
fn records(accounts: u64, per: u64) -> (Vec<KeyPair>, Vec<Scope>) {
    let mut all = Vec::new();
    let mut scopes = Vec::new();
    for a in 0..accounts {
        for product in Product::ALL {
            let scope = Scope::new(AccountId::parse(&format!("14{a:08}")).unwrap(), product);
            for i in 0..per {
                let seed = (a * 1000 + i) * 2 + u64::from(product == Product::Lighthouse);
                let mut kp = key_pair(&scope, &format!("k{i}"), seed, 1_700_000_000_000 + i as i64);
                kp.public_key = synthetic_public_key(seed, &format!("c{seed}"));
                if i % 3 == 0 {
                    let tags = vec![
                        Tag::new("team", "ops").unwrap(),
                        Tag::new("n", &i.to_string()).unwrap(),
                    ];
                    kp.tags = Tags::new(product, tags).unwrap();
                }
                if i % 5 == 0 {
                    let prefix = product.spec().instance_id_prefix;
                    let username = (product == Product::Lighthouse).then(|| "ubuntu".to_owned());
                    kp.associations = (0..2)
                        .map(|j| Association {
                            instance: InstanceId::parse(product, &format!("{prefix}{j:04}{i:04}"))
                                .unwrap(),
                            username: username.clone(),
                        })
                        .collect();
                    kp.associations.sort();
                }
                all.push(kp);
            }
            scopes.push(scope);
        }
    }
    (all, scopes)
}

/// Every page of every scope's describe, as the API would show it.
async fn describe_all(store: &dyn KeyPairStore, scopes: &[Scope]) -> Vec<Vec<KeyPair>> {
    let mut out = Vec::new();
    for scope in scopes {
        let mut items = Vec::new();
        loop {
            let q = Query::new(vec![], items.len() as u64, 100).unwrap();
            let page = store.query(scope, &q).await.unwrap();
            let n = page.items.len();
            items.extend(page.items);
            if n < 100 {
                break;
            }
        }
        out.push(items);
    }
    out
}

async fn fresh_postgres(name: &str) -> (String, Arc<dyn KeyPairStore>) {
    let url = keypair_postgres::test_server::url(name);
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let name = format!("{name}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    let store = keypair_postgres::Postgres::connect(&url).await.unwrap();
    (url, Arc::new(store))
}

keypair_postgres::postgres_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_thousand_key_pairs_round_trip_through_every_store_and_a_file() {
        let (all, scopes) = records(50, 100);
        assert_eq!(all.len(), 10_000);
        let memory = MemoryStore::new();
        for batch in all.chunks(transfer::BATCH) {
            memory.load(batch).await.unwrap();
        }
        let expected = describe_all(&memory, &scopes).await;
        let dir = tempfile::tempdir().unwrap();
        let sqlite1 = Sqlite::open(dir.path().join("one.db")).await.unwrap();
        transfer::migrate(&memory, &sqlite1, false, 1)
            .await
            .unwrap();
        assert!(
            describe_all(&sqlite1, &scopes).await == expected,
            "memory -> SQLite"
        );
        let (_, pg) = fresh_postgres("transfer_round_trip").await;
        // Two lanes, as `keypaird migrate` runs into PostgreSQL.
        transfer::migrate(&sqlite1, &*pg, false, 2).await.unwrap();
        assert!(
            describe_all(&*pg, &scopes).await == expected,
            "SQLite -> PostgreSQL"
        );
        let sqlite2 = Sqlite::open(dir.path().join("two.db")).await.unwrap();
        transfer::migrate(&*pg, &sqlite2, false, 1).await.unwrap();
        assert!(
            describe_all(&sqlite2, &scopes).await == expected,
            "PostgreSQL -> SQLite"
        );
        let mut file = Vec::new();
        assert_eq!(
            transfer::export(&sqlite2, "sqlite", &mut file)
                .await
                .unwrap(),
            10_000
        );
        let back = MemoryStore::new();
        let bytes = Arc::new(file);
        let open = || Ok(Box::new(Cursor::new(bytes.to_vec())) as Box<dyn BufRead + Send>);
        let report = transfer::import(&back, open).await.unwrap();
        assert_eq!((report.loaded, report.present), (10_000, 0));
        assert!(
            describe_all(&back, &scopes).await == expected,
            "SQLite -> file -> memory"
        );
        let again = transfer::import(&back, open).await.unwrap();
        assert_eq!(
            (again.loaded, again.present),
            (0, 10_000),
            "a second import changes nothing"
        );
        transfer::verify(&memory, &back, false).await.unwrap();
    }
}

/// Seeds a SQLite source with `records(accounts, per)`, kills `keypaird migrate` into
/// `to` with SIGKILL once its first batch is acknowledged, runs it again, and checks the
/// two stores are identical.
async fn killed_migration_resumes(dir: &Path, to: &str, accounts: u64, per: u64) {
    let src = dir.join("src.db");
    let (all, _) = records(accounts, per);
    let total = all.len() as u64;
    {
        let source = Sqlite::open(&src).await.unwrap();
        for batch in all.chunks(transfer::BATCH) {
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
        .open_for_transfer()
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
    let target = target_url.open_for_transfer().await.unwrap();
    transfer::verify(&source, &*target, false).await.unwrap();
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
        let (url, _) = fresh_postgres("transfer_kill").await;
        let dir = tempfile::tempdir().unwrap();
        killed_migration_resumes(dir.path(), &url, 40, 400).await;
    }
}

#[tokio::test]
async fn a_target_with_other_data_is_refused_unless_merging() {
    let (all, _) = records(2, 5);
    let (a, b) = all.split_at(10);
    let source = MemoryStore::new();
    source.load(a).await.unwrap();
    let target = MemoryStore::new();
    target.load(&b[..1]).await.unwrap();
    let refused = transfer::migrate(&source, &target, false, 1).await;
    assert!(
        matches!(refused, Err(TransferError::TargetNotEmpty(_))),
        "{refused:?}"
    );
    assert_eq!(target.count_all().await.unwrap(), 1, "nothing written");
    transfer::migrate(&source, &target, true, 3).await.unwrap();
    assert_eq!(target.count_all().await.unwrap(), 11);
}

/// A valid export of three key pairs, as lines.
async fn valid_export() -> Vec<String> {
    let (all, _) = records(1, 2);
    let store = MemoryStore::new();
    store.load(&all[..3]).await.unwrap();
    let mut out = Vec::new();
    transfer::export(&store, "memory", &mut out).await.unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn replace_record(
    lines: &[String],
    index: usize,
    field: &str,
    value: serde_json::Value,
) -> Vec<String> {
    let mut lines = lines.to_vec();
    let mut record: serde_json::Value = serde_json::from_str(&lines[index]).unwrap();
    record[field] = value;
    lines[index] = record.to_string();
    lines
}

#[tokio::test]
async fn hostile_export_files_are_refused_and_change_nothing() {
    let valid = valid_export().await;
    let join = |lines: &[String]| lines.join("\n") + "\n";
    let without = |i: usize| {
        let mut l = valid.clone();
        l.remove(i);
        l
    };
    let with_line = |i: usize, text: &str| {
        let mut l = valid.clone();
        l[i] = text.to_owned();
        l
    };
    let mut extra = valid.clone();
    extra.push("{}".into());
    let mut duplicate = valid.clone();
    duplicate.insert(2, valid[1].clone());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty file", Vec::new(), "line 1: the file is empty"),
        (
            "header not JSON",
            join(&with_line(0, "keypair export")).into_bytes(),
            "line 1: the header is not JSON",
        ),
        (
            "not an export",
            join(&with_line(0, r#"{"format":"other","version":1,"count":3}"#)).into_bytes(),
            "line 1: this is not a keypair export",
        ),
        (
            "wrong version",
            join(&with_line(
                0,
                r#"{"format":"keypair-export","version":2,"count":3}"#,
            ))
            .into_bytes(),
            "line 1: format version 2",
        ),
        (
            "truncated: no trailer",
            join(&without(4)).into_bytes(),
            "line 5: the file ends without its trailer",
        ),
        (
            "truncated mid-line",
            {
                let full = join(&valid).into_bytes();
                full[..full.len() - 40].to_vec()
            },
            "line 5",
        ),
        (
            "bad digest",
            join(&with_line(4, &valid[4].replace("sha256:", "sha256:00"))).into_bytes(),
            "line 5: the digest does not match",
        ),
        (
            "count mismatch",
            join(&with_line(
                4,
                &valid[4].replace("\"count\":3", "\"count\":4"),
            ))
            .into_bytes(),
            "line 5: the file has 3 records",
        ),
        (
            "a record removed",
            join(&without(2)).into_bytes(),
            "line 4: the file has 2 records",
        ),
        (
            "record not JSON",
            join(&with_line(2, "{not json")).into_bytes(),
            "line 3: invalid record",
        ),
        (
            "unknown field",
            join(&replace_record(&valid, 2, "private_key", "x".into())).into_bytes(),
            "line 3: invalid record: unknown field",
        ),
        (
            "bad name",
            join(&replace_record(
                &valid,
                2,
                "name",
                "no spaces allowed".into(),
            ))
            .into_bytes(),
            "line 3: invalid record: the key name contains",
        ),
        (
            "bad public key",
            join(&replace_record(
                &valid,
                2,
                "public_key",
                "ssh-rsa AAAA".into(),
            ))
            .into_bytes(),
            "line 3: invalid record: the public key is malformed",
        ),
        (
            "bad key id",
            join(&replace_record(&valid, 1, "id", "skey-1".into())).into_bytes(),
            "line 2: invalid record: key id",
        ),
        (
            "bad account",
            join(&replace_record(&valid, 1, "account", "a b".into())).into_bytes(),
            "line 2: invalid record: account id",
        ),
        (
            "illegal tag",
            join(&replace_record(
                &valid,
                1,
                "tags",
                serde_json::json!([{"key": "a#b", "value": "v"}]),
            ))
            .into_bytes(),
            "line 2: invalid record: tag key",
        ),
        (
            "foreign instance",
            join(&replace_record(
                &valid,
                1,
                "associations",
                serde_json::json!([{"instance": "ins-00000001", "username": null}]),
            ))
            .into_bytes(),
            "line 2: invalid record: instance id",
        ),
        (
            "line of 10 MB",
            join(&with_line(2, &"x".repeat(10 << 20))).into_bytes(),
            "line 3: the line is longer than",
        ),
        (
            "not UTF-8",
            [join(&valid[..2]).into_bytes(), vec![0xff, 0xfe, b'\n']].concat(),
            "line 3: the line is not UTF-8",
        ),
        (
            "content after the trailer",
            join(&extra).into_bytes(),
            "line 6: there is more after the trailer",
        ),
        (
            "a record repeated",
            join(&duplicate).into_bytes(),
            "line 6: the file has 4 records",
        ),
    ];
    assert!(cases.len() >= 15);
    let (existing, _) = records(3, 1);
    let mut failures = Vec::new();
    for (what, bytes, want) in cases {
        let store = MemoryStore::new();
        store.load(&existing[..1]).await.unwrap();
        let bytes = Arc::new(bytes);
        let open = || Ok(Box::new(Cursor::new(bytes.to_vec())) as Box<dyn BufRead + Send>);
        match transfer::import(&store, open).await {
            Ok(r) => failures.push(format!("{what}: accepted ({r:?})")),
            Err(e) if !e.to_string().contains(want) => failures.push(format!("{what}: {e}")),
            Err(_) => {}
        }
        let held = store.scan(None, 10).await.unwrap();
        if held != existing[..1] {
            failures.push(format!("{what}: the store changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
