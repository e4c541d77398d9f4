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
    /// AWS-LC through `aws-lc-rs` (the `aws-lc` feature).
    AwsLc,
    /// OpenSSL built from source (`keypair-openssl`, the `openssl` feature).
    OpenSsl,
}

impl KeyBackend {
    /// Every backend's name, as a configuration or a command line spells it.
    pub const NAMES: [&'static str; 3] = ["rsa", "aws-lc", "openssl"];

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            KeyBackend::Rsa => "rsa",
            KeyBackend::AwsLc => "aws-lc",
            KeyBackend::OpenSsl => "openssl",
        }
    }

    /// The generator this backend stands for. `aws-lc` and `openssl` need this crate's
    /// feature of the same name; without it, the error says so.
    pub fn generator(self) -> Result<Arc<dyn KeyGenerator>, BackendUnavailable> {
        match self {
            KeyBackend::Rsa => Ok(Arc::new(RsaKeyGenerator::default())),
            #[cfg(feature = "aws-lc")]
            KeyBackend::AwsLc => Ok(Arc::new(keypair_awslc::AwsLcKeyGenerator::default())),
            #[cfg(not(feature = "aws-lc"))]
            KeyBackend::AwsLc => Err(BackendUnavailable(self)),
            #[cfg(feature = "openssl")]
            KeyBackend::OpenSsl => Ok(Arc::new(keypair_openssl::OpenSslKeyGenerator::default())),
            #[cfg(not(feature = "openssl"))]
            KeyBackend::OpenSsl => Err(BackendUnavailable(self)),
        }
    }

    /// The backend used when none is configured: the fastest one built in (OpenSSL,
    /// then AWS-LC, then the pure-Rust `rsa`; docs/benchmarks.md, "Key generation").
    pub fn default_for_build() -> Self {
        if cfg!(feature = "openssl") {
            KeyBackend::OpenSsl
        } else if cfg!(feature = "aws-lc") {
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
            "openssl" => Ok(KeyBackend::OpenSsl),
            _ => Err(format!(
                "unknown key backend {s:?}; use one of {}",
                KeyBackend::NAMES.join(", ")
            )),
        }
    }
}

/// A backend this build does not have.
#[derive(Debug, thiserror::Error)]
#[error("key backend {0}: this build has no `{0}` feature; use backend = \"rsa\", or build keypaird with `--features {0}`")]
pub struct BackendUnavailable(pub KeyBackend);
