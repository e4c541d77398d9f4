//! Read-your-writes, across servers: one client writes (import with a tag, rename,
//! delete), and after each write another client reads and must see it. On memory and on
//! SQLite the two clients share one keypaird; on PostgreSQL the writer and the reader
//! talk to two keypaird on one database. Any read model or cache added to the read path
//! must keep this test passing.

mod support;

use keypair_core::fixtures::synthetic_public_key;
use serde_json::{json, Value};
use support::{call_as, code, serve, stop, CVM};

const CRED: (&str, &str) = ("AKIDcoherence", "AKIDcoherence");

fn call(addr: &str, action: &str, body: Value) -> Value {
    let answer = call_as(CRED, addr, CVM, action, &body).expect("call");
    assert_eq!(code(&answer), "OK", "{action} {body}: {answer}");
    answer
}

/// The reader's view of key name `name`: (total matching, its tag value).
fn read(reader: &str, name: &str) -> (u64, Option<String>) {
    let filter = json!({"Filters": [{"Name": "key-name", "Values": [name]}]});
    let page = call(reader, "DescribeKeyPairs", filter);
    let exact: Vec<&Value> = page["KeyPairSet"]
        .as_array()
        .expect("a set")
        .iter()
        .filter(|k| k["KeyName"] == name)
        .collect();
    let tag = exact
        .first()
        .and_then(|k| k["Tags"][0]["Value"].as_str().map(str::to_owned));
    (exact.len() as u64, tag)
}

/// 12 rounds of import, rename and (every third round) delete on `writer`, each
/// followed by a read on `reader` that must already show it.
fn writes_are_seen(writer: &str, reader: &str) {
    let mut kept = 0;
    for i in 0..12u64 {
        let name = format!("coh_{i}");
        let key = synthetic_public_key(90_000 + i, "coherence");
        let tags = json!([{"ResourceType": "keypair", "Tags": [{"Key": "round", "Value": format!("r{i}")}]}]);
        let imported = call(
            writer,
            "ImportKeyPair",
            json!({"KeyName": name, "ProjectId": 0, "PublicKey": key.as_openssh(), "TagSpecification": tags}),
        );
        let id = imported["KeyId"].as_str().expect("an id").to_owned();
        assert_eq!(
            read(reader, &name),
            (1, Some(format!("r{i}"))),
            "the import, round {i}"
        );

        let renamed = format!("coh_{i}_renamed");
        call(
            writer,
            "ModifyKeyPairAttribute",
            json!({"KeyId": id, "KeyName": renamed}),
        );
        assert_eq!(read(reader, &name).0, 0, "the old name is gone, round {i}");
        assert_eq!(read(reader, &renamed).0, 1, "the new name, round {i}");

        if i % 3 == 0 {
            call(writer, "DeleteKeyPairs", json!({"KeyIds": [id]}));
            assert_eq!(read(reader, &renamed).0, 0, "the delete, round {i}");
        } else {
            kept += 1;
        }
        let total = call(reader, "DescribeKeyPairs", json!({}))["TotalCount"].as_u64();
        assert_eq!(total, Some(kept), "the reader's total after round {i}");
    }
}

const TEST_MODE: [&str; 4] = [
    "--test-credentials",
    "--no-rate-limits",
    "--listen",
    "127.0.0.1:0",
];

#[test]
fn a_write_is_seen_by_the_next_read_on_memory_and_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("coherence.db").display());
    for store in ["memory", db.as_str()] {
        let (server, addr, _) = serve(dir.path(), &[&TEST_MODE[..], &["--store", store]].concat());
        writes_are_seen(&addr, &addr);
        stop(server);
    }
}

keypair_postgres::postgres_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_on_one_server_is_seen_by_the_next_read_on_another_sharing_postgres() {
        let url = keypair_postgres::test_server::fresh_database("coherence").await;
        let dir = tempfile::tempdir().unwrap();
        let args = [&TEST_MODE[..], &["--store", url.as_str()]].concat();
        let (one, writer, _) = serve(dir.path(), &args);
        let (two, reader, _) = serve(dir.path(), &args);
        tokio::task::spawn_blocking(move || writes_are_seen(&writer, &reader))
            .await
            .expect("the rounds");
        stop(one);
        stop(two);
    }
}
