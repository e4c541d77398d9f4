//! Request parameters: flattened form/query pairs (`Filters.0.Values.1=x`) are rebuilt into
//! the same JSON object a TC3 POST body carries, so one set of typed request structs
//! ([`crate::decode`]) serves both encodings. Integers may arrive as JSON strings (`"ProjectId": "0"`), and form
//! values are always text.

use crate::de::json_kind;
use crate::error::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The parameters of one request.
pub type Params = Map<String, Value>;

/// Deepest nesting a flattened name may have (`TagSpecification.0.Tags.0.Key` is 5).
const MAX_DEPTH: usize = 6;
/// Largest list index a flattened name may use.
const MAX_INDEX: usize = 10_000;

enum Node {
    Leaf(String),
    Object(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

/// Rebuilds nested parameters from flattened `name=value` pairs.
pub fn unflatten<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Params, ApiError> {
    let mut root: BTreeMap<String, Node> = BTreeMap::new();
    for (name, value) in pairs {
        let segments: Vec<&str> = name.split('.').collect();
        if segments.len() > MAX_DEPTH || segments.iter().any(|s| s.is_empty()) {
            return Err(ApiError::invalid(format!(
                "parameter name `{name}` is malformed"
            )));
        }
        let (first, rest) = segments
            .split_first()
            .expect("split yields at least one segment");
        let slot = root.entry((*first).to_owned());
        let node = match slot {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => v.insert(empty_for(rest.first())),
        };
        insert(node, rest, name, value)?;
    }
    root.into_iter()
        .map(|(k, n)| to_value(n, &k).map(|v| (k, v)))
        .collect()
}

fn empty_for(next: Option<&&str>) -> Node {
    match next {
        None => Node::Leaf(String::new()),
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => Node::List(BTreeMap::new()),
        Some(_) => Node::Object(BTreeMap::new()),
    }
}

fn insert(node: &mut Node, rest: &[&str], name: &str, value: &str) -> Result<(), ApiError> {
    let conflict = || {
        ApiError::invalid(format!(
            "parameter `{name}` conflicts with another parameter of the same name"
        ))
    };
    let Some((seg, tail)) = rest.split_first() else {
        return match node {
            Node::Leaf(v) if v.is_empty() => {
                *v = value.to_owned();
                Ok(())
            }
            _ => Err(conflict()),
        };
    };
    let child = match node {
        Node::List(items) => {
            let index: usize = seg.parse().map_err(|_| conflict())?;
            if index > MAX_INDEX {
                return Err(ApiError::invalid(format!(
                    "parameter `{name}` has a list index over {MAX_INDEX}"
                )));
            }
            items
                .entry(index)
                .or_insert_with(|| empty_for(tail.first()))
        }
        Node::Object(fields) => {
            if seg.bytes().all(|b| b.is_ascii_digit()) {
                return Err(conflict());
            }
            fields
                .entry((*seg).to_owned())
                .or_insert_with(|| empty_for(tail.first()))
        }
        Node::Leaf(_) => return Err(conflict()),
    };
    insert(child, tail, name, value)
}

fn to_value(node: Node, path: &str) -> Result<Value, ApiError> {
    Ok(match node {
        Node::Leaf(s) => Value::String(s),
        Node::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, n)| {
                    let p = format!("{path}.{k}");
                    to_value(n, &p).map(|v| (k, v))
                })
                .collect::<Result<_, _>>()?,
        ),
        Node::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (expected, (index, n)) in items.into_iter().enumerate() {
                if index != expected {
                    return Err(ApiError::invalid(format!(
                        "`{path}.{expected}` is missing: list indices must count up from 0"
                    )));
                }
                out.push(to_value(n, &format!("{path}.{index}"))?);
            }
            Value::Array(out)
        }
    })
}

/// A JSON body as parameters: it must be one object, and no object in it may repeat a
/// key (serde_json would silently keep the last; a signed request must mean one thing).
pub fn from_json(body: &[u8]) -> Result<Params, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::new());
    }
    match serde_json::from_slice::<Strict>(body).map(|s| s.0) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::invalid(format!(
            "the request body must be a JSON object, not {}",
            json_kind(&other)
        ))),
        Err(e) => Err(ApiError::invalid(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

/// A JSON value whose objects have unique keys.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} appears more than once"
                )));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat(pairs: &[(&str, &str)]) -> Result<Value, ApiError> {
        unflatten(pairs.iter().copied()).map(Value::Object)
    }

    #[test]
    fn flattened_names_rebuild_the_json_shape() {
        let v = flat(&[
            ("KeyIds.0", "skey-1"),
            ("KeyIds.1", "skey-2"),
            ("Filters.0.Name", "key-name"),
            ("Filters.0.Values.0", "a"),
            ("Filters.0.Values.1", "b"),
            ("TagSpecification.0.ResourceType", "keypair"),
            ("TagSpecification.0.Tags.0.Key", "k"),
            ("TagSpecification.0.Tags.0.Value", "v"),
            ("Limit", "20"),
        ])
        .unwrap();
        assert_eq!(
            v,
            json!({
                "KeyIds": ["skey-1", "skey-2"],
                "Filters": [{"Name": "key-name", "Values": ["a", "b"]}],
                "TagSpecification": [{"ResourceType": "keypair", "Tags": [{"Key": "k", "Value": "v"}]}],
                "Limit": "20"
            })
        );
    }

    #[test]
    fn gaps_and_conflicts_are_refused() {
        assert!(flat(&[("KeyIds.1", "x")])
            .unwrap_err()
            .en
            .contains("KeyIds.0"));
        assert!(flat(&[("KeyIds", "x"), ("KeyIds.0", "y")]).is_err());
        assert!(flat(&[("KeyIds.0", "x"), ("KeyIds.0", "y")]).is_err());
        assert!(flat(&[("A..B", "x")]).is_err());
        assert!(flat(&[("KeyIds.99999", "x")]).is_err());
        assert!(flat(&[("a.b.c.d.e.f.g", "x")]).is_err());
    }

    #[test]
    fn json_bodies_must_be_objects() {
        assert_eq!(from_json(b"[1]").unwrap_err().code, "InvalidParameter");
        assert!(from_json(b"{").unwrap_err().en.contains("not valid JSON"));
        assert!(from_json(b"  ").unwrap().is_empty());
        let dup = from_json(br#"{"Limit": 1, "Limit": 2}"#).unwrap_err();
        assert!(dup.en.contains("more than once"), "{}", dup.en);
        assert!(from_json(br#"{"Filters": [{"Name": "a", "Name": "b"}]}"#).is_err());
        assert_eq!(
            from_json(br#"{"A": [1, {"B": null}]}"#).unwrap()["A"][1]["B"],
            Value::Null
        );
    }
}
