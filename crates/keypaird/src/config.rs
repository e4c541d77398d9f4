//! The configuration file (TOML), the generated credentials file, and their validation.
//! Unknown keys, repeated SecretIds and invalid values stop the start with a message that
//! names the file, the key and the problem.

use keypair_core::{
    AccountId, Instance, InstanceId, InstanceState, OsFamily, Product, ProjectId, Scope,
    StaticInstances,
};
use keypair_http::{Credential, Credentials};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The credentials file written on first start when no account is configured.
pub const CREDENTIALS_FILE: &str = "keypaird-credentials.toml";

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

/// Which RSA implementation generates keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum KeyBackend {
    /// The pure-Rust `rsa` crate.
    Rsa,
    /// AWS-LC through `aws-lc-rs` (the default when built with the `aws-lc` feature).
    AwsLc,
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
    /// Most API requests in flight at once (default 1024); more get `RequestLimitExceeded`.
    pub max_in_flight_requests: Option<usize>,
    /// Seconds a client has to send a request's headers, and an idle keep-alive
    /// connection to start its next request (default 10).
    pub header_read_timeout_secs: Option<u64>,
}

/// `[[accounts]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The account id (Tencent UIN style).
    pub id: String,
    /// CVM projects besides 0, which always exists.
    #[serde(default)]
    pub projects: Vec<i64>,
    /// The account's API credentials.
    pub credentials: Vec<CredentialConfig>,
    /// The account's instances. None listed: every well-formed instance id exists, is
    /// STOPPED and runs Linux. Once any is listed, unlisted ids do not exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<InstanceConfig>,
}

/// One `[[accounts.instances]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// `ins-…` (CVM) or `lhins-…` (Lighthouse).
    pub id: String,
    /// `cvm` or `lighthouse`; by default the product the id's prefix names.
    pub product: Option<String>,
    /// `RUNNING`, `STOPPED`, `PENDING`, … (default `STOPPED`).
    pub state: Option<String>,
    /// `linux` or `windows` (default `linux`).
    pub os: Option<String>,
}

/// One `{ secret_id, secret_key }`.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialConfig {
    /// The SecretId.
    pub secret_id: String,
    /// The SecretKey.
    pub secret_key: String,
}

impl std::fmt::Debug for CredentialConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialConfig")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// A configuration problem, always naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The key and what is wrong with it.
    pub problem: String,
}

fn problem(file: &Path, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        file: file.display().to_string(),
        problem: problem.into(),
    }
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

/// The accounts as the service needs them: credentials and each account's projects.
pub struct Accounts {
    /// Every credential.
    pub credentials: Credentials,
    /// (account, projects) pairs.
    pub projects: Vec<(AccountId, Vec<ProjectId>)>,
    /// The configured instances; accounts that list none fall back to any instance.
    pub instances: std::sync::Arc<StaticInstances>,
}

/// One credential: a SecretId without separators, used once, and a SecretKey of 16 or
/// more characters.
fn validate_credential(
    file: &Path,
    key: &str,
    c: &CredentialConfig,
    account: &AccountId,
    seen_ids: &mut HashSet<String>,
) -> Result<Credential, ConfigError> {
    if let Err(e) = keypair_http::auth::check_secret_id(&c.secret_id) {
        return Err(problem(file, format!("{key}.secret_id: {e}")));
    }
    if c.secret_key.len() < 16 {
        return Err(problem(
            file,
            format!("{key}.secret_key: must have at least 16 characters"),
        ));
    }
    if !seen_ids.insert(c.secret_id.clone()) {
        return Err(problem(
            file,
            format!(
                "{key}.secret_id: SecretId {} is configured more than once",
                c.secret_id
            ),
        ));
    }
    Ok(Credential::new(
        c.secret_id.clone(),
        c.secret_key.clone(),
        account.clone(),
    ))
}

/// One instance: an id of its product's form, a known state and OS family.
fn validate_instance(
    file: &Path,
    key: &str,
    inst: &InstanceConfig,
    account: &AccountId,
) -> Result<(Scope, InstanceId, Instance), ConfigError> {
    let at = |field: &str, e: &dyn std::fmt::Display| problem(file, format!("{key}.{field}: {e}"));
    let product = match &inst.product {
        Some(p) => p.parse::<Product>().map_err(|e| at("product", &e))?,
        None => Product::ALL
            .into_iter()
            .find(|p| inst.id.starts_with(p.spec().instance_id_prefix))
            .ok_or_else(|| {
                at(
                    "id",
                    &"give `product`, or an id starting with ins- or lhins-",
                )
            })?,
    };
    let id = InstanceId::parse(product, &inst.id).map_err(|e| at("id", &e))?;
    let state = inst
        .state
        .as_deref()
        .map_or(Ok(InstanceState::Stopped), str::parse)
        .map_err(|e| at("state", &e))?;
    let os = inst
        .os
        .as_deref()
        .map_or(Ok(OsFamily::Linux), str::parse)
        .map_err(|e| at("os", &e))?;
    Ok((
        Scope::new(account.clone(), product),
        id,
        Instance { state, os },
    ))
}

