//! `keypaird serve`: resolves flags over environment over the config file over defaults,
//! binds, opens the store, builds the service and serves the API until SIGINT or
//! SIGTERM, then finishes the requests in flight and closes the store.

use crate::error::StartError;
use keypair_config::{
    self as config, AccountConfig, Accounts, Config, CredentialConfig, CredentialsSource,
    KeyBackend, Limits,
};
use keypair_console::ConsoleOptions;
use keypair_core::{
    default_workers, KeyPairService, KeyPairStore, KeyPool, NonceLedger, RateCounter,
    StaticProjects,
};
use keypair_http::admin::AdminToken;
use keypair_http::{
    router, AppState, BodyLimits, Credentials, HttpConfig, Metrics, RateLimits, Router,
    ServerLimits, DEFAULT_BODY_LIMIT,
};
pub use keypair_steer::TestOptions;
use keypair_steer::TestParts;
use keypair_stores::{OpenedStore, StoreUrl};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where `keypaird serve` listens by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default store.
pub const DEFAULT_STORE: &str = "sqlite:keypaird.db";

/// What the command line and the environment said (clap gives a flag precedence over
/// its `KEYPAIRD_*` variable); the file and the defaults fill in the rest.
#[derive(Default, Clone)]
pub struct ServeOptions {
    /// `--config` / `KEYPAIRD_CONFIG`.
    pub config: Option<PathBuf>,
    /// `--listen` / `KEYPAIRD_LISTEN`.
    pub listen: Option<String>,
    /// `--store` / `KEYPAIRD_STORE`.
    pub store: Option<String>,
    /// `--key-backend` / `KEYPAIRD_KEY_BACKEND`.
    pub key_backend: Option<KeyBackend>,
    /// `--pool-size` / `KEYPAIRD_POOL_SIZE`.
    pub pool_size: Option<usize>,
    /// `--ephemeral` / `KEYPAIRD_EPHEMERAL`: a memory store, nothing written anywhere.
    pub ephemeral: bool,
    /// `--secret-id` / `KEYPAIRD_SECRET_ID`, with `secret_key`: one fixed account.
    pub secret_id: Option<String>,
    /// `--secret-key` / `KEYPAIRD_SECRET_KEY`.
    pub secret_key: Option<String>,
    /// `--test-credentials` / `KEYPAIRD_TEST_CREDENTIALS`: any well-formed SecretId.
    pub test_credentials: bool,
    /// `--admin-token` / `KEYPAIRD_ADMIN_TOKEN`: turns the admin API on.
    pub admin_token: Option<String>,
    /// `--any-secret-key`: test-credentials mode without the signature check.
    pub any_secret_key: bool,
    /// `--console` / `KEYPAIRD_CONSOLE`: serve the web console (else `[console] enabled`).
    pub console: Option<bool>,
    /// `--no-rate-limits` / `KEYPAIRD_NO_RATE_LIMITS`: no per-action rate limits, whatever
    /// `[limits]` says (the test fixtures' default).
    pub no_rate_limits: bool,
    /// `--seed`, `--journal` and `--key-cache`: the test mode's (docs/testing.md).
    pub test: TestOptions,
}

/// The test-mode credential the start line prints and the console offers (its SecretKey
/// is the SecretId itself).
const TEST_SECRET_ID: &str = "AKIDtest";

/// The key pool in ephemeral mode: small, so a start costs little CPU.
pub const EPHEMERAL_POOL_SIZE: usize = 4;

/// The key pool in test-credentials mode, filled on every core from start-up so a
/// suite's first creates find keys ready.
pub const TEST_POOL_SIZE: usize = 32;

/// Default number of pre-generated keys.
pub const DEFAULT_POOL_SIZE: usize = 64;

/// Checks everything `serve` would read before it binds — the config file, the flags
/// and variables, the accounts and credentials, the store URL's form, the key backend
/// and the listen address's form — and says what it found, without binding, opening the
/// store or writing any file (`keypaird serve --check`).
pub async fn check(opts: ServeOptions) -> Result<String, StartError> {
    let file = match &opts.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let (plan, accounts) = Plan::resolve(&opts, file)?;
    plan.backend.generator()?;
    resolve(&plan.listen).await?;
    let source = opts
        .config
        .as_deref()
        .map_or("the configuration".into(), |p| p.display().to_string());
    let who = match &plan.credentials {
        CredentialPlan::Test => "test credentials (any well-formed SecretId)".to_owned(),
        CredentialPlan::AnyKey => {
            "test credentials, any SecretKey (the signature is not checked)".to_owned()
        }
        CredentialPlan::CredentialsFile(_, CredentialsSource::Created { path, .. }) => {
            format!("no account yet: the first start writes {}", path.display())
        }
        _ => format!("{} account(s)", accounts.projects.len()),
    };
    Ok(format!(
        "{source}: ok; listen {}, store {}, {who}",
        plan.listen, plan.store_url
    ))
}

