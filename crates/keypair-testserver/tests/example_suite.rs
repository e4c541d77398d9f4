//! What a Rust test suite does with the in-process server: create, describe, reset and
//! an error code, with no binary and no network beyond loopback.

use keypair_testserver::{TestServer, CVM, LH};
use serde_json::json;

fn code(v: &serde_json::Value) -> &str {
    v["Error"]["Code"].as_str().unwrap_or("OK")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_describe_reset_and_an_error_code() {
    let server = TestServer::start().await.unwrap();
    let created = server
        .call(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "suite", "ProjectId": 0}),
        )
        .await
        .unwrap();
    assert_eq!(code(&created), "OK");
    assert!(created["KeyPair"]["PrivateKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let page = server
        .call(CVM, "DescribeKeyPairs", json!({}))
        .await
        .unwrap();
    assert_eq!(page["TotalCount"], 1);
    let again = server
        .call(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "suite", "ProjectId": 0}),
        )
        .await
        .unwrap();
    assert_eq!(code(&again), "InvalidKeyPairName.Duplicate");
    // Another SecretId is another account.
    let other = server
        .call_as(
            ("AKIDother", "AKIDother"),
            LH,
            "DescribeKeyPairs",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(other["TotalCount"], 0);
    assert_eq!(server.reset().await, 1);
    let page = server
        .call(CVM, "DescribeKeyPairs", json!({}))
        .await
        .unwrap();
    assert_eq!(page["TotalCount"], 0);
}

#[tokio::test(flavor = "current_thread")]
async fn works_on_a_current_thread_runtime_and_stops_when_dropped() {
    let server = TestServer::start().await.unwrap();
    let endpoint = server.endpoint();
    let created = server
        .call(LH, "CreateKeyPair", json!({"KeyName": "single"}))
        .await
        .unwrap();
    assert_eq!(code(&created), "OK");
    drop(server);
    // The accept loop sees the stop once this task yields; a new connection then fails.
    let mut refused = false;
    for _ in 0..1000 {
        tokio::task::yield_now().await;
        if tokio::net::TcpStream::connect(&endpoint).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "the listener was closed");
}