/// Checks ids, projects, credentials and instances, naming the offending key.
pub fn validate_accounts(file: &Path, accounts: &[AccountConfig]) -> Result<Accounts, ConfigError> {
    let mut list = Vec::new();
    let mut projects = Vec::new();
    let mut seen_ids = HashSet::new();
    let mut seen_accounts = HashSet::new();
    let instances = StaticInstances::with_fallback();
    for (i, a) in accounts.iter().enumerate() {
        let key = format!("accounts[{i}]");
        let account =
            AccountId::parse(&a.id).map_err(|e| problem(file, format!("{key}.id: {e}")))?;
        if !seen_accounts.insert(a.id.clone()) {
            return Err(problem(
                file,
                format!("{key}.id: account {} is configured more than once", a.id),
            ));
        }
        let ps = a
            .projects
            .iter()
            .enumerate()
            .map(|(j, p)| {
                ProjectId::parse(*p).map_err(|e| problem(file, format!("{key}.projects[{j}]: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if a.credentials.is_empty() {
            return Err(problem(
                file,
                format!("{key}.credentials: an account needs at least one credential"),
            ));
        }
        for (j, c) in a.credentials.iter().enumerate() {
            let ckey = format!("{key}.credentials[{j}]");
            let credential = validate_credential(file, &ckey, c, &account, &mut seen_ids)?;
            list.push(credential);
        }
        for (j, inst) in a.instances.iter().enumerate() {
            let (scope, id, instance) =
                validate_instance(file, &format!("{key}.instances[{j}]"), inst, &account)?;
            instances.insert(scope, id, instance);
        }
        projects.push((account, ps));
    }
    let credentials = Credentials::new(list).map_err(|e| problem(file, e))?;
    let instances = std::sync::Arc::new(instances);
    Ok(Accounts {
        credentials,
        projects,
        instances,
    })
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    accounts: Vec<AccountConfig>,
}

/// Where the accounts came from when the config names none.
pub enum CredentialsSource {
    /// Read an existing credentials file.
    Loaded(PathBuf),
    /// Generated a new account in memory; [`write_credentials_file`] writes it once the
    /// start has succeeded, and the caller tells the user.
    Created {
        /// Where the file goes.
        path: PathBuf,
        /// The account.
        account: String,
        /// The new SecretId.
        secret_id: String,
    },
}

/// Random letters and digits, without modulo bias.
fn random_string(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| loop {
            let b = (OsRng.next_u32() & 0xff) as u8;
            if usize::from(b) < 248 {
                break char::from(ALPHABET[usize::from(b) % ALPHABET.len()]);
            }
        })
        .collect()
}

/// A new account with one random credential, in memory.
pub fn generate_account() -> AccountConfig {
    let account = format!(
        "{}",
        1_000_000_000 + u64::from(OsRng.next_u32()) % 1_000_000_000
    );
    AccountConfig {
        id: account,
        projects: vec![],
        credentials: vec![CredentialConfig {
            secret_id: format!("AKID{}", random_string(32)),
            secret_key: random_string(32),
        }],
        instances: vec![],
    }
}

/// Reads `dir/keypaird-credentials.toml`, or generates (without writing anything) the
/// account a first start will write there with [`write_credentials_file`].
pub fn load_or_generate_credentials(
    dir: &Path,
) -> Result<(Vec<AccountConfig>, CredentialsSource), ConfigError> {
    let path = dir.join(CREDENTIALS_FILE);
    if path.exists() {
        let mode = fs::metadata(&path)
            .map_err(|e| problem(&path, e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(file = %path.display(), mode = format!("{:o}", mode & 0o777), "the credentials file is readable by others; run chmod 600 on it");
        }
        let text = fs::read_to_string(&path)
            .map_err(|e| problem(&path, format!("cannot be read: {e}")))?;
        let file: CredentialsFile = toml::from_str(&text)
            .map_err(|e| problem(&path, e.to_string().trim_end().to_owned()))?;
        return Ok((file.accounts, CredentialsSource::Loaded(path)));
    }
    let account = generate_account();
    let source = CredentialsSource::Created {
        path,
        account: account.id.clone(),
        secret_id: account.credentials[0].secret_id.clone(),
    };
    Ok((vec![account], source))
}

/// Writes generated accounts to `path`, mode 0600, refusing to replace a file.
pub fn write_credentials_file(path: &Path, accounts: &[AccountConfig]) -> Result<(), ConfigError> {
    let body = toml::to_string(&CredentialsFile {
        accounts: accounts.to_vec(),
    })
    .map_err(|e| problem(path, e.to_string()))?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| problem(path, format!("cannot be created: {e}")))?;
    file.write_all(format!("# Generated by keypaird on first start. Keep it secret: it holds the SecretKey.\n{body}").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| problem(path, format!("cannot be written: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keypair_core::InstanceDirectory;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keypaird.toml");
        fs::write(&path, text).unwrap();
        Config::load(&path)
    }

    #[test]
    fn the_documented_example_loads() {
        let c = parse(
            r#"
listen = "127.0.0.1:8080"
store = "sqlite:keypaird.db"
[limits]
key_pairs_per_account = 5000      # per account and product
cvm_requests_per_second = 10
lighthouse_requests_per_second = 20
[[accounts]]
id = "1250000001"
projects = [0, 1001]             # 0 always exists
credentials = [{ secret_id = "AKIDexample", secret_key = "0123456789abcdef0123" }]
"#,
        )
        .unwrap();
        assert_eq!(c.limits.key_pairs_per_account, Some(5000));
        assert_eq!(c.accounts[0].projects, vec![0, 1001]);
    }

    #[test]
    fn instances_load_per_account_and_errors_name_their_key() {
        let text = r#"
[[accounts]]
id = "1250000001"
credentials = [{ secret_id = "AKIDinst", secret_key = "0123456789abcdef0123" }]
instances = [
  { id = "ins-running1", state = "RUNNING" },
  { id = "lhins-win00001", os = "windows" },
]
"#;
        let c = parse(text).unwrap();
        let accounts = validate_accounts(Path::new("k.toml"), &c.accounts).unwrap();
        let account = AccountId::parse("1250000001").unwrap();
        let lookup = |product, id: &str| {
            let scope = Scope::new(account.clone(), product);
            let id = InstanceId::parse(product, id).unwrap();
            // A test driving a future the static directory answers at once.
            futures::executor::block_on(accounts.instances.lookup(&scope, &id)).unwrap()
        };
        let running = lookup(Product::Cvm, "ins-running1").unwrap();
        assert_eq!(
            (running.state, running.os),
            (InstanceState::Running, OsFamily::Linux)
        );
        let windows = lookup(Product::Lighthouse, "lhins-win00001").unwrap();
        assert_eq!(
            (windows.state, windows.os),
            (InstanceState::Stopped, OsFamily::Windows)
        );
        assert_eq!(
            lookup(Product::Cvm, "ins-unlisted"),
            None,
            "listed: others are missing"
        );
        let bad = |inst: &str| {
            let t = format!("[[accounts]]\nid = \"1\"\ncredentials = [{{ secret_id = \"A\", secret_key = \"0123456789abcdef\" }}]\ninstances = [{inst}]\n");
            parse(&t).unwrap_err().to_string()
        };
        let e = bad(r#"{ id = "ins-00000001", state = "BOOTING" }"#);
        assert!(
            e.contains("accounts[0].instances[0].state") && e.contains("BOOTING"),
            "{e}"
        );
        let e = bad(r#"{ id = "vm-00000001" }"#);
        assert!(e.contains("accounts[0].instances[0].id"), "{e}");
        let e = bad(r#"{ id = "ins-00000001", os = "plan9" }"#);
        assert!(e.contains("instances[0].os"), "{e}");
        let e = bad(r#"{ id = "ins-00000001", product = "lighthouse" }"#);
        assert!(e.contains("instances[0].id"), "{e}");
    }

    #[test]
    fn errors_name_the_file_the_key_and_the_problem() {
        let e = parse("listen = \"x\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("keypaird.toml") && e.contains("bogus"), "{e}");
        let e = parse("[limits]\nkey_pairs_per_account = -1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("key_pairs_per_account"), "{e}");
        let dup = r#"
[[accounts]]
id = "1"
credentials = [{ secret_id = "AKID1", secret_key = "0123456789abcdef" }]
[[accounts]]
id = "2"
credentials = [{ secret_id = "AKID1", secret_key = "0123456789abcdef" }]
"#;
        let e = parse(dup).unwrap_err().to_string();
        assert!(
            e.contains("accounts[1].credentials[0].secret_id") && e.contains("more than once"),
            "{e}"
        );
        let e = parse("[[accounts]]\nid = \"a b\"\ncredentials = []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("accounts[0].id"), "{e}");
        let short = "[[accounts]]\nid = \"1\"\ncredentials = [{ secret_id = \"A\", secret_key = \"short\" }]\n";
        let e = parse(short).unwrap_err().to_string();
        assert!(e.contains("secret_key") && !e.contains("short\""), "{e}");
    }

    #[test]
    fn generated_credentials_are_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, src) = load_or_generate_credentials(dir.path()).unwrap();
        let CredentialsSource::Created {
            path, secret_id, ..
        } = src
        else {
            panic!("expected a new file")
        };
        assert!(
            !path.exists(),
            "nothing is written before the start succeeds"
        );
        write_credentials_file(&path, &first).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(first[0].credentials[0].secret_id, secret_id);
        let (again, src) = load_or_generate_credentials(dir.path()).unwrap();
        assert!(matches!(src, CredentialsSource::Loaded(_)));
        assert_eq!(
            again[0].credentials[0].secret_key,
            first[0].credentials[0].secret_key
        );
        assert!(validate_accounts(&path, &again).is_ok());
    }
}
