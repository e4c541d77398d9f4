//! The test harness the wire tests share: a router over the memory store with a pinned
//! clock and two accounts, and clients that sign like the SDKs.

#![allow(dead_code, unreachable_pub)] // each test file uses part of the harness

pub mod golden;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use keypair_core::{
    AccountId, KeyBits, KeyPairService, KeyPairStore, ManualClock, RsaKeyGenerator, Timestamp,
};
use keypair_http::{router, AppState, Credential, Credentials, HttpConfig, RateLimits};
use keypair_memory::MemoryStore;
use keypair_wire::sign::{self, CanonicalRequest, LegacyMethod};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub const NOW: i64 = 1_551_113_065;
pub const HOST: &str = "127.0.0.1:18081";
pub const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
pub const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
pub const ID2: &str = "AKIDsecondaccount000000000000000000";
pub const KEY2: &str = "second-account-secret-key";
pub const CVM: &str = "2017-03-12";
pub const LH: &str = "2020-03-24";
pub const SEED_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDP0Yw2T4itUKOJQIK69c1Asy1UO88cxEbujR5Jbr0e/Ey1v4ZKAUzDnsBnFlf4hKPA1YvMB8RBYj4GcLtM7PrKnBNNram8rgl73X/klOO8oqKv+J/XUA7KHH1Y6wcn1RTRTMdDHbGhW1q/UpfeylNTbf+wEIWhEfaL5FKQm4hqCw== skey_112168";

pub struct Wire {
    pub app: axum::Router,
    pub clock: Arc<ManualClock>,
    /// Where every answer is recorded, for the golden comparison of the wire suite.
    pub capture: Option<Arc<golden::Capture>>,
}

pub fn wire_with(config: HttpConfig) -> Wire {
    wire_over(config, Arc::new(keypair_core::AnyInstance))
}

/// The harness over `store` instead of a new memory store, with no rate limits.
pub fn wire_on(store: Arc<dyn KeyPairStore>) -> Wire {
    wire_from(store, unlimited(), Arc::new(keypair_core::AnyInstance))
}

/// The harness with an instance directory of the test's own and no rate limits.
pub fn wire_with_instances(instances: Arc<dyn keypair_core::InstanceDirectory>) -> Wire {
    wire_over(unlimited(), instances)
}

fn unlimited() -> HttpConfig {
    HttpConfig {
        rate_limits: RateLimits {
            cvm: Some(0),
            lighthouse: Some(0),
        },
        ..HttpConfig::default()
    }
}

fn wire_over(config: HttpConfig, instances: Arc<dyn keypair_core::InstanceDirectory>) -> Wire {
    wire_from(Arc::new(MemoryStore::new()), config, instances)
}

fn wire_from(
    store: Arc<dyn KeyPairStore>,
    config: HttpConfig,
    instances: Arc<dyn keypair_core::InstanceDirectory>,
) -> Wire {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(NOW * 1000)));
    let keygen = Arc::new(RsaKeyGenerator::seeded(KeyBits::Rsa2048, 1));
    let service = KeyPairService::builder(store)
        .key_generator(keygen)
        .clock(clock.clone())
        .instances(instances)
        .build();
    let credentials = Credentials::new([
        Credential::new(ID, KEY, AccountId::parse("1000001").unwrap()),
        Credential::new(ID2, KEY2, AccountId::parse("1000002").unwrap()),
    ])
    .unwrap();
    let state = AppState::new(service, credentials, config);
    Wire {
        app: router(Arc::new(state)),
        clock,
        capture: None,
    }
}

pub fn wire() -> Wire {
    wire_with(unlimited())
}

pub fn service_of(version: &str) -> &'static str {
    if version == CVM {
        "cvm"
    } else {
        "lighthouse"
    }
}

impl Wire {
    /// Records every answer from now on under `name` ([`golden`]).
    pub fn capture(&mut self, name: &'static str) -> Arc<golden::Capture> {
        let capture = Arc::new(golden::Capture::new(name));
        self.capture = Some(capture.clone());
        capture
    }

