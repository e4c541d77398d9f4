//! A deserializer over a request's parameters (a JSON value) whose errors are data: which
//! member is missing, which is unknown, what kind of value was sent where another kind
//! was wanted. [`crate::decode`] turns them into the API's errors from that structure.
//!
//! Written here because serde_json's own `Value` deserializer reports these as
//! `serde_json::Error`, whose only access to what went wrong is its message text; with
//! this one, the kind a member wants is known from the method serde calls
//! (`deserialize_str`, `deserialize_seq`, `deserialize_struct`), and the kind it got from
//! the value itself.

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;
use std::fmt;

/// What kind of value a member wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// A JSON string.
    String,
    /// A JSON array.
    List,
    /// A JSON object.
    Structure,
    /// Something a leaf type named itself (`an integer`).
    Named(String),
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::String => f.write_str("a string"),
            Want::List => f.write_str("a list"),
            Want::Structure => f.write_str("a structure"),
            Want::Named(name) => f.write_str(name),
        }
    }
}

/// Why a parameter object did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// A required member is absent.
    Missing(&'static str),
    /// A member the structure does not define.
    Unknown(String),
    /// A value of the wrong kind: `got` is the kind of JSON value sent (`null`, `a
    /// number`, …).
    WrongKind {
        /// What was sent.
        got: &'static str,
        /// What the member wants.
        want: Want,
    },
    /// A leaf type's own refusal, in its words (`must be an integer, got "many"`).
    Custom(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Missing(field) => write!(f, "`{field}` is missing"),
            DecodeError::Unknown(field) => write!(f, "`{field}` is not a member"),
            DecodeError::WrongKind { got, want } => write!(f, "must be {want}, not {got}"),
            DecodeError::Custom(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DecodeError::Custom(message.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        DecodeError::Missing(field)
    }

    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        DecodeError::Unknown(field.to_owned())
    }

    fn invalid_type(got: Unexpected<'_>, want: &dyn de::Expected) -> Self {
        DecodeError::WrongKind {
            got: unexpected_kind(&got),
            want: Want::Named(want.to_string()),
        }
    }
}

/// The kind of JSON value serde's description of one stands for.
fn unexpected_kind(got: &Unexpected<'_>) -> &'static str {
    match got {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) | Unexpected::Float(_) => "a number",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Seq => "an array",
        Unexpected::Map => "an object",
        _ => "null",
    }
}

/// The kind of a JSON value, as messages name it.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A parameter value to deserialize.
pub(crate) struct ValueDe(pub(crate) Value);

impl ValueDe {
    fn wrong(&self, want: Want) -> DecodeError {
        DecodeError::WrongKind {
            got: json_kind(&self.0),
            want,
        }
    }
}

impl<'de> IntoDeserializer<'de, DecodeError> for ValueDe {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

fn seq<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value, DecodeError> {
    let mut seq = SeqDeserializer::new(items.into_iter().map(ValueDe));
    let value = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(value)
}

fn map<'de, V: Visitor<'de>>(
    members: serde_json::Map<String, Value>,
    visitor: V,
) -> Result<V::Value, DecodeError> {
    let mut map = MapDeserializer::new(members.into_iter().map(|(k, v)| (k, ValueDe(v))));
    let value = visitor.visit_map(&mut map)?;
    map.end()?;
    Ok(value)
}

impl<'de> de::Deserializer<'de> for ValueDe {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, f) => visitor.visit_f64(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => seq(items, visitor),
            Value::Object(members) => map(members, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            _ => Err(self.wrong(Want::String)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Array(items) => seq(items, visitor),
            _ => Err(self.wrong(Want::List)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Object(members) => map(members, visitor),
            _ => Err(self.wrong(Want::Structure)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_map(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct newtype_struct tuple tuple_struct enum identifier ignored_any
    }
}