/// Runs the service until a shutdown signal.
///
/// Nothing is written before everything that can fail has succeeded: the config is
/// read and checked, the address bound and the store opened first; only then is a
/// generated credentials file written. A failed start leaves no file behind.
pub async fn serve(opts: ServeOptions) -> Result<(), StartError> {
    let file = match &opts.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let (plan, accounts) = Plan::resolve(&opts, file)?;
    let listener = plan.bind().await?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let shutdown = shutdown_signal()?;
    let OpenedStore {
        store,
        shared_admission,
    } = plan.open_store().await?;
    let test = TestParts::build(
        plan.test_mode(),
        &plan.test,
        Default::default(),
        plan.workers,
    )?;
    let pool = Arc::new(match &test.seeded {
        // Seeded keys are issued in their order: one worker, no reserve to reorder them.
        Some(seeded) => KeyPool::new(seeded.keys.clone(), 0, 1),
        None => KeyPool::new(plan.backend.generator()?, plan.pool_size, plan.workers),
    });
    let probe = pool.clone();
    let metrics = Arc::new(Metrics::new().with_pool(move || probe.stats()));
    let service = plan.service(store.clone(), &metrics, pool.clone(), &accounts, &test);
    let fleet_wide = shared_admission.is_some();
    let state = AppState::new(service, accounts.credentials, plan.http.clone())
        .with_metrics(metrics.clone());
    let app = plan.app(state, &test, shared_admission);
    test.steer.set_endpoint(addr.to_string());
    tracing::info!(
        %addr,
        store = %plan.store_url,
        key_backend = %plan.backend,
        pool_size = pool.stats().capacity,
        max_unissued_private_keys = pool.max_unissued_keys(),
        test_credentials = plan.test_mode(),
        seed = ?plan.test.seed,
        admin_api = plan.http.admin_token.is_some(),
        fleet_wide_nonces_and_rates = fleet_wide,
        "keypaird started{}",
        if plan.test_mode() { " in test-credentials mode: any well-formed SecretId is accepted, loopback only" } else { "" }
    );
    plan.announce(&addr)?;
    keypair_http::serve(listener, app, plan.server_limits.clone(), metrics, shutdown)
        .await
        .map_err(StartError::Serve)?;
    test.steer.journal.close();
    tracing::info!("keypaird stopped");
    Ok(())
}

/// Whose requests the server accepts.
enum CredentialPlan {
    /// `--test-credentials`.
    Test,
    /// `--any-secret-key`: test credentials without the signature check.
    AnyKey,
    /// `--secret-id` and `--secret-key`: one account, derived from the SecretId as in
    /// test-credentials mode.
    Fixed(AccountConfig),
    /// The config file's accounts.
    File(Vec<AccountConfig>, PathBuf),
    /// `keypaird-credentials.toml`, read, or generated and written once started.
    CredentialsFile(Vec<AccountConfig>, CredentialsSource),
    /// Ephemeral mode without credentials: one generated in memory, printed on stdout.
    Generated(AccountConfig),
}

/// Everything `serve` needs, resolved from flags, environment, file and defaults.
struct Plan {
    listen: String,
    store_url: StoreUrl,
    ephemeral: bool,
    credentials: CredentialPlan,
    backend: KeyBackend,
    pool_size: usize,
    workers: usize,
    quota: Option<u32>,
    read_model: Option<usize>,
    http: HttpConfig,
    server_limits: ServerLimits,
    test: TestOptions,
    console: Option<ConsoleOptions>,
}

impl Plan {
    fn test_mode(&self) -> bool {
        matches!(
            self.credentials,
            CredentialPlan::Test | CredentialPlan::AnyKey
        )
    }

