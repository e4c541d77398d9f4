//! Resource tags, by Tencent's tag rules: a key and a value, and a tag list.
//!
//! The rules, from the Tag service's "Use Limits" page (product doc 651/13354, 2025–2026;
//! sources in docs/api.md):
//! - a key is 1–127 characters, a value 1–255 (Unicode characters, not bytes);
//! - both consist of ASCII letters and digits, Chinese characters (CJK ideographs),
//!   spaces inside the text (never at its start or end), the punctuation
//!   `+ - = . _ : / @ ( ) [ ] , ; > <`, and the full-width forms a Chinese input method
//!   types, `＋ － ＝ ／ ＠ （ ） 【 】 ：`;
//! - keys starting with `qcs:`, `project` or `项目` (the current page) or `qcloud` or
//!   `tencent` (older pages, still listed by other products) are reserved, ASCII letters
//!   in any case;
//! - each key appears once per key pair: a repeated key in one request is refused on CVM,
//!   and on Lighthouse the later value replaces the earlier one (its `Tags` parameter:
//!   "an existing tag key gets its value replaced");
//! - at most 50 tags per resource (and Lighthouse's `Tags` takes at most 10).

use crate::{Error, Product, Result};

/// One tag; its constructor is the rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    key: String,
    value: String,
}

/// What to do with a key repeated in one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepeatedTagKey {
    /// Refuse the request.
    Reject,
    /// Keep the key once, with the last value given.
    Replace,
}

impl Tag {
    /// Most characters in a key.
    pub const MAX_KEY_LEN: usize = 127;
    /// Most characters in a value.
    pub const MAX_VALUE_LEN: usize = 255;
    /// The ASCII punctuation allowed besides letters, digits and spaces.
    pub const PUNCTUATION: &'static str = "+-=._:/@()[],;><";
    /// The full-width punctuation allowed ("Chinese mode" on the Tag service's page).
    pub const FULL_WIDTH_PUNCTUATION: &'static str = "＋－＝／＠（）【】：";
    /// Key prefixes reserved for the platform, compared ignoring ASCII case.
    pub const RESERVED_PREFIXES: [&'static str; 5] =
        ["qcs:", "project", "项目", "qcloud", "tencent"];

    /// Validates a tag.
    pub fn new(key: &str, value: &str) -> Result<Self> {
        if let Some(reason) = violation(key, Self::MAX_KEY_LEN) {
            return Err(Error::TagKeyIllegal {
                key: crate::text::clip(key),
                reason,
            });
        }
        if let Some(reason) = violation(value, Self::MAX_VALUE_LEN) {
            return Err(Error::TagValueIllegal {
                value: crate::text::clip(value),
                reason,
            });
        }
        if Self::RESERVED_PREFIXES.iter().any(|p| has_prefix(key, p)) {
            return Err(Error::TagKeyReserved(crate::text::clip(key)));
        }
        Ok(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }

    /// Rebuilds a tag read back from storage without re-applying the input rules, so
    /// data written under earlier, looser rules stays readable. Stores only.
    pub fn from_stored(key: String, value: String) -> Self {
        Tag { key, value }
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

/// Whether `key` starts with `prefix`, ASCII letters compared in any case.
fn has_prefix(key: &str, prefix: &str) -> bool {
    key.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Whether `c` may appear in a tag key or value (spaces: see [`violation`]).
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == ' '
        || is_cjk_ideograph(c)
        || Tag::PUNCTUATION.contains(c)
        || Tag::FULL_WIDTH_PUNCTUATION.contains(c)
}

/// Whether `c` is a CJK unified or compatibility ideograph: the "Chinese characters" of
/// the tag rules. Hand-written rather than a `Script=Han` lookup from a crate: Han also
/// holds radicals, strokes and iteration marks, which are not characters a tag page
/// means; and these blocks are fixed (Unicode adds ideographs only in new extension
/// blocks, which a new row here admits).
fn is_cjk_ideograph(c: char) -> bool {
    matches!(u32::from(c),
        0x3400..=0x4DBF        // Extension A
        | 0x4E00..=0x9FFF      // CJK Unified Ideographs
        | 0xF900..=0xFAFF      // Compatibility Ideographs
        | 0x20000..=0x2A6DF    // Extension B
        | 0x2A700..=0x2EE5F    // Extensions C, D, E, F, I
        | 0x2F800..=0x2FA1F    // Compatibility Ideographs Supplement
        | 0x30000..=0x323AF) // Extensions G, H
}

/// Which rule `text` breaks, if any, in words that say how to fix it.
fn violation(text: &str, max: usize) -> Option<String> {
    if text.is_empty() {
        return Some("it is empty; give 1 or more characters".into());
    }
    let len = text.chars().count();
    if len > max {
        return Some(format!(
            "it has {len} characters; at most {max} are allowed"
        ));
    }
    if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
        return Some(format!(
            "it contains {}, which tags do not allow; use ASCII letters and digits, \
             Chinese characters, spaces inside the text, {} or the full-width {}",
            crate::text::shown(bad),
            spaced(Tag::PUNCTUATION),
            spaced(Tag::FULL_WIDTH_PUNCTUATION),
        ));
    }
    let edge = match (text.starts_with(' '), text.ends_with(' ')) {
        (true, _) => "starts",
        (_, true) => "ends",
        _ => return None,
    };
    Some(format!(
        "it {edge} with a space (U+0020); spaces are allowed only inside the text"
    ))
}

/// `+-=` as `+ - =`, for messages.
fn spaced(chars: &str) -> String {
    let list: Vec<String> = chars.chars().map(String::from).collect();
    list.join(" ")
}

/// The tags of one key pair: at most the product's maximum (counted as given), each key
/// once, kept in the order first given.
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
        let mut kept: Vec<Tag> = Vec::with_capacity(tags.len());
        for t in tags {
            match kept.iter_mut().find(|u| u.key == t.key) {
                None => kept.push(t),
                Some(_) if product.spec().repeated_tag_key == RepeatedTagKey::Reject => {
                    return Err(Error::DuplicateTagKey(t.key));
                }
                Some(earlier) => earlier.value = t.value,
            }
        }
        Ok(Tags(kept))
    }

    /// Rebuilds a stored tag list as it was written. Stores only.
    pub fn from_stored(tags: Vec<Tag>) -> Self {
        Tags(tags)
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
    fn tag_lists_handle_repeated_keys_per_product_and_excess() {
        let a = Tag::new("a", "1").unwrap();
        let a2 = Tag::new("a", "2").unwrap();
        let b = Tag::new("b", "3").unwrap();
        assert!(matches!(
            Tags::new(Product::Cvm, vec![a.clone(), a2.clone()]),
            Err(Error::DuplicateTagKey(k)) if k == "a"
        ));
        let lh = Tags::new(Product::Lighthouse, vec![a, b, a2]).unwrap();
        assert_eq!(
            lh.get("a"),
            Some("2"),
            "the later value replaces the earlier"
        );
        assert_eq!(lh.as_slice().len(), 2);
        assert_eq!(lh.as_slice()[0].key(), "a", "kept where it was first given");
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
