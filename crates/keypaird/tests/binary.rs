//! The `keypaird` binary as a user runs it: first start in an empty directory, the one
//! `listening on` line, the generated credentials file, `/healthz`, reuse on the next
//! start, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn start(dir: &Path, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keypaird");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read stdout");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, addr)
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

fn stop(mut child: Child) -> (std::process::ExitStatus, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let status = child.wait().expect("wait");
    let mut stdout_rest = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout_rest)
        .expect("read");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    assert_eq!(stdout_rest, "", "stdout carries only the listening line");
    (status, stderr)
}

#[test]
fn first_start_creates_credentials_and_a_later_start_reuses_them() {
    let dir = tempfile::tempdir().expect("dir");
    let (child, addr) = start(dir.path(), &["--listen", "127.0.0.1:0"]);
    assert!(get(&addr, "/healthz").starts_with("HTTP/1.1 200"));
    let unauthenticated = get(&addr, "/?Action=DescribeKeyPairs&Version=2017-03-12");
    assert!(
        unauthenticated.contains("\"Code\":\"MissingParameter\""),
        "{unauthenticated}"
    );
    let (status, stderr) = stop(child);
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    let creds = dir.path().join("keypaird-credentials.toml");
    let mode = std::fs::metadata(&creds)
        .expect("credentials file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&creds).expect("read");
    let secret_key = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("secret_key = \"")
                .map(|v| v.trim_end_matches('"').to_owned())
        })
        .expect("secret_key line");
    assert!(
        stderr.contains("SecretId AKID"),
        "the SecretId is announced: {stderr}"
    );
    assert!(
        stderr.contains("tccli cvm DescribeKeyPairs --endpoint http://"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&secret_key),
        "the SecretKey is never printed or logged"
    );
    assert!(
        dir.path().join("keypaird.db").exists(),
        "default store sqlite:keypaird.db"
    );

    let (child, _) = start(dir.path(), &["--listen", "127.0.0.1:0"]);
    let (status, stderr) = stop(child);
    assert!(status.success());
    assert!(
        !stderr.contains("created account"),
        "the second start reuses the file: {stderr}"
    );
    assert_eq!(std::fs::read_to_string(&creds).expect("read"), text);
}

#[test]
fn a_bad_config_stops_the_start_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nstorage = \"memory\"\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("storage"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store", "mysql://x"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid store URL"));
}