    /// The router over `state`: in test mode with the steer hook, its clocks and, with a
    /// seed, its RequestIds; a fleet's shared admission; the steer's admin calls beside
    /// the admin API (they answer `403` outside test mode).
    fn app(
        &self,
        mut state: AppState,
        test: &TestParts,
        shared: Option<(Arc<dyn NonceLedger>, Arc<dyn RateCounter>)>,
    ) -> Router {
        if self.test_mode() {
            state = state
                .with_hook(test.steer.clone())
                .with_wire_clock(test.signing_clock.clone());
        }
        if let Some(seeded) = &test.seeded {
            state = state.with_request_ids(seeded.request_ids.clone());
        }
        if let Some((nonces, rates)) = shared {
            state = state.with_admission(nonces, rates);
        }
        let mut app = router(Arc::new(state));
        if let Some(token) = self.http.admin_token.clone() {
            app = app.merge(keypair_steer::admin::routes(test.steer.clone(), token));
        }
        app.merge(match &self.console {
            Some(console) => keypair_console::routes(console),
            None => keypair_console::off(),
        })
    }

    /// Everything resolved and checked, the accounts included; nothing written yet.
    fn resolve(opts: &ServeOptions, file: Config) -> Result<(Plan, Accounts), StartError> {
        if opts.ephemeral && opts.store.is_some() {
            return Err(StartError::Options(
                "--ephemeral keeps everything in memory; drop --store (or KEYPAIRD_STORE), or drop --ephemeral to use a store".into(),
            ));
        }
        let store_url = store_url(opts, &file)?;
        let credentials = credential_plan(opts, &file, &store_url)?;
        let accounts = accounts(&credentials)?;
        let mut http = http_config(&file.limits, file.metrics.enabled);
        http.admin_token = admin_token(opts, &file)?;
        if opts.no_rate_limits {
            http.rate_limits = RateLimits::OFF;
        }
        let test_mode = matches!(credentials, CredentialPlan::Test | CredentialPlan::AnyKey);
        check_test_powers(opts, test_mode)?;
        let default_pool = match (test_mode, opts.ephemeral) {
            (true, _) => TEST_POOL_SIZE,
            (false, true) => EPHEMERAL_POOL_SIZE,
            (false, false) => DEFAULT_POOL_SIZE,
        };
        let all_cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let plan = Plan {
            listen: opts
                .listen
                .clone()
                .or(file.listen.clone())
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            store_url,
            ephemeral: opts.ephemeral,
            credentials,
            backend: opts
                .key_backend
                .or(file.keygen.backend)
                .unwrap_or_else(KeyBackend::default_for_build),
            pool_size: opts
                .pool_size
                .or(file.keygen.pool_size)
                .unwrap_or(default_pool),
            workers: file.keygen.workers.unwrap_or_else(|| match test_mode {
                true => all_cores,
                false => default_workers(),
            }),
            quota: file.limits.key_pairs_per_account,
            read_model: file.limits.read_model_key_pairs,
            http,
            server_limits: server_limits(&file.limits),
            test: opts.test.clone(),
            console: console(opts, &file, test_mode),
        };
        Ok((plan, accounts))
    }

    /// Binds the address; test-credentials mode refuses anything but loopback.
    async fn bind(&self) -> Result<tokio::net::TcpListener, StartError> {
        let addr = resolve(&self.listen).await?;
        if self.test_mode() && !addr.ip().is_loopback() {
            return Err(StartError::Options(format!(
                "--test-credentials accepts any SecretId, so it listens on loopback only; {} is not a loopback address (use 127.0.0.1 or [::1])",
                self.listen
            )));
        }
        keypair_http::bind(addr, self.server_limits.max_connections).map_err(|source| {
            StartError::Listen {
                listen: self.listen.clone(),
                hint: keypair_http::serve::bind_hint(&source),
                source,
            }
        })
    }

    /// Opens the store, then writes a generated credentials file. A database file this
    /// start created is removed again if writing the file fails.
    async fn open_store(&self) -> Result<OpenedStore, StartError> {
        let created = self.store_url.sqlite_path().filter(|p| !p.exists());
        let opened = async {
            let store = self
                .store_url
                .open_to_serve(self.read_model, "keypaird serve")
                .await?;
            if let CredentialPlan::CredentialsFile(list, CredentialsSource::Created { path, .. }) =
                &self.credentials
            {
                config::write_credentials_file(path, list)?;
            }
            Ok(store)
        }
        .await;
        if opened.is_err() {
            if let Some(path) = created {
                keypair_stores::remove_sqlite_files(&path);
            }
        }
        opened
    }

