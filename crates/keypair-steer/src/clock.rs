//! The clock a test suite sets: `CreatedTime` comes from it, and, only when the suite
//! pins them too, the signature and rate windows. Otherwise those keep real time, so the
//! official clients' signatures (made with the machine's clock) stay valid while the
//! suite moves the service's clock about.
//!
//! It runs in one of two ways: following the system clock, or fixed at a time the suite
//! set (and moves on only when the suite advances it). The deterministic mode starts it
//! fixed at [`SEEDED_START`], so every run sees the same times.

use keypair_core::{Clock, SystemClock, Timestamp};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

/// Where the deterministic mode's clock starts: 2026-01-01T00:00:00Z.
pub const SEEDED_START: Timestamp = Timestamp::from_millis(1_767_225_600_000);

/// `i64::MIN`: the clock follows the system clock.
const FOLLOWING: i64 = i64::MIN;

/// The settable clock of one server.
#[derive(Debug)]
pub struct SteeredClock {
    fixed_ms: AtomicI64,
    pin_signatures: AtomicBool,
}

impl SteeredClock {
    /// A clock following the system clock.
    pub fn following() -> Arc<Self> {
        Arc::new(SteeredClock {
            fixed_ms: AtomicI64::new(FOLLOWING),
            pin_signatures: AtomicBool::new(false),
        })
    }

    /// A clock fixed at `at`.
    pub fn fixed(at: Timestamp) -> Arc<Self> {
        let clock = SteeredClock::following();
        clock.set(at);
        clock
    }

    /// Fixes the clock at `at`.
    pub fn set(&self, at: Timestamp) {
        // `i64::MIN` means "following"; one millisecond later is as good a fixed time.
        self.fixed_ms
            .store(at.as_millis().max(FOLLOWING + 1), Ordering::SeqCst);
    }

    /// Moves the clock by `ms` (a following clock is fixed at now + `ms`).
    pub fn advance(&self, ms: i64) {
        let now = self.now().as_millis();
        self.set(Timestamp::from_millis(now.saturating_add(ms)));
    }

    /// Lets the clock follow the system clock again.
    pub fn follow(&self) {
        self.fixed_ms.store(FOLLOWING, Ordering::SeqCst);
    }

    /// Whether signatures and rates are checked against this clock too.
    pub fn pin_signatures(&self, pin: bool) {
        self.pin_signatures.store(pin, Ordering::SeqCst);
    }

    /// The state, as the admin API shows it.
    pub fn describe(&self) -> serde_json::Value {
        let fixed = self.fixed_ms.load(Ordering::SeqCst);
        serde_json::json!({
            "Now": self.now().to_string(),
            "NowMs": self.now().as_millis(),
            "Fixed": fixed != FOLLOWING,
            "PinSignatures": self.pin_signatures.load(Ordering::SeqCst),
        })
    }

    /// The clock signatures and rate windows are checked against: the system clock,
    /// unless pinned to this one.
    pub fn signing(self: &Arc<Self>) -> Arc<dyn Clock> {
        Arc::new(Signing(self.clone()))
    }
}

impl Clock for SteeredClock {
    fn now(&self) -> Timestamp {
        match self.fixed_ms.load(Ordering::SeqCst) {
            FOLLOWING => SystemClock.now(),
            ms => Timestamp::from_millis(ms),
        }
    }
}

/// [`SteeredClock::signing`].
struct Signing(Arc<SteeredClock>);

impl Clock for Signing {
    fn now(&self) -> Timestamp {
        if self.0.pin_signatures.load(Ordering::SeqCst) {
            self.0.now()
        } else {
            SystemClock.now()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_advanced_and_signatures_keep_real_time() {
        let clock = SteeredClock::fixed(SEEDED_START);
        assert_eq!(clock.now(), SEEDED_START);
        clock.advance(1500);
        assert_eq!(clock.now().as_millis(), SEEDED_START.as_millis() + 1500);
        let signing = clock.signing();
        assert!(signing.now().as_millis() > SEEDED_START.as_millis() + 1500);
        clock.pin_signatures(true);
        assert_eq!(signing.now(), clock.now());
        clock.follow();
        assert!(clock.now().as_millis() > SEEDED_START.as_millis() + 1500);
    }
}
