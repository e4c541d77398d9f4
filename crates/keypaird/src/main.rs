//! `keypaird`: the key-pair service binary.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use keypair_config::KeyBackend;
use keypaird::serve::{serve, ServeOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Tencent Cloud API 3.0 key-pair actions (CVM and Lighthouse) over HTTP.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The store URL forms, for every command that takes one.
const STORE_URLS: &str = "\
Store URLs:
  memory                                  in this process only, gone at exit
  sqlite:PATH                             a SQLite file, created if missing (its directory must exist)
  sqlite:PATH?synchronous=normal          the same; faster commits that a power cut (not a crash) may lose
  sqlite::memory:                         SQLite in memory, gone at exit
  postgres://USER:PASSWORD@HOST:PORT/DB   a PostgreSQL database (postgresql:// too)
  postgres://USER@A:5432,B:5432/DB?target_session_attrs=read-write
                                          several hosts: whichever is the writable primary
  host=HOST port=PORT user=USER dbname=DB the libpq key-value form";

#[derive(Subcommand)]
enum Command {
    /// Run the service (defaults: 127.0.0.1:8080, sqlite:keypaird.db).
    ///
    /// Every option can also come from its KEYPAIRD_* environment variable; a flag wins
    /// over the variable, the variable over the config file, the file over the default.
    ///
    /// With no account configured (no [[accounts]] in --config, no --secret-id, not
    /// --test-credentials or --ephemeral), the first start creates one and writes its
    /// SecretId and SecretKey to keypaird-credentials.toml (mode 0600) beside the SQLite
    /// database, or in the working directory for other stores; later starts read it.
    #[command(after_help = STORE_URLS)]
    Serve(Box<ServeArgs>),
    /// Write every key pair of a store as JSON Lines (header, records, trailer with the
    /// count and a digest); to --out (mode 0600) or stdout.
    #[command(after_help = STORE_URLS)]
    Export {
        /// The store URL (forms below).
        #[arg(long, env = "KEYPAIRD_STORE")]
        store: String,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Load an export file into a store; the file is checked whole first, and a store
    /// this command created is removed again if the import fails. Running it again
    /// changes nothing.
    #[command(after_help = STORE_URLS)]
    Import {
        /// The store URL (forms below).
        #[arg(long, env = "KEYPAIRD_STORE")]
        store: String,
        /// The export file.
        file: PathBuf,
    },
    /// Replay a journal (`serve --journal`, or the admin API's download) into a server in
    /// test-credentials mode, re-signing each call, and report every answer that
    /// differs; exit status 0 only when none does.
    Replay {
        /// The journal file (JSON lines).
        file: PathBuf,
        /// The server, `http://HOST:PORT` or `HOST:PORT`.
        #[arg(long)]
        endpoint: String,
    },
    /// Copy every key pair from one store to another in batches, then verify counts and
    /// digests; interrupted, run it again to resume.
    #[command(after_help = STORE_URLS)]
    Migrate {
        /// The source store URL (forms below).
        #[arg(long)]
        from: String,
        /// The target store URL (forms below).
        #[arg(long)]
        to: String,
        /// Allow a target that already holds other key pairs.
        #[arg(long)]
        merge: bool,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "KEYPAIRD_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on; `127.0.0.1:0` lets the OS choose a port.
    #[arg(long, env = "KEYPAIRD_LISTEN")]
    listen: Option<String>,
    /// Store URL: `memory`, `sqlite:PATH`, `sqlite::memory:` or `postgres://…` (forms
    /// below).
    #[arg(long, env = "KEYPAIRD_STORE")]
    store: Option<String>,
    /// Key generation backend, `rsa` or `aws-lc` (overrides `[keygen] backend`).
    #[arg(long, env = "KEYPAIRD_KEY_BACKEND", value_parser = backend)]
    key_backend: Option<KeyBackend>,
    /// Pre-generated keys kept ready (overrides `[keygen] pool_size`; 0 disables).
    #[arg(long, env = "KEYPAIRD_POOL_SIZE")]
    pool_size: Option<usize>,
    /// A throwaway server for tests: memory store, no file written, a small key pool;
    /// prints the credential as one JSON line after the `listening on` line.
    #[arg(long, env = "KEYPAIRD_EPHEMERAL", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    ephemeral: bool,
    /// One fixed account's SecretId (with --secret-key).
    #[arg(long, env = "KEYPAIRD_SECRET_ID")]
    secret_id: Option<String>,
    /// That account's SecretKey.
    #[arg(long, env = "KEYPAIRD_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Accept any well-formed SecretId, whose SecretKey is the SecretId itself, on a
    /// loopback address only (for test suites).
    #[arg(long, env = "KEYPAIRD_TEST_CREDENTIALS", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    test_credentials: bool,
    /// Bearer token that turns on the admin API under /_keypaird/: reset (all key pairs,
    /// or one account's), readiness, snapshot and restore (docs/testing.md). Off without
    /// a token.
    #[arg(long, env = "KEYPAIRD_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Like --test-credentials, and any SecretKey is accepted: the signature is not
    /// checked (for suites that carry fake credentials of their own). Loopback only.
    #[arg(long, env = "KEYPAIRD_ANY_SECRET_KEY", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    any_secret_key: bool,
    /// Serve the web console at /console/ (true or false; default: on with --ephemeral
    /// or --test-credentials, else [console] enabled).
    #[arg(long, env = "KEYPAIRD_CONSOLE", value_parser = BoolishValueParser::new())]
    console: Option<bool>,
    /// No per-action rate limits, whatever [limits] says: a test suite sets its own pace
    /// (the pytest plugin and the Node helper start keypaird with it).
    #[arg(long, env = "KEYPAIRD_NO_RATE_LIMITS", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    no_rate_limits: bool,
    /// Test mode: key ids, RequestIds and RSA keys derive from this seed, and the clock
    /// starts fixed at 2026-01-01T00:00:00Z; the same requests give the same answers.
    #[arg(long, env = "KEYPAIRD_SEED")]
    seed: Option<u64>,
    /// Test mode: record every call and its answer as JSON lines into this file (never a
    /// SecretKey, a signature or a private key).
    #[arg(long, env = "KEYPAIRD_JOURNAL")]
    journal: Option<PathBuf>,
    /// Test mode, with --seed: keep derived keys in this directory, so a rerun generates
    /// none.
    #[arg(long, env = "KEYPAIRD_KEY_CACHE")]
    key_cache: Option<PathBuf>,
    /// Check the configuration (file, flags, variables) and exit: nothing is bound,
    /// opened or written. Exit status 0 when `serve` would start with it.
    #[arg(long)]
    check: bool,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, env = "KEYPAIRD_LOG_FORMAT")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// A key backend by name, for clap: one of [`KeyBackend::NAMES`].
fn backend(name: &str) -> Result<KeyBackend, String> {
    name.parse()
}

/// mimalloc rather than the system allocator: a describe answer allocates a few hundred
/// small strings, and under many connections on few cores glibc's malloc spent a fifth
/// of the CPU (docs/benchmarks.md). The yardstick (`keypair-loadgen --serve-limit`)
/// uses the same allocator, so ratios against it compare like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Command::Serve(args) => args,
        other => return transfer(other),
    };
    init_logs(args.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keypaird: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = ServeOptions {
        config: args.config,
        listen: args.listen,
        store: args.store,
        key_backend: args.key_backend,
        pool_size: args.pool_size,
        ephemeral: args.ephemeral,
        secret_id: args.secret_id,
        secret_key: args.secret_key,
        test_credentials: args.test_credentials,
        admin_token: args.admin_token,
        any_secret_key: args.any_secret_key,
        console: args.console,
        no_rate_limits: args.no_rate_limits,
        test: keypaird::serve::TestOptions {
            seed: args.seed,
            journal: args.journal,
            key_cache: args.key_cache,
        },
    };
    if args.check {
        // The binary's entry into its runtime (not a bridge inside async code).
        return match runtime.block_on(keypaird::serve::check(options)) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("keypaird: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // The binary's entry into its runtime (not a bridge inside async code).
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keypaird: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
}

/// Runs `export`, `import` or `migrate`.
fn transfer(command: Command) -> ExitCode {
    init_logs(LogFormat::Human);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keypaird: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    use keypaird::commands;
    // The binary's entry into its runtime (not a bridge inside async code).
    let result = runtime.block_on(async {
        match command {
            Command::Export { store, out } => commands::export(&store, out.as_deref()).await,
            Command::Import { store, file } => commands::import(&store, &file).await,
            Command::Migrate { from, to, merge } => commands::migrate(&from, &to, merge).await,
            Command::Replay { file, endpoint } => commands::replay(&file, &endpoint).await,
            Command::Serve(_) => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keypaird: {e}");
            ExitCode::FAILURE
        }
    }
}
