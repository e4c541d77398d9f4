//! keypaird as a local cloud for test suites, against the real binary: ephemeral mode and
//! its JSON credential line, test credentials (loopback only), the admin API's token,
//! reset of one account, readiness over a SQLite file, and a failed start that writes
//! nothing.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use support::{call_as, code, http, http_with_body, serve as start, stop, CVM, LH};

const TOKEN: &str = "admin-token-for-tests";

/// Runs `keypaird serve ARGS` in `dir`, a start that must fail; its stderr.
fn failed_start(dir: &Path, args: &[&str]) -> String {
    support::fails(dir, &[&["serve"], args].concat())
}

/// The files in `dir`.
fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).expect("dir").count()
}

fn create(cred: (&str, &str), addr: &str, name: &str) -> Value {
    call_as(
        cred,
        addr,
        CVM,
        "CreateKeyPair",
        &json!({"KeyName": name, "ProjectId": 0}),
    )
    .expect("call")
}

fn count(cred: (&str, &str), addr: &str) -> u64 {
    let page = call_as(cred, addr, CVM, "DescribeKeyPairs", &json!({})).expect("call");
    page["TotalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("{page}"))
}

#[test]
fn ephemeral_mode_prints_a_working_credential_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr, cred) = start(dir.path(), &["--ephemeral", "--listen", "127.0.0.1:0"]);
    let cred = cred.unwrap();
    assert_eq!(cred["endpoint"], addr.as_str());
    let id = cred["secret_id"].as_str().unwrap();
    let key = cred["secret_key"].as_str().unwrap();
    assert_eq!(code(&create((id, key), &addr, "eph")), "OK");
    assert_eq!(count((id, key), &addr), 1);
    stop(child);
    assert_eq!(files(dir.path()), 0, "no file written");
}

#[test]
fn test_credentials_accept_any_id_sign_with_it_and_refuse_non_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let message = failed_start(
        dir.path(),
        &["--ephemeral", "--test-credentials", "--listen", "0.0.0.0:0"],
    );
    assert!(message.contains("loopback"), "{message}");
    let (child, addr, cred) = start(
        dir.path(),
        &[
            "--ephemeral",
            "--test-credentials",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(cred.unwrap()["test_credentials"], true);
    assert_eq!(
        code(&create(("AKIDsuiteone", "AKIDsuiteone"), &addr, "a")),
        "OK"
    );
    assert_eq!(code(&create(("test", "test"), &addr, "b")), "OK");
    let wrong = create(("AKIDsuiteone", "not-the-id"), &addr, "c");
    assert_eq!(code(&wrong), "AuthFailure.SignatureFailure");
    let malformed = create(("bad/id", "bad/id"), &addr, "d");
    assert_eq!(
        code(&malformed),
        "AuthFailure.InvalidAuthorization",
        "{malformed}"
    );
    assert_eq!(
        count(("AKIDsuiteone", "AKIDsuiteone"), &addr),
        1,
        "one account per SecretId"
    );
    stop(child);
}

#[test]
fn the_admin_api_needs_its_token_and_resets_one_account_or_all() {
    let dir = tempfile::tempdir().unwrap();
    let (off, off_addr, _) = start(
        dir.path(),
        &[
            "--ephemeral",
            "--test-credentials",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    let (status, body) = http(&off_addr, "POST", "/_keypaird/reset", Some(TOKEN));
    assert!(
        status == 200 && body.contains("UnsupportedProtocol"),
        "off by default: {status} {body}"
    );
    stop(off);
    let (child, addr, _) = start(
        dir.path(),
        &[
            "--ephemeral",
            "--test-credentials",
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            TOKEN,
        ],
    );
    let (a, b) = (
        ("AKIDaccounta", "AKIDaccounta"),
        ("AKIDaccountb", "AKIDaccountb"),
    );
    create(a, &addr, "one");
    create(a, &addr, "two");
    create(b, &addr, "three");
    for bearer in [None, Some("wrong-token")] {
        let (status, body) = http(&addr, "POST", "/_keypaird/reset", bearer);
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("RequestId"));
    }
    assert_eq!(
        (count(a, &addr), count(b, &addr)),
        (2, 1),
        "nothing changed"
    );
    let account_a = keypair_wire::auth::test_account(a.0);
    let path = format!("/_keypaird/reset?account={}", account_a.as_str());
    let (status, body) = http(&addr, "POST", &path, Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["Removed"], 2);
    assert_eq!(
        (count(a, &addr), count(b, &addr)),
        (0, 1),
        "the other account is intact"
    );
    let (status, body) = http(&addr, "POST", "/_keypaird/reset", Some(TOKEN));
    assert_eq!((status, count(b, &addr)), (200, 0), "{body}");
    let lh = call_as(a, &addr, LH, "DescribeKeyPairs", &json!({})).unwrap();
    assert_eq!(lh["TotalCount"], 0);
    stop(child);
}

#[test]
fn readiness_follows_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let store = format!("sqlite:{}", db.display());
    let (child, addr, _) = start(
        dir.path(),
        &[
            "--store",
            &store,
            "--test-credentials",
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            TOKEN,
        ],
    );
    let ready = || http(&addr, "GET", "/_keypaird/ready", Some(TOKEN));
    assert_eq!(ready().0, 200, "{}", ready().1);
    assert_eq!(http(&addr, "GET", "/_keypaird/ready", None).0, 401);
    // Made unreadable: moved away (root ignores file modes, so a chmod would not do).
    let moved = dir.path().join("moved.db");
    std::fs::rename(&db, &moved).unwrap();
    let (status, body) = ready();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store"), "{body}");
    assert_eq!(
        http(&addr, "GET", "/healthz", None).0,
        200,
        "liveness is not readiness"
    );
    std::fs::rename(&moved, &db).unwrap();
    assert_eq!(ready().0, 200);
    stop(child);
}

#[test]
fn a_failed_start_writes_no_file_and_names_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let message = failed_start(dir.path(), &["--listen", &port]);
    assert!(message.contains("cannot listen"), "{message}");
    assert_eq!(files(dir.path()), 0, "port taken: no file");
    let missing = format!(
        "sqlite:{}",
        dir.path().join("no/such/dir/keys.db").display()
    );
    let message = failed_start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--store", &missing],
    );
    assert!(
        message.contains("no/such/dir/keys.db") && !message.contains("credentials"),
        "{message}"
    );
    assert_eq!(files(dir.path()), 0, "bad store: no file");
}

