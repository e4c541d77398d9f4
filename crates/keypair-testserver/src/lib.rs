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
//! It is steerable as keypaird's test mode is (docs/testing.md): inject faults
//! ([`TestServer::fail_next`], [`TestServer::add_fault`]), start with a seed
//! ([`TestServer::start_seeded`]: ids, RequestIds and keys from it, the clock fixed and
//! set with [`TestServer::clock`]), and record a journal ([`TestServer::journal`]).
//!
//! Key generation is real RSA on the service's own threads; in debug builds add the
//! README's `[profile.dev.package.rsa]` lines so creates stay fast.

use keypair_core::{KeyBits, KeyPairService, KeyPairStore, KeyPool, Product};
use keypair_http::{router, AppState, Credentials, HttpConfig, RateLimits};
use keypair_memory::MemoryStore;
use keypair_steer::faults::{ErrorSpec, RuleError, RuleSpec};
use keypair_steer::{Steer, SteeredClock, TestOptions, TestParts};
use serde_json::Value;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
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
    steer: Arc<Steer>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server on an ephemeral loopback port in the current tokio runtime, with
    /// the documented rate limits off (a test suite sets its own pace).
    ///
    /// # Errors
    /// The port could not be bound.
    pub async fn start() -> io::Result<TestServer> {
        Self::start_with(&TestOptions::default()).await
    }

    /// [`TestServer::start`] in the deterministic mode: key ids, RequestIds and keys from
    /// `seed`, and the clock fixed at 2026-01-01T00:00:00Z.
    ///
    /// # Errors
    /// The port could not be bound.
    pub async fn start_seeded(seed: u64) -> io::Result<TestServer> {
        Self::start_with(&TestOptions {
            seed: Some(seed),
            ..TestOptions::default()
        })
        .await
    }

    /// A server with the test mode's options (a seed, a journal file, a key cache).
    ///
    /// # Errors
    /// The port could not be bound, or the journal file could not be created.
    pub async fn start_with(opts: &TestOptions) -> io::Result<TestServer> {
        let store = Arc::new(MemoryStore::new());
        let workers = keypair_core::default_workers();
        let test =
            TestParts::build(true, opts, KeyBits::default(), workers).map_err(io::Error::other)?;
        let mut service = KeyPairService::builder(store.clone()).clock(test.clock.clone());
        if let Some(seeded) = &test.seeded {
            service = service
                .ids(seeded.ids.clone())
                .key_pool(Arc::new(KeyPool::new(seeded.keys.clone(), 0, 1)));
        }
        let config = HttpConfig {
            rate_limits: RateLimits::OFF,
            ..HttpConfig::default()
        };
        let mut state = AppState::new(service.build(), Credentials::test_mode(), config)
            .with_hook(test.steer.clone())
            .with_wire_clock(test.signing_clock.clone());
        if let Some(seeded) = &test.seeded {
            state = state.with_request_ids(seeded.request_ids.clone());
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        test.steer.set_endpoint(addr.to_string());
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
            steer: test.steer,
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

    /// Removes every key pair of every account, and every fault rule.
    pub async fn reset(&self) -> u64 {
        keypair_http::CallHook::reset(&*self.steer);
        // The memory store cannot fail.
        self.store.purge(None).await.unwrap_or_default()
    }

    /// The next `times` calls of `action` (of either product) answer `code`, which the
    /// product must define. Returns the rule's id.
    ///
    /// # Errors
    /// The code is not one the product defines, or the action is not an action.
    pub fn fail_next(&self, action: &str, code: &str, times: u32) -> Result<u64, RuleError> {
        self.add_fault(RuleSpec {
            action: Some(action.to_owned()),
            times: Some(times),
            error: Some(ErrorSpec {
                code: code.to_owned(),
                message: None,
            }),
            ..RuleSpec::default()
        })
    }

    /// Adds a fault rule of any kind (docs/testing.md, "Faults").
    ///
    /// # Errors
    /// The rule is refused, saying why.
    pub fn add_fault(&self, rule: RuleSpec) -> Result<u64, RuleError> {
        self.steer.faults.add(rule)
    }

    /// The service's clock (`CreatedTime`): set it, advance it, or pin signatures to it.
    pub fn clock(&self) -> &SteeredClock {
        &self.steer.clock
    }

    /// Starts the deterministic sequences of `seed` over (a server started with
    /// [`TestServer::start_seeded`] only); `false` otherwise.
    pub fn reseed(&self, seed: u64) -> bool {
        self.steer.reseed(seed)
    }

    /// The journal: start and stop it, download its lines.
    pub fn journal(&self) -> &keypair_steer::Journal {
        &self.steer.journal
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
        keypair_steer::client::call(&self.endpoint(), credential, product, action, &body).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
