//! An in-process key-pair API server for Rust test suites, so a test needs no binary:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use keypair_testserver::{TestServer, CVM};
//! use serde_json::json;
//!
//! let server = TestServer::start().await?;
//! let created = server
//!     .call(CVM, "CreateKeyPair", json!({"KeyName": "ci", "ProjectId": 0}))
//!     .await?;
//! assert!(created["KeyPair"]["KeyId"].as_str().unwrap().starts_with("skey-"));
//! server.reset().await;
//! let page = server.call(CVM, "DescribeKeyPairs", json!({})).await?;
//! assert_eq!(page["TotalCount"], 0);
//! # Ok(())
//! # }
//! ```
//!
//! The server runs the real HTTP adapter (`keypair-http`) over a memory store on
//! `127.0.0.1:<ephemeral port>`, as tasks of the test's own tokio runtime, in
//! test-credentials mode: any well-formed SecretId works, signed with itself as the
//! SecretKey ([`TestServer::credential`] gives `AKIDtest`/`AKIDtest`). Point the official
//! SDKs at [`TestServer::endpoint`], or use [`TestServer::call`]: a TC3-signed request
//! over hyper's HTTP/1.1 client, signed as the official SDKs sign
//! (`keypair_wire::client`). Dropping the server stops it.
//!
//! Key generation is real RSA on the service's own threads; in debug builds add the
//! README's `[profile.dev.package.rsa]` lines so creates stay fast.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use keypair_core::{KeyPairService, KeyPairStore, Product};
use keypair_http::{router, AppState, Credentials, HttpConfig, RateLimits};
use keypair_memory::MemoryStore;
use serde_json::Value;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// `X-TC-Version` of CVM.
pub const CVM: &str = "2017-03-12";
/// `X-TC-Version` of Lighthouse.
pub const LH: &str = "2020-03-24";
/// The credential [`TestServer::call`] signs with.
pub const SECRET_ID: &str = "AKIDtest";

/// A running in-process server.
pub struct TestServer {
    addr: SocketAddr,
    store: Arc<MemoryStore>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server on an ephemeral loopback port in the current tokio runtime, with
    /// the documented rate limits off (a test suite sets its own pace).
    ///
    /// # Errors
    /// The port could not be bound.
    pub async fn start() -> io::Result<TestServer> {
        let store = Arc::new(MemoryStore::new());
        let service = KeyPairService::builder(store.clone()).build();
        let config = HttpConfig {
            rate_limits: RateLimits {
                cvm: Some(0),
                lighthouse: Some(0),
            },
            ..HttpConfig::default()
        };
        let state = AppState::new(service, Credentials::test_mode(), config);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(Arc::new(state));
        let metrics = Arc::new(keypair_http::Metrics::new());
        tokio::spawn(keypair_http::serve(
            listener,
            app,
            keypair_http::ServerLimits::default(),
            metrics,
            async {
                let _ = stopped.await;
            },
        ));
        Ok(TestServer {
            addr,
            store,
            stop: Some(stop),
        })
    }

    /// `host:port`, for an SDK's endpoint (with protocol `http`).
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// The SecretId and SecretKey [`TestServer::call`] uses. Any other well-formed
    /// SecretId works too, signed with itself, as another account.
    pub fn credential(&self) -> (&'static str, &'static str) {
        (SECRET_ID, SECRET_ID)
    }

    /// Removes every key pair of every account.
    pub async fn reset(&self) -> u64 {
        // The memory store cannot fail.
        self.store.purge(None).await.unwrap_or_default()
    }

    /// One TC3-signed JSON POST as [`SECRET_ID`]; the `Response` object of the answer.
    ///
    /// # Errors
    /// The connection failed or the answer was not the API's JSON.
    pub async fn call(&self, version: &str, action: &str, body: Value) -> io::Result<Value> {
        self.call_as(self.credential(), version, action, body).await
    }

    /// [`TestServer::call`] signed with another credential (another account).
    ///
    /// # Errors
    /// The connection failed or the answer was not the API's JSON.
    pub async fn call_as(
        &self,
        credential: (&str, &str),
        version: &str,
        action: &str,
        body: Value,
    ) -> io::Result<Value> {
        let product = Product::from_version(version).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no product has Version {version}"),
            )
        })?;
        let request = keypair_wire::client::signed_post(
            credential,
            product,
            action,
            &self.endpoint(),
            body.to_string(),
            keypair_wire::client::now(),
        )
        .map(|body| Full::new(Bytes::from(body)));
        let stream = TcpStream::connect(self.addr).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(connection);
        let answer = sender
            .send_request(request)
            .await
            .map_err(io::Error::other)?;
        let bytes = answer
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        let answer: Value = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
        Ok(answer["Response"].clone())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
