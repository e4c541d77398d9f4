//! Replaying a journal into a server and reporting every answer that differs: the check
//! of an upgrade or a migration (`keypaird replay FILE --endpoint URL`).
//!
//! Each entry is re-sent as recorded, signed with its SecretId in test-credentials mode
//! (the SecretId is its own SecretKey there), after replacing the key ids that earlier
//! answers mapped: an id a create answered in the journal stands for the id the target
//! answered for the same create. Answers are compared member by member; a difference is
//! classed as an id (a key id or a RequestId), a time (`CreatedTime`), a key (`PublicKey`,
//! `PrivateKey`) or other. Lists of key pairs are paired by (mapped) key id, not by
//! position. Replayed into a server with the same seed, a journal reproduces every answer
//! exactly; with another seed, only ids, times and keys differ.

use crate::journal::{without_private_key, Entry};
use async_trait::async_trait;
use keypair_core::Product;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::io;

/// Where a replay sends its requests.
#[async_trait]
pub trait Target: Send + Sync {
    /// Sends one call; the answer's `Response` object.
    async fn call(
        &self,
        product: Product,
        secret_id: &str,
        action: &str,
        params: &Value,
    ) -> io::Result<Value>;
}

/// A server at `host:port` in test-credentials mode.
pub struct Endpoint(pub String);

#[async_trait]
impl Target for Endpoint {
    async fn call(
        &self,
        product: Product,
        secret_id: &str,
        action: &str,
        params: &Value,
    ) -> io::Result<Value> {
        crate::client::call(&self.0, (secret_id, secret_id), product, action, params).await
    }
}

/// What kind of difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A key id (mapped) or a RequestId.
    Id,
    /// `CreatedTime`.
    Time,
    /// `PublicKey` or `PrivateKey`.
    Key,
    /// Anything else: a real change of behaviour.
    Other,
}

/// One member that differs.
#[derive(Clone, Debug)]
pub struct Difference {
    /// The entry's number, from 1.
    pub entry: usize,
    /// Its action.
    pub action: String,
    /// Where in the answer (`/KeyPair/CreatedTime`).
    pub path: String,
    /// What kind.
    pub kind: Kind,
    /// The journal's value.
    pub was: Value,
    /// The target's value.
    pub now: Value,
}

/// A replay's outcome.
#[derive(Debug, Default)]
pub struct Report {
    /// Entries replayed.
    pub entries: usize,
    /// Every difference, in entry order.
    pub differences: Vec<Difference>,
    /// Key ids mapped from the journal's to the target's.
    pub mapped: usize,
}

impl Report {
    /// How many differences of `kind`.
    pub fn count(&self, kind: Kind) -> usize {
        self.differences.iter().filter(|d| d.kind == kind).count()
    }
}

/// The most differences [`Report`]'s display lists one by one.
pub const SHOWN: usize = 100;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "replayed {} entries ({} key ids mapped): {} differences ({} ids, {} times, {} keys, {} other)",
            self.entries,
            self.mapped,
            self.differences.len(),
            self.count(Kind::Id),
            self.count(Kind::Time),
            self.count(Kind::Key),
            self.count(Kind::Other),
        )?;
        for d in self.differences.iter().take(SHOWN) {
            let (was, now) = (shown(&d.was), shown(&d.now));
            writeln!(
                f,
                "  entry {} {} {} ({:?}): {was} -> {now}",
                d.entry, d.action, d.path, d.kind
            )?;
        }
        if self.differences.len() > SHOWN {
            writeln!(f, "  … and {} more", self.differences.len() - SHOWN)?;
        }
        Ok(())
    }
}

/// Why a journal file could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A line is not a journal entry.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// The line at fault.
        #[source]
        source: crate::journal::JournalError,
    },
    /// A request could not be sent or its answer read.
    #[error("replaying into {endpoint}: {source}")]
    Send {
        /// The target.
        endpoint: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Replays the journal file `path` into the test-mode server at `endpoint`
/// (`http://host:port` or `host:port`).
///
/// # Errors
/// The file could not be read or parsed, or the server could not be reached.
pub async fn replay_file(path: &std::path::Path, endpoint: &str) -> Result<Report, ReplayError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Read {
        path: path.to_owned(),
        source,
    })?;
    let entries = crate::journal::parse(&text).map_err(|source| ReplayError::Parse {
        path: path.to_owned(),
        source,
    })?;
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let target = Endpoint(host.to_owned());
    replay(&entries, &target)
        .await
        .map_err(|source| ReplayError::Send {
            endpoint: endpoint.to_owned(),
            source,
        })
}

