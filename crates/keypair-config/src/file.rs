//! The configuration file (TOML): what `keypaird serve` can be told in it. Unknown keys
//! and invalid values stop the start with a message that names the file, the key and the
//! problem ([`ConfigError`]).

use crate::accounts::{validate_accounts, AccountConfig};
use crate::error::{problem, ConfigError};
use crate::keygen::KeyBackend;
use serde::Deserialize;
use std::fs;
use std::path::Path;

/// Everything `keypaird serve` can be told in its file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Store URL.
    pub store: Option<String>,
    /// Quotas, rates, sizes.
    #[serde(default)]
    pub limits: Limits,
    /// Key generation.
    #[serde(default)]
    pub keygen: KeygenConfig,
    /// The metrics endpoint.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// The admin API.
    #[serde(default)]
    pub admin: AdminConfig,
    /// The web console.
    #[serde(default)]
    pub console: ConsoleConfig,
    /// Accounts and their credentials.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
}

/// `[admin]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// The admin API's bearer token; the admin API is off without one.
    pub token: Option<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let token = self.token.as_ref().map(|_| "<redacted>");
        f.debug_struct("AdminConfig")
            .field("token", &token)
            .finish()
    }
}

/// `[console]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Serve the web console at `/console/` (default: on in ephemeral and
    /// test-credentials mode, off otherwise).
    pub enabled: Option<bool>,
}

/// `[keygen]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeygenConfig {
    /// `rsa` or `aws-lc`.
    pub backend: Option<KeyBackend>,
    /// Pre-generated keys kept ready (default 64; 0 disables the pool).
    pub pool_size: Option<usize>,
    /// Threads generating keys, which is also the most generations at once (default:
    /// one per core less one, at least one).
    pub workers: Option<usize>,
}

/// `[metrics]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true }
    }
}

fn yes() -> bool {
    true
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Key pairs per account and product (default 5000).
    pub key_pairs_per_account: Option<u32>,
    /// Requests per second per account and action for every CVM action (default: the
    /// spec's per-action rates; 0 disables).
    pub cvm_requests_per_second: Option<u32>,
    /// The same for Lighthouse.
    pub lighthouse_requests_per_second: Option<u32>,
    /// Largest request body in bytes (default 1 MiB).
    pub body_limit_bytes: Option<usize>,
    /// Most connections open at once (default 4096); also the listen backlog.
    pub max_connections: Option<usize>,
    /// Most connections open at once from one client address (default 512).
    pub max_connections_per_address: Option<usize>,
    /// Seconds every request body gets to arrive, whatever its size (default 5); a body
    /// also gets one second per `min_body_rate_bytes_per_second` bytes.
    pub body_read_timeout_secs: Option<u64>,
    /// Slowest average body rate accepted, bytes per second (default 65536).
    pub min_body_rate_bytes_per_second: Option<u64>,
    /// Bytes of large request bodies buffered at once across all requests (default
    /// 32 MiB); each request's first 8 KiB are not counted.
    pub body_memory_budget_bytes: Option<usize>,
    /// Key pairs a server on a SQLite store holds in memory to answer reads (default
    /// 1,000,000, about 1 KiB each; 0 turns the read model off, and with it the file's
    /// owner lock). Not used on PostgreSQL, whose reads stay uncached.
    pub read_model_key_pairs: Option<usize>,
    /// Most API requests in flight at once (default 1024); more get `RequestLimitExceeded`.
    pub max_in_flight_requests: Option<usize>,
    /// Seconds a client has to send a request's headers, and an idle keep-alive
    /// connection to start its next request (default 10).
    pub header_read_timeout_secs: Option<u64>,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            fs::read_to_string(path).map_err(|e| problem(path, format!("cannot be read: {e}")))?;
        let config: Config = toml::from_str(&text)
            .map_err(|e| problem(path, e.to_string().trim_end().to_owned()))?;
        validate_accounts(path, &config.accounts)?;
        Ok(config)
    }
}
