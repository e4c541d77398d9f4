//! `keypaird export`, `import` and `migrate`: keypair-transfer behind store URLs, with a
//! progress display on stderr (a bar on a terminal, plain lines otherwise).

use keypair_stores::{remove_sqlite_files, InvalidStoreUrl, OpenStoreError, StoreUrl};
use keypair_transfer::TransferError;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a transfer command stopped.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A store URL that is not one.
    #[error(transparent)]
    Url(#[from] InvalidStoreUrl),
    /// A store that could not be opened.
    #[error(transparent)]
    Open(#[from] OpenStoreError),
    /// The transfer itself.
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// A journal that could not be read or replayed.
    #[error(transparent)]
    Replay(#[from] keypair_steer::replay::ReplayError),
    /// The replay's answers differ from the journal's (the report says how).
    #[error("the answers differ from the journal's in {0} places (the report above lists them)")]
    Differs(usize),
    /// The transfer of the file at `path`.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What went wrong with it.
        #[source]
        source: TransferError,
    },
}

/// Shows how a transfer advances: a bar with count, rate and ETA on a terminal, else a
/// plain line on stderr at most every few seconds (and after the first batch).
struct Display {
    label: &'static str,
    bar: Option<indicatif::ProgressBar>,
    done: u64,
    started: Instant,
    last_line: Option<Instant>,
}

/// How often the plain progress line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(3);

impl Display {
    fn new(label: &'static str) -> Self {
        Display {
            label,
            bar: None,
            done: 0,
            started: Instant::now(),
            last_line: None,
        }
    }

    fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }
}

impl keypair_transfer::Progress for Display {
    fn start(&mut self, total: u64) {
        use std::io::IsTerminal;
        self.bar = (std::io::stderr().is_terminal() && total > 0).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} key pairs, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(self.label);
            bar
        });
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.last_line.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) => {
                self.last_line = Some(Instant::now());
                let rate = self.rate();
                eprintln!("{}: {} key pairs done ({rate:.0}/s)", self.label, self.done);
            }
            None => {}
        }
    }

    fn finish(&mut self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let took = took(self.done, self.started.elapsed());
        eprintln!("{}: {what}; {} key pairs in {took}", self.label, self.done);
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

/// `keypaird export --store URL [--out FILE]`: to FILE (created with mode 0600, since it
/// holds account ids and tags), or to stdout.
pub async fn export(store: &str, out: Option<&Path>) -> Result<(), CommandError> {
    use std::os::unix::fs::OpenOptionsExt;
    let url: StoreUrl = store.parse()?;
    let store = url.open_for_transfer(None).await?;
    let mut writer: Box<dyn Write + Send> = match out {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| in_file(path, e.into()))?;
            Box::new(std::io::BufWriter::new(file))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    keypair_transfer::export(
        &*store,
        url.kind(),
        &mut writer,
        &mut Display::new("export"),
    )
    .await?;
    Ok(())
}

/// `keypaird import --store URL FILE`. The file is checked whole before the store is
/// opened, so a refused file creates nothing; a SQLite file this import created is
/// removed again if the load fails.
pub async fn import(store: &str, file: &Path) -> Result<(), CommandError> {
    let mut open = || -> std::io::Result<Box<dyn BufRead + Send>> {
        Ok(Box::new(std::io::BufReader::new(std::fs::File::open(
            file,
        )?)))
    };
    let url: StoreUrl = store.parse()?;
    let mut first = open().map_err(|e| in_file(file, e.into()))?;
    let count = keypair_transfer::check(&mut *first).map_err(|e| in_file(file, e))?;
    let created = url.sqlite_path().filter(|p| !p.exists());
    let loaded = async {
        let store = url.open_for_transfer(Some("keypaird import")).await?;
        keypair_transfer::load(&*store, &mut open, count, &mut Display::new("import"))
            .await
            .map_err(|e| in_file(file, e))
    }
    .await;
    if loaded.is_err() {
        if let Some(path) = created {
            remove_sqlite_files(&path);
        }
    }
    loaded.map(drop)
}

/// `keypaird migrate --from URL --to URL [--merge]`, then the verification.
pub async fn migrate(from: &str, to: &str, merge: bool) -> Result<(), CommandError> {
    let (from, to): (StoreUrl, StoreUrl) = (from.parse()?, to.parse()?);
    let source = from.open_for_transfer(None).await?;
    let target = to.open_for_transfer(Some("keypaird migrate")).await?;
    let mut display = Display::new("migrate");
    keypair_transfer::migrate(&*source, &*target, merge, to.load_lanes(), &mut display).await?;
    eprintln!("migrate: verified: counts per account and product and the digest match");
    Ok(())
}

fn in_file(path: &Path, source: TransferError) -> CommandError {
    CommandError::InFile {
        path: path.to_owned(),
        source,
    }
}

/// `keypaird replay FILE --endpoint URL`: prints the report; fails when an answer differs.
pub async fn replay(file: &Path, endpoint: &str) -> Result<(), CommandError> {
    let report = keypair_steer::replay::replay_file(file, endpoint).await?;
    print!("{report}");
    match report.differences.len() {
        0 => Ok(()),
        n => Err(CommandError::Differs(n)),
    }
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