#[test]
fn a_snapshot_restores_after_a_reset_and_a_bad_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr, _) = start(
        dir.path(),
        &[
            "--ephemeral",
            "--test-credentials",
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            TOKEN,
        ],
    );
    let a = ("AKIDsnapshot", "AKIDsnapshot");
    create(a, &addr, "one");
    create(a, &addr, "two");
    assert_eq!(http(&addr, "GET", "/_keypaird/snapshot", None).0, 401);
    let (status, snapshot) = http(&addr, "GET", "/_keypaird/snapshot", Some(TOKEN));
    assert_eq!(status, 200);
    assert_eq!(snapshot.lines().count(), 4, "header, two records, trailer");
    assert_eq!(http(&addr, "POST", "/_keypaird/reset", Some(TOKEN)).0, 200);
    assert_eq!(count(a, &addr), 0);
    let damaged = snapshot.replacen("\"name\":\"one\"", "\"name\":\"o n e\"", 1);
    let (status, body) = http_with_body(&addr, "POST", "/_keypaird/restore", Some(TOKEN), &damaged);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("line"), "{body}");
    assert_eq!(count(a, &addr), 0, "a damaged snapshot changes nothing");
    let (status, body) =
        http_with_body(&addr, "POST", "/_keypaird/restore", Some(TOKEN), &snapshot);
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["Loaded"], 2);
    assert_eq!(count(a, &addr), 2, "restored");
    stop(child);
}

/// The codes of 30 DescribeKeyPairs sent at once by one account, from 30 threads
/// (documented rate: 10 per second, so at most about 20 fit however slowly they land).
fn thirty_describes(addr: &str) -> Vec<String> {
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..30)
            .map(|_| {
                s.spawn(|| {
                    let cred = ("AKIDrate", "AKIDrate");
                    let page = call_as(cred, addr, CVM, "DescribeKeyPairs", &json!({}));
                    code(&page.expect("call")).to_owned()
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().expect("caller"))
            .collect()
    })
}

#[test]
fn the_documented_rates_hold_unless_no_rate_limits_lifts_them() {
    let dir = tempfile::tempdir().unwrap();
    let test_mode = [
        "--ephemeral",
        "--test-credentials",
        "--listen",
        "127.0.0.1:0",
    ];
    let (child, addr, _) = start(dir.path(), &test_mode);
    let limited = thirty_describes(&addr);
    stop(child);
    assert!(
        limited.iter().any(|c| c == "RequestLimitExceeded"),
        "the documented 10/s holds by default: {limited:?}"
    );
    let (child, addr, _) = start(
        dir.path(),
        &[&test_mode[..], &["--no-rate-limits"]].concat(),
    );
    let free = thirty_describes(&addr);
    stop(child);
    assert!(free.iter().all(|c| c == "OK"), "{free:?}");
}

#[test]
fn the_console_is_on_in_test_mode_and_off_on_a_durable_server_unless_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("console.db").display());
    let cases: [(&[&str], u16); 3] = [
        (&["--ephemeral", "--test-credentials"], 200),
        (&["--store", &db], 404),
        (&["--store", &db, "--console", "true"], 200),
    ];
    for (args, expected) in cases {
        let (child, addr, _) = start(dir.path(), &[args, &["--listen", "127.0.0.1:0"]].concat());
        let (status, body) = http(&addr, "GET", "/console/", None);
        stop(child);
        assert_eq!(status, expected, "{args:?}: {body}");
        let needle = if expected == 200 {
            "<title>keypaird console</title>"
        } else {
            "[console] enabled = true"
        };
        assert!(body.contains(needle), "{args:?}: {body}");
    }
}
