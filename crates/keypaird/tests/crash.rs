//! Crash safety: keypaird is killed with SIGKILL during a storm of creates and imports
//! over HTTP, restarted on the same SQLite file, and every acknowledged KeyId is there
//! with its tags, nothing is half-written, and the database passes its integrity check.
//! `cargo test` runs 3 rounds; KEYPAIR_CRASH_ROUNDS=20 runs the full loop.

mod support;

use keypair_core::fixtures::synthetic_public_key;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_key_pairs_survive_sigkill_storms() {
    let rounds: u64 = std::env::var("KEYPAIR_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("keys.db");
    let config = config(dir.path(), &format!("sqlite:{}", db.display()));
    let acked: Arc<Mutex<Vec<(String, String, u64)>>> = Arc::default();
    let counter = Arc::new(AtomicU64::new(0));
    for round in 0..rounds {
        let mut server = start(&config, &dir.path().join("server.log"), "warn");
        let stop = Arc::new(AtomicBool::new(false));
        let (ack_tx, ack_rx) = std::sync::mpsc::channel::<()>();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (addr, acked, counter, stop) = (server.addr.clone(), acked.clone(), counter.clone(), stop.clone());
                let ack_tx = ack_tx.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        let version = if n % 2 == 0 { CVM } else { LH };
                        let name = format!("k{n}");
                        let mut body = if w == 0 {
                            json!({"KeyName": name})
                        } else {
                            json!({"KeyName": name, "PublicKey": synthetic_public_key(n, "crash").as_openssh()})
                        };
                        let tags = json!([{"Key": "n", "Value": n.to_string()}]);
                        if version == CVM {
                            body["ProjectId"] = json!(0);
                            body["TagSpecification"] = json!([{"ResourceType": "keypair", "Tags": tags}]);
                        } else {
                            body["Tags"] = tags;
                        }
                        let action = if w == 0 { "CreateKeyPair" } else { "ImportKeyPair" };
                        match call(&addr, version, action, &body) {
                            Ok(r) if code(&r) == "OK" => {
                                let id = r["KeyId"].as_str().or(r["KeyPair"]["KeyId"].as_str()).expect("KeyId").to_owned();
                                acked.lock().expect("lock").push((version.to_owned(), id, n));
                                let _ = ack_tx.send(());
                            }
                            Ok(r) => panic!("unexpected answer {r}"),
                            Err(_) => return, // the server is gone
                        }
                    }
                })
            })
            .collect();
        // Kill mid-storm, once this round has acknowledged a good number of key pairs.
        drop(ack_tx);
        for _ in 0..60 {
            ack_rx.recv().expect("the writers acknowledge key pairs");
        }
        server.child.kill().expect("SIGKILL");
        server.child.wait().expect("reap");
        stop.store(true, Ordering::SeqCst);
        writers.into_iter().for_each(|w| w.join().expect("writer"));

        let store = keypair_sqlite::Sqlite::open(&db)
            .await
            .expect("reopen after the crash");
        assert_eq!(
            store.integrity_check().await.expect("check"),
            "ok",
            "round {round}"
        );
        drop(store);
        let server = start(&config, &dir.path().join("server.log"), "warn");
        let all = acked.lock().expect("lock").clone();
        for version in [CVM, LH] {
            let ids: Vec<&(String, String, u64)> =
                all.iter().filter(|(v, _, _)| v == version).collect();
            for chunk in ids.chunks(100) {
                let key_ids: Vec<&str> = chunk.iter().map(|(_, id, _)| id.as_str()).collect();
                let r = call(
                    &server.addr,
                    version,
                    "DescribeKeyPairs",
                    &json!({"KeyIds": key_ids, "Limit": 100}),
                )
                .expect("describe");
                assert_eq!(
                    r["TotalCount"].as_u64(),
                    Some(chunk.len() as u64),
                    "round {round}: every acknowledged key pair is there"
                );
                for kp in r["KeyPairSet"].as_array().expect("set") {
                    let (_, _, n) = chunk
                        .iter()
                        .find(|(_, id, _)| kp["KeyId"] == id.as_str())
                        .expect("asked for");
                    assert_eq!(
                        kp["Tags"],
                        json!([{"Key": "n", "Value": n.to_string()}]),
                        "with its tags"
                    );
                }
            }
            // Nothing half-written: every stored key pair has its tag, acknowledged or not.
            let mut offset = 0;
            loop {
                let page = call(
                    &server.addr,
                    version,
                    "DescribeKeyPairs",
                    &json!({"Offset": offset, "Limit": 100}),
                )
                .expect("page");
                let set = page["KeyPairSet"].as_array().expect("set").clone();
                if set.is_empty() {
                    break;
                }
                assert!(
                    set.iter().all(|kp| kp["Tags"][0]["Key"] == "n"),
                    "round {round}: a key pair without its tag"
                );
                offset += set.len();
            }
        }
        assert!(server.stop(), "clean stop after round {round}");
    }
}
