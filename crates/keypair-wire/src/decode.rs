//! One decode per action: typed request structs deriving `Deserialize` (PascalCase
//! member names, unknown members refused), fed by the JSON body and by the flattened
//! form alike (both arrive as one parameter object, [`crate::params`]).
//! `serde_path_to_error` names the parameter at fault (`Filters.0.Values.1`), and what
//! went wrong comes as data from the deserializer in `de.rs` (missing, unknown, the kind
//! sent and the kind wanted), put in the API's words (`` `Limit` must be an integer, not
//! a list ``).
//!
//! Two leaf types accept what the official clients send beyond plain JSON: [`Int`] (a
//! number, or a string holding one, as every form value is) and [`Flag`] (a boolean, or
//! `true`/`false` text in any case: Python sends `True`). A JSON `null` counts as absent.
//! Values are not judged here: every rule about what a value may be lives in the core.

use crate::de::{json_kind, DecodeError, ValueDe};
use crate::error::ApiError;
use crate::params::Params;
use serde::de::{DeserializeOwned, Deserializer, Error as _, Unexpected};
use serde::Deserialize;
use serde_json::Value;

/// Decodes `params` into `action`'s request type `T`, consuming them (no copy).
pub fn decode<T: DeserializeOwned>(params: Params, action: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(ValueDe(Value::Object(params))).map_err(|e| {
        let path: Vec<String> = e
            .path()
            .iter()
            .map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => index.to_string(),
                serde_path_to_error::Segment::Map { key } => key.clone(),
                serde_path_to_error::Segment::Enum { variant } => variant.clone(),
                serde_path_to_error::Segment::Unknown => "?".to_owned(),
            })
            .collect();
        to_api_error(&path, e.into_inner(), action)
    })
}

/// The API error for what went wrong with the member at `path`.
fn to_api_error(path: &[String], error: DecodeError, action: &str) -> ApiError {
    // A missing or unknown member is reported by its structure, whose path ends before
    // the member (or, for some, at it).
    let at = |field: &str| {
        let mut parts: Vec<&str> = path.iter().map(String::as_str).collect();
        if parts.last() != Some(&field) {
            parts.push(field);
        }
        parts.join(".")
    };
    let name = path.join(".");
    // A member sent as null is absent; a null list item is a value of the wrong type.
    let in_list = path
        .last()
        .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()));
    match error {
        DecodeError::Missing(field) => ApiError::missing(&at(field)),
        DecodeError::Unknown(field) => ApiError::unknown(&at(&field), action),
        DecodeError::WrongKind { got: "null", .. } if !in_list => ApiError::missing(&name),
        DecodeError::WrongKind { got, want } => {
            ApiError::invalid(format!("`{name}` must be {want}, not {got}"))
        }
        DecodeError::Custom(message) => ApiError::invalid(format!("`{name}` {message}")),
    }
}

/// An integer member: a JSON number, or a string holding a decimal integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(Int)
                .ok_or_else(|| D::Error::custom(format!("must be a 64-bit integer, got {n}"))),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Int)
                .map_err(|_| D::Error::custom(format!("must be an integer, got {s:?}"))),
            // A required member sent as null is missing, as for every other type.
            Value::Null => Err(D::Error::invalid_type(Unexpected::Unit, &"an integer")),
            other => Err(D::Error::custom(format!(
                "must be an integer, not {}",
                json_kind(&other)
            ))),
        }
    }
}

/// A boolean member: a JSON boolean, or `true`/`false` text in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Flag(b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Flag(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Flag(false)),
            other => Err(D::Error::custom(format!(
                "must be a boolean, not {}",
                json_kind(&other)
            ))),
        }
    }
}

/// `{Key, Value}`: one tag.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
}

/// CVM's `{ResourceType, Tags}`: tags for one kind of resource.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TagSpecification {
    /// `ResourceType`: the core accepts `keypair` only.
    pub resource_type: String,
    /// `Tags`.
    pub tags: Option<Vec<Tag>>,
}

/// CVM `CreateKeyPair`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CvmCreate {
    /// `KeyName`.
    pub key_name: String,
    /// `ProjectId`.
    pub project_id: Int,
    /// `TagSpecification`.
    pub tag_specification: Option<Vec<TagSpecification>>,
}

/// CVM `ImportKeyPair`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CvmImport {
    /// `KeyName`.
    pub key_name: String,
    /// `PublicKey`.
    pub public_key: String,
    /// `ProjectId`.
    pub project_id: Int,
    /// `TagSpecification`.
    pub tag_specification: Option<Vec<TagSpecification>>,
}

/// Lighthouse `CreateKeyPair`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LighthouseCreate {
    /// `KeyName`.
    pub key_name: String,
    /// `Tags`.
    pub tags: Option<Vec<Tag>>,
}

/// Lighthouse `ImportKeyPair`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LighthouseImport {
    /// `KeyName`.
    pub key_name: String,
    /// `PublicKey`.
    pub public_key: String,
    /// `Tags`.
    pub tags: Option<Vec<Tag>>,
}

