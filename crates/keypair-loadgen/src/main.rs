//! `keypair-loadgen`: drives keypaird with TC3-signed requests over keep-alive
//! connections and reports throughput, latency percentiles (HDR histogram) and error-code
//! counts; or bulk-prepares a store (`--seed-keys`); or serves the limit yardstick
//! (`--serve-limit BYTES`, [`limit_server`]).
//!
//! The yardstick for a describe figure is `--serve-limit` with the same request and the
//! same body size (`targets.py` runs both side by side); a `healthz` GET is not the limit
//! of a 12 KB answer.

mod limit_server;
mod mix;
mod seed;

use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use keypair_config::KeyBackend;
use keypair_core::fixtures::synthetic_public_key;
use keypair_core::{Product, RandomIds};
use keypair_stores::StoreUrl;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LoadAction {
    #[value(name = "CreateKeyPair")]
    Create,
    #[value(name = "ImportKeyPair")]
    Import,
    #[value(name = "DescribeKeyPairs")]
    Describe,
    #[value(name = "healthz")]
    Healthz,
    /// Drawn at random per request: 79.8% DescribeKeyPairs, 20% ImportKeyPair, 0.2%
    /// CreateKeyPair (creates are bound by the key generation rate, ~10/s a core; more
    /// would only queue).
    #[value(name = "mixed")]
    Mixed,
}

/// A mix of requests (`--mix`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mix {
    /// Many accounts, random offsets, filters and writes ([`mix`]).
    Realistic,
}

