//! Faults and the deterministic mode through the in-process server: each effect (an
//! error, a delay, a dropped connection), before the call and after it, counts, seeded
//! probabilities that repeat, the journal, and seeds that repeat ids and keys.

use keypair_steer::faults::{ErrorSpec, RuleSpec};
use keypair_testserver::{TestServer, CVM, LH};
use serde_json::{json, Value};
use std::time::Duration;

fn create(name: &str) -> Value {
    json!({"KeyName": name, "ProjectId": 0})
}

fn code(v: &Value) -> &str {
    v["Error"]["Code"].as_str().unwrap_or("OK")
}

#[tokio::test]
async fn fail_next_answers_the_code_that_many_times_in_the_products_envelope() {
    let s = TestServer::start().await.unwrap();
    s.fail_next("CreateKeyPair", "RequestLimitExceeded", 2)
        .unwrap();
    for _ in 0..2 {
        let r = s.call(CVM, "CreateKeyPair", create("k")).await.unwrap();
        assert_eq!(code(&r), "RequestLimitExceeded", "{r}");
        assert!(r["RequestId"].as_str().is_some_and(|id| id.len() == 36));
    }
    let r = s.call(CVM, "CreateKeyPair", create("k")).await.unwrap();
    assert_eq!(code(&r), "OK", "the rule was spent: {r}");
    assert!(
        s.add_fault(RuleSpec::default()).is_err(),
        "a rule needs an effect"
    );
    let undefined = s.fail_next("DescribeKeyPairs", "InvalidKeyPairId.Nonsense", 1);
    assert!(undefined
        .unwrap_err()
        .to_string()
        .contains("does not define"));
}

