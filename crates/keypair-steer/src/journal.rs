//! The request journal: one JSON line per authenticated call, with its answer, while
//! recording is on (`--journal FILE` from the start, or the admin API's start and stop).
//!
//! A line holds `Time` (the wall clock, RFC 3339 to the second), `Product`, `Action`,
//! `Account`, `SecretId`, `Params` (the action's parameters as sent: the common ones and
//! the signature are never among them), `Code`, `RequestId` and `Answer` (the `Response`
//! object as sent). It never holds a SecretKey or a signature (the hook never sees
//! them), and a private key only as [`PRIVATE_KEY_MARKER`]: a create's `PrivateKey` is
//! replaced before the line is made.
//!
//! Bounds: the lines held for download (the last recording's) take at most
//! [`MAX_HELD_BYTES`]; past it, recording goes on into the file, if there is one, and
//! the held copy stops growing (the download says how many lines it left out). Lines go
//! to the file through a queue of [`FILE_QUEUE`] lines, written by a thread of the
//! journal's own; a line the queue has no room for is counted as lost and logged.

use keypair_core::Product;
use keypair_http::Call;
use serde::Deserialize;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Mutex;

/// What a private key is replaced by.
pub const PRIVATE_KEY_MARKER: &str = "<private key: not journaled>";
/// The most bytes of lines held for download.
pub const MAX_HELD_BYTES: usize = 64 << 20;
/// The most lines waiting for the file writer.
pub const FILE_QUEUE: usize = 4096;

/// The lines held for download.
#[derive(Default)]
struct Held {
    lines: Vec<String>,
    bytes: usize,
    left_out: u64,
}

/// One server's journal.
pub struct Journal {
    recording: Mutex<bool>,
    held: Mutex<Held>,
    file: Mutex<Option<SyncSender<String>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    lost: std::sync::atomic::AtomicU64,
}

