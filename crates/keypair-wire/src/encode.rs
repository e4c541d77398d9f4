//! Answers as bytes: the envelope `{"Response": {…, "RequestId"}}` ([`envelope`], sent
//! with HTTP 200 and `Content-Type: application/json` exactly: [`response`]), an error as
//! `{"Error": {"Code", "Message"}}` in the caller's language, and the JSON of a key pair
//! and of a describe page, written straight from the domain records by `serde` (no
//! intermediate `serde_json::Value` tree per key pair: a page of 20 is about 12 KB, and
//! building it as maps cost more than the store read).
//!
//! Members come out in the byte order of their names, the order keypaird has always
//! written (its answers were `serde_json::Map`s, which sort), so the bytes on the wire
//! do not change.

use crate::error::{ApiError, Language};
use keypair_core::{KeyPair, Page, DEFAULT_USERNAME};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The members of an answer other than a describe page.
pub type Members = Map<String, Value>;

/// An action's answer, without its `RequestId`.
#[derive(Debug)]
pub enum Answer {
    /// The answer's members.
    Fields(Members),
    /// A describe page, encoded straight from its key pairs.
    Page(Page),
}

/// The members `fields`, in order.
pub fn members<const N: usize>(fields: [(&str, Value); N]) -> Members {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The `Content-Type` of every answer, exactly: the Python SDK ignores an error answer
/// whose type has a charset suffix.
pub const CONTENT_TYPE: &str = "application/json";

/// The body of the answer to a request: the answer or the error (its message in `lang`),
/// with `request_id`.
pub fn envelope(result: Result<Answer, ApiError>, lang: Language, request_id: &str) -> String {
    let mut response = match result {
        Ok(Answer::Page(page)) => {
            let body = serde_json::to_string(&PageJson {
                page: &page,
                request_id,
            });
            // Strings and numbers only: encoding cannot fail.
            return body.unwrap_or_default();
        }
        Ok(Answer::Fields(fields)) => fields,
        Err(e) => {
            let mut m = Map::new();
            m.insert(
                "Error".into(),
                json!({"Code": e.code, "Message": e.message(lang)}),
            );
            m
        }
    };
    response.insert("RequestId".into(), json!(request_id));
    json!({ "Response": response }).to_string()
}

/// The whole HTTP answer: status 200 (the Python SDK treats any other status as a
/// network error, whatever the body says), [`CONTENT_TYPE`], and the [`envelope`].
pub fn response(
    result: Result<Answer, ApiError>,
    lang: Language,
    request_id: &str,
) -> http::Response<String> {
    let mut r = http::Response::new(envelope(result, lang, request_id));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(CONTENT_TYPE),
    );
    r
}

/// A key pair as the API answers it ([`KeyPairJson`]), as a JSON value.
pub fn key_pair_json(key_pair: &KeyPair, private_key: Option<&str>) -> Value {
    let view = KeyPairJson {
        key_pair,
        private_key,
    };
    // Serialising plain strings and numbers into a Value cannot fail.
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// A key pair as CreateKeyPair and DescribeKeyPairs answer it; `private_key` only in
/// the answer to its creation.
pub struct KeyPairJson<'a> {
    /// The key pair.
    pub key_pair: &'a KeyPair,
    /// The private key, once.
    pub private_key: Option<&'a str>,
}

struct Seq<I>(I);

impl<I: Iterator<Item = T> + Clone, T: Serialize> Serialize for Seq<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items = self.0.clone();
        let mut seq = s.serialize_seq(None)?;
        for item in items {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}

struct Pair<'a>(&'static str, &'a str, &'static str, &'a str);

impl Serialize for Pair<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(self.0, self.1)?;
        m.serialize_entry(self.2, self.3)?;
        m.end()
    }
}

impl Serialize for KeyPairJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kp = self.key_pair;
        let wire = crate::spec::spec(kp.product());
        let mut m = s.serialize_map(None)?;
        let ids = kp.associations.iter().map(|a| a.instance.as_str());
        m.serialize_entry("AssociatedInstanceIds", &Seq(ids))?;
        if wire.key_pair_instance_set {
            let set = kp.associations.iter().map(|a| {
                let user = a.username.as_deref().unwrap_or(DEFAULT_USERNAME);
                Pair("InstanceId", a.instance.as_str(), "Username", user)
            });
            m.serialize_entry("AssociatedInstanceSet", &Seq(set))?;
        }
        m.serialize_entry("CreatedTime", &kp.created_at.to_string())?;
        if wire.key_pair_project_and_description {
            m.serialize_entry("Description", kp.description.as_str())?;
        }
        m.serialize_entry("KeyId", kp.id.as_str())?;
        m.serialize_entry("KeyName", kp.name.as_str())?;
        // Lighthouse always has the member (null but in the answer to a create).
        if wire.key_pair_instance_set || self.private_key.is_some() {
            m.serialize_entry("PrivateKey", &self.private_key)?;
        }
        if wire.key_pair_project_and_description {
            m.serialize_entry("ProjectId", &kp.project.get())?;
        }
        m.serialize_entry("PublicKey", kp.public_key.as_openssh())?;
        let tags = kp
            .tags
            .as_slice()
            .iter()
            .map(|t| Pair("Key", t.key(), "Value", t.value()));
        m.serialize_entry("Tags", &Seq(tags))?;
        m.end()
    }
}

