//! `keypaird`: the key-pair service binary.

use clap::{Parser, Subcommand, ValueEnum};
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

#[derive(Subcommand)]
enum Command {
    /// Run the service (defaults: 127.0.0.1:8080, sqlite:keypaird.db).
    Serve {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on; `127.0.0.1:0` lets the OS choose a port.
        #[arg(long)]
        listen: Option<String>,
        /// Store URL: `memory`, `sqlite:PATH`, `sqlite::memory:` or `postgres://…`.
        #[arg(long)]
        store: Option<String>,
        /// Key generation backend (overrides `[keygen] backend`).
        #[arg(long, value_enum)]
        key_backend: Option<keypaird::config::KeyBackend>,
        /// Log format on stderr.
        #[arg(long, value_enum, default_value_t = LogFormat::Human)]
        log_format: LogFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Command::Serve {
        config,
        listen,
        store,
        key_backend,
        log_format,
    } = cli.command;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match log_format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keypaird: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The binary's entry into its runtime (not a bridge inside async code).
    match runtime.block_on(serve(ServeOptions {
        config,
        listen,
        store,
        key_backend,
    })) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keypaird: {e}");
            ExitCode::FAILURE
        }
    }
}
