//! The Tencent key-pair wire with no tokio anywhere: a synchronous HTTP server
//! (`tiny_http`) on a few threads of its own, `keypair-wire` for the protocol, and the
//! core over SQLite. Key generation runs on the core's own threads and the SQLite store
//! on its connection threads, so a request thread only drives the wire's and the
//! service's futures to completion with `futures::executor::block_on`; the in-process
//! rate and nonce ports answer at once.
//!
//! It serves on an ephemeral loopback port, then plays a client with a synchronous HTTP
//! client (`ureq`) and the wire's own signer: it creates a key pair, sees the import of
//! the same public key refused with `InvalidPublicKey.Duplicate`, describes, and exits.
//!
//! Run: `cargo run -p keypair-examples --example sync_wire`

use futures::executor::block_on;
use keypair_core::{AccountId, KeyPairService, Product};
use keypair_sqlite::Sqlite;
use keypair_wire::{ApiError, Credential, Credentials, Facts, RateLimits, Wire};
use serde_json::{json, Value};
use std::io::Read;
use std::sync::Arc;

const ID: &str = "AKIDsyncexample";
const KEY: &str = "sync-example-secret-key";
/// The largest body a request thread reads.
const BODY_LIMIT: u64 = 1 << 20;
/// Request threads: each takes the next request from the server's queue.
const THREADS: usize = 4;

struct Host {
    wire: Wire,
    service: KeyPairService,
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = tempfile::tempdir()?;
    let store = block_on(Sqlite::open(dir.path().join("keys.db")))?;
    let account = AccountId::parse("1250000001")?;
    let credentials = Credentials::new([Credential::new(ID, KEY, account)])?;
    // This process's nonce cache and rate buckets; a fleet would share a database's.
    let (nonces, rates) = keypair_memory::in_process_admission();
    let wire = Wire::new(credentials, RateLimits::default(), nonces, rates);
    let service = KeyPairService::builder(Arc::new(store)).build();
    let host = Arc::new(Host { wire, service });
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0")?);
    let addr = server.server_addr().to_ip().ok_or("not an IP address")?;
    for _ in 0..THREADS {
        let (server, host) = (server.clone(), host.clone());
        std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                serve(&host, request);
            }
        });
    }
    println!("serving the key-pair wire on http://{addr} without tokio");
    client(&addr.to_string())?;
    server.unblock();
    Ok(())
}

/// One request on this thread, answered in the wire's envelope.
fn serve(host: &Host, mut request: tiny_http::Request) {
    let (method, uri, headers) = parts(&request);
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(BODY_LIMIT + 1)
        .read_to_end(&mut body);
    let mut facts = Facts::new(&headers);
    let result = if read.is_err() || body.len() as u64 > BODY_LIMIT {
        Err(ApiError::new(
            "RequestSizeLimitExceeded",
            "请求包过大",
            format!("the request body is larger than {BODY_LIMIT} bytes or broke off"),
        ))
    } else {
        let incoming = keypair_wire::Incoming {
            method: &method,
            query: uri.query().unwrap_or(""),
            headers: &headers,
            body: &body,
        };
        block_on(async {
            keypair_wire::check_method(&method)?;
            let now = host.service.clock().now();
            let admitted = host.wire.receive(&incoming, now, &mut facts).await?;
            keypair_wire::execute(&host.service, &admitted.scope, admitted.request).await
        })
    };
    let body = keypair_wire::envelope(result, facts.language, "sync-example");
    let content_type = tiny_http::Header::from_bytes("Content-Type", keypair_wire::CONTENT_TYPE)
        .expect("a valid header");
    let _ = request.respond(tiny_http::Response::from_string(body).with_header(content_type));
}

/// A tiny_http request's method, URI and headers as the `http` types the wire takes.
fn parts(request: &tiny_http::Request) -> (http::Method, http::Uri, http::HeaderMap) {
    let method =
        http::Method::from_bytes(request.method().as_str().as_bytes()).unwrap_or(http::Method::GET);
    let uri = request
        .url()
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    let mut headers = http::HeaderMap::new();
    for h in request.headers() {
        let name = http::HeaderName::from_bytes(h.field.as_str().as_str().as_bytes());
        let value = http::HeaderValue::from_bytes(h.value.as_str().as_bytes());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    (method, uri, headers)
}

/// The client's part, over a synchronous HTTP client.
fn client(endpoint: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let created = call(
        endpoint,
        "CreateKeyPair",
        json!({"KeyName": "deploy", "ProjectId": 0}),
    )?;
    let public_key = created["KeyPair"]["PublicKey"].clone();
    println!("CreateKeyPair -> {}", created["KeyPair"]["KeyId"]);
    let copy = call(
        endpoint,
        "ImportKeyPair",
        json!({"KeyName": "copy", "ProjectId": 0, "PublicKey": public_key}),
    )?;
    println!("ImportKeyPair of the same key -> {}", copy["Error"]["Code"]);
    assert_eq!(copy["Error"]["Code"], "InvalidPublicKey.Duplicate");
    let page = call(
        endpoint,
        "DescribeKeyPairs",
        json!({"Filters": [{"Name": "key-name", "Values": ["deploy"]}]}),
    )?;
    println!("DescribeKeyPairs -> TotalCount {}", page["TotalCount"]);
    assert_eq!(page["TotalCount"], 1);
    Ok(())
}

/// One signed request; the answer's `Response`.
fn call(
    endpoint: &str,
    action: &str,
    body: Value,
) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
    let request = keypair_wire::client::signed_post(
        (ID, KEY),
        Product::Cvm,
        action,
        endpoint,
        body.to_string(),
        keypair_wire::client::now(),
    );
    let mut builder = ureq::post(format!("http://{endpoint}/"));
    for (name, value) in request.headers() {
        builder = builder.header(name.as_str(), value.to_str()?);
    }
    let mut answer = builder.send(request.body().as_slice())?;
    let answer: Value = serde_json::from_reader(answer.body_mut().as_reader())?;
    Ok(answer["Response"].clone())
}