/// A value as a report line shows it: at most 60 characters of its JSON.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        None => text,
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// Replays `entries` into `target`, in order.
///
/// # Errors
/// A request could not be sent or its answer read.
pub async fn replay(entries: &[Entry], target: &dyn Target) -> io::Result<Report> {
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut report = Report::default();
    for (n, e) in entries.iter().enumerate() {
        let product = e.product.parse::<Product>().map_err(io::Error::other)?;
        let params = mapped(&e.params, &ids);
        let now = without_private_key(
            target
                .call(product, &e.secret_id, &e.action, &params)
                .await?,
        );
        learn(&e.answer, &now, &mut ids);
        let mut at = Walk {
            entry: n + 1,
            action: &e.action,
            ids: &ids,
            out: &mut report.differences,
        };
        at.compare("", &e.answer, &now);
        report.entries += 1;
    }
    report.mapped = ids.len();
    Ok(report)
}

/// `value` with every string that is a mapped key id replaced by its target id.
fn mapped(value: &Value, ids: &HashMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(ids.get(s).cloned().unwrap_or_else(|| s.clone())),
        Value::Array(items) => Value::Array(items.iter().map(|v| mapped(v, ids)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), mapped(v, ids))).collect())
        }
        other => other.clone(),
    }
}

/// Records, for every `KeyId` member at the same place in both answers, the journal's id
/// as standing for the target's.
fn learn(was: &Value, now: &Value, ids: &mut HashMap<String, String>) {
    match (was, now) {
        (Value::Object(a), Value::Object(b)) => {
            if let (Some(Value::String(x)), Some(Value::String(y))) =
                (a.get("KeyId"), b.get("KeyId"))
            {
                if x != y && !ids.contains_key(x) {
                    ids.insert(x.clone(), y.clone());
                }
            }
            for (k, v) in a {
                if let Some(w) = b.get(k) {
                    learn(v, w, ids);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (v, w) in a.iter().zip(b) {
                learn(v, w, ids);
            }
        }
        _ => {}
    }
}

/// Compares two answers, recording differences.
struct Walk<'a> {
    entry: usize,
    action: &'a str,
    ids: &'a HashMap<String, String>,
    out: &'a mut Vec<Difference>,
}

impl Walk<'_> {
    fn differ(&mut self, path: &str, kind: Kind, was: &Value, now: &Value) {
        self.out.push(Difference {
            entry: self.entry,
            action: self.action.to_owned(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_owned()
            },
            kind,
            was: was.clone(),
            now: now.clone(),
        });
    }

    fn compare(&mut self, path: &str, was: &Value, now: &Value) {
        match (was, now) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in a {
                    let here = format!("{path}/{k}");
                    match b.get(k) {
                        Some(w) => self.compare(&here, v, w),
                        None => self.differ(&here, Kind::Other, v, &Value::Null),
                    }
                }
                for (k, w) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                    self.differ(&format!("{path}/{k}"), Kind::Other, &Value::Null, w);
                }
            }
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                self.compare_items(path, a, b)
            }
            (Value::String(x), Value::String(y)) if x != y => {
                let kind = self.classify(path, x, y);
                self.differ(path, kind, was, now);
            }
            _ if was != now => self.differ(path, Kind::Other, was, now),
            _ => {}
        }
    }

    /// Lists of key pairs are paired by mapped key id; other lists by position.
    fn compare_items(&mut self, path: &str, a: &[Value], b: &[Value]) {
        let key_id = |v: &Value| v.get("KeyId").and_then(Value::as_str).map(str::to_owned);
        for (i, v) in a.iter().enumerate() {
            let partner = key_id(v)
                .map(|id| self.ids.get(&id).cloned().unwrap_or(id))
                .and_then(|id| b.iter().find(|w| key_id(w).as_deref() == Some(id.as_str())))
                .unwrap_or(&b[i]);
            self.compare(&format!("{path}/{i}"), v, partner);
        }
    }

    fn classify(&self, path: &str, was: &str, now: &str) -> Kind {
        let last = path.rsplit('/').next().unwrap_or_default();
        match last {
            "RequestId" | "KeyId" => Kind::Id,
            "CreatedTime" => Kind::Time,
            "PublicKey" | "PrivateKey" => Kind::Key,
            _ if self.ids.get(was).is_some_and(|n| n == now) => Kind::Id,
            _ if self.with_ids_mapped(was) == now => Kind::Id,
            _ => Kind::Other,
        }
    }

    /// `text` with every mapped key id in it replaced (an error message naming a key).
    fn with_ids_mapped(&self, text: &str) -> String {
        self.ids.iter().fold(text.to_owned(), |t, (old, new)| {
            t.replace(old.as_str(), new)
        })
    }
}
