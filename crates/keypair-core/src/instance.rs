//! Instances as a port: the [`InstanceDirectory`] says whether an instance exists for an
//! (account, product), its state and its OS family, and may stop it (`ForceStop`).
//! Association and disassociation consult it in the real service's order through one
//! pure function, [`binding_decision`], so the rule is written once and tested as a table.
//!
//! Implementations here: [`AnyInstance`] (every well-formed id exists, is stopped and runs
//! Linux: the service's default, so embedders without an inventory keep working) and
//! [`StaticInstances`] (from data, with state changes kept in memory). An embedder plugs
//! in its own inventory by implementing the trait.

use crate::{Error, InstanceId, Product, Result, Scope};
use async_trait::async_trait;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::RwLock;

/// An instance's lifecycle state, as the CVM and Lighthouse `InstanceState` fields name
/// them, with every state the key-pair actions' error lists name a code for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstanceState {
    /// Being created.
    Pending,
    /// Creation failed.
    LaunchFailed,
    /// Running.
    Running,
    /// Stopped.
    Stopped,
    /// Starting.
    Starting,
    /// Stopping.
    Stopping,
    /// Rebooting.
    Rebooting,
    /// Shut down (CVM: isolated; to be released).
    Shutdown,
    /// Being destroyed.
    Terminating,
    /// Being isolated (moved to the recycle bin).
    Isolating,
    /// Frozen (for example, an account in arrears).
    Freezing,
    /// Blocked by the platform.
    Banning,
    /// Entering rescue mode.
    EnterRescueMode,
    /// In rescue mode.
    RescueMode,
    /// Leaving rescue mode.
    ExitRescueMode,
    /// Entering a live migration by the platform.
    EnterServiceLiveMigrate,
    /// Being live-migrated by the platform.
    ServiceLiveMigrate,
    /// Leaving a live migration.
    ExitServiceLiveMigrate,
}

impl InstanceState {
    /// Every state, in declaration order.
    pub const ALL: [InstanceState; 18] = [
        InstanceState::Pending,
        InstanceState::LaunchFailed,
        InstanceState::Running,
        InstanceState::Stopped,
        InstanceState::Starting,
        InstanceState::Stopping,
        InstanceState::Rebooting,
        InstanceState::Shutdown,
        InstanceState::Terminating,
        InstanceState::Isolating,
        InstanceState::Freezing,
        InstanceState::Banning,
        InstanceState::EnterRescueMode,
        InstanceState::RescueMode,
        InstanceState::ExitRescueMode,
        InstanceState::EnterServiceLiveMigrate,
        InstanceState::ServiceLiveMigrate,
        InstanceState::ExitServiceLiveMigrate,
    ];

    /// The wire name, `RUNNING`.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Pending => "PENDING",
            InstanceState::LaunchFailed => "LAUNCH_FAILED",
            InstanceState::Running => "RUNNING",
            InstanceState::Stopped => "STOPPED",
            InstanceState::Starting => "STARTING",
            InstanceState::Stopping => "STOPPING",
            InstanceState::Rebooting => "REBOOTING",
            InstanceState::Shutdown => "SHUTDOWN",
            InstanceState::Terminating => "TERMINATING",
            InstanceState::Isolating => "ISOLATING",
            InstanceState::Freezing => "FREEZING",
            InstanceState::Banning => "BANNING",
            InstanceState::EnterRescueMode => "ENTER_RESCUE_MODE",
            InstanceState::RescueMode => "RESCUE_MODE",
            InstanceState::ExitRescueMode => "EXIT_RESCUE_MODE",
            InstanceState::EnterServiceLiveMigrate => "ENTER_SERVICE_LIVE_MIGRATE",
            InstanceState::ServiceLiveMigrate => "SERVICE_LIVE_MIGRATE",
            InstanceState::ExitServiceLiveMigrate => "EXIT_SERVICE_LIVE_MIGRATE",
        }
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InstanceState {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        InstanceState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = InstanceState::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown instance state {s:?}; use one of {}",
                    names.join(", ")
                )
            })
    }
}

/// The OS family of an instance: key pairs bind to Linux instances only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OsFamily {
    /// Linux or another Unix (`LINUX_UNIX` on Lighthouse).
    Linux,
    /// Windows.
    Windows,
}

