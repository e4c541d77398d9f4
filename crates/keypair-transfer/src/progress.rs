//! How a transfer reports its advance: the caller's display (keypaird's progress bar or
//! plain lines), or [`Quiet`] (the admin API's snapshot and restore, inside a server).

/// A display of a transfer's advance. Calls come from the task running the transfer, in
/// order: `start` once, `advance` after each batch the target acknowledged (or the
/// export wrote), `finish` once at the end of a transfer that succeeded.
pub trait Progress: Send {
    /// The transfer will move `total` key pairs (as counted when it started).
    fn start(&mut self, total: u64) {
        let _ = total;
    }
    /// `n` more key pairs are done.
    fn advance(&mut self, n: u64);
    /// The transfer is done; `what` says how ("exported", "40 loaded, 0 already present").
    fn finish(&mut self, what: &str);
}

/// Shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn advance(&mut self, _n: u64) {}
    fn finish(&mut self, _what: &str) {}
}
