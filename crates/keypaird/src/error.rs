//! Why `keypaird serve` could not start or stopped, each with its cause as the source.

use keypair_config::{BackendUnavailable, ConfigError};
use keypair_stores::{InvalidStoreUrl, OpenStoreError};

/// A start-up failure, with a message that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration file, or an account in it.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A store URL that is not one.
    #[error(transparent)]
    StoreUrl(#[from] InvalidStoreUrl),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] OpenStoreError),
    /// The configured key backend is not in this build.
    #[error(transparent)]
    KeyBackend(#[from] BackendUnavailable),
    /// The test mode's parts (the journal file, the key cache).
    #[error(transparent)]
    TestMode(#[from] keypair_steer::testmode::TestModeError),
    /// Options that contradict each other, or a value no option takes.
    #[error("{0}")]
    Options(String),
    /// The listen address could not be used; `hint` says what to do.
    #[error("cannot listen on {listen}: {source}{hint}")]
    Listen {
        /// The address as given.
        listen: String,
        /// Why.
        #[source]
        source: std::io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    /// A signal handler could not be registered.
    #[error("cannot handle {signal}: {source}")]
    Signal {
        /// The signal.
        signal: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the `listening on` lines.
    #[error("writing to stdout: {0}")]
    Output(#[source] std::io::Error),
    /// The accept loop failed.
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
}
