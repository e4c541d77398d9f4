//! Moving key pairs between stores through the library: a 10,000-key round trip through
//! every store and a file, a target holding other data, and a table of hostile export
//! files.

use keypair_core::fixtures::varied_key_pairs as records;
use keypair_core::{KeyPair, KeyPairStore, Query, Scope};
use keypair_memory::MemoryStore;
use keypair_sqlite::Sqlite;
use keypair_transfer::{self as transfer, Quiet, TransferError};
use std::io::{BufRead, Cursor};
use std::sync::Arc;

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

/// A store on a fresh database of the test PostgreSQL server.
async fn fresh_postgres(name: &str) -> (String, Arc<dyn KeyPairStore>) {
    let url = keypair_postgres::test_server::fresh_database(name).await;
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
        transfer::migrate(&memory, &sqlite1, false, 1, &mut Quiet)
            .await
            .unwrap();
        assert!(
            describe_all(&sqlite1, &scopes).await == expected,
            "memory -> SQLite"
        );
        let (_, pg) = fresh_postgres("transfer_round_trip").await;
        // Two lanes, as `keypaird migrate` runs into PostgreSQL.
        transfer::migrate(&sqlite1, &*pg, false, 2, &mut Quiet).await.unwrap();
        assert!(
            describe_all(&*pg, &scopes).await == expected,
            "SQLite -> PostgreSQL"
        );
        let sqlite2 = Sqlite::open(dir.path().join("two.db")).await.unwrap();
        transfer::migrate(&*pg, &sqlite2, false, 1, &mut Quiet).await.unwrap();
        assert!(
            describe_all(&sqlite2, &scopes).await == expected,
            "PostgreSQL -> SQLite"
        );
        let mut file = Vec::new();
        assert_eq!(
            transfer::export(&sqlite2, "sqlite", &mut file, &mut Quiet)
                .await
                .unwrap(),
            10_000
        );
        let back = MemoryStore::new();
        let bytes = Arc::new(file);
        let mut open = || Ok(Box::new(Cursor::new(bytes.to_vec())) as Box<dyn BufRead + Send>);
        let report = transfer::import(&back, &mut open, &mut Quiet).await.unwrap();
        assert_eq!((report.loaded, report.present), (10_000, 0));
        assert!(
            describe_all(&back, &scopes).await == expected,
            "SQLite -> file -> memory"
        );
        let again = transfer::import(&back, &mut open, &mut Quiet).await.unwrap();
        assert_eq!(
            (again.loaded, again.present),
            (0, 10_000),
            "a second import changes nothing"
        );
        transfer::verify(&memory, &back, false).await.unwrap();
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
    let refused = transfer::migrate(&source, &target, false, 1, &mut Quiet).await;
    assert!(
        matches!(refused, Err(TransferError::TargetNotEmpty(_))),
        "{refused:?}"
    );
    assert_eq!(target.count_all().await.unwrap(), 1, "nothing written");
    transfer::migrate(&source, &target, true, 3, &mut Quiet)
        .await
        .unwrap();
    assert_eq!(target.count_all().await.unwrap(), 11);
}

/// A valid export of three key pairs, as lines.
async fn valid_export() -> Vec<String> {
    let (all, _) = records(1, 2);
    let store = MemoryStore::new();
    store.load(&all[..3]).await.unwrap();
    let mut out = Vec::new();
    transfer::export(&store, "memory", &mut out, &mut Quiet)
        .await
        .unwrap();
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
        let mut open = || Ok(Box::new(Cursor::new(bytes.to_vec())) as Box<dyn BufRead + Send>);
        match transfer::import(&store, &mut open, &mut Quiet).await {
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
