//! Moving key pairs between stores: `keypaird export`, `import` and `migrate`.
//!
//! **The export format** is JSON Lines, one object a line:
//! 1. a header: `{"format":"keypair-export","version":1,"source":"sqlite","count":N}`;
//! 2. one [`KeyPairRecord`] a line, in key-id order (the order of `KeyPairStore::scan`);
//! 3. a trailer: `{"trailer":true,"count":N,"digest":"sha256:<hex>"}`, the SHA-256 of
//!    every record line's bytes, each followed by `\n`.
//!
//! Everything streams in batches of [`BATCH`]: memory stays constant whatever the size.
//! An import checks the whole file first (every line within [`MAX_LINE`], every record
//! through the core's value types, the count and the digest), so a damaged or hostile
//! file changes nothing; then it loads in atomic batches. Loading a record that is
//! already there, identical, is a no-op, so running an import or a migration again
//! resumes it and changes nothing once done.

use crate::store_url::StoreUrl;
use keypair_core::{KeyId, KeyPair, KeyPairRecord, KeyPairStore, Scope, StoreError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

/// Key pairs per scan and per load transaction: large batches amortise the index pages a
/// SQLite commit rewrites (2,000 gave 22k key pairs/s into SQLite, 20,000 gives 40k+),
/// and a batch is about 20 MB in memory, two at once while migrating.
pub const BATCH: usize = 20_000;
/// Longest line an import reads, in bytes; a record at every bound is under 100 KB.
pub const MAX_LINE: usize = 1 << 20;
/// The export format's version.
pub const FORMAT_VERSION: u64 = 1;
const FORMAT: &str = "keypair-export";

/// Why a transfer stopped.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file is not a valid export; nothing was loaded.
    #[error("line {line}: {reason}")]
    Format {
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A store failed or refused a batch; every batch before it is complete.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The target of a migration holds key pairs the source does not.
    #[error("the target store holds key pair {0}, which the source does not have; migrate into an empty store, or pass --merge to add to it")]
    TargetNotEmpty(KeyId),
    /// Verification found the stores differ.
    #[error("verification failed: {0}")]
    Differs(String),
}

fn format_error(line: u64, reason: impl Into<String>) -> TransferError {
    TransferError::Format {
        line,
        reason: reason.into(),
    }
}

/// Shows how a transfer advances: a bar with count, rate and ETA on a terminal, else a
/// plain line on stderr at most every few seconds (and after the first batch).
pub struct Progress {
    label: &'static str,
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    done: u64,
    started: Instant,
    last_line: Option<Instant>,
}

/// How often the plain progress line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(3);

impl Progress {
    /// Nothing shown (the admin API's snapshot and restore, inside the server).
    pub fn quiet(label: &'static str) -> Self {
        Progress {
            quiet: true,
            ..Progress::new(label, 0)
        }
    }

    /// Progress of `label` towards `total` key pairs.
    pub fn new(label: &'static str, total: u64) -> Self {
        use std::io::IsTerminal;
        let bar = (std::io::stderr().is_terminal() && total > 0).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} key pairs, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(label);
            bar
        });
        Progress {
            label,
            quiet: false,
            bar,
            done: 0,
            started: Instant::now(),
            last_line: None,
        }
    }

    /// `n` more key pairs are done (acknowledged by the target).
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None => {
                if self.last_line.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
                    self.last_line = Some(Instant::now());
                    eprintln!(
                        "{}: {} key pairs done ({:.0}/s)",
                        self.label,
                        self.done,
                        self.rate()
                    );
                }
            }
        }
    }

    fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    /// The summary line.
    pub fn finish(&self, what: &str) {
        if self.quiet {
            return;
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!(
            "{}: {what}; {} key pairs in {}",
            self.label,
            self.done,
            took(self.done, self.started.elapsed())
        );
    }
}

/// How long `n` key pairs took, as a person reads it: milliseconds under a second,
/// tenths of seconds above, and the rate only once there was a second to measure it
/// over (a rate from a few milliseconds says nothing).
fn took(n: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 1.0 {
        return format!("{} ms", elapsed.as_millis());
    }
    format!("{secs:.1} s ({:.0}/s)", n as f64 / secs)
}

/// A store read in key-id order, a batch of [`BATCH`] at a time: the cursor every
/// transfer walks.
struct Batches<'s> {
    store: &'s dyn KeyPairStore,
    cursor: Option<KeyId>,
    done: bool,
}

