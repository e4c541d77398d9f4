//! Every message a newcomer met that said what failed but not how to fix it now says
//! both; each is checked by its text here, as the user sees it on stderr or in `--help`.

mod support;

use std::path::Path;
use std::process::Command;
use support::fails;

/// `keypaird ARGS`'s stdout, for a command that must succeed.
fn output(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args(args)
        .output()
        .expect("run keypaird");
    assert!(out.status.success(), "keypaird {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_missing_database_directory_is_named_with_the_command_that_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/dir");
    let store = format!("sqlite:{}", missing.join("x.db").display());
    let message = fails(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--store", &store],
    );
    let want = format!(
        "keypaird: opening SQLite database {db}: the directory {d} does not exist; create it (mkdir -p {d}) or give a path in an existing directory\n",
        db = missing.join("x.db").display(),
        d = missing.display()
    );
    assert!(message.ends_with(&want), "{message}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_listen_address_without_a_port_says_a_port_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    for listen in ["localhost", "127.0.0.1", "[::1]", "::1"] {
        let message = fails(dir.path(), &["serve", "--ephemeral", "--listen", listen]);
        assert!(
            message.ends_with(&format!("keypaird: cannot listen on {listen}: give a host and a port, such as 127.0.0.1:8080, localhost:8080 or [::1]:8080 (port 0 lets the system choose)\n")),
            "{message}"
        );
    }
}

#[test]
fn a_taken_port_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let message = fails(dir.path(), &["serve", "--ephemeral", "--listen", &addr]);
    assert!(
        message.contains(&format!("cannot listen on {addr}: "))
            && message.ends_with("another program (perhaps another keypaird) listens there: stop it, or choose another port with --listen (port 0 lets the system choose)\n"),
        "{message}"
    );
}

#[test]
fn an_unreachable_postgres_names_the_cause_and_the_fix_without_the_pools_words() {
    let dir = tempfile::tempdir().unwrap();
    let message = fails(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            "postgres://keypair:hunter2@127.0.0.1:1/keys",
        ],
    );
    assert!(
        message.ends_with("keypaird: connecting to PostgreSQL: host 127.0.0.1 port 1 user keypair database keys: error connecting to server: Connection refused (os error 111); nothing accepts connections there: start PostgreSQL, or check the host and port (listen_addresses and port in postgresql.conf)\n"),
        "{message}"
    );
    assert!(!message.contains("creating a new object") && !message.contains("hunter2"));
}

#[test]
fn serve_help_names_the_credentials_file_and_everything_the_admin_token_unlocks() {
    let help = output(&["serve", "--help"]);
    for part in [
        "writes its\nSecretId and SecretKey to keypaird-credentials.toml (mode 0600)",
        "turns on the admin API under /_keypaird/: reset (all key pairs, or one account's), readiness, snapshot and restore",
    ] {
        // clap wraps long help at the terminal's width; compare without line breaks.
        let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat(&help).contains(&flat(part)), "{part:?} not in:\n{help}");
    }
}

#[test]
fn every_command_that_takes_a_store_lists_the_url_forms() {
    for command in ["serve", "export", "import", "migrate"] {
        let help = output(&[command, "--help"]);
        for form in [
            "memory ",
            "sqlite:PATH ",
            "sqlite:PATH?synchronous=normal",
            "sqlite::memory:",
            "postgres://USER:PASSWORD@HOST:PORT/DB",
            "target_session_attrs=read-write",
            "host=HOST port=PORT user=USER dbname=DB",
        ] {
            assert!(
                help.contains(form),
                "{command} --help lacks {form:?}:\n{help}"
            );
        }
    }
}

