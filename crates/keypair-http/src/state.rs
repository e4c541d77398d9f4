//! What every request of one server shares: the service, the wire with its credentials
//! and admission ports, the settings, the metrics, the request slots and the body budget.

use crate::hook::CallHook;
use crate::metrics::Metrics;
use crate::request_id::{RandomRequestIds, RequestIds};
use crate::token::AdminToken;
use crate::transport::{BodyBudget, BodyLimits};
use keypair_core::{Clock, KeyPairService, NonceLedger, RateCounter};
use keypair_wire::{Credentials, RateLimits, Wire};
use std::sync::Arc;

/// Wire settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Request body size, time and memory limits ([`crate::transport`]).
    pub body: BodyLimits,
    /// Request rates.
    pub rate_limits: RateLimits,
    /// Whether `GET /metrics` is served.
    pub metrics: bool,
    /// Most API requests in flight at once; more are refused with `RequestLimitExceeded`.
    pub max_in_flight: usize,
    /// The admin API's token; `None` (the default) leaves the admin API off
    /// ([`crate::admin`]).
    pub admin_token: Option<AdminToken>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body: BodyLimits::default(),
            rate_limits: RateLimits::default(),
            metrics: true,
            max_in_flight: 1024,
            admin_token: None,
        }
    }
}

/// Everything a request needs.
pub struct AppState {
    pub(crate) service: KeyPairService,
    pub(crate) wire: Wire,
    pub(crate) config: HttpConfig,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) in_flight: tokio::sync::Semaphore,
    pub(crate) bodies: BodyBudget,
    /// The time signatures and rate windows are checked against.
    pub(crate) wire_clock: Arc<dyn Clock>,
    pub(crate) request_ids: Arc<dyn RequestIds>,
    pub(crate) hook: Option<Arc<dyn CallHook>>,
}

impl AppState {
    /// The state for a service and its credentials, with nonces and rates kept in this
    /// process (`keypair-memory`'s adapters) and random RequestIds. Signature windows and
    /// rate limits read the service's clock, so pinning that one clock pins them all,
    /// unless [`AppState::with_wire_clock`] gives them their own.
    pub fn new(service: KeyPairService, credentials: Credentials, config: HttpConfig) -> Self {
        let (nonces, rates) = keypair_memory::in_process_admission();
        let wire = Wire::new(credentials, config.rate_limits, nonces, rates);
        AppState {
            wire_clock: service.clock().clone(),
            service,
            wire,
            in_flight: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
            bodies: BodyBudget::new(config.body.budget_bytes),
            config,
            metrics: Arc::new(Metrics::new()),
            request_ids: Arc::new(RandomRequestIds),
            hook: None,
        }
    }

    /// Checks signatures and rate windows against `clock` instead of the service's (a
    /// test suite that sets the service's clock keeps real time for signatures).
    pub fn with_wire_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.wire_clock = clock;
        self
    }

    /// Takes RequestIds from `ids`.
    pub fn with_request_ids(mut self, ids: Arc<dyn RequestIds>) -> Self {
        self.request_ids = ids;
        self
    }

    /// Runs `hook` around every authenticated call ([`crate::hook`]).
    pub fn with_hook(mut self, hook: Arc<dyn CallHook>) -> Self {
        self.wire = self.wire.keeping_params(hook.wants_params());
        self.hook = Some(hook);
        self
    }

    /// Keeps legacy nonces and counts request rates in `nonces` and `rates` instead of
    /// this process's memory: for several servers sharing one database, so a nonce is
    /// single-use and a rate holds across all of them.
    pub fn with_admission(
        mut self,
        nonces: Arc<dyn NonceLedger>,
        rates: Arc<dyn RateCounter>,
    ) -> Self {
        self.wire = self.wire.with_admission(nonces, rates);
        self
    }

    /// Records into `metrics` (share it with a `keypair_core::MeteredStore` and the key
    /// pool probe).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }
}