impl<'s> Batches<'s> {
    fn new(store: &'s dyn KeyPairStore) -> Self {
        Batches {
            store,
            cursor: None,
            done: false,
        }
    }

    /// The next batch; empty once the store has been read to its end.
    async fn next(&mut self) -> Result<Vec<KeyPair>, StoreError> {
        if self.done {
            return Ok(Vec::new());
        }
        let batch = self.store.scan(self.cursor.as_ref(), BATCH).await?;
        match batch.last() {
            Some(last) => self.cursor = Some(last.id.clone()),
            None => self.done = true,
        }
        Ok(batch)
    }
}

/// Adds one record line to a digest: the line's bytes, then a newline. The export's
/// trailer, the import's check and the verification all digest this way.
fn digest_line(digest: &mut Sha256, line: &str) {
    digest.update(line.as_bytes());
    digest.update(b"\n");
}

/// The canonical line of a record.
fn record_line(kp: &KeyPair) -> Result<String, TransferError> {
    serde_json::to_string(&KeyPairRecord::from(kp)).map_err(|e| TransferError::Io(e.into()))
}

/// Streams every key pair of `store` to `out` in the export format; returns the count.
pub async fn export(
    store: &dyn KeyPairStore,
    source: &str,
    out: &mut (dyn Write + Send),
) -> Result<u64, TransferError> {
    let total = store.count_all().await?;
    export_with(store, source, out, Progress::new("export", total), total).await
}

/// [`export`] with a progress display of the caller's (the admin API's is quiet).
pub async fn export_with(
    store: &dyn KeyPairStore,
    source: &str,
    out: &mut (dyn Write + Send),
    mut progress: Progress,
    total: u64,
) -> Result<u64, TransferError> {
    let header = serde_json::json!({"format": FORMAT, "version": FORMAT_VERSION, "source": source, "count": total});
    writeln!(out, "{header}")?;
    let mut digest = Sha256::new();
    let mut count = 0u64;
    let mut batches = Batches::new(store);
    loop {
        let batch = batches.next().await?;
        if batch.is_empty() {
            break;
        }
        for kp in &batch {
            let line = record_line(kp)?;
            digest_line(&mut digest, &line);
            writeln!(out, "{line}")?;
        }
        count += batch.len() as u64;
        progress.advance(batch.len() as u64);
    }
    let digest = format!("sha256:{}", hex::encode(digest.finalize()));
    // Written field by field: the trailer is recognised by its first field.
    writeln!(
        out,
        "{{\"trailer\":true,\"count\":{count},\"digest\":\"{digest}\"}}"
    )?;
    out.flush()?;
    progress.finish("exported");
    Ok(count)
}

/// One line of at most [`MAX_LINE`] bytes without its newline, or `None` at the end.
fn next_line(input: &mut dyn BufRead, line_no: u64) -> Result<Option<String>, TransferError> {
    let mut buf = Vec::new();
    let limit = MAX_LINE as u64 + 1;
    let n = std::io::Read::take(&mut *input, limit).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > MAX_LINE {
        return Err(format_error(
            line_no,
            format!("the line is longer than {MAX_LINE} bytes"),
        ));
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| format_error(line_no, "the line is not UTF-8"))
}

/// The header's count, after checking its format and version.
fn check_header(line: Option<String>) -> Result<u64, TransferError> {
    let line = line.ok_or_else(|| {
        format_error(
            1,
            "the file is empty; an export starts with its header line",
        )
    })?;
    let header: serde_json::Value = serde_json::from_str(&line)
        .map_err(|e| format_error(1, format!("the header is not JSON: {e}")))?;
    if header["format"] != FORMAT {
        return Err(format_error(
            1,
            format!("this is not a keypair export (format {})", header["format"]),
        ));
    }
    if header["version"] != FORMAT_VERSION {
        return Err(format_error(
            1,
            format!(
                "format version {} is not supported; this keypaird reads version {FORMAT_VERSION}",
                header["version"]
            ),
        ));
    }
    header["count"]
        .as_u64()
        .ok_or_else(|| format_error(1, "the header has no count"))
}

/// A record line through the core's value types.
fn parse_record(line: &str, line_no: u64) -> Result<KeyPair, TransferError> {
    serde_json::from_str::<KeyPair>(line)
        .map_err(|e| format_error(line_no, format!("invalid record: {e}")))
}