/// A file that passes the first pass (well-formed, counted, digested) but that no store
/// can load: two key pairs of one account and product with the same name.
fn conflicting_export(dir: &Path) -> std::path::PathBuf {
    use keypair_core::fixtures::{fresh_scope, key_pair};
    use keypair_core::{KeyPairRecord, Product};
    use sha2::Digest;
    let scope = fresh_scope(Product::Cvm);
    let lines: Vec<String> = [
        key_pair(&scope, "same", 1, 1),
        key_pair(&scope, "same", 2, 2),
    ]
    .iter()
    .map(|kp| serde_json::to_string(&KeyPairRecord::from(kp)).unwrap())
    .collect();
    let mut digest = sha2::Sha256::new();
    for line in &lines {
        digest.update(line.as_bytes());
        digest.update(b"\n");
    }
    let text = format!(
        "{{\"format\":\"keypair-export\",\"version\":1,\"source\":\"memory\",\"count\":2}}\n{}\n{{\"trailer\":true,\"count\":2,\"digest\":\"sha256:{}\"}}\n",
        lines.join("\n"),
        hex::encode(digest.finalize())
    );
    let path = dir.join("conflict.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_refused_import_leaves_no_database_behind() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new.db");
    let store = format!("sqlite:{}", target.display());
    // Refused by the first pass: the store is never opened.
    let damaged = dir.path().join("damaged.jsonl");
    std::fs::write(
        &damaged,
        "{\"format\":\"keypair-export\",\"version\":1,\"source\":\"x\",\"count\":0}\n{\"trailer\":true,\"count\":0,\"digest\":\"sha256:00\"}\n",
    )
    .unwrap();
    let message = fails(
        dir.path(),
        &["import", "--store", &store, damaged.to_str().unwrap()],
    );
    assert!(message.contains("the digest does not match"), "{message}");
    assert!(!target.exists(), "a refused file created the database");
    // Refused by the store while loading: the database it created is removed again.
    let conflict = conflicting_export(dir.path());
    let message = fails(
        dir.path(),
        &["import", "--store", &store, conflict.to_str().unwrap()],
    );
    assert!(
        message.contains("conflicts with a stored key pair"),
        "{message}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("new.db"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_secret_id_with_characters_no_client_sends_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("k.toml");
    std::fs::write(
        &config,
        "[[accounts]]\nid = \"1250000001\"\ncredentials = [{ secret_id = \"AKID…\", secret_key = \"0123456789abcdef0123\" }]\n",
    )
    .unwrap();
    let message = fails(dir.path(), &["serve", "--config", config.to_str().unwrap()]);
    assert!(
        message.contains("accounts[0].credentials[0].secret_id: '…' (U+2026) is not allowed; a SecretId is 1 to 128 of A-Z a-z 0-9 _ -"),
        "{message}"
    );
}

#[test]
fn serve_check_says_what_it_would_serve_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("k.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:8080\"\nstore = \"sqlite:keys.db\"\n[[accounts]]\nid = \"1250000001\"\ncredentials = [{ secret_id = \"AKIDexample\", secret_key = \"0123456789abcdef0123\" }]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args(["serve", "--check", "--config", config.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{}: ok; listen 127.0.0.1:8080, store sqlite:keys.db, 1 account(s)\n",
            config.display()
        )
    );
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        files.len(),
        1,
        "only the config: no database, no credentials file"
    );
    std::fs::write(&config, "listen = \"localhost\"\n").unwrap();
    let message = fails(
        dir.path(),
        &["serve", "--check", "--config", config.to_str().unwrap()],
    );
    assert!(message.contains("give a host and a port"), "{message}");
}

#[test]
fn a_second_keypaird_on_a_served_sqlite_file_is_refused_naming_the_file_and_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let config = support::config(dir.path(), &format!("sqlite:{}", db.display()));
    let first = support::start(&config, &dir.path().join("first.log"), "warn");
    let holder = format!("pid {}: keypaird serve", first.child.id());
    let message = fails(dir.path(), &["serve", "--config", config.to_str().unwrap()]);
    let want = format!(
        "keypaird: SQLite database {} is in use by another process ({holder}): one process at a time may serve or write a keypaird database, because a server answers reads from memory and would not see another's writes; stop that process, or give this one another file\n",
        db.display()
    );
    assert!(message.ends_with(&want), "{message}");
    // Writing into it is refused the same way; reading it (a backup) is not.
    let store = format!("sqlite:{}", db.display());
    let migrate = fails(dir.path(), &["migrate", "--from", "memory", "--to", &store]);
    assert!(migrate.contains(&holder), "{migrate}");
    let backup = dir.path().join("backup.jsonl");
    let export = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args(["export", "--store", &store, "--out"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    support::stop(first.child);
    // With the first one gone, the file is free again.
    let second = support::start(&config, &dir.path().join("second.log"), "warn");
    support::stop(second.child);
}
