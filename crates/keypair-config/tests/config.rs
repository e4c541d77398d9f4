//! The configuration file: the documented example loads, instances load per account,
//! and errors name their file and key; generated credentials are private and reused.

use keypair_config::*;
use keypair_core::{
    AccountId, Busy, InstanceDirectory, InstanceId, InstanceState, OsFamily, Product, Scope,
};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn parse(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keypaird.toml");
    fs::write(&path, text).unwrap();
    Config::load(&path)
}

#[test]
fn the_documented_example_loads() {
    let c = parse(
        r#"
listen = "127.0.0.1:8080"
store = "sqlite:keypaird.db"
[limits]
key_pairs_per_account = 5000      # per account and product
cvm_requests_per_second = 10
lighthouse_requests_per_second = 20
[[accounts]]
id = "1250000001"
projects = [0, 1001]             # 0 always exists
credentials = [{ secret_id = "AKIDexample", secret_key = "0123456789abcdef0123" }]
"#,
    )
    .unwrap();
    assert_eq!(c.limits.key_pairs_per_account, Some(5000));
    assert_eq!(c.accounts[0].projects, vec![0, 1001]);
}

/// The instances account 1250000001 of `text` configures, looked up by product and id.
fn instances_of(text: &str) -> impl Fn(Product, &str) -> Option<keypair_core::Instance> {
    let c = parse(text).unwrap();
    let accounts = validate_accounts(Path::new("k.toml"), &c.accounts).unwrap();
    let account = AccountId::parse("1250000001").unwrap();
    move |product, id: &str| {
        let scope = Scope::new(account.clone(), product);
        let id = InstanceId::parse(product, id).unwrap();
        // A test driving a future the static directory answers at once.
        futures::executor::block_on(accounts.instances.lookup(&scope, &id)).unwrap()
    }
}

#[test]
fn instances_load_per_account_and_errors_name_their_key() {
    let text = r#"
[[accounts]]
id = "1250000001"
credentials = [{ secret_id = "AKIDinst", secret_key = "0123456789abcdef0123" }]
instances = [
  { id = "ins-running1", state = "RUNNING" },
  { id = "lhins-win00001", os = "windows" },
]
"#;
    let lookup = instances_of(text);
    let running = lookup(Product::Cvm, "ins-running1").unwrap();
    assert_eq!(
        (running.state, running.os),
        (InstanceState::Running, OsFamily::Linux)
    );
    let windows = lookup(Product::Lighthouse, "lhins-win00001").unwrap();
    assert_eq!(
        (windows.state, windows.os),
        (InstanceState::Stopped, OsFamily::Windows)
    );
    assert_eq!(
        lookup(Product::Cvm, "ins-unlisted"),
        None,
        "listed: others are missing"
    );
    let bad = |inst: &str| {
        let t = format!("[[accounts]]\nid = \"1\"\ncredentials = [{{ secret_id = \"A\", secret_key = \"0123456789abcdef\" }}]\ninstances = [{inst}]\n");
        parse(&t).unwrap_err().to_string()
    };
    let e = bad(r#"{ id = "ins-00000001", state = "BOOTING" }"#);
    assert!(
        e.contains("accounts[0].instances[0].state") && e.contains("BOOTING"),
        "{e}"
    );
    let e = bad(r#"{ id = "vm-00000001" }"#);
    assert!(e.contains("accounts[0].instances[0].id"), "{e}");
    let e = bad(r#"{ id = "ins-00000001", os = "plan9" }"#);
    assert!(e.contains("instances[0].os"), "{e}");
    let e = bad(r#"{ id = "ins-00000001", product = "lighthouse" }"#);
    assert!(e.contains("instances[0].id"), "{e}");
    let e = bad(r#"{ id = "ins-00000001", busy = "sleeping" }"#);
    assert!(
        e.contains("instances[0].busy") && e.contains("task_running"),
        "{e}"
    );
    let e = bad(r#"{ id = "ins-00000001", state = "RUNNING", stop_charging = true }"#);
    assert!(e.contains("instances[0].stop_charging"), "{e}");
    let e = bad(r#"{ id = "lhins-00000001", stop_charging = true }"#);
    assert!(e.contains("instances[0].stop_charging"), "{e}");
}

#[test]
fn busy_and_stopped_mode_load() {
    let text = r#"
[[accounts]]
id = "1250000001"
credentials = [{ secret_id = "AKIDbusy", secret_key = "0123456789abcdef0123" }]
instances = [
  { id = "ins-busy0001", busy = "TASK_RUNNING" },
  { id = "ins-cold0001", stop_charging = true },
  { id = "lhins-unfinish", state = "RUNNING", busy = "latest_operation_unfinished" },
]
"#;
    let found = instances_of(text);
    let lookup = |product, id: &str| found(product, id).unwrap();
    let busy = lookup(Product::Cvm, "ins-busy0001");
    assert_eq!(
        (busy.busy, busy.stop_charging),
        (Some(Busy::TaskRunning), false)
    );
    let cold = lookup(Product::Cvm, "ins-cold0001");
    assert_eq!(
        (cold.state, cold.busy, cold.stop_charging),
        (InstanceState::Stopped, None, true)
    );
    let lh = lookup(Product::Lighthouse, "lhins-unfinish");
    assert_eq!(
        (lh.state, lh.busy),
        (
            InstanceState::Running,
            Some(Busy::LatestOperationUnfinished)
        )
    );
}

#[test]
fn errors_name_the_file_the_key_and_the_problem() {
    let e = parse("listen = \"x\"\nbogus = 1\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("keypaird.toml") && e.contains("bogus"), "{e}");
    let e = parse("[limits]\nkey_pairs_per_account = -1\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("key_pairs_per_account"), "{e}");
    let dup = r#"
[[accounts]]
id = "1"
credentials = [{ secret_id = "AKID1", secret_key = "0123456789abcdef" }]
[[accounts]]
id = "2"
credentials = [{ secret_id = "AKID1", secret_key = "0123456789abcdef" }]
"#;
    let e = parse(dup).unwrap_err().to_string();
    assert!(
        e.contains("accounts[1].credentials[0].secret_id") && e.contains("more than once"),
        "{e}"
    );
    let e = parse("[[accounts]]\nid = \"a b\"\ncredentials = []\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("accounts[0].id"), "{e}");
    let short =
        "[[accounts]]\nid = \"1\"\ncredentials = [{ secret_id = \"A\", secret_key = \"short\" }]\n";
    let e = parse(short).unwrap_err().to_string();
    assert!(e.contains("secret_key") && !e.contains("short\""), "{e}");
}

#[test]
fn generated_credentials_are_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let (first, src) = load_or_generate_credentials(dir.path()).unwrap();
    let CredentialsSource::Created {
        path, secret_id, ..
    } = src
    else {
        panic!("expected a new file")
    };
    assert!(
        !path.exists(),
        "nothing is written before the start succeeds"
    );
    write_credentials_file(&path, &first).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(first[0].credentials[0].secret_id, secret_id);
    let (again, src) = load_or_generate_credentials(dir.path()).unwrap();
    assert!(matches!(src, CredentialsSource::Loaded(_)));
    assert_eq!(
        again[0].credentials[0].secret_key,
        first[0].credentials[0].secret_key
    );
    assert!(validate_accounts(&path, &again).is_ok());
}
