//! keypaird's configuration as a library: the TOML file and its sections ([`Config`]),
//! the accounts it lists, checked into credentials, projects and instances
//! ([`validate_accounts`]), the credentials file a first start writes
//! ([`load_or_generate_credentials`]), and the key generator a configuration names
//! ([`KeyBackend`]). Unknown keys, repeated SecretIds and invalid values are refused with
//! a message that names the file, the key and the problem.

mod accounts;
mod credentials_file;
mod error;
mod file;
mod keygen;

pub use accounts::{validate_accounts, AccountConfig, Accounts, CredentialConfig, InstanceConfig};
pub use credentials_file::{
    generate_account, load_or_generate_credentials, write_credentials_file, CredentialsSource,
    CREDENTIALS_FILE,
};
pub use error::ConfigError;
pub use file::{AdminConfig, Config, ConsoleConfig, KeygenConfig, Limits, MetricsConfig};
pub use keygen::{BackendUnavailable, KeyBackend};