impl FromStr for OsFamily {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "linux" | "linux_unix" | "unix" => Ok(OsFamily::Linux),
            "windows" => Ok(OsFamily::Windows),
            _ => Err(format!("unknown OS family {s:?}; use linux or windows")),
        }
    }
}

/// Another operation under way on an instance, which refuses a binding change until it
/// ends. The three conditions the key-pair actions' error lists name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Busy {
    /// A task of the same kind is already running on the instance (CVM
    /// `MutexOperation.TaskRunning`: another key binding, say).
    TaskRunning,
    /// The instance is in the middle of another operation
    /// (`OperationDenied.InstanceOperationInProgress`).
    OperationInProgress,
    /// The instance's latest operation has not finished (Lighthouse
    /// `UnsupportedOperation.LatestOperationUnfinished`).
    LatestOperationUnfinished,
}

impl Busy {
    /// Every condition.
    pub const ALL: [Busy; 3] = [
        Busy::TaskRunning,
        Busy::OperationInProgress,
        Busy::LatestOperationUnfinished,
    ];

    /// The configuration name, `task_running`.
    pub fn as_str(self) -> &'static str {
        match self {
            Busy::TaskRunning => "task_running",
            Busy::OperationInProgress => "operation_in_progress",
            Busy::LatestOperationUnfinished => "latest_operation_unfinished",
        }
    }
}

impl fmt::Display for Busy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Busy {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Busy::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Busy::ALL.iter().map(|b| b.as_str()).collect();
                format!(
                    "unknown busy condition {s:?}; use one of {}",
                    names.join(", ")
                )
            })
    }
}

/// What the directory knows of one instance. Build it with [`Instance::new`] and the
/// `with_…` methods, so a field added later does not break callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Instance {
    /// Its state now.
    pub state: InstanceState,
    /// Its OS family.
    pub os: OsFamily,
    /// Another operation under way, if any.
    pub busy: Option<Busy>,
    /// CVM: stopped in no-charge mode (`StopChargingMode` `STOP_CHARGING`: its CPU and
    /// memory released while stopped). Meaningful only for a `STOPPED` instance.
    pub stop_charging: bool,
}

impl Instance {
    /// An idle instance in `state` running `os`, charged as usual when stopped.
    pub fn new(state: InstanceState, os: OsFamily) -> Self {
        Instance {
            state,
            os,
            busy: None,
            stop_charging: false,
        }
    }

    /// The same instance with another operation under way.
    pub fn with_busy(self, busy: Busy) -> Self {
        Instance {
            busy: Some(busy),
            ..self
        }
    }

    /// The same instance stopped in no-charge mode.
    pub fn with_stop_charging(self) -> Self {
        Instance {
            stop_charging: true,
            ..self
        }
    }
}

/// Port: the instances key pairs bind to.
///
/// Contract:
/// - `lookup` answers for one (account, product) scope; an instance of another scope is
///   missing (`Ok(None)`), exactly like one that does not exist;
/// - `force_stop` moves a `RUNNING` instance of the scope to `STOPPED` (or does nothing
///   for one already stopped), so the next `lookup` sees the new state;
/// - an `Err` is a failure of the directory itself (unreachable inventory), reported to
///   the caller as an internal error, never as "not found".
#[async_trait]
pub trait InstanceDirectory: Send + Sync {
    /// The instance, if it exists in the scope.
    async fn lookup(&self, scope: &Scope, id: &InstanceId) -> Result<Option<Instance>>;

    /// Stops a running instance (CVM `ForceStop`, Lighthouse `OFFLINE`).
    async fn force_stop(&self, scope: &Scope, id: &InstanceId) -> Result<()>;
}

/// Every well-formed instance id exists, is `STOPPED` and runs Linux: association behaves
/// as it did before instances were modelled. The service's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct AnyInstance;

#[async_trait]
impl InstanceDirectory for AnyInstance {
    async fn lookup(&self, _scope: &Scope, _id: &InstanceId) -> Result<Option<Instance>> {
        Ok(Some(Instance::new(InstanceState::Stopped, OsFamily::Linux)))
    }

    async fn force_stop(&self, _scope: &Scope, _id: &InstanceId) -> Result<()> {
        Ok(())
    }
}

