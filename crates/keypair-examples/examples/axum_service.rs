//! A service of the embedder's own: a small JSON API on axum (not `keypair-http`) over
//! `keypair-core` and the SQLite store, on a multi-thread tokio runtime.
//!
//! It starts on an ephemeral loopback port, then plays its own client: it creates,
//! imports and describes key pairs over HTTP and prints what came back, and exits.
//!
//! Run: `cargo run -p keypair-examples --example axum_service`

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use keypair_core::{
    AccountId, CreateKeyPair, DescribeKeyPairs, Error, ImportKeyPair, KeyPair, KeyPairService,
    Product, Scope,
};
use keypair_sqlite::Sqlite;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Service = Arc<KeyPairService>;
type Answer = (StatusCode, Json<Value>);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Sqlite::open(dir.path().join("keys.db")).await?;
    // The default builder generates keys on the service's own threads: a create never
    // holds up this runtime's workers.
    let service: Service = Arc::new(KeyPairService::builder(Arc::new(store)).build());
    let app = Router::new()
        .route("/accounts/{account}/key-pairs", post(create).get(list))
        .route("/accounts/{account}/imports", post(import))
        .with_state(service);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    println!("serving on http://{addr}");

    let created = call(
        addr,
        "POST",
        "/accounts/1250000001/key-pairs",
        r#"{"name":"deploy"}"#,
    )
    .await?;
    println!("create -> {}", created["key_pair"]);
    assert!(created["private_key"]
        .as_str()
        .is_some_and(|k| k.starts_with("-----BEGIN RSA PRIVATE KEY-----")));

    let body = json!({ "name": "laptop", "public_key": created["key_pair"]["public_key"] });
    let refused = call(
        addr,
        "POST",
        "/accounts/1250000001/imports",
        &body.to_string(),
    )
    .await?;
    println!("import of the same key -> {refused}");
    assert_eq!(refused["error"], "duplicate");

    let listed = call(addr, "GET", "/accounts/1250000001/key-pairs", "").await?;
    println!("describe -> {} key pair(s)", listed["total"]);
    assert_eq!(listed["total"], 1);

    server.abort();
    Ok(())
}

fn scope(account: &str) -> Result<Scope, Answer> {
    AccountId::parse(account)
        .map(|a| Scope::new(a, Product::Cvm))
        .map_err(failure)
}

async fn create(
    State(service): State<Service>,
    Path(account): Path<String>,
    Json(body): Json<Value>,
) -> Result<Answer, Answer> {
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let req = CreateKeyPair {
        name,
        ..Default::default()
    };
    let created = service
        .create(&scope(&account)?, req)
        .await
        .map_err(failure)?;
    let answer = json!({
        "key_pair": record(&created.key_pair),
        "private_key": created.private_key.expose(),
    });
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn import(
    State(service): State<Service>,
    Path(account): Path<String>,
    Json(body): Json<Value>,
) -> Result<Answer, Answer> {
    let req = ImportKeyPair {
        name: body["name"].as_str().unwrap_or_default().to_owned(),
        public_key: body["public_key"].as_str().unwrap_or_default().to_owned(),
        ..Default::default()
    };
    let imported = service
        .import(&scope(&account)?, req)
        .await
        .map_err(failure)?;
    Ok((StatusCode::CREATED, Json(record(&imported))))
}

async fn list(
    State(service): State<Service>,
    Path(account): Path<String>,
) -> Result<Answer, Answer> {
    let page = service
        .describe(&scope(&account)?, &DescribeKeyPairs::default())
        .await
        .map_err(failure)?;
    let items: Vec<Value> = page.items.iter().map(record).collect();
    Ok((
        StatusCode::OK,
        Json(json!({ "total": page.total, "items": items })),
    ))
}

fn record(kp: &KeyPair) -> Value {
    json!({
        "id": kp.id.as_str(),
        "name": kp.name.as_str(),
        "public_key": kp.public_key.as_openssh(),
        "fingerprint": kp.public_key.fingerprint().to_string(),
    })
}

/// The embedder's own error mapping: `Display` is safe to show; internal failures keep
/// their cause in `source()` for the log.
fn failure(e: Error) -> Answer {
    let (status, kind) = match &e {
        Error::DuplicateName(_) | Error::DuplicatePublicKey { .. } => {
            (StatusCode::CONFLICT, "duplicate")
        }
        Error::Storage(_) | Error::KeyGeneration(_) => {
            eprintln!("internal error: {e}: {:?}", std::error::Error::source(&e));
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
        _ => (StatusCode::BAD_REQUEST, "invalid"),
    };
    (
        status,
        Json(json!({ "error": kind, "message": e.to_string() })),
    )
}

/// A minimal HTTP/1.1 client for the demonstration: one request per connection.
async fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> std::io::Result<Value> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (_, payload) = response.split_once("\r\n\r\n").unwrap_or(("", ""));
    serde_json::from_str(payload).map_err(std::io::Error::other)
}