    /// The service over the store, with its key pool, projects and instances.
    fn service(
        &self,
        store: Arc<dyn KeyPairStore>,
        metrics: &Arc<Metrics>,
        pool: Arc<KeyPool>,
        accounts: &Accounts,
        test: &TestParts,
    ) -> keypair_core::KeyPairService {
        let projects = accounts
            .projects
            .iter()
            .cloned()
            .fold(StaticProjects::new(), |catalog, (account, ps)| {
                catalog.with(account, ps)
            });
        let mut service = KeyPairService::builder(Arc::new(keypair_core::MeteredStore::new(
            store,
            metrics.clone(),
        )))
        .key_pool(pool)
        .projects(Arc::new(projects))
        .instances(accounts.instances.clone())
        .clock(test.clock.clone());
        if let Some(seeded) = &test.seeded {
            service = service.ids(seeded.ids.clone());
        }
        if let Some(q) = self.quota {
            service = service.quota(q);
        }
        service.build()
    }

    /// The `listening on` line on stdout (exactly one), then in ephemeral mode one JSON
    /// line with the credential for scripts; a first start's new credential on stderr.
    fn announce(&self, addr: &std::net::SocketAddr) -> Result<(), StartError> {
        if let CredentialPlan::CredentialsFile(
            _,
            CredentialsSource::Created {
                path,
                account,
                secret_id,
            },
        ) = &self.credentials
        {
            announce_credentials(path, account, secret_id, &addr.to_string());
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}").map_err(StartError::Output)?;
        if self.ephemeral {
            writeln!(out, "{}", self.credential_line(addr)).map_err(StartError::Output)?;
        }
        out.flush().map_err(StartError::Output)
    }

    fn credential_line(&self, addr: &std::net::SocketAddr) -> serde_json::Value {
        let endpoint = addr.to_string();
        match &self.credentials {
            CredentialPlan::Test | CredentialPlan::AnyKey => serde_json::json!({
                "endpoint": endpoint, "test_credentials": true,
                "secret_id": TEST_SECRET_ID, "secret_key": TEST_SECRET_ID,
                "account": keypair_wire::auth::test_account(TEST_SECRET_ID).as_str(),
            }),
            CredentialPlan::Fixed(a) | CredentialPlan::Generated(a) => serde_json::json!({
                "endpoint": endpoint, "test_credentials": false,
                "secret_id": a.credentials[0].secret_id, "secret_key": a.credentials[0].secret_key,
                "account": a.id,
            }),
            CredentialPlan::File(..) | CredentialPlan::CredentialsFile(..) => serde_json::json!({
                "endpoint": endpoint, "test_credentials": false,
            }),
        }
    }
}

/// The store: memory when ephemeral, else the flag's, the file's or the default.
fn store_url(opts: &ServeOptions, file: &Config) -> Result<StoreUrl, StartError> {
    let text = match opts.ephemeral {
        true => "memory".to_owned(),
        false => opts
            .store
            .clone()
            .or(file.store.clone())
            .unwrap_or_else(|| DEFAULT_STORE.to_owned()),
    };
    Ok(text.parse()?)
}

/// The admin token of the flag or the file; an empty one is refused.
fn admin_token(opts: &ServeOptions, file: &Config) -> Result<Option<AdminToken>, StartError> {
    match opts.admin_token.clone().or(file.admin.token.clone()) {
        None => Ok(None),
        Some(t) => AdminToken::new(t).map(Some).ok_or_else(|| {
            StartError::Options("the admin token is empty; give a non-empty token or none".into())
        }),
    }
}

/// The test mode's powers (`--seed`, `--journal`, `--key-cache`) outside test mode: refused,
/// since seeded keys are predictable and a journal records every call.
fn check_test_powers(opts: &ServeOptions, test_mode: bool) -> Result<(), StartError> {
    let asked = [
        (opts.test.seed.is_some(), "--seed"),
        (opts.test.journal.is_some(), "--journal"),
        (opts.test.key_cache.is_some(), "--key-cache"),
    ];
    match asked.iter().find(|(given, _)| *given) {
        Some((_, flag)) if !test_mode => Err(StartError::Options(format!(
            "{flag} is a test-mode power (seeded keys are predictable, a journal records every call): add --test-credentials"
        ))),
        _ => Ok(()),
    }
}

