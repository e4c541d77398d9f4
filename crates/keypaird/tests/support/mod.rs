//! What the keypaird integration tests share: starting the binary on a generated config,
//! and a small client that signs requests like the SDKs (TC3, JSON POST).

#![allow(dead_code, unreachable_pub)] // each test file uses part of it

use keypair_wire::sign;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const CVM: &str = "2017-03-12";
pub const LH: &str = "2020-03-24";
pub const ID: &str = "AKIDtestsupport000000000000000001";
pub const KEY: &str = "test-support-secret-key-00000001";

/// Runs `keypaird ARGS` in `dir`, a command that must fail; its stderr.
pub fn fails(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args(args)
        .current_dir(dir)
        .env_remove("KEYPAIRD_STORE")
        .output()
        .expect("run keypaird");
    assert!(!out.status.success(), "keypaird {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes a config for `store` with one account and no rate limits.
pub fn config(dir: &Path, store: &str) -> std::path::PathBuf {
    let path = dir.join("keypaird.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\nstore = \"{store}\"\n[limits]\ncvm_requests_per_second = 0\nlighthouse_requests_per_second = 0\n[keygen]\npool_size = 4\n[[accounts]]\nid = \"1250000001\"\ncredentials = [{{ secret_id = \"{ID}\", secret_key = \"{KEY}\" }}]\n"
        ),
    )
    .expect("write config");
    path
}

/// A running keypaird and its address; stderr goes to `log`.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

pub fn start(config: &Path, log: &Path, rust_log: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("start keypaird");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| {
            panic!(
                "unexpected first line {line:?}; log: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })
        .to_owned();
    Server { child, addr }
}

impl Server {
    /// SIGTERM and wait; returns whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

/// One signed API call; `Err` when the connection fails (e.g. the server was killed).
pub fn call(addr: &str, version: &str, action: &str, body: &Value) -> Result<Value, String> {
    call_as((ID, KEY), addr, version, action, body)
}

/// One API call signed with `credential`.
pub fn call_as(
    credential: (&str, &str),
    addr: &str,
    version: &str,
    action: &str,
    body: &Value,
) -> Result<Value, String> {
    let body = body.to_string();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let service = if version == CVM { "cvm" } else { "lighthouse" };
    let authorization = sign::tc3_post_authorization(
        credential,
        service,
        addr,
        "application/json",
        body.as_bytes(),
        ts,
    );
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-TC-Action: {action}\r\nX-TC-Version: {version}\r\nX-TC-Timestamp: {ts}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        authorization
    );
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let (_, json) = raw.split_once("\r\n\r\n").ok_or("no response body")?;
    let v: Value = serde_json::from_str(json).map_err(|e| format!("{e}: {json:?}"))?;
    Ok(v["Response"].clone())
}

/// A plain HTTP request (the admin API): the status and the body.
pub fn http(addr: &str, method: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
    http_with_body(addr, method, path, bearer, "")
}

/// [`http`] with a body.
pub fn http_with_body(
    addr: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> (u16, String) {
    let auth = bearer.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(request.as_bytes()).expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

pub fn code(v: &Value) -> &str {
    v["Error"]["Code"].as_str().unwrap_or("OK")
}

/// Starts `keypaird serve ARGS` in `dir`; returns the child, its address and, in
/// ephemeral mode, the JSON credential line.
pub fn serve(dir: &Path, args: &[&str]) -> (Child, String, Option<Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keypaird"))
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .env_remove("KEYPAIRD_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keypaird");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let credential = args.contains(&"--ephemeral").then(|| {
        let mut json = String::new();
        out.read_line(&mut json).expect("read the credential line");
        serde_json::from_str(&json).expect("one JSON line")
    });
    (child, addr, credential)
}

/// Stops a server started with [`serve`] (SIGTERM, then waits).
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