#[tokio::test]
async fn a_fault_after_the_store_keeps_the_write_and_loses_the_answer() {
    let s = TestServer::start().await.unwrap();
    s.add_fault(RuleSpec {
        action: Some("CreateKeyPair".into()),
        when: Some("after".into()),
        times: Some(1),
        error: Some(ErrorSpec {
            code: "InternalServerError".into(),
            message: None,
        }),
        product: Some("cvm".into()),
        ..RuleSpec::default()
    })
    .unwrap();
    let lost = s.call(CVM, "CreateKeyPair", create("once")).await.unwrap();
    assert_eq!(code(&lost), "InternalServerError");
    let retry = s.call(CVM, "CreateKeyPair", create("once")).await.unwrap();
    assert_eq!(
        code(&retry),
        "InvalidKeyPairName.Duplicate",
        "the first create was stored"
    );
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer_and_the_server_goes_on() {
    let s = TestServer::start().await.unwrap();
    s.add_fault(RuleSpec {
        action: Some("DescribeKeyPairs".into()),
        drop: Some(true),
        times: Some(1),
        ..RuleSpec::default()
    })
    .unwrap();
    let dropped = s.call(CVM, "DescribeKeyPairs", json!({})).await;
    assert!(dropped.is_err(), "no answer: {dropped:?}");
    let next = s.call(CVM, "DescribeKeyPairs", json!({})).await.unwrap();
    assert_eq!(code(&next), "OK");
}

#[tokio::test]
async fn a_delay_outlasts_a_clients_timeout_while_others_are_served() {
    let s = TestServer::start().await.unwrap();
    s.add_fault(RuleSpec {
        product: Some("lighthouse".into()),
        latency_ms: Some(5_000),
        ..RuleSpec::default()
    })
    .unwrap();
    let slow = tokio::time::timeout(
        Duration::from_millis(200),
        s.call(LH, "DescribeKeyPairs", json!({})),
    );
    assert!(slow.await.is_err(), "the client gave up first");
    let other = s.call(CVM, "DescribeKeyPairs", json!({})).await.unwrap();
    assert_eq!(
        code(&other),
        "OK",
        "another product's calls are not delayed"
    );
    let long = RuleSpec {
        latency_ms: Some(60_001),
        ..RuleSpec::default()
    };
    assert!(s.add_fault(long).is_err(), "a delay is bounded");
}

/// Which of 40 matching calls a rule with `probability` and `seed` fails.
async fn failures(seed: u64) -> Vec<bool> {
    let s = TestServer::start().await.unwrap();
    s.add_fault(RuleSpec {
        probability: Some(0.5),
        seed: Some(seed),
        error: Some(ErrorSpec {
            code: "RequestLimitExceeded".into(),
            message: Some("busy".into()),
        }),
        ..RuleSpec::default()
    })
    .unwrap();
    let mut out = Vec::new();
    for _ in 0..40 {
        let r = s.call(CVM, "DescribeKeyPairs", json!({})).await.unwrap();
        out.push(code(&r) == "RequestLimitExceeded");
    }
    out
}

#[tokio::test]
async fn a_seeded_probability_fails_the_same_calls_on_every_run() {
    let (a, b, other) = (failures(11).await, failures(11).await, failures(12).await);
    assert_eq!(a, b, "the same seed, the same calls");
    assert_ne!(a, other, "another seed, other calls");
    let failed = a.iter().filter(|f| **f).count();
    assert!((5..=35).contains(&failed), "about half of 40: {failed}");
}

/// A seeded server's answers to a few creates and a describe.
async fn seeded_answers(seed: u64) -> Vec<Value> {
    let s = TestServer::start_seeded(seed).await.unwrap();
    let mut out = Vec::new();
    for name in ["a", "b", "a"] {
        out.push(s.call(CVM, "CreateKeyPair", create(name)).await.unwrap());
    }
    out.push(
        s.call(LH, "CreateKeyPair", json!({"KeyName": "c"}))
            .await
            .unwrap(),
    );
    out.push(s.call(CVM, "DescribeKeyPairs", json!({})).await.unwrap());
    out
}

#[tokio::test]
async fn a_seed_repeats_ids_request_ids_keys_and_times() {
    let (a, b) = (seeded_answers(5).await, seeded_answers(5).await);
    assert_eq!(a, b);
    assert_eq!(a[0]["KeyPair"]["CreatedTime"], "2026-01-01T00:00:00Z");
    let other = seeded_answers(6).await;
    assert_ne!(a[0]["KeyPair"]["KeyId"], other[0]["KeyPair"]["KeyId"]);
    assert_ne!(
        a[0]["KeyPair"]["PublicKey"],
        other[0]["KeyPair"]["PublicKey"]
    );
}

#[tokio::test]
async fn reseeding_starts_the_sequences_over_and_the_clock_moves_when_told() {
    let s = TestServer::start_seeded(3).await.unwrap();
    let first = s.call(CVM, "CreateKeyPair", create("x")).await.unwrap();
    s.reset().await;
    assert!(s.reseed(3));
    let again = s.call(CVM, "CreateKeyPair", create("x")).await.unwrap();
    assert_eq!(first, again, "the same answer, RequestId included");
    s.clock().advance(90_000);
    let later = s.call(CVM, "CreateKeyPair", create("y")).await.unwrap();
    assert_eq!(later["KeyPair"]["CreatedTime"], "2026-01-01T00:01:30Z");
    let unseeded = TestServer::start().await.unwrap();
    assert!(!unseeded.reseed(3), "no seed to start over");
}

#[tokio::test]
async fn the_journal_records_each_call_with_its_answer_and_no_private_key() {
    let s = TestServer::start().await.unwrap();
    s.journal().start();
    s.call(CVM, "CreateKeyPair", create("j")).await.unwrap();
    s.call(CVM, "CreateKeyPair", create("j")).await.unwrap();
    s.journal().stop();
    s.call(CVM, "DescribeKeyPairs", json!({})).await.unwrap();
    let (text, left_out) = s.journal().download();
    assert_eq!(left_out, 0);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "recording stopped before the describe");
    assert_eq!(lines[0]["Params"], create("j"));
    assert_eq!(lines[1]["Code"], "InvalidKeyPairName.Duplicate");
    assert_eq!(
        lines[0]["Answer"]["KeyPair"]["PrivateKey"],
        keypair_steer::journal::PRIVATE_KEY_MARKER
    );
    assert!(!text.contains("BEGIN RSA PRIVATE KEY"));
}