/// Why a journal could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be created.
    #[error("cannot create the journal {}: {source}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An uploaded or replayed journal has a line that is not a journal entry.
    #[error("line {line} is not a journal entry: {reason}")]
    Line {
        /// The line's number, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

impl Journal {
    /// A journal not recording, with no file.
    pub fn new() -> Self {
        Journal {
            recording: Mutex::new(false),
            held: Mutex::new(Held::default()),
            file: Mutex::new(None),
            writer: Mutex::new(None),
            lost: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A journal recording from now into `path` (created or truncated) as well.
    pub fn to_file(path: &Path) -> Result<Self, JournalError> {
        let file = File::create(path).map_err(|source| JournalError::Create {
            path: path.to_owned(),
            source,
        })?;
        let (tx, rx) = sync_channel::<String>(FILE_QUEUE);
        let shown = path.display().to_string();
        let writer = std::thread::Builder::new()
            .name("keypaird-journal".into())
            .spawn(move || write_lines(BufWriter::new(file), rx, &shown))
            .map_err(|source| JournalError::Create {
                path: path.to_owned(),
                source,
            })?;
        let journal = Journal::new();
        *lock(&journal.file) = Some(tx);
        *lock(&journal.writer) = Some(writer);
        journal.start();
        Ok(journal)
    }

    /// Stops recording into the file: every line recorded so far is written and flushed
    /// before this returns. A server calls it when it stops.
    pub fn close(&self) {
        drop(lock(&self.file).take());
        if let Some(writer) = lock(&self.writer).take() {
            let _ = writer.join();
        }
    }

    /// Starts recording, emptying what was held.
    pub fn start(&self) {
        *lock(&self.held) = Held::default();
        *lock(&self.recording) = true;
    }

    /// Stops recording; what was recorded stays held for download.
    pub fn stop(&self) {
        *lock(&self.recording) = false;
    }

    /// Whether it is recording.
    pub fn is_recording(&self) -> bool {
        *lock(&self.recording)
    }

    /// The held lines as JSON lines, and how many were left out at the bound.
    pub fn download(&self) -> (String, u64) {
        let held = lock(&self.held);
        let mut text = String::with_capacity(held.bytes + held.lines.len());
        for line in &held.lines {
            text.push_str(line);
            text.push('\n');
        }
        (text, held.left_out)
    }

    /// Replaces the held lines with an uploaded journal, checked line by line first (a
    /// bad line changes nothing). Returns how many lines it holds.
    pub fn upload(&self, text: &str) -> Result<usize, JournalError> {
        let entries = parse(text)?;
        let mut held = Held::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            held.bytes += line.len();
            held.lines.push(line.to_owned());
        }
        if held.bytes > MAX_HELD_BYTES {
            return Err(JournalError::Line {
                line: held.lines.len(),
                reason: format!("the journal is over {MAX_HELD_BYTES} bytes"),
            });
        }
        *lock(&self.held) = held;
        Ok(entries.len())
    }

    /// Records one answered call, if recording.
    pub fn record(&self, call: &Call, code: &str, answer: Option<&str>, now_ms: i64) {
        if !self.is_recording() {
            return;
        }
        let line = entry(call, code, answer, now_ms).to_string();
        if let Some(file) = &*lock(&self.file) {
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
                file.try_send(line.clone())
            {
                let lost = self.lost.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                tracing::warn!(lost, "the journal file's queue is full; a line was lost");
            }
        }
        let mut held = lock(&self.held);
        if held.bytes + line.len() > MAX_HELD_BYTES {
            held.left_out += 1;
            return;
        }
        held.bytes += line.len();
        held.lines.push(line);
    }
}

impl Default for Journal {
    fn default() -> Self {
        Journal::new()
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

/// The most entries a journal may hold when it is read back (uploaded or replayed).
pub const MAX_ENTRIES: usize = 1_000_000;

/// One journal line.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    /// When it was answered (the wall clock).
    pub time: String,
    /// `cvm` or `lighthouse`.
    pub product: String,
    /// The action.
    pub action: String,
    /// The caller's account.
    pub account: String,
    /// The SecretId that signed it.
    pub secret_id: String,
    /// The action's parameters as sent.
    pub params: Value,
    /// The answer's code (`OK` for a success).
    pub code: String,
    /// The answer's RequestId.
    pub request_id: String,
    /// The answer's `Response` object (`null` when the connection was dropped).
    pub answer: Value,
}

/// The entries of a journal, every line checked.
pub fn parse(text: &str) -> Result<Vec<Entry>, JournalError> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if entries.len() >= MAX_ENTRIES {
            return Err(JournalError::Line {
                line: n + 1,
                reason: format!("a journal replays at most {MAX_ENTRIES} entries"),
            });
        }
        let entry: Entry = serde_json::from_str(line).map_err(|e| JournalError::Line {
            line: n + 1,
            reason: e.to_string(),
        })?;
        if entry.product.parse::<Product>().is_err() {
            return Err(JournalError::Line {
                line: n + 1,
                reason: format!("Product {:?} is not cvm or lighthouse", entry.product),
            });
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The journal line of one call.
fn entry(call: &Call, code: &str, answer: Option<&str>, now_ms: i64) -> Value {
    let answer = answer
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .map(|mut v| {
            let response = v["Response"].take();
            without_private_key(response)
        });
    json!({
        "Time": keypair_core::Timestamp::from_millis(now_ms).to_string(),
        "Product": call.product.as_str(),
        "Action": call.action.name(),
        "Account": call.account.as_str(),
        "SecretId": call.secret_id,
        "Params": call.params.clone().map_or(Value::Null, Value::Object),
        "Code": code,
        "RequestId": call.request_id,
        "Answer": answer.unwrap_or(Value::Null),
    })
}

/// The answer with every `PrivateKey` string replaced by [`PRIVATE_KEY_MARKER`].
pub fn without_private_key(mut answer: Value) -> Value {
    if let Some(key) = answer.pointer_mut("/KeyPair/PrivateKey") {
        if key.is_string() {
            *key = PRIVATE_KEY_MARKER.into();
        }
    }
    answer
}

fn write_lines(mut out: BufWriter<File>, lines: std::sync::mpsc::Receiver<String>, path: &str) {
    while let Ok(first) = lines.recv() {
        // Everything already waiting goes out with it; then a flush, so a reader of the
        // file sees whole lines soon after they are answered.
        let written = std::iter::once(first)
            .chain(lines.try_iter())
            .try_for_each(|line| writeln!(out, "{line}"))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            tracing::error!(journal = path, error = %e, "cannot write the journal; recording into the file stops");
            return;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