/// Load generator for keypaird.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Server address (host:port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    endpoint: String,
    /// SecretId to sign with (or TENCENTCLOUD_SECRET_ID).
    #[arg(long, env = "TENCENTCLOUD_SECRET_ID", default_value = "")]
    secret_id: String,
    /// SecretKey to sign with (or TENCENTCLOUD_SECRET_KEY).
    #[arg(
        long,
        env = "TENCENTCLOUD_SECRET_KEY",
        default_value = "",
        hide_env_values = true
    )]
    secret_key: String,
    /// Product whose API is driven.
    #[arg(long, default_value = "cvm")]
    product: String,
    /// What to send.
    #[arg(long, value_enum, default_value = "DescribeKeyPairs")]
    action: LoadAction,
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// How long to run: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// DescribeKeyPairs page size.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Stop after this many requests in all (instead of at `--duration`).
    #[arg(long)]
    requests: Option<u64>,
    /// Pace each connection to at most this many requests per second (default: as fast
    /// as answers come back).
    #[arg(long)]
    rate: Option<f64>,
    /// CreateKeyPair with this one name every time (after the first, each create is
    /// refused as a duplicate): the load of a client that retries a taken name.
    #[arg(long)]
    key_name: Option<String>,
    /// Measure the single-thread key generation rate of a backend for `--duration`
    /// (no server involved) and exit.
    #[arg(long, value_parser = |s: &str| s.parse::<KeyBackend>())]
    keygen_rate: Option<KeyBackend>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Instead of `--action`, a mix of requests: `realistic` (see `mix.rs`: many
    /// accounts with their own credentials, random offsets, 1 in 5 filtered, 1 in 10 a
    /// write). Signs with the mix's credentials, not `--secret-id`.
    #[arg(long, value_enum)]
    mix: Option<Mix>,
    /// The mix's accounts: seeded accounts 1300000000 on, each with its mix credential.
    /// The yardstick takes it too, to accept their signatures.
    #[arg(long, default_value_t = 1000)]
    mix_accounts: u64,
    /// The mix: key pairs each account holds (offsets and names are drawn below it).
    #[arg(long, default_value_t = 1000)]
    mix_keys: u64,
    /// The mix: the `--seed-base` the store was seeded with (it is in every name).
    #[arg(long, default_value_t = 0)]
    mix_name_base: u64,
    /// Seed mode: bulk-insert this many key pairs into `--store` and exit.
    #[arg(long)]
    seed_keys: Option<u64>,
    /// Seed mode: spread the key pairs over this many accounts (`1300000000`, `1300000001`, …).
    #[arg(long, default_value_t = 1)]
    seed_accounts: u64,
    /// Seed mode: names are `seed_{j}_{BASE}` and keys are drawn from BASE on: a second
    /// seeding of the same store needs a base past the first one's (its `BASE + N`).
    #[arg(long, default_value_t = 0)]
    seed_base: u64,
    /// Seed mode: the store URL (as keypaird takes it).
    #[arg(long)]
    store: Option<String>,
    /// Yardstick mode: serve a fixed body of this many bytes to every request correctly
    /// TC3-signed with `--secret-id`/`--secret-key`, on `--listen`, until stopped.
    #[arg(long)]
    serve_limit: Option<usize>,
    /// Yardstick mode: the address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s:?}; use ms, s or m")),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// mimalloc rather than the system allocator: a describe answer allocates a few hundred
/// small strings, and under many connections on few cores glibc's malloc spent a fifth
/// of the CPU (docs/benchmarks.md). The yardstick (`keypair-loadgen --serve-limit`)
/// uses the same allocator, so ratios against it compare like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keypair-loadgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The program's entry into its own runtime (not a bridge inside async code).
    let result = if let Some(bytes) = args.serve_limit {
        let mut credentials: Vec<(String, String)> =
            (0..args.mix_accounts).map(mix::credential).collect();
        if !credentials.iter().any(|(id, _)| *id == args.secret_id) {
            credentials.push((args.secret_id.clone(), args.secret_key.clone()));
        }
        rt.block_on(limit_server::run(&args.listen, bytes, &credentials))
    } else if let Some(n) = args.seed_keys {
        rt.block_on(seed(&args, n))
    } else if let Some(backend) = args.keygen_rate {
        keygen_rate(&args, backend)
    } else if args.mix.is_some() {
        rt.block_on(run_mix(&args))
    } else {
        rt.block_on(load(&args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keypair-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Bulk-prepares a store: `n` CVM key pairs over the seed accounts, newest last
/// ([`seed::Seeder`], which redraws colliding ids as the service does).
async fn seed(args: &Args, n: u64) -> Result<(), String> {
    let url: StoreUrl = args
        .store
        .as_deref()
        .ok_or("--seed-keys needs --store")?
        .parse()
        .map_err(|e| format!("{e}"))?;
    let accounts = args.seed_accounts.max(1);
    let started = Instant::now();
    let mut seeder = seed::Seeder::new(&RandomIds, accounts, args.seed_base);
    let batches = (0..n)
        .step_by(seed::BATCH)
        .map(|i| i..(i + seed::BATCH as u64).min(n));
    match &url {
        StoreUrl::Sqlite { path, .. } => {
            let store = keypair_sqlite::Sqlite::open(path)
                .await
                .map_err(|e| e.to_string())?;
            for batch in batches {
                let end = batch.end;
                seeder.write(&seed::Sink::Sqlite(&store), batch).await?;
                eprintln!("seeded {end}/{n}");
            }
            store.optimize().await.map_err(|e| e.to_string())?;
        }
        other => {
            let store = other.open().await.map_err(|e| e.to_string())?.store;
            for batch in batches {
                seeder
                    .write(&seed::Sink::Store(store.as_ref()), batch)
                    .await?;
            }
        }
    }
    println!(
        "seeded {n} key pairs over {accounts} accounts ({}..{}; about {} each) in {:.1} s",
        seed::SEED_ACCOUNT_BASE,
        seed::SEED_ACCOUNT_BASE + accounts - 1,
        n.div_ceil(accounts),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Generates keys on this thread for `--duration` and reports keys per second.
fn keygen_rate(args: &Args, backend: KeyBackend) -> Result<(), String> {
    let generator = backend.generator().map_err(|e| e.to_string())?;
    let mut latency = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < args.duration || n == 0 {
        let t = Instant::now();
        let key = generator.generate().map_err(|e| e.to_string())?;
        drop(key);
        let _ = latency.record(t.elapsed().as_micros() as u64);
        n += 1;
    }
    let report = Report {
        action: format!("keygen {backend}"),
        requests: n,
        seconds: started.elapsed().as_secs_f64(),
        latency_us: latency,
        codes: BTreeMap::new(),
    };
    if args.json {
        println!("{}", report.json());
    } else {
        report.print();
    }
    Ok(())
}

/// What one run measured.
struct Report {
    action: String,
    requests: u64,
    seconds: f64,
    latency_us: Histogram<u64>,
    codes: BTreeMap<String, u64>,
}

impl Report {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn ms(&self, q: f64) -> f64 {
        self.latency_us.value_at_quantile(q) as f64 / 1000.0
    }

    fn json(&self) -> Value {
        json!({
            "action": self.action,
            "requests": self.requests,
            "seconds": self.seconds,
            "throughput": self.throughput(),
            "p50_ms": self.ms(0.5),
            "p90_ms": self.ms(0.9),
            "p95_ms": self.ms(0.95),
            "p99_ms": self.ms(0.99),
            "max_ms": self.latency_us.max() as f64 / 1000.0,
            "codes": self.codes,
        })
    }

    fn print(&self) {
        println!(
            "{}: {} requests in {:.1} s = {:.1}/s; latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}; codes {:?}",
            self.action,
            self.requests,
            self.seconds,
            self.throughput(),
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.latency_us.max() as f64 / 1000.0,
            self.codes
        );
    }
}

/// Runs the realistic mix and prints its figures: all requests, then describes,
/// filtered describes and writes apart.
async fn run_mix(args: &Args) -> Result<(), String> {
    let shape = mix::MixShape {
        accounts: args.mix_accounts.max(1),
        keys: args.mix_keys,
        name_base: args.mix_name_base,
        limit: args.limit,
    };
    let started = Instant::now();
    let deadline = started + args.duration;
    let run_id = u64::from(OsRng.next_u32()) << 24;
    let connections: Vec<_> = (0..args.concurrency as u64)
        .map(|c| {
            let endpoint = args.endpoint.clone();
            tokio::spawn(mix::connection(
                endpoint,
                shape,
                run_id + (c << 8),
                deadline,
            ))
        })
        .collect();
    let mut all = mix::MixResult::default();
    for c in connections {
        let one = c.await.map_err(|e| e.to_string())??;
        all.describe.merge(one.describe);
        all.filtered.merge(one.filtered);
        all.write.merge(one.write);
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut total = mix::Kind::default();
    for kind in [&all.describe, &all.filtered, &all.write] {
        total.merge(mix::Kind {
            latency: kind.latency.clone(),
            codes: kind.codes.clone(),
        });
    }
    let mut report = total.json(seconds);
    report["mix"] = json!("realistic");
    report["concurrency"] = json!(args.concurrency);
    report["describe"] = all.describe.json(seconds);
    report["filtered"] = all.filtered.json(seconds);
    report["write"] = all.write.json(seconds);
    println!("{report}");
    Ok(())
}

async fn load(args: &Args) -> Result<(), String> {
    if args.action != LoadAction::Healthz
        && (args.secret_id.is_empty() || args.secret_key.is_empty())
    {
        return Err("set --secret-id and --secret-key (or TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY)".into());
    }
    let product: Product = args.product.parse().map_err(|e| format!("{e}"))?;
    let report = run(args, product, args.action).await?;
    if args.json {
        let mut v = report.json();
        v["concurrency"] = json!(args.concurrency);
        println!("{v}");
    } else {
        report.print();
    }
    Ok(())
}

async fn run(args: &Args, product: Product, action: LoadAction) -> Result<Report, String> {
    let deadline = Instant::now() + args.duration;
    let started = Instant::now();
    let budget = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(
        args.requests
            .map_or(i64::MAX, |r| i64::try_from(r).unwrap_or(i64::MAX)),
    ));
    let run_id = OsRng.next_u32();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|w| {
            let ctx = Ctx {
                endpoint: args.endpoint.clone(),
                secret_id: args.secret_id.clone(),
                secret_key: args.secret_key.clone(),
                product,
                limit: args.limit,
                prefix: format!("lg{run_id:08x}w{w}"),
                key_seed: (u64::from(run_id) << 24) + ((w as u64) << 16),
                key_name: args.key_name.clone(),
                interval: args
                    .rate
                    .filter(|r| *r > 0.0)
                    .map(|r| Duration::from_secs_f64(1.0 / r)),
            };
            let budget = budget.clone();
            tokio::spawn(async move { worker(ctx, action, deadline, budget).await })
        })
        .collect();
    let mut latency = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut codes = BTreeMap::new();
    let mut requests = 0;
    for w in workers {
        let (h, c, n) = w.await.map_err(|e| e.to_string())??;
        latency.add(&h).map_err(|e| e.to_string())?;
        for (k, v) in c {
            *codes.entry(k).or_insert(0) += v;
        }
        requests += n;
    }
    Ok(Report {
        action: format!("{action:?}")
            .replace("Create", "CreateKeyPair")
            .replace("Import", "ImportKeyPair")
            .replace("Describe", "DescribeKeyPairs"),
        requests,
        seconds: started.elapsed().as_secs_f64(),
        latency_us: latency,
        codes,
    })
}

struct Ctx {
    endpoint: String,
    secret_id: String,
    secret_key: String,
    product: Product,
    limit: u32,
    prefix: String,
    key_seed: u64,
    key_name: Option<String>,
    interval: Option<Duration>,
}

type WorkerResult = Result<(Histogram<u64>, BTreeMap<String, u64>, u64), String>;

async fn worker(
    ctx: Ctx,
    action: LoadAction,
    deadline: Instant,
    budget: std::sync::Arc<std::sync::atomic::AtomicI64>,
) -> WorkerResult {
    let mut hist = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    let mut n = 0u64;
    let mut sender = None;
    let paced_from = tokio::time::Instant::now();
    while Instant::now() < deadline {
        if budget.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) <= 0 {
            break;
        }
        if let Some(interval) = ctx.interval {
            // Open-loop pacing: request n is due at n intervals after the start.
            let due = paced_from + interval.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
            tokio::time::sleep_until(due).await;
        }
        if sender.is_none() {
            match connect(&ctx.endpoint).await {
                Ok(s) => sender = Some(s),
                Err(_) => {
                    *codes.entry("connection-error".into()).or_default() += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = sender.as_mut() else { continue };
        let this = match action {
            LoadAction::Mixed => match OsRng.next_u32() % 1000 {
                0..=1 => LoadAction::Create,
                2..=201 => LoadAction::Import,
                _ => LoadAction::Describe,
            },
            other => other,
        };
        let req = build(&ctx, this, n);
        let t = Instant::now();
        let outcome = async {
            let resp = s.send_request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>((status, body))
        }
        .await;
        let took = t.elapsed();
        n += 1;
        let code = match outcome {
            Ok((status, body)) if status.is_success() => outcome_code(&body),
            Ok((status, _)) => format!("http-{}", status.as_u16()),
            Err(_) => {
                sender = None;
                "connection-error".into()
            }
        };
        let _ = hist.record(took.as_micros().max(1) as u64);
        *codes.entry(code).or_default() += 1;
    }
    Ok((hist, codes, n))
}

pub(crate) fn outcome_code(body: &Bytes) -> String {
    if body.starts_with(b"{\"status\"") {
        return "OK".into();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => v["Response"]["Error"]["Code"]
            .as_str()
            .unwrap_or("OK")
            .to_owned(),
        Err(_) => "unparsable".into(),
    }
}

pub(crate) type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub(crate) async fn connect(endpoint: &str) -> Result<Sender, String> {
    let stream = tokio::net::TcpStream::connect(endpoint)
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(sender)
}

fn build(ctx: &Ctx, action: LoadAction, n: u64) -> Request<Full<Bytes>> {
    let (name, body) = match action {
        LoadAction::Healthz => {
            return Request::get("/healthz")
                .header("host", &ctx.endpoint)
                .body(Full::new(Bytes::new()))
                .expect("request");
        }
        LoadAction::Describe => ("DescribeKeyPairs", json!({"Limit": ctx.limit})),
        LoadAction::Create | LoadAction::Mixed => {
            let name = ctx
                .key_name
                .clone()
                .unwrap_or_else(|| format!("{}c{n}", ctx.prefix));
            let mut b = json!({ "KeyName": name });
            if ctx.product == Product::Cvm {
                b["ProjectId"] = json!(0);
            }
            ("CreateKeyPair", b)
        }
        LoadAction::Import => {
            let mut b = json!({
                "KeyName": format!("{}i{n}", ctx.prefix),
                "PublicKey": synthetic_public_key(ctx.key_seed + n, "loadgen").as_openssh(),
            });
            if ctx.product == Product::Cvm {
                b["ProjectId"] = json!(0);
            }
            ("ImportKeyPair", b)
        }
    };
    keypair_wire::client::signed_post(
        (&ctx.secret_id, &ctx.secret_key),
        ctx.product,
        name,
        &ctx.endpoint,
        body.to_string(),
        keypair_wire::client::now(),
    )
    .map(|body| Full::new(Bytes::from(body)))
}