/// `{Name, Values}`: one describe filter.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Filter {
    /// `Name`.
    pub name: String,
    /// `Values`.
    pub values: Vec<String>,
}

/// `DescribeKeyPairs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Describe {
    /// `KeyIds`.
    pub key_ids: Option<Vec<String>>,
    /// `Filters`.
    pub filters: Option<Vec<Filter>>,
    /// `Offset`.
    pub offset: Option<Int>,
    /// `Limit`.
    pub limit: Option<Int>,
}

/// `DeleteKeyPairs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Delete {
    /// `KeyIds`.
    pub key_ids: Vec<String>,
}

/// `ModifyKeyPairAttribute` (CVM).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Modify {
    /// `KeyId`.
    pub key_id: String,
    /// `KeyName`.
    pub key_name: Option<String>,
    /// `Description`.
    pub description: Option<String>,
}

/// CVM `AssociateInstancesKeyPairs` and `DisassociateInstancesKeyPairs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CvmBinding {
    /// `KeyIds`.
    pub key_ids: Vec<String>,
    /// `InstanceIds`.
    pub instance_ids: Vec<String>,
    /// `ForceStop`.
    pub force_stop: Option<Flag>,
}

/// Lighthouse `AssociateInstancesKeyPairs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LighthouseAssociate {
    /// `KeyIds`.
    pub key_ids: Vec<String>,
    /// `InstanceIds`.
    pub instance_ids: Vec<String>,
    /// `AssociateType`.
    pub associate_type: Option<String>,
    /// `Username`.
    pub username: Option<String>,
}

/// Lighthouse `DisassociateInstancesKeyPairs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LighthouseDisassociate {
    /// `KeyIds`.
    pub key_ids: Vec<String>,
    /// `InstanceIds`.
    pub instance_ids: Vec<String>,
    /// `DisassociateType`.
    pub disassociate_type: Option<String>,
    /// `Username`.
    pub username: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        v.as_object().cloned().unwrap_or_default()
    }

    fn refused<T: DeserializeOwned + std::fmt::Debug>(v: Value) -> ApiError {
        decode::<T>(params(v), "DescribeKeyPairs").unwrap_err()
    }

    #[test]
    fn the_form_and_json_feed_the_same_struct() {
        let json: Describe = decode(
            params(json!({"Limit": 5, "Filters": [{"Name": "key-name", "Values": ["a"]}]})),
            "D",
        )
        .unwrap();
        let form: Describe = decode(
            crate::params::unflatten([
                ("Limit", "5"),
                ("Filters.0.Name", "key-name"),
                ("Filters.0.Values.0", "a"),
            ])
            .unwrap(),
            "D",
        )
        .unwrap();
        assert_eq!(json.limit, Some(Int(5)));
        assert_eq!(form.limit, json.limit);
        assert_eq!(form.filters.unwrap()[0].values, ["a"]);
    }

    #[test]
    fn errors_name_the_parameter_by_its_flattened_path() {
        let e = refused::<Describe>(json!({"Filters": [{"Name": "n", "Values": ["a", 1]}]}));
        assert_eq!(e.code, "InvalidParameter");
        assert_eq!(e.en, "`Filters.0.Values.1` must be a string, not a number");
        let e = refused::<Describe>(json!({"Filters": [{"Name": "n", "Values": [], "Extra": 1}]}));
        assert_eq!(e.code, "UnknownParameter");
        assert!(e.en.contains("`Filters.0.Extra`"), "{}", e.en);
        let e = refused::<Describe>(json!({"Filters": [{"Values": []}]}));
        assert_eq!(
            (e.code, e.en.as_str()),
            (
                "MissingParameter",
                "the required parameter `Filters.0.Name` is missing"
            )
        );
        let e = refused::<Describe>(json!({"KeyIds": "skey-1"}));
        assert_eq!(e.en, "`KeyIds` must be a list, not a string");
        let e = refused::<Describe>(json!({"Filters": ["x"]}));
        assert_eq!(e.en, "`Filters.0` must be a structure, not a string");
    }

    #[test]
    fn integers_and_flags_accept_what_clients_send() {
        let ok: CvmBinding = decode(
            params(json!({"KeyIds": [], "InstanceIds": [], "ForceStop": "True"})),
            "A",
        )
        .unwrap();
        assert_eq!(ok.force_stop, Some(Flag(true)));
        let e = refused::<Describe>(json!({"Limit": "many"}));
        assert_eq!(e.en, "`Limit` must be an integer, got \"many\"");
        let e = refused::<Describe>(json!({"Offset": 1e30}));
        assert_eq!(e.code, "InvalidParameter");
        let e = refused::<CvmCreate>(json!({"KeyName": "k", "ProjectId": null}));
        assert_eq!(e.code, "MissingParameter", "null is absent: {}", e.en);
        let absent: Describe = decode(params(json!({"Limit": null})), "D").unwrap();
        assert_eq!(absent.limit, None);
    }
}
