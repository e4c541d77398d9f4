//! A key-pair service a test suite can steer: what `keypaird serve --test-credentials`
//! offers beyond reset and snapshots, through the admin API.
//!
//! - [`faults`]: rules that answer matching calls with an error code the product
//!   defines, a delay or a dropped connection, instead of the call or after it ran;
//! - [`seeded`] and [`clock`]: the deterministic mode (`--seed`): key ids, RequestIds
//!   and RSA keys from a seed, a clock the suite sets, a key cache for reruns;
//! - [`journal`] and [`replay`]: JSON lines of every authenticated call and its answer,
//!   and their replay into another server, reporting every answer that differs.
//!
//! [`Steer`] holds one server's state and is the `keypair-http` [`CallHook`] that runs
//! the faults and the journal around each call; [`admin::routes`] are its admin calls.
//! Every power here is a test-mode power: [`Steer::new`] is told whether the server is
//! in test mode, and outside it every admin call is refused with a `403` that says so.

pub mod admin;
pub mod client;
pub mod clock;
pub mod faults;
pub mod journal;
pub mod replay;
pub mod seeded;
pub mod testmode;

pub use clock::SteeredClock;
pub use faults::{Faults, RuleSpec};
pub use journal::Journal;
pub use seeded::{KeyCache, SeededIds, SeededKeys, SeededRequestIds};
pub use testmode::{TestOptions, TestParts};

use keypair_core::{Clock, SystemClock};
use keypair_http::{Call, CallHook, Effect};
use std::sync::{Arc, OnceLock};

/// The seeded sources of the deterministic mode, kept to seed them again.
pub struct Seeded {
    /// Key ids.
    pub ids: Arc<SeededIds>,
    /// RequestIds.
    pub request_ids: Arc<SeededRequestIds>,
    /// RSA keys.
    pub keys: Arc<SeededKeys>,
}

/// What one server steers.
pub struct Steer {
    test_mode: bool,
    /// The fault rules.
    pub faults: Faults,
    /// The journal.
    pub journal: Journal,
    /// The service's clock (`CreatedTime`).
    pub clock: Arc<SteeredClock>,
    seeded: Option<Seeded>,
    endpoint: OnceLock<String>,
}

impl Steer {
    /// The state of a server: `test_mode` says whether it may be steered at all; `seeded`
    /// is the deterministic mode's sources (`--seed`), whose seed also draws the fault
    /// rules that have none of their own.
    pub fn new(
        test_mode: bool,
        journal: Journal,
        clock: Arc<SteeredClock>,
        seeded: Option<(u64, Seeded)>,
    ) -> Self {
        let seed = seeded.as_ref().map(|(s, _)| *s);
        Steer {
            test_mode,
            faults: Faults::new(seed),
            journal,
            clock,
            seeded: seeded.map(|(_, s)| s),
            endpoint: OnceLock::new(),
        }
    }

    /// Whether the server is in test mode.
    pub fn test_mode(&self) -> bool {
        self.test_mode
    }

    /// The server's own `host:port`, once it is bound (for replaying an uploaded
    /// journal into it).
    pub fn set_endpoint(&self, endpoint: String) {
        let _ = self.endpoint.set(endpoint);
    }

    /// Seeds the deterministic mode again: ids, RequestIds and keys start their `seed`
    /// sequences over, and the clock goes back to [`clock::SEEDED_START`]. `false` when
    /// the server was not started with `--seed`.
    pub fn reseed(&self, seed: u64) -> bool {
        let Some(s) = &self.seeded else {
            return false;
        };
        s.ids.reseed(seed);
        s.request_ids.reseed(seed);
        s.keys.reseed(seed);
        self.clock.set(clock::SEEDED_START);
        true
    }

    fn fired(&self, call: &Call, when: faults::When) -> Option<Effect> {
        let fired = self.faults.fire(call, when)?;
        tracing::info!(
            request_id = %call.request_id,
            action = call.action.name(),
            product = call.product.as_str(),
            rule = fired.rule,
            effect = fired.kind,
            when = ?when,
            "fault injected"
        );
        Some(fired.effect)
    }
}

impl CallHook for Steer {
    fn wants_params(&self) -> bool {
        true
    }

    fn before(&self, call: &Call) -> Option<Effect> {
        self.fired(call, faults::When::Before)
    }

    fn after(&self, call: &Call) -> Option<Effect> {
        self.fired(call, faults::When::After)
    }

    fn answered(&self, call: &Call, code: &str, answer: Option<&str>) {
        self.journal
            .record(call, code, answer, SystemClock.now().as_millis());
    }

    fn reset(&self) {
        self.faults.clear();
    }
}
