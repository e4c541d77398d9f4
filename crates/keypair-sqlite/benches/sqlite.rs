//! SQLite store lookups at 1,000 and 1,000,000 key pairs: get by id, get by name (CVM
//! exact `key-name`), describe first page, describe with a Lighthouse substring name
//! filter, the last page (deepest offset), and insert.
//!
//! Both stores hold accounts of 500 CVM and 500 Lighthouse key pairs: one account for
//! 1,000, a thousand accounts for 1,000,000. A lookup that an index serves costs the same
//! in both; one that scans grows a thousandfold. The 1,000,000 file is built once (a few
//! minutes) and kept under the target directory for later runs.
//!
//! `store_vs_sql` (issue: describe at the machine's limit) runs a describe page through
//! the store beside the same statements on a plain rusqlite connection to the same file,
//! at random accounts and offsets of a 100,000-key-pair store: the ratio is what the
//! store path costs over its SQL.
//!
//! Run: `cargo bench -p keypair-sqlite` (or `-- store_vs_sql` for that group alone)

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use futures::StreamExt;
use keypair_core::fixtures::synthetic_public_key;
use keypair_core::{
    AccountId, Description, Filter, KeyId, KeyName, KeyPair, KeyPairStore, NameMatch, Product,
    ProjectId, Query, Scope, Tags, Timestamp,
};
use keypair_sqlite::{Sqlite, SqliteOptions, SqliteStore};
use std::path::PathBuf;
use std::time::Duration;
use tokio::runtime::Runtime;

const PER_PRODUCT: u64 = 500;

/// keypaird's allocator (its `main.rs` says why), so the store is measured as it runs
/// there; both sides of `store_vs_sql` share it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn account(a: u64) -> AccountId {
    AccountId::parse(&format!("bench{a:06}")).expect("account")
}

/// Deterministic ids: `skey-` / `lhkp-` + the global sequence number in base 36.
fn id(product: Product, n: u64) -> KeyId {
    let mut s = String::new();
    let mut x = n;
    for _ in 0..8 {
        s.insert(0, char::from_digit((x % 36) as u32, 36).expect("digit"));
        x /= 36;
    }
    KeyId::parse(product, &format!("{}{s}", product.spec().key_id_prefix)).expect("id")
}

fn record(a: u64, product: Product, i: u64) -> KeyPair {
    let n = (a * 2 + u64::from(product == Product::Lighthouse)) * PER_PRODUCT + i;
    let id = id(product, n);
    KeyPair {
        public_key: synthetic_public_key(n, &id.key_comment()),
        id,
        account: account(a),
        name: KeyName::parse(&format!("key_{i:04}")).expect("name"),
        project: ProjectId::DEFAULT,
        description: Description::default(),
        created_at: Timestamp::from_millis(1_700_000_000_000 + i as i64 * 1000),
        tags: Tags::default(),
        associations: Vec::new(),
    }
}

fn store_with(rt: &Runtime, accounts: u64) -> SqliteStore {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("bench-{accounts}-accounts-v1.db"));
    let done = dir.join(format!("bench-{accounts}-accounts-v1.done"));
    if !done.exists() {
        let _ = std::fs::remove_file(&path);
        let store = rt.block_on(Sqlite::open(&path)).expect("open");
        eprintln!(
            "building {} ({} key pairs)…",
            path.display(),
            accounts * 2 * PER_PRODUCT
        );
        for chunk in (0..accounts).collect::<Vec<_>>().chunks(10) {
            let batch: Vec<KeyPair> = chunk
                .iter()
                .flat_map(|a| {
                    Product::ALL
                        .into_iter()
                        .flat_map(move |p| (0..PER_PRODUCT).map(move |i| record(*a, p, i)))
                })
                .collect();
            rt.block_on(store.bulk_insert(batch, 5000))
                .expect("bulk insert");
        }
        rt.block_on(store.optimize()).expect("analyze");
        std::fs::write(&done, b"").expect("marker");
    }
    rt.block_on(Sqlite::open(&path)).expect("open")
}

