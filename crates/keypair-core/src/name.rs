//! Key names and descriptions: the constructors are the validation rules.

use crate::{Error, Result};
use std::fmt;

/// A key-pair name: 1 to 25 of `[A-Za-z0-9_]`, compared case-sensitively.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// The most characters a name may have.
    pub const MAX_LEN: usize = 25;

    /// Validates a name. The checks run in a fixed order so every bad name has exactly
    /// one error: empty, then an illegal character (the first one is named), then length.
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() {
            return Err(Error::KeyNameEmpty);
        }
        if let Some(ch) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(Error::KeyNameIllegalChar { ch });
        }
        // Only ASCII is left, so bytes are characters.
        if s.len() > Self::MAX_LEN {
            return Err(Error::KeyNameTooLong {
                len: s.len(),
                max: Self::MAX_LEN,
            });
        }
        Ok(KeyName(s.to_owned()))
    }

    /// A value a store wrote after it passed `parse`, taken as it is: reading a record
    /// back does not check it again (the write did, and the store's schema guards it).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-text description of at most 60 characters (CVM only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Description(String);

impl Description {
    /// The most characters a description may have.
    pub const MAX_LEN: usize = 60;

    /// Validates a description: any text of at most 60 characters without control
    /// characters (which no store need hold: see `text.rs`).
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(ch) = crate::text::first_control(s) {
            return Err(Error::DescriptionIllegalChar { ch });
        }
        let len = s.chars().count();
        if len > Self::MAX_LEN {
            return Err(Error::DescriptionTooLong {
                len,
                max: Self::MAX_LEN,
            });
        }
        Ok(Description(s.to_owned()))
    }

    /// A value a store wrote after it passed `parse`, taken as it is: reading a record
    /// back does not check it again (the write did, and the store's schema guards it).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_name_has_one_error() {
        assert!(matches!(KeyName::parse(""), Err(Error::KeyNameEmpty)));
        assert!(matches!(
            KeyName::parse("a b"),
            Err(Error::KeyNameIllegalChar { ch: ' ' })
        ));
        assert!(matches!(
            KeyName::parse(&"a".repeat(26)),
            Err(Error::KeyNameTooLong { len: 26, max: 25 })
        ));
        // Illegal character wins over length.
        assert!(matches!(
            KeyName::parse(&"é".repeat(30)),
            Err(Error::KeyNameIllegalChar { ch: 'é' })
        ));
        assert_eq!(KeyName::parse(&"Z".repeat(25)).unwrap().as_str().len(), 25);
    }

    #[test]
    fn description_refuses_control_characters() {
        for bad in ["a\0b", "tab\there", "\u{7f}", "line\n", "\u{85}"] {
            assert!(
                matches!(
                    Description::parse(bad),
                    Err(Error::DescriptionIllegalChar { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(Description::parse("web servers, 机房 2 (prod)").is_ok());
    }

    #[test]
    fn description_counts_characters_not_bytes() {
        assert!(Description::parse(&"密".repeat(60)).is_ok());
        assert!(matches!(
            Description::parse(&"密".repeat(61)),
            Err(Error::DescriptionTooLong { len: 61, max: 60 })
        ));
    }
}
