//! A configuration problem, always naming the file.

use std::path::Path;

/// A configuration problem, always naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The key and what is wrong with it.
    pub problem: String,
}

pub(crate) fn problem(file: &Path, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        file: file.display().to_string(),
        problem: problem.into(),
    }
}