/// Instances from data, per scope. A scope with no instances listed falls back to
/// [`AnyInstance`] when built with [`StaticInstances::with_fallback`]; otherwise an
/// unlisted id is missing. State changes (`force_stop`) are kept in memory.
#[derive(Debug, Default)]
pub struct StaticInstances {
    instances: RwLock<HashMap<(Scope, InstanceId), Instance>>,
    /// Scopes that listed at least one instance.
    listed: RwLock<std::collections::HashSet<Scope>>,
    fallback: bool,
}

impl StaticInstances {
    /// An empty directory: every instance is missing.
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory in which scopes that list no instance behave as [`AnyInstance`]
    /// (keypaird's rule: an account that configures no instances keeps today's behaviour).
    pub fn with_fallback() -> Self {
        StaticInstances {
            fallback: true,
            ..Self::default()
        }
    }

    /// Adds (or replaces) an instance of `scope`.
    pub fn insert(&self, scope: Scope, id: InstanceId, instance: Instance) {
        write(&self.listed).insert(scope.clone());
        write(&self.instances).insert((scope, id), instance);
    }

    /// Adds an instance; for building a directory in one expression.
    pub fn with(self, scope: Scope, id: InstanceId, instance: Instance) -> Self {
        self.insert(scope, id, instance);
        self
    }
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl InstanceDirectory for StaticInstances {
    async fn lookup(&self, scope: &Scope, id: &InstanceId) -> Result<Option<Instance>> {
        let key = (scope.clone(), id.clone());
        if let Some(found) = read(&self.instances).get(&key) {
            return Ok(Some(*found));
        }
        if self.fallback && !read(&self.listed).contains(scope) {
            return AnyInstance.lookup(scope, id).await;
        }
        Ok(None)
    }

    async fn force_stop(&self, scope: &Scope, id: &InstanceId) -> Result<()> {
        let key = (scope.clone(), id.clone());
        if let Some(found) = write(&self.instances).get_mut(&key) {
            if found.state == InstanceState::Running {
                found.state = InstanceState::Stopped;
            }
        }
        Ok(())
    }
}

/// Associate or disassociate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingOp {
    /// AssociateInstancesKeyPairs.
    Associate,
    /// DisassociateInstancesKeyPairs.
    Disassociate,
}

/// What the caller asked to happen to a running instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunningInstance {
    /// Refuse it (CVM without `ForceStop`).
    Refuse,
    /// Stop it first (CVM `ForceStop`, Lighthouse `OFFLINE` or no type).
    Stop,
    /// Bind while it runs (Lighthouse `ONLINE`).
    Online,
}

/// The verdict for one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Bind or unbind as it is.
    Proceed,
    /// Stop it through the directory, then bind or unbind.
    StopFirst,
}

/// The real service's order for one instance: exists → OS family → busy → state →
/// stopped mode. CVM binds and unbinds `STOPPED` Linux instances, and `RUNNING` ones
/// only with `ForceStop`; every other state has its own
/// `UnsupportedOperation.InstanceState…` code, and a `STOPPED` instance in no-charge
/// mode is refused. Lighthouse binds `RUNNING` and `STOPPED` Linux instances (stopping a
/// running one unless `ONLINE`); `PENDING` is "still being created", other states are an
/// invalid state. A busy instance is refused on both, before its state is considered
/// (its state is the one the other operation is moving it through). Windows instances
/// are refused on both products (Lighthouse unbind: see docs/api.md).
pub fn binding_decision(
    product: Product,
    op: BindingOp,
    id: &InstanceId,
    instance: Option<Instance>,
    running: RunningInstance,
) -> Result<Admission> {
    let Some(instance) = instance else {
        return Err(Error::InstanceNotFound(id.clone()));
    };
    let windows_checked = product == Product::Cvm || op == BindingOp::Associate;
    if windows_checked && instance.os == OsFamily::Windows {
        return Err(Error::InstanceWindows(id.clone()));
    }
    if let Some(busy) = instance.busy {
        return Err(Error::InstanceBusy {
            instance: id.clone(),
            busy,
        });
    }
    match (instance.state, running) {
        (InstanceState::Stopped, _) if instance.stop_charging => {
            Err(Error::InstanceStopCharging(id.clone()))
        }
        (InstanceState::Stopped, _) => Ok(Admission::Proceed),
        (InstanceState::Running, RunningInstance::Stop) => Ok(Admission::StopFirst),
        (InstanceState::Running, RunningInstance::Online) => Ok(Admission::Proceed),
        (state, _) => Err(Error::InstanceState {
            instance: id.clone(),
            state,
        }),
    }
}
