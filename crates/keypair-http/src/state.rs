//! What every request of one server shares: the service, the wire with its credentials
//! and admission ports, the settings, the metrics, the request slots and the body budget.

use crate::metrics::Metrics;
use crate::token::AdminToken;
use crate::transport::{BodyBudget, BodyLimits};
use keypair_core::{KeyPairService, NonceLedger, RateCounter};
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
}

impl AppState {
    /// The state for a service and its credentials, with nonces and rates kept in this
    /// process (`keypair-memory`'s adapters). Signature windows and rate limits read the
    /// service's clock, so pinning that one clock pins them all.
    pub fn new(service: KeyPairService, credentials: Credentials, config: HttpConfig) -> Self {
        let (nonces, rates) = keypair_memory::in_process_admission();
        let wire = Wire::new(credentials, config.rate_limits, nonces, rates);
        AppState {
            service,
            wire,
            in_flight: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
            bodies: BodyBudget::new(config.body.budget_bytes),
            config,
            metrics: Arc::new(Metrics::new()),
        }
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
