//! `keypaird serve`: resolves flags over the config file over defaults, opens the store,
//! builds the service and serves the API until SIGINT or SIGTERM, then finishes the
//! requests in flight and closes the store.

use crate::config::{self, Config, CredentialsSource, KeyBackend, Limits};
use crate::store_url::StoreUrl;
use keypair_core::{
    default_workers, KeyGenerator, KeyPairService, KeyPool, RsaKeyGenerator, StaticProjects,
};
use keypair_http::{
    router, AppState, BodyLimits, HttpConfig, MeteredStore, Metrics, RateLimits, ServerLimits,
    DEFAULT_BODY_LIMIT,
};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where `keypaird serve` listens by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default store.
pub const DEFAULT_STORE: &str = "sqlite:keypaird.db";

/// Settings after flags, file and defaults are combined.
#[derive(Debug, Default, Clone)]
pub struct ServeOptions {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--store`.
    pub store: Option<String>,
    /// `--key-backend`.
    pub key_backend: Option<KeyBackend>,
}

/// Default number of pre-generated keys.
pub const DEFAULT_POOL_SIZE: usize = 64;

/// The generator a backend name stands for.
pub fn key_generator(backend: KeyBackend) -> Result<Arc<dyn KeyGenerator>, StartError> {
    match backend {
        KeyBackend::Rsa => Ok(Arc::new(RsaKeyGenerator::default())),
        #[cfg(feature = "aws-lc")]
        KeyBackend::AwsLc => Ok(Arc::new(keypair_awslc::AwsLcKeyGenerator::default())),
        #[cfg(not(feature = "aws-lc"))]
        KeyBackend::AwsLc => Err(StartError(
            "key backend aws-lc: this keypaird was built without the `aws-lc` feature; use backend = \"rsa\"".into(),
        )),
    }
}

/// The backend used when none is configured.
pub fn default_backend() -> KeyBackend {
    if cfg!(feature = "aws-lc") {
        KeyBackend::AwsLc
    } else {
        KeyBackend::Rsa
    }
}

/// A start-up failure, with a message for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

fn err(e: impl std::fmt::Display) -> StartError {
    StartError(e.to_string())
}

/// Runs the service until a shutdown signal.
pub async fn serve(opts: ServeOptions) -> Result<(), StartError> {
    let file = match &opts.config {
        Some(path) => Config::load(path).map_err(err)?,
        None => Config::default(),
    };
    let listen = opts
        .listen
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let store_text = opts
        .store
        .or(file.store)
        .unwrap_or_else(|| DEFAULT_STORE.to_owned());
    let store_url: StoreUrl = store_text.parse().map_err(err)?;

    let mut created = None;
    let (account_configs, source_file) = if file.accounts.is_empty() {
        let dir = store_url.sqlite_dir().unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let (accounts, source) = config::load_or_create_credentials(&dir).map_err(err)?;
        let path = match source {
            CredentialsSource::Loaded(p) => p,
            CredentialsSource::Created {
                path,
                account,
                secret_id,
            } => {
                created = Some((account, secret_id));
                path
            }
        };
        (accounts, path)
    } else {
        (file.accounts, opts.config.clone().unwrap_or_default())
    };
    let accounts = config::validate_accounts(&source_file, &account_configs).map_err(err)?;

    let backend = opts
        .key_backend
        .or(file.keygen.backend)
        .unwrap_or_else(default_backend);
    let pool = Arc::new(KeyPool::new(
        key_generator(backend)?,
        file.keygen.pool_size.unwrap_or(DEFAULT_POOL_SIZE),
        file.keygen.workers.unwrap_or_else(default_workers),
    ));
    let probe = pool.clone();
    let metrics = Arc::new(Metrics::new().with_pool(move || probe.stats()));
    let store = Arc::new(MeteredStore::new(
        store_url.open().await.map_err(err)?,
        metrics.clone(),
    ));
    let projects = accounts
        .projects
        .into_iter()
        .fold(StaticProjects::new(), |catalog, (account, ps)| {
            catalog.with(account, ps)
        });
    let mut service = KeyPairService::builder(store)
        .key_pool(pool.clone())
        .projects(Arc::new(projects))
        .instances(accounts.instances.clone());
    if let Some(q) = file.limits.key_pairs_per_account {
        service = service.quota(q);
    }
    let http = http_config(&file.limits, file.metrics.enabled);
    let server_limits = server_limits(&file.limits);
    let state =
        AppState::new(service.build(), accounts.credentials, http).with_metrics(metrics.clone());
    let app = router(Arc::new(state));

    let listener = listen_on(&listen, server_limits.max_connections).await?;
    let addr = listener.local_addr().map_err(err)?;
    let shutdown = shutdown_signal()?;
    tracing::info!(
        %addr,
        store = %store_url,
        key_backend = ?backend,
        pool_size = pool.stats().capacity,
        max_unissued_private_keys = pool.max_unissued_keys(),
        "keypaird started"
    );
    if let Some((account, secret_id)) = created {
        announce_credentials(&source_file, &account, &secret_id, &addr.to_string());
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}").map_err(err)?;
        out.flush().map_err(err)?;
    }
    keypair_http::serve(listener, app, server_limits, metrics, shutdown)
        .await
        .map_err(err)?;
    tracing::info!("keypaird stopped");
    Ok(())
}

/// The wire settings from `[limits]` and `[metrics]`.
fn http_config(limits: &Limits, metrics: bool) -> HttpConfig {
    let defaults = HttpConfig::default();
    let body = BodyLimits {
        max_bytes: limits.body_limit_bytes.unwrap_or(DEFAULT_BODY_LIMIT),
        base_timeout: limits
            .body_read_timeout_secs
            .map_or(defaults.body.base_timeout, Duration::from_secs),
        min_rate: limits
            .min_body_rate_bytes_per_second
            .unwrap_or(defaults.body.min_rate),
        budget_bytes: limits
            .body_memory_budget_bytes
            .unwrap_or(defaults.body.budget_bytes),
        ..defaults.body
    };
    HttpConfig {
        body,
        rate_limits: RateLimits {
            cvm: limits.cvm_requests_per_second,
            lighthouse: limits.lighthouse_requests_per_second,
        },
        metrics,
        max_in_flight: limits
            .max_in_flight_requests
            .unwrap_or(defaults.max_in_flight),
    }
}

/// The connection limits from `[limits]`.
fn server_limits(limits: &Limits) -> ServerLimits {
    let defaults = ServerLimits::default();
    ServerLimits {
        max_connections: limits.max_connections.unwrap_or(defaults.max_connections),
        max_connections_per_address: limits
            .max_connections_per_address
            .unwrap_or(defaults.max_connections_per_address),
        header_read_timeout: limits
            .header_read_timeout_secs
            .map_or(defaults.header_read_timeout, Duration::from_secs),
        ..defaults
    }
}

/// Binds the first address `listen` resolves to, with a backlog for `max_connections`.
async fn listen_on(
    listen: &str,
    max_connections: usize,
) -> Result<tokio::net::TcpListener, StartError> {
    let cannot = |e: &dyn std::fmt::Display| StartError(format!("cannot listen on {listen}: {e}"));
    let addr = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| cannot(&e))?
        .next()
        .ok_or_else(|| cannot(&"the address resolves to nothing"))?;
    keypair_http::bind(addr, max_connections).map_err(|e| cannot(&e))
}

/// Registers SIGINT and SIGTERM handlers now and returns a future that resolves on
/// either. Registering before the listening line is printed means a signal sent as soon
/// as the server says it is ready still stops it cleanly.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, StartError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| StartError(format!("cannot handle SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| StartError(format!("cannot handle SIGINT: {e}")))?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

/// Tells the user (on stderr; stdout carries only the listening line) how to use the new
/// credential. The SecretKey is not printed: the lines read it from the 0600 file.
fn announce_credentials(path: &std::path::Path, account: &str, secret_id: &str, listen: &str) {
    let file = path.display();
    let endpoint = listen.replace("0.0.0.0", "127.0.0.1");
    eprintln!(
        "\
keypaird: no account configured; created account {account} with SecretId {secret_id}.
The SecretKey is in {file} (mode 0600). To use it:

  export TENCENTCLOUD_SECRET_ID={secret_id}
  export TENCENTCLOUD_SECRET_KEY=$(sed -n 's/^secret_key = \"\\(.*\\)\"$/\\1/p' {file})
  export TENCENTCLOUD_REGION=ap-guangzhou

  # tccli
  tccli cvm DescribeKeyPairs --endpoint http://{endpoint}

  # Python SDK
  python3 -c 'import os; from tencentcloud.common import credential; \\
from tencentcloud.common.profile.client_profile import ClientProfile; \\
from tencentcloud.common.profile.http_profile import HttpProfile; \\
from tencentcloud.cvm.v20170312 import cvm_client, models; \\
c = cvm_client.CvmClient(credential.EnvironmentVariableCredential().get_credential(), \"ap-guangzhou\", \\
ClientProfile(httpProfile=HttpProfile(endpoint=\"{endpoint}\", protocol=\"http\"))); \\
print(c.DescribeKeyPairs(models.DescribeKeyPairsRequest()).to_json_string())'
"
    );
}
