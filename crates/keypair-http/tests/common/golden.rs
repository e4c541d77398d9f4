//! Golden captures of the wire suite: every answer a suite test receives, byte for byte,
//! with what differs between runs replaced by stable placeholders (RequestIds, the random
//! key ids, generated key material, fingerprints). The captures are committed under
//! `tests/golden/`; every store must reproduce them exactly, so a change to what the wire
//! answers shows up as a diff of these files, and a store that answers differently from
//! the others fails.
//!
//! `KEYPAIR_UPDATE_GOLDEN=1 cargo test -p keypair-http --test wire_memory` rewrites them
//! (review the diff before committing it).

use regex::Regex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The answers one test received, in order.
pub struct Capture {
    name: &'static str,
    lines: Mutex<Normaliser>,
}

#[derive(Default)]
struct Normaliser {
    lines: Vec<String>,
    /// Each random value seen, by kind, to its placeholder (numbered by first appearance).
    seen: HashMap<(&'static str, String), usize>,
    counts: HashMap<&'static str, usize>,
}

/// What varies between runs, and the placeholder kind it becomes. Key ids are mapped in
/// order of first appearance, so the same id always gets the same placeholder.
fn patterns() -> &'static [(&'static str, Regex)] {
    static P: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("a valid pattern");
        vec![
            (
                "request-id",
                re(r#"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#),
            ),
            (
                "private-key",
                re(r"-----BEGIN RSA PRIVATE KEY-----[^-]*-----END RSA PRIVATE KEY-----(\\n)?"),
            ),
            ("key-blob", re(r"AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+")),
            ("fingerprint", re(r"SHA256:[A-Za-z0-9+/]{43}")),
            ("key-id", re(r"\b(skey|lhkp)[-_][0-9a-z]{8}\b")),
        ]
    })
}

impl Normaliser {
    fn normalise(&mut self, text: &str) -> String {
        let mut out = text.to_owned();
        for (kind, re) in patterns() {
            let mut replaced = String::with_capacity(out.len());
            let mut last = 0;
            for m in re.find_iter(&out) {
                replaced.push_str(&out[last..m.start()]);
                replaced.push_str(&self.placeholder(kind, m.as_str()));
                last = m.end();
            }
            replaced.push_str(&out[last..]);
            out = replaced;
        }
        out
    }

    fn placeholder(&mut self, kind: &'static str, value: &str) -> String {
        if kind == "request-id" || kind == "private-key" {
            return format!("<{kind}>");
        }
        let next = self.counts.entry(kind).or_default();
        let n = *self
            .seen
            .entry((kind, value.to_owned()))
            .or_insert_with(|| {
                *next += 1;
                *next
            });
        // Keep an id's prefix and separator: they are part of what the wire says.
        match kind {
            "key-id" => format!("{}<{n}>", &value[..5]),
            _ => format!("<{kind} {n}>"),
        }
    }
}

impl Capture {
    /// An empty capture for the suite test `name`.
    pub fn new(name: &'static str) -> Self {
        Capture {
            name,
            lines: Mutex::new(Normaliser::default()),
        }
    }

    /// Records one answer: the action it answered and its body as received.
    pub fn record(&self, action: &str, body: &[u8]) {
        let mut n = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(body);
        let line = format!("{action}\t{}", n.normalise(&text));
        n.lines.push(line);
    }

    fn path(&self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{}.txt", self.name))
    }

    /// Compares the answers with the committed golden file (or rewrites it when
    /// `KEYPAIR_UPDATE_GOLDEN` is set), naming the first answer that differs.
    pub fn check(&self) {
        let n = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let got = n.lines.join("\n") + "\n";
        let path = self.path();
        if std::env::var_os("KEYPAIR_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("golden dir");
            std::fs::write(&path, &got).expect("write the golden file");
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with KEYPAIR_UPDATE_GOLDEN=1 to create it",
                path.display()
            )
        });
        if got == want {
            return;
        }
        let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
        let at = g
            .iter()
            .zip(&w)
            .position(|(a, b)| a != b)
            .unwrap_or(g.len().min(w.len()));
        panic!(
            "the wire's answers differ from {} at answer {} of {} (golden has {}):\n  golden: {}\n  now:    {}",
            path.display(),
            at + 1,
            g.len(),
            w.len(),
            w.get(at).unwrap_or(&"<none>"),
            g.get(at).unwrap_or(&"<none>"),
        );
    }
}