fn lookups(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("sqlite");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for accounts in [1u64, 1000] {
        let size = accounts * 2 * PER_PRODUCT;
        let store = store_with(&rt, accounts);
        // The account in the middle of the table.
        let a = accounts / 2;
        let cvm = Scope::new(account(a), Product::Cvm);
        let lh = Scope::new(account(a), Product::Lighthouse);
        let target = record(a, Product::Cvm, 250);
        group.bench_function(BenchmarkId::new("get_by_id", size), |b| {
            b.iter(|| {
                rt.block_on(store.get(&cvm, std::slice::from_ref(&target.id)))
                    .expect("get")
            })
        });
        let by_name = Query::new(
            vec![Filter::Names(
                vec![target.name.as_str().into()],
                NameMatch::Exact,
            )],
            0,
            20,
        )
        .expect("a valid query");
        group.bench_function(BenchmarkId::new("get_by_name", size), |b| {
            b.iter(|| {
                let page = rt.block_on(store.query(&cvm, &by_name)).expect("query");
                assert_eq!(page.total, 1);
            })
        });
        let first = Query::new(vec![], 0, 20).expect("a valid query");
        group.bench_function(BenchmarkId::new("describe_first_page", size), |b| {
            b.iter(|| rt.block_on(store.query(&cvm, &first)).expect("query"))
        });
        let substring = Query::new(
            vec![Filter::Names(vec!["_02".into()], NameMatch::Substring)],
            0,
            20,
        )
        .expect("a valid query");
        group.bench_function(BenchmarkId::new("describe_name_filter", size), |b| {
            b.iter(|| {
                let page = rt.block_on(store.query(&lh, &substring)).expect("query");
                assert_eq!(page.total, 100);
            })
        });
        let last = Query::new(vec![], PER_PRODUCT - 20, 20).expect("a valid query");
        group.bench_function(BenchmarkId::new("describe_last_page", size), |b| {
            b.iter(|| rt.block_on(store.query(&cvm, &last)).expect("query"))
        });
        let bench_scope = Scope::new(
            AccountId::parse(&format!("insert{accounts}")).expect("account"),
            Product::Cvm,
        );
        let mut n = 0u64;
        group.bench_function(BenchmarkId::new("insert", size), |b| {
            b.iter(|| {
                n += 1;
                let mut kp = record(accounts + 1, Product::Cvm, 0);
                kp.account = bench_scope.account.clone();
                kp.id = id(Product::Cvm, 2_000_000_000 + n);
                kp.name = KeyName::parse(&format!("ins_{n}")).expect("name");
                kp.public_key = synthetic_public_key(u64::MAX - n, "bench");
                rt.block_on(store.insert(kp, u32::MAX)).expect("insert");
            })
        });
        // Leave the cached file as it was built.
        loop {
            let page = rt
                .block_on(store.query(&bench_scope, &Query::all()))
                .expect("query");
            if page.items.is_empty() {
                break;
            }
            let ids: Vec<KeyId> = page.items.into_iter().map(|kp| kp.id).collect();
            rt.block_on(store.delete(&bench_scope, &ids))
                .expect("cleanup");
        }
    }
    deep_offsets(&rt, &mut group);
    group.finish();
}

/// One scope at the default quota (5,000 CVM key pairs): the first page against the
/// deepest one, which must step over 4,980 index entries.
fn deep_offsets(
    rt: &Runtime,
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-deep-scope-v1.db");
    let _ = std::fs::remove_file(&path);
    let store = rt.block_on(Sqlite::open(&path)).expect("open");
    let scope = Scope::new(account(999_999), Product::Cvm);
    let batch: Vec<KeyPair> = (0..5000)
        .map(|i| {
            let mut kp = record(999_999, Product::Cvm, 0);
            kp.id = id(Product::Cvm, 1_500_000_000 + i);
            kp.name = KeyName::parse(&format!("deep_{i}")).expect("name");
            kp.public_key = synthetic_public_key(1_500_000_000 + i, "deep");
            kp.created_at = Timestamp::from_millis(1_700_000_000_000 + i as i64);
            kp
        })
        .collect();
    rt.block_on(store.bulk_insert(batch, 5000))
        .expect("bulk insert");
    for offset in [0u64, 4980] {
        let q = Query::new(vec![], offset, 20).expect("a valid query");
        group.bench_function(BenchmarkId::new("describe_offset_in_5000", offset), |b| {
            b.iter(|| {
                let page = rt.block_on(store.query(&scope, &q)).expect("query");
                assert_eq!(page.items.len(), 20);
            })
        });
    }
}

/// The (account, offset) of draw `n`: a fixed sequence, the same for both sides.
fn draw(n: &mut u64, accounts: u64) -> (u64, u64) {
    *n = n
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let x = *n >> 24;
    (x % accounts, (x / accounts) % (PER_PRODUCT - 20))
}

