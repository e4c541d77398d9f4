//! The accounts of a configuration, checked: ids, projects, credentials and instances, as
//! the service needs them. Every problem names the file and the offending key.

use crate::error::{problem, ConfigError};
use keypair_core::{
    AccountId, Busy, Instance, InstanceId, InstanceState, OsFamily, Product, ProjectId, Scope,
    StaticInstances,
};
use keypair_wire::{Credential, Credentials};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

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
    /// Another operation under way, which refuses binding changes: `task_running`,
    /// `operation_in_progress` or `latest_operation_unfinished` (default: none).
    pub busy: Option<String>,
    /// CVM, `STOPPED` only: stopped in no-charge mode (default `false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_charging: bool,
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
    if let Err(e) = keypair_wire::auth::check_secret_id(&c.secret_id) {
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
    let mut instance = Instance::new(state, os);
    if let Some(busy) = &inst.busy {
        instance = instance.with_busy(busy.parse::<Busy>().map_err(|e| at("busy", &e))?);
    }
    if inst.stop_charging {
        if product != Product::Cvm || state != InstanceState::Stopped {
            let why = "no-charge mode is a stopped CVM instance's; give it only with \
                       state = \"STOPPED\" on an ins- instance";
            return Err(at("stop_charging", &why));
        }
        instance = instance.with_stop_charging();
    }
    Ok((Scope::new(account.clone(), product), id, instance))
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
