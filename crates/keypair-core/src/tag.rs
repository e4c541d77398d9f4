//! Resource tags: a key and a value, and a tag list with no repeated keys.

use crate::{Error, Product, Result};

/// One tag. Keys are 1–127 characters, values 1–255, neither with control characters;
/// keys starting with `qcloud`, `tencent` or `project` (any case) are reserved, as on the
/// Tencent tag service.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    key: String,
    value: String,
}

impl Tag {
    /// Most characters in a key.
    pub const MAX_KEY_LEN: usize = 127;
    /// Most characters in a value.
    pub const MAX_VALUE_LEN: usize = 255;
    const RESERVED_PREFIXES: [&'static str; 3] = ["qcloud", "tencent", "project"];

    /// Validates a tag.
    pub fn new(key: &str, value: &str) -> Result<Self> {
        check_text("key", key, Self::MAX_KEY_LEN)?;
        check_text("value", value, Self::MAX_VALUE_LEN)?;
        let lower = key.to_ascii_lowercase();
        if Self::RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            return Err(Error::TagKeyReserved(key.to_owned()));
        }
        Ok(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

fn check_text(what: &str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() {
        return Err(Error::TagInvalid(format!("a tag {what} must not be empty")));
    }
    let len = s.chars().count();
    if len > max {
        return Err(Error::TagInvalid(format!(
            "tag {what} {s:?} has {len} characters; at most {max} are allowed"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::TagInvalid(format!(
            "tag {what} {s:?} contains a control character"
        )));
    }
    Ok(())
}

/// The tags of one key pair: at most the product's maximum, each key once, kept in the
/// order given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// Validates a tag list for `product`.
    pub fn new(product: Product, tags: Vec<Tag>) -> Result<Self> {
        let max = product.spec().max_tags;
        if tags.len() > max {
            return Err(Error::TooManyTags {
                given: tags.len(),
                max,
            });
        }
        for (i, t) in tags.iter().enumerate() {
            if tags[..i].iter().any(|u| u.key == t.key) {
                return Err(Error::TagInvalid(format!(
                    "tag key {:?} is given more than once",
                    t.key
                )));
            }
        }
        Ok(Tags(tags))
    }

    /// The tags.
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    /// The value of the tag with this key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|t| t.key == key).map(|t| t.value())
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_rules() {
        assert!(Tag::new("env", "prod").is_ok());
        assert!(matches!(Tag::new("", "x"), Err(Error::TagInvalid(_))));
        assert!(matches!(Tag::new("k", ""), Err(Error::TagInvalid(_))));
        assert!(matches!(Tag::new("k\n", "v"), Err(Error::TagInvalid(_))));
        assert!(matches!(
            Tag::new("QCloud:x", "v"),
            Err(Error::TagKeyReserved(_))
        ));
        assert!(Tag::new(&"k".repeat(127), &"v".repeat(255)).is_ok());
        assert!(Tag::new(&"k".repeat(128), "v").is_err());
    }

    #[test]
    fn tag_lists_reject_repeated_keys_and_excess() {
        let a = Tag::new("a", "1").unwrap();
        let a2 = Tag::new("a", "2").unwrap();
        assert!(Tags::new(Product::Cvm, vec![a.clone(), a2]).is_err());
        let many: Vec<Tag> = (0..11)
            .map(|i| Tag::new(&format!("k{i}"), "v").unwrap())
            .collect();
        assert!(matches!(
            Tags::new(Product::Lighthouse, many.clone()),
            Err(Error::TooManyTags { given: 11, max: 10 })
        ));
        assert!(Tags::new(Product::Cvm, many).is_ok());
    }
}
