//! The realistic mix (`--mix realistic`): how a multi-tenant service is read, not one
//! account asking for the same page again and again.
//!
//! - Requests come from `--mix-accounts` accounts (the seeded ones, `1300000000` on),
//!   each signed with its own credentials ([`credential`]); each request picks an
//!   account at random.
//! - 7 in 10 are DescribeKeyPairs pages at a random offset within the account's
//!   `--mix-keys` key pairs; 2 in 10 carry one filter: the exact `key-name` of one of
//!   the account's seeded key pairs, `tag-key` = `team`, or `tag:env` (the seeder's
//!   names and tags, [`mod@crate::seed`]).
//! - 1 in 10 is a write for the same accounts: each connection cycles import (a
//!   pre-generated key), modify (a new description) and delete of one key pair, so the
//!   store keeps its size. A write must answer correctly: an import its `KeyId`, the
//!   others no error.
//!
//! Creates are left out: they are bound by key generation and measured on their own.

use crate::seed::SEED_ACCOUNT_BASE;
use crate::{connect, outcome_code, Sender};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use keypair_core::fixtures::synthetic_public_key;
use keypair_core::{Product, PublicKey};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Keys each connection generates before the clock starts; imports cycle through them
/// (each imported key pair is deleted again before its key comes round).
const KEYS_PER_CONNECTION: u64 = 16;

/// The SecretId and SecretKey of seeded account `index` (`0` is `1300000000`).
/// `describe_bench.py` writes keypaird's accounts with the same rule.
pub(crate) fn credential(index: u64) -> (String, String) {
    let account = SEED_ACCOUNT_BASE + index;
    (
        format!("AKIDmix{account}00000000000000"),
        format!("mix-secret-key-{account}-000000"),
    )
}

/// The shape of the mix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MixShape {
    /// Accounts requests are drawn from.
    pub(crate) accounts: u64,
    /// Key pairs each account holds (the range of offsets and names).
    pub(crate) keys: u64,
    /// The seeder's `--seed-base`, which is in every seeded name.
    pub(crate) name_base: u64,
    /// Page size.
    pub(crate) limit: u32,
}

/// What one kind of request measured.
#[derive(Default)]
pub(crate) struct Kind {
    /// Latency, µs.
    pub(crate) latency: Option<Histogram<u64>>,
    /// Answer codes.
    pub(crate) codes: BTreeMap<String, u64>,
}

impl Kind {
    fn record(&mut self, took: Duration, code: String) {
        let h = self
            .latency
            .get_or_insert_with(|| Histogram::new(3).expect("3 significant digits"));
        let _ = h.record(took.as_micros().max(1) as u64);
        *self.codes.entry(code).or_default() += 1;
    }

    /// Adds another connection's figures.
    pub(crate) fn merge(&mut self, other: Kind) {
        if let Some(h) = other.latency {
            match &mut self.latency {
                Some(mine) => {
                    let _ = mine.add(&h);
                }
                None => self.latency = Some(h),
            }
        }
        for (k, v) in other.codes {
            *self.codes.entry(k).or_default() += v;
        }
    }

    /// Requests counted.
    pub(crate) fn requests(&self) -> u64 {
        self.codes.values().sum()
    }

    /// The JSON of this kind over `seconds`.
    pub(crate) fn json(&self, seconds: f64) -> Value {
        let q = |q: f64| {
            self.latency
                .as_ref()
                .map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1000.0)
        };
        json!({
            "requests": self.requests(),
            "throughput": self.requests() as f64 / seconds,
            "p50_ms": q(0.5),
            "p99_ms": q(0.99),
            "codes": self.codes,
        })
    }
}

/// A connection's figures: describes (plain and filtered) and writes apart.
#[derive(Default)]
pub(crate) struct MixResult {
    /// DescribeKeyPairs without a filter.
    pub(crate) describe: Kind,
    /// DescribeKeyPairs with one filter.
    pub(crate) filtered: Kind,
    /// Imports, modifies and deletes.
    pub(crate) write: Kind,
}

/// The next write of a connection's import, modify, delete cycle.
enum Cycle {
    Import,
    Modify { account: u64, key_id: String },
    Delete { account: u64, key_id: String },
}

/// One connection of the mix: its keys, its write cycle and its figures.
struct Connection<'a> {
    endpoint: &'a str,
    shape: MixShape,
    keys: Vec<PublicKey>,
    cycle: Cycle,
    name_prefix: String,
    n: u64,
}

/// A random number below `n` (at least 1).
fn below(n: u64) -> u64 {
    OsRng.next_u64() % n.max(1)
}