/// The first pass: every line read and checked, nothing loaded; the record count.
fn check_file(input: &mut dyn BufRead) -> Result<u64, TransferError> {
    let declared = check_header(next_line(input, 1)?)?;
    let mut digest = Sha256::new();
    let mut count = 0u64;
    let mut line_no = 1u64;
    loop {
        line_no += 1;
        let line = next_line(input, line_no)?.ok_or_else(|| {
            format_error(
                line_no,
                "the file ends without its trailer line: it is truncated; export it again",
            )
        })?;
        if line.starts_with("{\"trailer\":true") {
            check_trailer(
                &line,
                line_no,
                count,
                declared,
                &format!("sha256:{}", hex::encode(digest.finalize())),
            )?;
            if next_line(input, line_no + 1)?.is_some() {
                return Err(format_error(
                    line_no + 1,
                    "there is more after the trailer line",
                ));
            }
            return Ok(count);
        }
        parse_record(&line, line_no)?;
        digest_line(&mut digest, &line);
        count += 1;
    }
}

fn check_trailer(
    line: &str,
    line_no: u64,
    count: u64,
    declared: u64,
    digest: &str,
) -> Result<(), TransferError> {
    let trailer: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| format_error(line_no, format!("the trailer is not JSON: {e}")))?;
    if trailer["count"].as_u64() != Some(count) || declared != count {
        return Err(format_error(
            line_no,
            format!(
                "the file has {count} records, but its header says {declared} and its trailer {}",
                trailer["count"]
            ),
        ));
    }
    if trailer["digest"].as_str() != Some(digest) {
        return Err(format_error(
            line_no,
            "the digest does not match the records: the file was changed or damaged",
        ));
    }
    Ok(())
}

/// Loads an export file into `store`: checks it whole, then loads it in batches.
/// `open` gives the file from its start, once for each pass.
pub async fn import(
    store: &dyn KeyPairStore,
    open: impl FnMut() -> std::io::Result<Box<dyn BufRead + Send>>,
) -> Result<keypair_core::LoadReport, TransferError> {
    import_with(store, open, false).await
}

/// [`import`], showing progress unless `quiet`.
pub async fn import_with(
    store: &dyn KeyPairStore,
    mut open: impl FnMut() -> std::io::Result<Box<dyn BufRead + Send>>,
    quiet: bool,
) -> Result<keypair_core::LoadReport, TransferError> {
    let count = check_file(&mut *open()?)?;
    load_file(store, open, count, quiet).await
}

/// The second pass of an import: a file [`check_file`] found to hold `count` valid
/// records, loaded in batches.
async fn load_file(
    store: &dyn KeyPairStore,
    mut open: impl FnMut() -> std::io::Result<Box<dyn BufRead + Send>>,
    count: u64,
    quiet: bool,
) -> Result<keypair_core::LoadReport, TransferError> {
    let mut input = open()?;
    next_line(&mut *input, 1)?;
    let mut progress = match quiet {
        true => Progress::quiet("import"),
        false => Progress::new("import", count),
    };
    let mut total = keypair_core::LoadReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    for line_no in 2..count + 2 {
        let line = next_line(&mut *input, line_no)?
            .ok_or_else(|| format_error(line_no, "the file changed while it was read"))?;
        batch.push(parse_record(&line, line_no)?);
        if batch.len() == BATCH || line_no == count + 1 {
            let report = store.load(&batch).await?;
            total.loaded += report.loaded;
            total.present += report.present;
            progress.advance(batch.len() as u64);
            batch.clear();
        }
    }
    progress.finish(&format!(
        "{} loaded, {} already present",
        total.loaded, total.present
    ));
    Ok(total)
}

/// Streams every key pair of `from` into `to` in batches, then verifies. Without
/// `merge`, a target holding key pairs the source lacks is refused before anything is
/// written (a target holding only source records is a migration being resumed).
///
/// Each batch is written as `lanes` load transactions at once (at least one), over
/// disjoint sets of accounts, so they never touch the same scope's rows; see
/// [`load_lanes`] for how many a store wants.
pub async fn migrate(
    from: &dyn KeyPairStore,
    to: &dyn KeyPairStore,
    merge: bool,
    lanes: usize,
) -> Result<keypair_core::LoadReport, TransferError> {
    if !merge {
        refuse_foreign_data(from, to).await?;
    }
    let mut progress = Progress::new("migrate", from.count_all().await?);
    let mut total = keypair_core::LoadReport::default();
    let mut source = Batches::new(from);
    let mut batch = source.next().await?;
    while !batch.is_empty() {
        let n = batch.len() as u64;
        let parts = split_by_account(batch, lanes);
        // The next batch is read while this one is written: the two stores work at once.
        let loads = futures::future::try_join_all(parts.iter().map(|part| to.load(part)));
        let (reports, next) = futures::join!(loads, source.next());
        for report in reports? {
            total.loaded += report.loaded;
            total.present += report.present;
        }
        progress.advance(n);
        batch = next?;
    }
    progress.finish(&format!(
        "{} loaded, {} already present",
        total.loaded, total.present
    ));
    verify(from, to, merge).await?;
    eprintln!("migrate: verified: counts per account and product and the digest match");
    Ok(total)
}

