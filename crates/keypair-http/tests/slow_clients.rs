//! Slow and greedy clients: 200 connections that trickle half a request header stay open
//! while normal requests on other connections are served, the header-read timeout
//! closes a connection that never finishes its headers, and oversized headers are refused.

mod common;

use common::wire;
use keypair_http::{serve, ServerLimits};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn roundtrip(addr: std::net::SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_do_not_starve_normal_requests() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(2),
        ..ServerLimits::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let metrics = std::sync::Arc::new(keypair_http::Metrics::new());
    let server = tokio::spawn(serve(listener, wire().app, limits, metrics, async {
        let _ = stop_rx.await;
    }));

    let mut slow = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-{i}: ").as_bytes())
            .await
            .unwrap();
        slow.push(s);
    }
    for _ in 0..20 {
        let health = roundtrip(
            addr,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        let api = roundtrip(
            addr,
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        )
        .await;
        assert!(api.contains("\"Code\":\"MissingParameter\""), "{api}");
    }
    // The server gives up on a connection whose headers never complete. The outer
    // timeout only turns a regression (the connection held forever) into a failure.
    let mut first = slow.swap_remove(0);
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(30), first.read(&mut buf)).await;
    match closed {
        Ok(Ok(n)) => assert!(
            n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"),
            "{n}"
        ),
        Ok(Err(_)) => {} // reset: closed as well
        Err(_) => panic!("a connection with unfinished headers was kept open past the timeout"),
    }
    // Oversized headers are refused by the HTTP layer (431), and the server goes on.
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(huge.as_bytes()).await; // the server may close before reading it all
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    let health = roundtrip(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    drop(slow);
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
