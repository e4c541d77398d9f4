//! The Tencent key-pair wire served by plain hyper, not axum: `keypair-wire` does the
//! protocol (signatures, products, actions, error codes, envelopes), and this file is
//! the whole host — read the body within a bound, hand the bytes to the wire, run the
//! request on the service, write the answer.
//!
//! It serves on an ephemeral loopback port, then plays the official SDKs' part with the
//! wire's own signer: it creates and describes key pairs on CVM and Lighthouse, sees a
//! wrong signature refused with `AuthFailure.SignatureFailure`, and exits.
//!
//! Run: `cargo run -p keypair-examples --example hyper_wire`

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use keypair_core::{AccountId, KeyPairService, Product};
use keypair_memory::MemoryStore;
use keypair_wire::{ApiError, Credential, Credentials, Facts, RateLimits, Wire};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

const ID: &str = "AKIDhyperexample";
const KEY: &str = "hyper-example-secret-key";
/// The largest body this host reads; the wire itself takes bytes already read.
const BODY_LIMIT: usize = 1 << 20;

struct Host {
    wire: Wire,
    service: KeyPairService,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let account = AccountId::parse("1250000001")?;
    let credentials = Credentials::new([Credential::new(ID, KEY, account)])?;
    // This process's nonce cache and rate buckets; a fleet would share a database's.
    let (nonces, rates) = keypair_memory::in_process_admission();
    let wire = Wire::new(credentials, RateLimits::default(), nonces, rates);
    let service = KeyPairService::builder(Arc::new(MemoryStore::new())).build();
    let host = Arc::new(Host { wire, service });
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(accept(listener, host));
    println!("serving the key-pair wire on http://{addr} with plain hyper");
    client(addr).await
}

/// The accept loop: one hyper HTTP/1.1 connection per client.
async fn accept(listener: TcpListener, host: Arc<Host>) {
    while let Ok((stream, _)) = listener.accept().await {
        let host = host.clone();
        tokio::spawn(async move {
            let serve = service_fn(move |req| answer(host.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), serve)
                .await;
        });
    }
}

/// One request: method, bounded body, the wire, the service, the answer.
async fn answer(
    host: Arc<Host>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let mut facts = Facts::new(req.headers());
    let result = async {
        keypair_wire::check_method(req.method())?;
        let (parts, body) = req.into_parts();
        let body = Limited::new(body, BODY_LIMIT)
            .collect()
            .await
            .map_err(|_| {
                ApiError::new(
                    "RequestSizeLimitExceeded",
                    "请求包过大",
                    format!("the request body is larger than {BODY_LIMIT} bytes"),
                )
            })?;
        let bytes = body.to_bytes();
        let incoming = keypair_wire::Incoming {
            method: &parts.method,
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: &bytes,
        };
        let now = host.service.clock().now();
        let request = host.wire.receive(&incoming, now, &mut facts).await?;
        keypair_wire::execute(&host.service, &request.scope, request.request).await
    }
    .await;
    let request_id = format!("hyper-{:016x}", rand_id());
    let response = keypair_wire::response(result, facts.language, &request_id);
    Ok(response.map(|body| Full::new(Bytes::from(body))))
}

/// A RequestId: this host's own choice, as any host's is.
fn rand_id() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// The official SDKs' part: TC3-signed JSON POSTs.
async fn client(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let created = call(
        addr,
        (ID, KEY),
        Product::Cvm,
        "CreateKeyPair",
        json!({"KeyName": "deploy", "ProjectId": 0}),
    )
    .await?;
    let key_id = created["KeyPair"]["KeyId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    println!("CVM CreateKeyPair -> {key_id}");
    assert!(key_id.starts_with("skey-"));
    let page = call(addr, (ID, KEY), Product::Cvm, "DescribeKeyPairs", json!({})).await?;
    assert_eq!(page["TotalCount"], 1);
    let lighthouse = call(
        addr,
        (ID, KEY),
        Product::Lighthouse,
        "CreateKeyPair",
        json!({"KeyName": "blog"}),
    )
    .await?;
    println!(
        "Lighthouse CreateKeyPair -> {}",
        lighthouse["KeyPair"]["KeyId"]
    );
    let refused = call(
        addr,
        (ID, "a-wrong-secret-key"),
        Product::Cvm,
        "DescribeKeyPairs",
        json!({}),
    )
    .await?;
    println!("a wrong signature -> {}", refused["Error"]["Code"]);
    assert_eq!(refused["Error"]["Code"], "AuthFailure.SignatureFailure");
    Ok(())
}

/// One signed request over hyper's client; the answer's `Response`.
async fn call(
    addr: SocketAddr,
    credential: (&str, &str),
    product: Product,
    action: &str,
    body: Value,
) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
    let request = keypair_wire::client::signed_post(
        credential,
        product,
        action,
        &addr.to_string(),
        body.to_string(),
        keypair_wire::client::now(),
    )
    .map(|body| Full::new(Bytes::from(body)));
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let answer = sender.send_request(request).await?;
    assert_eq!(
        answer.status(),
        200,
        "the wire answers every request with HTTP 200"
    );
    let bytes = answer.into_body().collect().await?.to_bytes();
    let answer: Value = serde_json::from_slice(&bytes)?;
    Ok(answer["Response"].clone())
}