/// Load transactions a migration runs at once into a store of this kind. PostgreSQL
/// runs each transaction on one server process, so one lane keeps one server core busy
/// (index maintenance is most of a bulk load's cost there) while the others idle. On the
/// 2-core benchmark machine, loading one 1,000,000-key store took 18.2 s with two lanes
/// and 27.7 s with one (docs/benchmarks.md has the benchmark runs).
/// SQLite has one writer, and each extra transaction is one more commit rewriting the
/// batch's index pages; memory is bound by this process's own CPU.
pub fn load_lanes(url: &StoreUrl) -> usize {
    match url {
        StoreUrl::Postgres(_) => 2,
        StoreUrl::Memory | StoreUrl::SqliteMemory | StoreUrl::Sqlite { .. } => 1,
    }
}

/// Splits a batch into `lanes` parts by a hash of the account id, so no two parts share
/// an account: their scope counts and name and key uniqueness are each decided within
/// one transaction. Empty parts are dropped.
fn split_by_account(batch: Vec<KeyPair>, lanes: usize) -> Vec<Vec<KeyPair>> {
    let lanes = lanes.max(1);
    if lanes == 1 {
        return vec![batch];
    }
    let mut parts: Vec<Vec<KeyPair>> = (0..lanes).map(|_| Vec::new()).collect();
    // Any hash keeps an account in one part; the partition only has to hold per batch.
    let hasher = std::collections::hash_map::RandomState::new();
    for kp in batch {
        let lane = hasher.hash_one(kp.account.as_str()) % lanes as u64;
        parts[lane as usize].push(kp);
    }
    parts.retain(|p| !p.is_empty());
    parts
}

async fn refuse_foreign_data(
    from: &dyn KeyPairStore,
    to: &dyn KeyPairStore,
) -> Result<(), TransferError> {
    let mut target = Batches::new(to);
    loop {
        let batch = target.next().await?;
        if batch.is_empty() {
            return Ok(());
        }
        for kp in batch {
            let found = from.get(&kp.scope(), std::slice::from_ref(&kp.id)).await?;
            if found.first() != Some(&kp) {
                return Err(TransferError::TargetNotEmpty(kp.id));
            }
        }
    }
}

/// Walks both stores in key-id order: per (account, product) counts and a digest of
/// each side, and the first record that differs. With `merge`, the target may hold
/// more (every source record must be in it, identical).
pub async fn verify(
    from: &dyn KeyPairStore,
    to: &dyn KeyPairStore,
    merge: bool,
) -> Result<(), TransferError> {
    let mut source = Side::new(from);
    let mut target = Side::new(to);
    loop {
        // Both sides read their next batches at once.
        let (s, t) = futures::join!(source.fill(), target.fill());
        s?;
        t?;
        let (s, t) = (
            source.buffer.front().cloned(),
            target.buffer.front().cloned(),
        );
        let target_only = match (&s, &t) {
            (None, None) => break,
            (Some(s), Some(t)) if s.id == t.id => {
                if s != t {
                    return Err(TransferError::Differs(format!(
                        "key pair {} differs between the stores",
                        s.id
                    )));
                }
                source.take();
                target.take();
                continue;
            }
            (Some(s), Some(t)) if t.id < s.id => t,
            (None, Some(t)) => t,
            (Some(s), _) => {
                return Err(TransferError::Differs(format!(
                    "key pair {} is missing from the target",
                    s.id
                )));
            }
        };
        if !merge {
            return Err(TransferError::Differs(format!(
                "the target holds key pair {}, which the source does not",
                target_only.id
            )));
        }
        target.skip(target_only);
    }
    if !merge && (source.counts != target.counts || source.digest() != target.digest()) {
        return Err(TransferError::Differs(
            "the counts per account and product or the digests differ".into(),
        ));
    }
    Ok(())
}

