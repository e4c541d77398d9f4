//! A throwaway PostgreSQL cluster for tests (feature `test-server`).
//!
//! [`url`] answers `KEYPAIR_TEST_POSTGRES_URL` when it is set; otherwise it starts one
//! cluster per test process: `initdb` into a fresh directory under the temp dir, then
//! `postgres` listening only on a Unix socket in that directory, as the `postgres` user
//! when running as root (initdb refuses root). The server is started with `setpriv
//! --pdeathsig`, from a thread that lives as long as the process, so it shuts down when
//! the test process ends, however it ends; directories left by earlier processes that
//! are gone are removed at the next start.
//!
//! A test that needs PostgreSQL is declared inside [`postgres_test!`](crate::postgres_test):
//! where this build found no server binaries and no `KEYPAIR_TEST_POSTGRES_URL`, the test
//! is marked ignored with the reason, so `cargo test` lists it as ignored rather than
//! passing it; otherwise it runs, and fails if no server can be started.
//! `KEYPAIR_REQUIRE_POSTGRES=1` (CI) never ignores them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PORT: u16 = 5432;
const DIR_PREFIX: &str = "keypair-pg-";
static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// Declares tests that need a PostgreSQL server. Where the build of `keypair-postgres`
/// found no server binaries (`/usr/lib/postgresql/*/bin`, `pg_config`) and no
/// `KEYPAIR_TEST_POSTGRES_URL`, each test is marked `#[ignore]` with that reason;
/// otherwise they are left as written.
///
/// ```ignore
/// keypair_postgres::postgres_test! {
///     #[tokio::test]
///     async fn round_trip() {
///         let url = keypair_postgres::test_server::url("round_trip");
///         // …
///     }
/// }
/// ```
#[cfg(keypair_postgres_absent)]
#[macro_export]
macro_rules! postgres_test {
    ($($item:item)*) => {
        $(
            #[ignore = "no PostgreSQL: install the server binaries (postgresql-15) or set KEYPAIR_TEST_POSTGRES_URL, then rebuild"]
            $item
        )*
    };
}

/// Declares tests that need a PostgreSQL server (found by this build: they run).
#[cfg(not(keypair_postgres_absent))]
#[macro_export]
macro_rules! postgres_test {
    ($($item:item)*) => {
        $($item)*
    };
}

/// The URL of the PostgreSQL server for tests, starting it on first use. Panics, with
/// the reason, when there is none: declare the test in [`postgres_test!`](crate::postgres_test)
/// so that a machine without PostgreSQL lists it as ignored instead.
pub fn url(test: &str) -> String {
    match SERVER.get_or_init(start) {
        Ok(url) => url.clone(),
        Err(reason) => panic!("{test} needs PostgreSQL, which is unavailable: {reason}"),
    }
}

fn start() -> Result<String, String> {
    if let Ok(url) = std::env::var("KEYPAIR_TEST_POSTGRES_URL") {
        return Ok(url);
    }
    let bin = bin_dir().ok_or("no initdb found in /usr/lib/postgresql/*/bin or via pg_config")?;
    remove_stale_dirs();
    let base = std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).map_err(|e| format!("creating {}: {e}", base.display()))?;
    let root = is_root();
    if root {
        run(Command::new("chown").args(["postgres:postgres"]).arg(&base))?;
    }
    let data = base.join("data");
    run(as_postgres(root, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
    let log = fs::File::create(base.join("server.log")).map_err(|e| e.to_string())?;
    let mut server = setpriv(root);
    server
        .arg(bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(&base)
        .args([
            "-p",
            &PORT.to_string(),
            "-c",
            "listen_addresses=",
            "-c",
            "fsync=off",
        ])
        .args(["-c", "max_connections=300", "-c", "full_page_writes=off"])
        .stdout(Stdio::null())
        .stderr(log);
    // PR_SET_PDEATHSIG fires when the spawning *thread* exits, so spawn from a thread
    // that parks for the rest of the process.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-keeper".into())
        .spawn(move || {
            let child = server.spawn();
            let _ = tx.send(child.as_ref().map(|_| ()).map_err(|e| e.to_string()));
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())??;
    wait_ready(&bin, &base)?;
    let host = base.display().to_string().replace('/', "%2F");
    Ok(format!("postgres://postgres@{host}:{PORT}/postgres"))
}

/// Waits for the server to accept connections, polling `pg_isready`.
fn wait_ready(bin: &Path, socket_dir: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let ready = Command::new(bin.join("pg_isready"))
            .arg("-h")
            .arg(socket_dir)
            .args(["-p", &PORT.to_string(), "-q"])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = fs::read_to_string(socket_dir.join("server.log")).unwrap_or_default();
    Err(format!(
        "the server did not become ready within 60 s; its log:\n{log}"
    ))
}

/// The `pg_dump` of the installed server binaries (or the one on `PATH`).
pub fn pg_dump() -> PathBuf {
    bin_dir().map_or_else(|| PathBuf::from("pg_dump"), |d| d.join("pg_dump"))
}

fn bin_dir() -> Option<PathBuf> {
    crate::pg_bin::bin_dir()
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn as_postgres(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn setpriv(root: bool) -> Command {
    let mut c = Command::new("setpriv");
    if root {
        c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
    }
    c.args(["--pdeathsig=INT", "--"]);
    c
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Removes cluster directories of test processes that no longer exist.
fn remove_stale_dirs() {
    for entry in fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(DIR_PREFIX) {
            if !Path::new("/proc").join(pid).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// A new empty database on the test server, and its URL, for tests that need a schema
/// of their own. Panics like [`url`] when there is no server.
pub async fn fresh_database(test: &str) -> String {
    use keypair_core::IdGenerator;
    let url = url(test);
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test server");
    tokio::spawn(conn);
    let id = keypair_core::RandomIds.next_id(keypair_core::Product::Cvm);
    let name = format!("kp_{}", &id.as_str()["skey-".len()..]);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a database on the test server");
    let (base, _) = url.rsplit_once('/').expect("the test URL names a database");
    format!("{base}/{name}")
}
