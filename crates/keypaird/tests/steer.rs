//! The steerable local cloud against the real binary: a seeded session answers byte for
//! byte the same on memory and on SQLite, with journals equal but for their wall-clock
//! times; `keypaird replay` finds no difference against the same seed and only ids,
//! times and keys against another; the journal holds no SecretKey, signature or private
//! key; faults, seeds and journals are refused outside test mode, and the fault API
//! without the token; a rule with a code the product does not define is refused; reset
//! clears the rules.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::{call_as, code, fails, http, http_with_body, serve, stop, CVM, LH};

const TOKEN: &str = "steer-admin-token";
const CRED: (&str, &str) = ("AKIDsteer", "AKIDsteer");

/// One scripted session of both products: creates, an import, a rename, a binding,
/// filtered describes, a refused duplicate, a delete. Returns every answer as sent.
fn session(addr: &str) -> Vec<String> {
    let import_key = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDC1IaVjpExwRNDrprQmmOkg7pWBczmbB8DHGTZxzQ9cWpnZ6Q4tLwzIf3ltmFO6i6yxyuXEwebcsr4uu6dmgUrS7f8/E4sRqZU8kQa0EBTjY2rcdH4OYd08LdiXoSuH+lr8p7I8dK+bkdGzcqwz4OPjj9vSMV5V+tc26xCWn1RJ6i5aqczuIqa5mfWWP2TqDHuA9Im09ShoXpAZMLVMAoKHM1tHNl+kXA9sL3qwXPc15CKwEyI5NNydmBEyo5eNTm6Oj/Ph9L35URqk7VzT0nTwFP2xYXTJH9PchJeyeQRz7PQbAqdBG4e0zXG4ta2Mae6LHZmqx0UazOjs4cj2tZR imported";
    let steps: Vec<(&str, &str, Value)> = vec![
        (
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "web", "ProjectId": 0}),
        ),
        (
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "web", "ProjectId": 0}),
        ),
        (
            CVM,
            "ImportKeyPair",
            json!({"KeyName": "imported", "ProjectId": 0, "PublicKey": import_key}),
        ),
        (
            LH,
            "CreateKeyPair",
            json!({"KeyName": "blog", "Tags": [{"Key": "env", "Value": "test"}]}),
        ),
        (
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "db", "ProjectId": 0}),
        ),
        (CVM, "DescribeKeyPairs", json!({})),
        (
            CVM,
            "DescribeKeyPairs",
            json!({"Filters": [{"Name": "key-name", "Values": ["db"]}]}),
        ),
        (LH, "DescribeKeyPairs", json!({})),
    ];
    let mut answers = Vec::new();
    let mut ids = Vec::new();
    for (version, action, body) in steps {
        let a = call_as(CRED, addr, version, action, &body).expect("call");
        if let Some(id) = a["KeyPair"]["KeyId"].as_str().or(a["KeyId"].as_str()) {
            ids.push(id.to_owned());
        }
        answers.push(a.to_string());
    }
    let first = ids[0].clone();
    let rename = json!({"KeyId": first, "KeyName": "web2", "Description": "front"});
    let bind = json!({"KeyIds": [first], "InstanceIds": ["ins-00000001"]});
    for (action, body) in [
        ("ModifyKeyPairAttribute", rename),
        ("AssociateInstancesKeyPairs", bind.clone()),
        ("DisassociateInstancesKeyPairs", bind),
        ("DeleteKeyPairs", json!({"KeyIds": [ids[2]]})),
        ("DescribeKeyPairs", json!({"KeyIds": [first]})),
    ] {
        answers.push(
            call_as(CRED, addr, CVM, action, &body)
                .expect("call")
                .to_string(),
        );
    }
    answers
}

/// A journal's lines without their wall-clock `Time`.
fn without_times(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("read the journal")
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("a JSON line");
            v.as_object_mut().expect("an object").remove("Time");
            v
        })
        .collect()
}

fn replay(journal: &Path, addr: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args([
            "replay",
            &journal.display().to_string(),
            "--endpoint",
            &format!("http://{addr}"),
        ])
        .output()
        .expect("run keypaird replay");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_seeded_session_is_byte_identical_on_memory_and_sqlite_and_replays_without_a_difference() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (j1, j2) = (
        dir.path().join("memory.jsonl"),
        dir.path().join("sqlite.jsonl"),
    );
    let db = format!("sqlite:{}", dir.path().join("steer.db").display());
    let seeded = [
        "--test-credentials",
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "7",
    ];
    let (memory, addr, _) = serve(
        dir.path(),
        &[
            &seeded[..],
            &["--store", "memory", "--journal", &j1.display().to_string()],
        ]
        .concat(),
    );
    let on_memory = session(&addr);
    stop(memory);
    let (sqlite, addr, _) = serve(
        dir.path(),
        &[
            &seeded[..],
            &["--store", &db, "--journal", &j2.display().to_string()],
        ]
        .concat(),
    );
    let on_sqlite = session(&addr);
    stop(sqlite);
    assert_eq!(
        on_memory, on_sqlite,
        "the same seed and requests give the same bytes"
    );
    // The servers are stopped: a stopping server writes out its journal first.
    let (a, b) = (without_times(&j1), without_times(&j2));
    assert_eq!(a.len(), on_memory.len(), "one line per call");
    assert_eq!(a, b, "the journals differ only in their times");

    let fresh = format!("sqlite:{}", dir.path().join("replayed.db").display());
    let (same, addr, _) = serve(dir.path(), &[&seeded[..], &["--store", &fresh]].concat());
    let (ok, report) = replay(&j1, &addr);
    stop(same);
    assert!(ok, "the same seed reproduces every answer:\n{report}");
    assert!(report.contains(" 0 differences"), "{report}");

    let other = [
        "--test-credentials",
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "8",
        "--store",
        "memory",
    ];
    let (other, addr, _) = serve(dir.path(), &other);
    let (ok, report) = replay(&j1, &addr);
    stop(other);
    assert!(!ok, "another seed gives other ids and keys:\n{report}");
    assert!(
        report.contains(" 0 other)"),
        "only ids, times and keys differ:\n{report}"
    );
    assert!(
        !report.contains("(0 key ids mapped)"),
        "the created ids were mapped:\n{report}"
    );
}