/// One side of a verification: its reader, its counts per scope and its digest.
struct Side<'s> {
    batches: Batches<'s>,
    buffer: std::collections::VecDeque<KeyPair>,
    counts: BTreeMap<(String, &'static str), u64>,
    digest: Sha256,
}

impl<'s> Side<'s> {
    fn new(store: &'s dyn KeyPairStore) -> Self {
        Side {
            batches: Batches::new(store),
            buffer: Default::default(),
            counts: BTreeMap::new(),
            digest: Sha256::new(),
        }
    }

    /// Reads the next batch if the buffer is empty.
    async fn fill(&mut self) -> Result<(), TransferError> {
        if self.buffer.is_empty() {
            self.buffer.extend(self.batches.next().await?);
        }
        Ok(())
    }

    /// Counts the front record and moves past it.
    fn take(&mut self) {
        if let Some(kp) = self.buffer.pop_front() {
            let scope: Scope = kp.scope();
            *self
                .counts
                .entry((scope.account.as_str().to_owned(), scope.product.as_str()))
                .or_default() += 1;
            // Serialising a record cannot fail; were it to, the digests would differ.
            if let Ok(line) = record_line(&kp) {
                digest_line(&mut self.digest, &line);
            }
        }
    }

    /// Moves past a target-only record (`--merge`), without counting it.
    fn skip(&mut self, kp: &KeyPair) {
        if self.buffer.front().is_some_and(|f| f.id == kp.id) {
            self.buffer.pop_front();
        }
    }

    fn digest(&self) -> String {
        hex::encode(self.digest.clone().finalize())
    }
}

/// Opens a store from its URL for a transfer command.
async fn open(url: &str) -> Result<(std::sync::Arc<dyn KeyPairStore>, StoreUrl), String> {
    let parsed: StoreUrl = url.parse().map_err(|e| format!("{e}"))?;
    let store = parsed
        .open_for_transfer()
        .await
        .map_err(|e| e.to_string())?;
    Ok((store, parsed))
}

/// `keypaird export --store URL [--out FILE]`: to FILE (created with mode 0600, since it
/// holds account ids and tags), or to stdout.
pub async fn export_command(store: &str, out: Option<&std::path::Path>) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let (store, url) = open(store).await?;
    let mut writer: Box<dyn Write + Send> = match out {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Box::new(std::io::BufWriter::new(file))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    export(&*store, url.kind(), &mut writer)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `keypaird import --store URL FILE`. The file is checked whole before the store is
/// opened, so a refused file creates nothing; a SQLite file this import created is
/// removed again if the load fails.
pub async fn import_command(store: &str, file: &std::path::Path) -> Result<(), String> {
    let in_file = |e: TransferError| format!("{}: {e}", file.display());
    let open_file = || -> std::io::Result<Box<dyn BufRead + Send>> {
        Ok(Box::new(std::io::BufReader::new(std::fs::File::open(
            file,
        )?)))
    };
    let url: StoreUrl = store.parse().map_err(|e| format!("{e}"))?;
    let count = check_file(&mut *open_file().map_err(|e| in_file(e.into()))?).map_err(in_file)?;
    let created = url.sqlite_path().filter(|p| !p.exists());
    let loaded = async {
        let store = url.open_for_transfer().await.map_err(|e| e.to_string())?;
        load_file(&*store, open_file, count, false)
            .await
            .map_err(in_file)
    }
    .await;
    if loaded.is_err() {
        if let Some(path) = created {
            crate::store_url::remove_sqlite_files(&path);
        }
    }
    loaded.map(drop)
}

/// `keypaird migrate --from URL --to URL [--merge]`.
pub async fn migrate_command(from: &str, to: &str, merge: bool) -> Result<(), String> {
    let (source, _) = open(from).await?;
    let (target, to) = open(to).await?;
    migrate(&*source, &*target, merge, load_lanes(&to))
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_give_milliseconds_or_a_rate_over_at_least_a_second() {
        assert_eq!(took(2, Duration::from_micros(3_400)), "3 ms");
        assert_eq!(took(2, Duration::from_millis(999)), "999 ms");
        assert_eq!(
            took(40_000, Duration::from_millis(2_500)),
            "2.5 s (16000/s)"
        );
    }
}
