//! A port for what a harness does around each authenticated API call: a test suite's
//! injected faults and its request journal (`keypair-steer`) plug in here, so this
//! shell stays free of them. Each method is synchronous and cheap (a lookup in memory,
//! a line handed to a writer thread); what takes time (a delay) this shell does itself,
//! on the request's own task, within the bound the hook promises.
//!
//! The calls, in order, for a request that the wire authenticated and decoded:
//! [`CallHook::before`] (its effect replaces the call, or delays it), the call, then
//! [`CallHook::after`] (its effect replaces the answer the call produced), then
//! [`CallHook::answered`] with what was sent. A request refused before it was
//! authenticated never reaches a hook: it has no account to match or journal.

use keypair_core::{AccountId, Action, Product};
use keypair_wire::params::Params;
use keypair_wire::{ApiError, Language};
use std::time::Duration;

/// One authenticated call, as a hook sees it.
#[derive(Clone, Debug)]
pub struct Call {
    /// The product addressed.
    pub product: Product,
    /// The action.
    pub action: Action,
    /// The caller's account.
    pub account: AccountId,
    /// The SecretId that signed the request (never its key).
    pub secret_id: String,
    /// The action's parameters as sent (the common parameters, signature included,
    /// left out), when the hook asked for them ([`CallHook::wants_params`]).
    pub params: Option<Params>,
    /// The answer's RequestId.
    pub request_id: String,
    /// The answer's language.
    pub language: Language,
}

/// What a hook asks for at one point of a call.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Wait this long, then go on. A hook bounds it ([`MAX_DELAY`]).
    Delay(Duration),
    /// Answer with this error: instead of the call (from [`CallHook::before`]) or instead
    /// of the call's answer, after it ran (from [`CallHook::after`]).
    Answer(ApiError),
    /// Close the connection without an answer.
    Drop,
}

/// The longest delay this shell serves; a longer one is cut to it. A delay holds a
/// request slot, so it is bounded like everything else a caller can make the server do.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// Port: what runs around each authenticated call (see the module documentation).
///
/// Contract: every method returns quickly and never blocks on I/O (hand work to a
/// thread of your own); a hook never sees a SecretKey, a signature or a private key:
/// [`CallHook::answered`] gets the answer as sent, whose `PrivateKey` member a hook that
/// keeps answers must replace.
pub trait CallHook: Send + Sync {
    /// Whether [`Call::params`] should carry the parameters (a journal wants them; a
    /// copy per request is spared otherwise).
    fn wants_params(&self) -> bool;

    /// Before the call.
    fn before(&self, call: &Call) -> Option<Effect>;

    /// After the call ran (the store written, for a write), before its answer is sent.
    fn after(&self, call: &Call) -> Option<Effect>;

    /// The answer as sent (`code` is `OK` for a success), or `None` when the connection
    /// was dropped instead.
    fn answered(&self, call: &Call, code: &str, answer: Option<&str>);

    /// The admin API's reset ran: forget what the reset clears (a harness's rules).
    fn reset(&self) {}
}
