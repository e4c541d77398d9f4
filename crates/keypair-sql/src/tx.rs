//! The transaction trait the adapters implement, and the values that cross it.

use async_trait::async_trait;
use keypair_core::StoreError;

/// The SQL dialect of a transaction, for the few expressions that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.24 or newer.
    Sqlite,
    /// PostgreSQL 11 or newer, and wire-compatible databases.
    Postgres,
}

impl Dialect {
    /// An expression that is true when `haystack` contains `needle` literally and
    /// case-sensitively (no LIKE wildcards).
    pub fn contains(self, haystack: &str, needle: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({haystack}, {needle}) > 0"),
            Dialect::Postgres => format!("strpos({haystack}, {needle}) > 0"),
        }
    }
}

/// A parameter or column value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Self {
        s.map_or(Value::Null, Value::from)
    }
}

/// One result row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s.clone()),
            other => Err(corrupt(i, "text", other)),
        }
    }

    /// Column `i` as text, moved out of the row (which keeps an empty string there):
    /// for reading a row once without copying it.
    pub fn take_text(&mut self, i: usize) -> Result<String, StoreError> {
        match self.0.get_mut(i) {
            Some(Value::Text(s)) => Ok(std::mem::take(s)),
            other => Err(corrupt(i, "text", other.map(|v| &*v))),
        }
    }

    /// Column `i` as text, borrowed.
    pub fn str(&self, i: usize) -> Result<&str, StoreError> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s),
            other => Err(corrupt(i, "text", other)),
        }
    }

    /// Column `i` as nullable text.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.0.get(i) {
            Some(Value::Null) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            other => Err(corrupt(i, "an integer", other)),
        }
    }
}

fn corrupt(i: usize, want: &str, got: Option<&Value>) -> StoreError {
    StoreError::backend(format!("column {i}: expected {want}, found {got:?}"))
}

/// One open transaction. The adapter begins it before calling into this crate and
/// commits it after; an error from any call means the adapter rolls back.
#[async_trait]
pub trait Tx: Send {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// Runs a statement that returns rows.
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs a statement and returns the number of rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
}
