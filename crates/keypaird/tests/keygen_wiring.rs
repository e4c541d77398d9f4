//! The service's creates go through the key pool of the configured backend: after one
//! CreateKeyPair, /metrics counts exactly one pool hit or miss.

mod support;

use serde_json::json;
use std::io::{Read, Write};
use support::*;

fn metric(addr: &str, name: &str) -> u64 {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name} "))
                .map(|v| v.trim().parse().expect("number"))
        })
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

#[test]
fn creates_are_served_through_the_key_pool() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(
        &config(dir.path(), "memory"),
        &dir.path().join("log"),
        "warn",
    );
    let before = metric(&server.addr, "keypair_key_pool_hits_total")
        + metric(&server.addr, "keypair_key_pool_misses_total");
    assert_eq!(before, 0);
    let r = call(
        &server.addr,
        CVM,
        "CreateKeyPair",
        &json!({"KeyName": "pooled", "ProjectId": 0}),
    )
    .expect("create");
    assert_eq!(code(&r), "OK", "{r}");
    let after = metric(&server.addr, "keypair_key_pool_hits_total")
        + metric(&server.addr, "keypair_key_pool_misses_total");
    assert_eq!(
        after, 1,
        "the create took its key from the pool (hit) or through it (miss)"
    );
    assert_eq!(
        metric(&server.addr, "keypair_key_pool_capacity"),
        4,
        "pool_size from the config"
    );
    assert!(server.stop());
}