impl Connection<'_> {
    fn describe_body(&self, filtered: bool) -> Value {
        let keys = self.shape.keys;
        let limit = u64::from(self.shape.limit);
        if !filtered {
            let offset = below(keys.saturating_sub(limit) + 1);
            return json!({ "Offset": offset, "Limit": limit });
        }
        let (filter, matches) = match below(3) {
            0 => (
                json!({"Name": "key-name", "Values": [format!("seed_{}_{}", below(keys), self.shape.name_base)]}),
                1,
            ),
            1 => (json!({"Name": "tag-key", "Values": ["team"]}), keys / 2),
            _ => {
                let env = ["prod", "staging", "dev"][below(3) as usize];
                (json!({"Name": "tag:env", "Values": [env]}), keys / 3)
            }
        };
        let offset = below(matches.saturating_sub(limit) + 1);
        json!({ "Filters": [filter], "Offset": offset, "Limit": limit })
    }

    /// The next write of the cycle: its account, action and body.
    fn write(&mut self) -> (u64, &'static str, Value) {
        match &self.cycle {
            Cycle::Import => {
                let key = &self.keys[(self.n % KEYS_PER_CONNECTION) as usize];
                let body = json!({
                    "KeyName": format!("{}n{}", self.name_prefix, self.n),
                    "PublicKey": key.as_openssh(),
                    "ProjectId": 0,
                });
                (below(self.shape.accounts), "ImportKeyPair", body)
            }
            Cycle::Modify { account, key_id } => (
                *account,
                "ModifyKeyPairAttribute",
                json!({"KeyId": key_id, "Description": format!("modified by the mix, {}", self.n)}),
            ),
            Cycle::Delete { account, key_id } => {
                (*account, "DeleteKeyPairs", json!({ "KeyIds": [key_id] }))
            }
        }
    }

    /// Moves the cycle on after a write answered `body` without an error; the code to
    /// count: `OK`, or `no-KeyId` for an import answer without one (the yardstick's
    /// fixed body, or a wrong answer), after which the cycle imports again.
    fn advance(&mut self, account: u64, body: &Bytes) -> &'static str {
        let (next, code) = match std::mem::replace(&mut self.cycle, Cycle::Import) {
            Cycle::Import => match serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v["Response"]["KeyId"].as_str().map(str::to_owned))
            {
                Some(key_id) => (Cycle::Modify { account, key_id }, "OK"),
                None => (Cycle::Import, "no-KeyId"),
            },
            Cycle::Modify { account, key_id } => (Cycle::Delete { account, key_id }, "OK"),
            Cycle::Delete { .. } => (Cycle::Import, "OK"),
        };
        self.cycle = next;
        code
    }
}

fn signed(endpoint: &str, account: u64, action: &str, body: &Value) -> Request<Full<Bytes>> {
    let (id, key) = credential(account);
    keypair_wire::client::signed_post(
        (&id, &key),
        Product::Cvm,
        action,
        endpoint,
        body.to_string(),
        keypair_wire::client::now(),
    )
    .map(|body| Full::new(Bytes::from(body)))
}

async fn send(sender: &mut Sender, req: Request<Full<Bytes>>) -> Result<(bool, Bytes), String> {
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let ok = resp.status().is_success();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((ok, body))
}

/// Runs one connection of the mix until `deadline`. `seed` makes its names and keys
/// differ from every other connection's and run's.
pub(crate) async fn connection(
    endpoint: String,
    shape: MixShape,
    seed: u64,
    deadline: Instant,
) -> Result<MixResult, String> {
    let mut conn = Connection {
        endpoint: &endpoint,
        shape,
        keys: (0..KEYS_PER_CONNECTION)
            .map(|i| synthetic_public_key(seed + i, "mix"))
            .collect(),
        cycle: Cycle::Import,
        name_prefix: format!("mix{seed:x}"),
        n: 0,
    };
    let mut result = MixResult::default();
    let mut sender = connect(conn.endpoint).await?;
    while Instant::now() < deadline {
        let draw = below(10);
        let (account, action, body, write) = match draw {
            0 => {
                let (account, action, body) = conn.write();
                (account, action, body, true)
            }
            1 | 2 => (
                below(shape.accounts),
                "DescribeKeyPairs",
                conn.describe_body(true),
                false,
            ),
            _ => (
                below(shape.accounts),
                "DescribeKeyPairs",
                conn.describe_body(false),
                false,
            ),
        };
        let req = signed(conn.endpoint, account, action, &body);
        let started = Instant::now();
        let answer = send(&mut sender, req).await;
        let took = started.elapsed();
        conn.n += 1;
        let code = match &answer {
            Ok((true, body)) => match outcome_code(body) {
                ok if ok == "OK" && write => conn.advance(account, body).to_owned(),
                other => other,
            },
            Ok((false, _)) => "http-error".into(),
            Err(_) => "connection-error".into(),
        };
        if answer.is_err() {
            sender = connect(conn.endpoint).await?;
        }
        let kind = match draw {
            0 => &mut result.write,
            1 | 2 => &mut result.filtered,
            _ => &mut result.describe,
        };
        kind.record(took, code);
    }
    Ok(result)
}