#[test]
fn the_journal_never_holds_a_secret_key_a_signature_or_a_private_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = dir.path().join("j.jsonl");
    let args = [
        "--any-secret-key",
        "--ephemeral",
        "--listen",
        "127.0.0.1:0",
        "--journal",
        &journal.display().to_string(),
    ];
    let (server, addr, _) = serve(dir.path(), &args);
    let secret = "sk-a-secret-key-that-must-not-leak-4711";
    let cred = ("AKIDjournal", secret);
    let created = call_as(
        cred,
        &addr,
        CVM,
        "CreateKeyPair",
        &json!({"KeyName": "k", "ProjectId": 0}),
    )
    .expect("call");
    assert!(created["KeyPair"]["PrivateKey"]
        .as_str()
        .is_some_and(|k| k.contains("BEGIN RSA PRIVATE KEY")));
    call_as(cred, &addr, LH, "CreateKeyPair", &json!({"KeyName": "k"})).expect("call");
    call_as(cred, &addr, CVM, "DescribeKeyPairs", &json!({})).expect("call");
    stop(server);
    let text = std::fs::read_to_string(&journal).expect("read the journal");
    assert_eq!(text.lines().count(), 3, "{text}");
    for leak in [
        secret,
        "TC3-HMAC-SHA256",
        "Signature",
        "Authorization",
        "-----BEGIN",
        "PRIVATE KEY-----",
    ] {
        assert!(!text.contains(leak), "the journal holds {leak:?}");
    }
    assert!(text.contains(keypair_steer::journal::PRIVATE_KEY_MARKER));
}

#[test]
fn faults_seeds_and_journals_are_test_mode_powers() {
    let dir = tempfile::tempdir().expect("temp dir");
    for flag in [
        ["--seed", "1"],
        ["--journal", "j.jsonl"],
        ["--key-cache", "cache"],
    ] {
        let stderr = fails(
            dir.path(),
            &[
                &["serve", "--ephemeral", "--listen", "127.0.0.1:0"][..],
                &flag[..],
            ]
            .concat(),
        );
        assert!(
            stderr.contains(flag[0]) && stderr.contains("--test-credentials"),
            "{stderr}"
        );
    }
    let (server, addr, _) = serve(
        dir.path(),
        &[
            "--ephemeral",
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            TOKEN,
        ],
    );
    let rule = r#"{"Action": "CreateKeyPair", "Error": {"Code": "RequestLimitExceeded"}}"#;
    let (status, body) = http_with_body(&addr, "POST", "/_keypaird/faults", Some(TOKEN), rule);
    stop(server);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--test-credentials"), "{body}");
}

#[test]
fn fault_rules_are_checked_need_the_token_and_are_cleared_by_reset() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "--ephemeral",
        "--test-credentials",
        "--listen",
        "127.0.0.1:0",
        "--admin-token",
        TOKEN,
    ];
    let (server, addr, _) = serve(dir.path(), &args);
    let post = |body: &str, token| http_with_body(&addr, "POST", "/_keypaird/faults", token, body);
    let lighthouse_only =
        r#"{"Product": "cvm", "Error": {"Code": "ResourceNotFound.KeyIdNotFound"}}"#;
    let (status, body) = post(lighthouse_only, Some(TOKEN));
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("cvm does not define ResourceNotFound.KeyIdNotFound"),
        "{body}"
    );
    let (status, _) = post(r#"{"Error": {"Code": "RequestLimitExceeded"}}"#, None);
    assert_eq!(status, 401, "no token, no rule");
    let (status, body) = post(
        r#"{"Action": "CreateKeyPair", "Error": {"Code": "RequestLimitExceeded"}, "Times": 2}"#,
        Some(TOKEN),
    );
    assert_eq!(status, 200, "{body}");
    let create = || {
        call_as(
            CRED,
            &addr,
            CVM,
            "CreateKeyPair",
            &json!({"KeyName": "k", "ProjectId": 0}),
        )
        .expect("call")
    };
    assert_eq!(code(&create()), "RequestLimitExceeded");
    let (_, listed) = http(&addr, "GET", "/_keypaird/faults", Some(TOKEN));
    assert!(listed.contains(r#""Remaining":1"#), "{listed}");
    let (status, _) = http(&addr, "POST", "/_keypaird/reset", Some(TOKEN));
    assert_eq!(status, 200);
    let (_, listed) = http(&addr, "GET", "/_keypaird/faults", Some(TOKEN));
    assert!(
        listed.contains(r#""Rules":[]"#),
        "reset clears the rules: {listed}"
    );
    assert_eq!(
        code(&create()),
        "OK",
        "the second failure was cleared with the rule"
    );
    let (_, metrics) = http(&addr, "GET", "/metrics", None);
    stop(server);
    assert!(
        metrics.contains(r#"keypair_injected_faults_total{effect="error",point="before"} 1"#),
        "{metrics}"
    );
}