/// The whole DescribeKeyPairs answer, `{"Response":{…}}`.
pub struct PageJson<'a> {
    /// The page.
    pub page: &'a Page,
    /// The request's id.
    pub request_id: &'a str,
}

impl Serialize for PageJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Inner<'a>(&'a PageJson<'a>);
        impl Serialize for Inner<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let set = self.0.page.items.iter().map(|key_pair| KeyPairJson {
                    key_pair,
                    private_key: None,
                });
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("KeyPairSet", &Seq(set))?;
                m.serialize_entry("RequestId", self.0.request_id)?;
                m.serialize_entry("TotalCount", &self.0.page.total)?;
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("Response", &Inner(self))?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CVM, LIGHTHOUSE};
    use keypair_core::fixtures::{fresh_scope, key_pair};
    use keypair_core::{Association, InstanceId, Product, Tag, Tags};

    /// A key pair of `product` with two tags and two bindings (one with a username).
    fn rich(product: Product) -> KeyPair {
        let scope = fresh_scope(product);
        let mut kp = key_pair(&scope, "rich", 7, 1_700_000_000_000);
        kp.tags = Tags::from_stored(vec![
            Tag::from_stored("z".into(), "last \"quoted\"".into()),
            Tag::from_stored("a".into(), "first".into()),
        ]);
        let prefix = product.spec().instance_id_prefix;
        kp.associations = vec![
            Association {
                instance: InstanceId::parse(product, &format!("{prefix}aaaaaaaa")).unwrap(),
                username: None,
            },
            Association {
                instance: InstanceId::parse(product, &format!("{prefix}bbbbbbbb")).unwrap(),
                username: Some("ubuntu".into()),
            },
        ];
        kp
    }

    /// The direct encoding is byte for byte what a sorted `serde_json::Map` writes,
    /// which is what keypaird wrote before: every member is in name order.
    #[test]
    fn direct_encoding_matches_the_sorted_map_encoding() {
        for product in [CVM.product, LIGHTHOUSE.product] {
            let kp = rich(product);
            for private_key in [None, Some("-----BEGIN RSA PRIVATE KEY-----\n…")] {
                let view = KeyPairJson {
                    key_pair: &kp,
                    private_key,
                };
                let direct = serde_json::to_string(&view).unwrap();
                let sorted = serde_json::to_value(&view).unwrap().to_string();
                assert_eq!(direct, sorted, "{product} {private_key:?}");
            }
            let page = Page {
                total: 3,
                items: vec![kp.clone(), kp],
            };
            let answer = PageJson {
                page: &page,
                request_id: "rid",
            };
            let direct = serde_json::to_string(&answer).unwrap();
            assert_eq!(direct, serde_json::to_value(&answer).unwrap().to_string());
            let v: serde_json::Value = serde_json::from_str(&direct).unwrap();
            assert_eq!(v["Response"]["TotalCount"], 3);
            assert_eq!(
                v["Response"]["KeyPairSet"][1]["Tags"][0]["Key"], "z",
                "tags keep their order"
            );
        }
    }

    #[test]
    fn members_differ_by_product_as_the_spec_says() {
        let cvm = serde_json::to_value(KeyPairJson {
            key_pair: &rich(CVM.product),
            private_key: None,
        })
        .unwrap();
        assert!(cvm.get("PrivateKey").is_none() && cvm["ProjectId"] == 0);
        assert!(cvm.get("AssociatedInstanceSet").is_none());
        let lh = serde_json::to_value(KeyPairJson {
            key_pair: &rich(LIGHTHOUSE.product),
            private_key: None,
        })
        .unwrap();
        assert!(lh["PrivateKey"].is_null() && lh.get("ProjectId").is_none());
        assert_eq!(lh["AssociatedInstanceSet"][0]["Username"], DEFAULT_USERNAME);
        assert_eq!(lh["AssociatedInstanceSet"][1]["Username"], "ubuntu");
    }
}
