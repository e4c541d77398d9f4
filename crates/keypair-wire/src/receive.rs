//! The protocol's entry: a request's method, query, headers and body in ([`Incoming`]);
//! out, an authenticated request, decoded for one action of one product, with the
//! caller's scope ([`Authenticated`]), or the error that answers it. The steps, in the
//! order their errors are reported: common parameters and the signature
//! ([`crate::request`], [`crate::auth`]), product and action ([`crate::route`]), the
//! rate limit ([`crate::rates`]), a legacy request's nonce ([`crate::auth::nonce`]),
//! then the action's parameters ([`crate::actions::decode`]).
//!
//! No socket and no runtime: the host reads the bytes, gives the time, and owns the
//! admission ports this calls; it runs the request ([`crate::execute`]) and writes the
//! answer ([`crate::response`]).

use crate::actions::{self, WireRequest};
use crate::auth::{consume_nonce, Credentials};
use crate::error::{clip, ApiError};
use crate::facts::Facts;
use crate::request::{self, RequestParts, Signed};
use crate::spec::RateLimits;
use crate::{rates, route};
use http::{HeaderMap, Method};
use keypair_core::{Action, NonceLedger, RateCounter, Scope, Timestamp};
use std::sync::Arc;

/// What the host read of a request.
#[derive(Clone, Copy, Debug)]
pub struct Incoming<'a> {
    /// `GET` or `POST` (others are refused by [`check_method`]).
    pub method: &'a Method,
    /// The raw query string, without `?` (empty when there is none).
    pub query: &'a str,
    /// Every header as received.
    pub headers: &'a HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

/// A request the wire admitted: who may do what.
#[derive(Debug)]
pub struct Authenticated {
    /// The caller's account and the product addressed.
    pub scope: Scope,
    /// The action.
    pub action: Action,
    /// The action's parameters, decoded and type-checked.
    pub request: WireRequest,
    /// The SecretId that signed the request.
    pub secret_id: String,
    /// The action's parameters as sent (the common ones, the signature among them, left
    /// out), when the wire keeps them ([`Wire::keeping_params`]).
    pub params: Option<crate::params::Params>,
}

/// The protocol with its settings and the ports it consults: the credentials, the rate
/// each action is admitted at, and where nonces and rates are kept (one process's, or a
/// fleet's shared ones).
pub struct Wire {
    credentials: Credentials,
    rate_limits: RateLimits,
    nonces: Arc<dyn NonceLedger>,
    rates: Arc<dyn RateCounter>,
    keep_params: bool,
}

impl Wire {
    /// The protocol over these credentials and ports.
    pub fn new(
        credentials: Credentials,
        rate_limits: RateLimits,
        nonces: Arc<dyn NonceLedger>,
        rates: Arc<dyn RateCounter>,
    ) -> Self {
        Wire {
            credentials,
            rate_limits,
            nonces,
            rates,
            keep_params: false,
        }
    }

    /// The same protocol handing each request's parameters back as sent
    /// ([`Authenticated::params`]), for a host that journals them; a copy per request.
    pub fn keeping_params(mut self, keep: bool) -> Self {
        self.keep_params = keep;
        self
    }

    /// The same protocol keeping nonces and rates in `nonces` and `rates` instead.
    pub fn with_admission(
        mut self,
        nonces: Arc<dyn NonceLedger>,
        rates: Arc<dyn RateCounter>,
    ) -> Self {
        self.nonces = nonces;
        self.rates = rates;
        self
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Authenticates, routes, admits and decodes one request received at `now` (the
    /// service's clock, so that pinning it pins signature windows and rates too).
    /// `facts` records what was learned on the way, for the host's log and metrics.
    pub async fn receive(
        &self,
        req: &Incoming<'_>,
        now: Timestamp,
        facts: &mut Facts,
    ) -> Result<Authenticated, ApiError> {
        let now_ms = now.as_millis();
        let now_secs = now_ms.div_euclid(1000);
        let parts = RequestParts {
            method: req.method,
            query: req.query,
            headers: req.headers,
            body: req.body,
            content_type: request::content_type(req.headers),
            now: now_secs,
        };
        let Signed {
            caller,
            action,
            version,
            params,
        } = request::authenticate(&self.credentials, &parts, facts)?;
        facts.account = Some(caller.account.to_string());
        let product = route::product_for(&version, &caller, req.headers)?;
        facts.product = Some(product);
        let action = route::action_for(&action, product, &version)?;
        facts.known_action = Some(action);
        let key = rates::key(&caller.account, product, action);
        rates::check(&self.rate_limits, &*self.rates, key, now_ms).await?;
        // Only now, signed and within its rate, may a legacy request's nonce be stored.
        if let Some(nonce) = caller.nonce {
            consume_nonce(&*self.nonces, &caller.secret_id, nonce, now_secs, product).await?;
        }
        let kept = self.keep_params.then(|| params.clone());
        let request = actions::decode(product, action, params)?;
        Ok(Authenticated {
            scope: Scope::new(caller.account, product),
            action,
            request,
            secret_id: caller.secret_id,
            params: kept,
        })
    }
}

/// The first check, before a body is read: the API takes GET and POST only.
pub fn check_method(method: &Method) -> Result<(), ApiError> {
    if method == Method::GET || method == Method::POST {
        return Ok(());
    }
    Err(ApiError::new(
        crate::codes::UNSUPPORTED_PROTOCOL,
        "请求方法错误",
        format!("HTTP method {method} is not supported; use GET or POST"),
    ))
}

/// The answer to a request for any path but `/`, where the API is served.
pub fn wrong_path(path: &str) -> ApiError {
    ApiError::new(
        crate::codes::UNSUPPORTED_PROTOCOL,
        "请求路径错误",
        format!("the API is served at path `/`, not `{}`", clip(path)),
    )
}