/// What the store runs for a CVM describe of 20 at `offset`, on a plain connection: the
/// scope's count, the page, its tags and bindings in one statement, in a deferred
/// transaction; rows read into owned values, as any caller would.
fn plain_describe(conn: &rusqlite::Connection, a: u64, offset: u64) -> usize {
    type Row = (
        String,
        String,
        String,
        String,
        i64,
        String,
        String,
        String,
        i64,
        i64,
    );
    let account = account(a);
    conn.execute_batch("BEGIN DEFERRED").expect("begin");
    let total: i64 = conn
        .prepare_cached("SELECT n FROM scope_counts WHERE account = ?1 AND product = ?2")
        .and_then(|mut s| s.query_row((account.as_str(), "cvm"), |r| r.get(0)))
        .expect("count");
    let mut page = conn
        .prepare_cached(
            "SELECT k.key_id, k.account, k.product, k.name, k.project_id, k.description, \
             k.public_key, k.fingerprint, k.key_bits, k.created_ms FROM key_pairs k \
             WHERE k.account = ?1 AND k.product = ?2 \
             ORDER BY k.created_ms DESC, k.key_id ASC LIMIT ?3 OFFSET ?4",
        )
        .expect("prepare");
    let rows: Vec<Row> = page
        .query_map((account.as_str(), "cvm", 20i64, offset as i64), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .expect("page");
    let list = vec!["?"; rows.len()].join(", ");
    let mut details = conn
        .prepare_cached(&format!(
            "SELECT key_id, 0 AS kind, position, tag_key, tag_value FROM key_pair_tags WHERE key_id IN ({list}) \
             UNION ALL SELECT key_id, 1, 0, instance_id, username FROM key_pair_instances WHERE key_id IN ({list}) \
             ORDER BY 1, 2, 3"
        ))
        .expect("prepare");
    let ids = rows.iter().chain(&rows).map(|r| &r.0);
    let extra: Vec<(String, i64, String, Option<String>)> = details
        .query_map(rusqlite::params_from_iter(ids), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(3)?, r.get(4)?))
        })
        .and_then(|rows| rows.collect())
        .expect("details");
    conn.execute_batch("COMMIT").expect("commit");
    assert!(total > 0);
    rows.len() + extra.len()
}

fn store_vs_sql(c: &mut Criterion) {
    const ACCOUNTS: u64 = 100;
    let rt = Runtime::new().expect("runtime");
    let store = store_with(&rt, ACCOUNTS);
    let path =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-{ACCOUNTS}-accounts-v1.db"));
    let conn = rusqlite::Connection::open(&path).expect("a plain connection");
    let mut group = c.benchmark_group("store_vs_sql");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    let mut n = 0;
    group.bench_function("store_describe_20", |b| {
        b.iter(|| {
            let (a, offset) = draw(&mut n, ACCOUNTS);
            let scope = Scope::new(account(a), Product::Cvm);
            let q = Query::new(vec![], offset, 20).expect("a valid query");
            let page = rt.block_on(store.query(&scope, &q)).expect("query");
            assert_eq!(page.items.len(), 20);
        })
    });
    // The store thread's cost per describe: a store of one reader thread with eight
    // describes in flight, so the thread goes from one to the next without waiting for
    // work and the wake-ups of a lone call are not counted; the time per describe is
    // that thread's work on it (what bounds a loaded server's describe rate).
    let one_reader = rt
        .block_on(Sqlite::open_with(
            &path,
            SqliteOptions {
                max_connections: 1,
                ..SqliteOptions::default()
            },
        ))
        .expect("open");
    let mut n = 0;
    group.bench_function("store_describe_20_thread_cost", |b| {
        b.iter_custom(|iters| {
            let queries: Vec<(Scope, Query)> = (0..iters)
                .map(|_| {
                    let (a, offset) = draw(&mut n, ACCOUNTS);
                    let q = Query::new(vec![], offset, 20).expect("a valid query");
                    (Scope::new(account(a), Product::Cvm), q)
                })
                .collect();
            let started = std::time::Instant::now();
            rt.block_on(async {
                let store = &one_reader;
                let pages = futures::stream::iter(queries.iter())
                    .map(|(scope, q)| store.query(scope, q))
                    .buffer_unordered(8);
                pages
                    .for_each(|page| async move {
                        assert_eq!(page.expect("query").items.len(), 20);
                    })
                    .await;
            });
            started.elapsed()
        })
    });
    // Nearly the hand-off alone: one indexed lookup of one id, through the store.
    let scope = Scope::new(account(0), Product::Cvm);
    let one = [id(Product::Cvm, 7)];
    group.bench_function("store_get_one", |b| {
        b.iter(|| assert_eq!(rt.block_on(store.get(&scope, &one)).expect("get").len(), 1))
    });
    let mut n = 0;
    group.bench_function("plain_rusqlite_same_sql", |b| {
        b.iter(|| {
            let (a, offset) = draw(&mut n, ACCOUNTS);
            assert_eq!(plain_describe(&conn, a, offset), 20);
        })
    });
    group.finish();
}

criterion_group!(benches, lookups, store_vs_sql);
criterion_main!(benches);
