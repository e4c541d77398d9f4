//! Why a transfer stopped.

use keypair_core::{KeyId, StoreError};

/// Why a transfer stopped.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file is not a valid export; nothing was loaded.
    #[error("line {line}: {reason}")]
    Format {
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A store failed or refused a batch; every batch before it is complete.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The target of a migration holds key pairs the source does not.
    #[error("the target store holds key pair {0}, which the source does not have; migrate into an empty store, or pass --merge to add to it")]
    TargetNotEmpty(KeyId),
    /// Verification found the stores differ.
    #[error("verification failed: {0}")]
    Differs(String),
}

pub(crate) fn format_error(line: u64, reason: impl Into<String>) -> TransferError {
    TransferError::Format {
        line,
        reason: reason.into(),
    }
}
