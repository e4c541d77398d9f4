//! Which RSA implementation generates keys: the choice a configuration names, and the
//! generator it stands for.

use keypair_core::{KeyGenerator, RsaKeyGenerator};
use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Which RSA implementation generates keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyBackend {
    /// The pure-Rust `rsa` crate.
    Rsa,
    /// AWS-LC through `aws-lc-rs` (the default when built with the `aws-lc` feature).
    AwsLc,
}

impl KeyBackend {
    /// Every backend's name, as a configuration or a command line spells it.
    pub const NAMES: [&'static str; 2] = ["rsa", "aws-lc"];

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            KeyBackend::Rsa => "rsa",
            KeyBackend::AwsLc => "aws-lc",
        }
    }

    /// The generator this backend stands for. `aws-lc` needs this crate's `aws-lc`
    /// feature; without it, the error says so.
    pub fn generator(self) -> Result<Arc<dyn KeyGenerator>, BackendUnavailable> {
        match self {
            KeyBackend::Rsa => Ok(Arc::new(RsaKeyGenerator::default())),
            #[cfg(feature = "aws-lc")]
            KeyBackend::AwsLc => Ok(Arc::new(keypair_awslc::AwsLcKeyGenerator::default())),
            #[cfg(not(feature = "aws-lc"))]
            KeyBackend::AwsLc => Err(BackendUnavailable(self)),
        }
    }

    /// The backend used when none is configured: AWS-LC where it was built in.
    pub fn default_for_build() -> Self {
        if cfg!(feature = "aws-lc") {
            KeyBackend::AwsLc
        } else {
            KeyBackend::Rsa
        }
    }
}

impl fmt::Display for KeyBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyBackend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rsa" => Ok(KeyBackend::Rsa),
            "aws-lc" => Ok(KeyBackend::AwsLc),
            _ => Err(format!("unknown key backend {s:?}; use rsa or aws-lc")),
        }
    }
}

/// A backend this build does not have.
#[derive(Debug, thiserror::Error)]
#[error("key backend {0}: this build has no `aws-lc` feature; use backend = \"rsa\"")]
pub struct BackendUnavailable(pub KeyBackend);