    pub async fn send(&self, req: Request<Body>) -> Value {
        let action = req
            .headers()
            .get("x-tc-action")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "always HTTP 200");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json",
            "exactly, no charset"
        );
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        if let Some(capture) = &self.capture {
            capture.record(&action, &bytes);
        }
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let rid = v["Response"]["RequestId"]
            .as_str()
            .expect("RequestId on every answer");
        assert_eq!(rid.len(), 36, "{rid}");
        v["Response"].clone()
    }

    pub fn now(&self) -> i64 {
        keypair_core::Clock::now(&*self.clock).as_secs()
    }

    /// A TC3 POST JSON request signed with (id, key).
    pub fn post(
        &self,
        cred: (&str, &str),
        version: &str,
        action: &str,
        body: &Value,
    ) -> Request<Body> {
        self.signed(
            cred,
            service_of(version),
            version,
            action,
            body.to_string().as_bytes(),
            "application/json",
        )
    }

    /// A TC3 POST of raw bytes with a given content type, signed as sent.
    pub fn post_raw(
        &self,
        version: &str,
        action: &str,
        body: &[u8],
        content_type: &str,
    ) -> Request<Body> {
        self.signed(
            (ID, KEY),
            service_of(version),
            version,
            action,
            body,
            content_type,
        )
    }

    /// A TC3 POST signed for `service` (which a client may derive otherwise than from
    /// the version).
    pub fn signed(
        &self,
        cred: (&str, &str),
        service: &str,
        version: &str,
        action: &str,
        body: &[u8],
        content_type: &str,
    ) -> Request<Body> {
        let ts = self.now();
        Request::post("/")
            .header("content-type", content_type)
            .header("host", HOST)
            .header("x-tc-action", action)
            .header("x-tc-version", version)
            .header("x-tc-timestamp", ts.to_string())
            .header("x-tc-language", "en-US")
            .header(
                "authorization",
                sign::tc3_post_authorization(cred, service, HOST, content_type, body, ts),
            )
            .body(Body::from(body.to_vec()))
            .unwrap()
    }

    pub async fn call(&self, version: &str, action: &str, body: Value) -> Value {
        self.send(self.post((ID, KEY), version, action, &body))
            .await
    }

    /// A TC3 GET request with flattened parameters.
    pub fn get(&self, version: &str, action: &str, query: &str) -> Request<Body> {
        let ts = self.now();
        let ct = "application/x-www-form-urlencoded";
        let headers = vec![
            ("content-type".to_owned(), ct.to_owned()),
            ("host".to_owned(), HOST.to_owned()),
        ];
        let cr = CanonicalRequest {
            method: "GET",
            query,
            headers: &headers,
            payload_hash: &sign::sha256_hex(b""),
        }
        .text();
        let service = service_of(version);
        let sig = sign::tc3_signature(KEY, service, ts, &cr);
        Request::get(format!("/?{query}"))
            .header("content-type", ct)
            .header("host", HOST)
            .header("x-tc-action", action)
            .header("x-tc-version", version)
            .header("x-tc-timestamp", ts.to_string())
            .header(
                "authorization",
                sign::tc3_authorization(ID, service, ts, "content-type;host", &sig),
            )
            .body(Body::empty())
            .unwrap()
    }

    /// A legacy-signed form POST.
    pub fn legacy(
        &self,
        version: &str,
        action: &str,
        business: &[(&str, &str)],
        nonce: &str,
    ) -> Request<Body> {
        let ts = self.now().to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", version),
            ("Timestamp", &ts),
            ("Nonce", nonce),
            ("SecretId", ID),
            ("SignatureMethod", "HmacSHA256"),
            ("Language", "en-US"),
        ];
        params.extend_from_slice(business);
        let sts = sign::legacy_string_to_sign("POST", HOST, params.iter().copied());
        let signature = sign::legacy_signature(LegacyMethod::HmacSha256, KEY, &sts);
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            form.append_pair(k, v);
        }
        form.append_pair("Signature", &signature);
        Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("host", HOST)
            .body(Body::from(form.finish()))
            .unwrap()
    }
}

/// Fails with every failed row of a table, counted, one per line.
pub fn assert_rows_pass(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

pub fn code(v: &Value) -> &str {
    v["Error"]["Code"].as_str().unwrap_or("OK")
}

/// Both products' key pairs of the first account, to compare before and after.
pub async fn snapshot(w: &Wire) -> Vec<Value> {
    let mut out = Vec::new();
    for version in [CVM, LH] {
        let r = w
            .call(
                version,
                "DescribeKeyPairs",
                serde_json::json!({"Limit": 100}),
            )
            .await;
        out.push(r["KeyPairSet"].clone());
    }
    out
}