/// The accounts a credential plan stands for, checked (nothing is written here: a
/// generated credentials file is written once the store has opened).
fn accounts(plan: &CredentialPlan) -> Result<Accounts, StartError> {
    let mut accounts = match plan {
        CredentialPlan::Test | CredentialPlan::AnyKey => {
            config::validate_accounts(Path::new("-"), &[])?
        }
        CredentialPlan::Fixed(a) | CredentialPlan::Generated(a) => {
            config::validate_accounts(Path::new("--secret-id"), std::slice::from_ref(a))?
        }
        CredentialPlan::File(list, path) => config::validate_accounts(path, list)?,
        CredentialPlan::CredentialsFile(list, source) => {
            let path = match source {
                CredentialsSource::Loaded(p) | CredentialsSource::Created { path: p, .. } => p,
            };
            config::validate_accounts(path, list)?
        }
    };
    match plan {
        CredentialPlan::Test => accounts.credentials = Credentials::test_mode(),
        CredentialPlan::AnyKey => accounts.credentials = Credentials::any_secret_key(),
        _ => {}
    }
    Ok(accounts)
}

/// Which credentials, by precedence: test mode, a fixed SecretId, the config file's
/// accounts, ephemeral's generated one, the credentials file beside the database.
fn credential_plan(
    opts: &ServeOptions,
    file: &Config,
    store_url: &StoreUrl,
) -> Result<CredentialPlan, StartError> {
    if opts.any_secret_key {
        return Ok(CredentialPlan::AnyKey);
    }
    if opts.test_credentials {
        return Ok(CredentialPlan::Test);
    }
    match (&opts.secret_id, &opts.secret_key) {
        (Some(id), Some(key)) => return Ok(CredentialPlan::Fixed(fixed_account(id, key, file))),
        (None, None) => {}
        _ => return Err(StartError::Options("give both --secret-id and --secret-key (or KEYPAIRD_SECRET_ID and KEYPAIRD_SECRET_KEY), or neither".into())),
    }
    if !file.accounts.is_empty() {
        let path = opts.config.clone().unwrap_or_default();
        return Ok(CredentialPlan::File(file.accounts.clone(), path));
    }
    if opts.ephemeral {
        return Ok(CredentialPlan::Generated(config::generate_account()));
    }
    let dir = store_url
        .sqlite_dir()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let (accounts, source) = config::load_or_generate_credentials(&dir)?;
    Ok(CredentialPlan::CredentialsFile(accounts, source))
}

/// The one account of `--secret-id`: its id derived from the SecretId as in
/// test-credentials mode, so switching modes keeps the same account.
fn fixed_account(secret_id: &str, secret_key: &str, file: &Config) -> AccountConfig {
    let id = keypair_wire::auth::test_account(secret_id)
        .as_str()
        .to_owned();
    let listed = file.accounts.iter().find(|a| a.id == id);
    AccountConfig {
        id,
        projects: listed.map(|a| a.projects.clone()).unwrap_or_default(),
        credentials: vec![CredentialConfig {
            secret_id: secret_id.to_owned(),
            secret_key: secret_key.to_owned(),
        }],
        instances: listed.map(|a| a.instances.clone()).unwrap_or_default(),
    }
}

/// The console's options when it is on: `--console`, else `[console] enabled`, else on
/// in ephemeral and test mode only; test mode offers its credential in the form.
fn console(opts: &ServeOptions, file: &Config, test_mode: bool) -> Option<ConsoleOptions> {
    let on = opts.console.or(file.console.enabled);
    on.unwrap_or(opts.ephemeral || test_mode)
        .then(|| ConsoleOptions {
            prefill_secret_id: test_mode.then(|| TEST_SECRET_ID.to_owned()),
        })
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
        admin_token: None,
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

/// The first address `listen` resolves to.
async fn resolve(listen: &str) -> Result<std::net::SocketAddr, StartError> {
    keypair_http::serve::resolve(listen)
        .await
        .map_err(|source| StartError::Listen {
            listen: listen.to_owned(),
            source,
            hint: "",
        })
}

/// Registers SIGINT and SIGTERM handlers now and returns a future that resolves on
/// either. Registering before the listening line is printed means a signal sent as soon
/// as the server says it is ready still stops it cleanly.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, StartError> {
    use tokio::signal::unix::SignalKind;
    let handle = |signal: &'static str, kind| {
        tokio::signal::unix::signal(kind).map_err(|source| StartError::Signal { signal, source })
    };
    let mut term = handle("SIGTERM", SignalKind::terminate())?;
    let mut int = handle("SIGINT", SignalKind::interrupt())?;
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

  # tccli and the Python SDK, in a virtualenv (the README's):
  #   python3 -m venv .venv && . .venv/bin/activate && pip install tccli
  tccli cvm DescribeKeyPairs --endpoint http://{endpoint}
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
