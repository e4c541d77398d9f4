//! Identifiers: key ids, instance ids, account ids and project ids, and the `IdGenerator`
//! port with its random and deterministic implementations.

use crate::{Error, Product, Result};
use rand_core::{OsRng, RngCore};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

const ID_SUFFIX_LEN: usize = 8;
const ID_ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn has_id_form(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == ID_SUFFIX_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

/// A key-pair id: the product's prefix (`skey-`, `lhkp-`) and 8 of `[0-9a-z]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Validates `s` as a key id of `product`.
    pub fn parse(product: Product, s: &str) -> Result<Self> {
        let prefix = product.spec().key_id_prefix;
        if has_id_form(s, prefix) {
            Ok(KeyId(s.to_owned()))
        } else {
            Err(Error::KeyIdMalformed {
                id: s.to_owned(),
                prefix,
            })
        }
    }

    /// A value a store wrote after it passed `parse`, taken as it is: reading a record
    /// back does not check it again (the write did, and the store's schema guards it).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// Builds the id of `product` with the given 8-character suffix from the id alphabet.
    fn from_suffix(product: Product, suffix: &[u8; ID_SUFFIX_LEN]) -> Self {
        let mut s = String::with_capacity(13);
        s.push_str(product.spec().key_id_prefix);
        s.extend(suffix.iter().map(|b| char::from(*b)));
        KeyId(s)
    }

    /// The product the id belongs to, read from its prefix.
    pub fn product(&self) -> Product {
        Product::ALL
            .into_iter()
            .find(|p| self.0.starts_with(p.spec().key_id_prefix))
            .unwrap_or(Product::Cvm)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The comment a generated public key carries: the id with `-` replaced by `_`.
    pub fn key_comment(&self) -> String {
        self.0.replace('-', "_")
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An instance id: `ins-` (CVM) or `lhins-` (Lighthouse) and 8 of `[0-9a-z]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(String);

impl InstanceId {
    /// Validates `s` as an instance id of `product`.
    pub fn parse(product: Product, s: &str) -> Result<Self> {
        let prefix = product.spec().instance_id_prefix;
        if has_id_form(s, prefix) {
            Ok(InstanceId(s.to_owned()))
        } else {
            Err(Error::InstanceIdMalformed {
                id: s.to_owned(),
                prefix,
            })
        }
    }

    /// A value a store wrote after it passed `parse`, taken as it is: reading a record
    /// back does not check it again (the write did, and the store's schema guards it).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The account a key pair belongs to (Tencent's UIN, or any 1–64 of `[A-Za-z0-9_-]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Validates an account id.
    pub fn parse(s: &str) -> Result<Self> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(AccountId(s.to_owned()))
        } else {
            Err(Error::AccountIdMalformed(s.to_owned()))
        }
    }

    /// A value a store wrote after it passed `parse`, taken as it is: reading a record
    /// back does not check it again (the write did, and the store's schema guards it).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A CVM project id; 0 is the default project and always exists. Lighthouse key pairs
/// carry 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectId(u64);

impl ProjectId {
    /// The default project.
    pub const DEFAULT: ProjectId = ProjectId(0);

    /// Validates a project id as it arrives on the wire (a signed integer).
    pub fn parse(value: i64) -> Result<Self> {
        u64::try_from(value)
            .map(ProjectId)
            .map_err(|_| Error::ProjectIdInvalid(value))
    }

    /// A project id from an unsigned value, which is always valid.
    pub const fn new(value: u64) -> Self {
        ProjectId(value)
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Port: makes new key ids.
///
/// Contract: every id returned is a valid [`KeyId`] of the product. Ids need not be
/// unique: when the store reports a collision ([`crate::StoreError::DuplicateId`]) the
/// service asks for another, so a collision is never surfaced to a caller.
pub trait IdGenerator: Send + Sync {
    /// A new id for `product`.
    fn next_id(&self, product: Product) -> KeyId;
}

/// Random ids from the operating system's CSPRNG: 36^8 ≈ 2.8·10^12 per product.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn next_id(&self, product: Product) -> KeyId {
        let mut suffix = [0u8; ID_SUFFIX_LEN];
        for b in &mut suffix {
            // Rejection sampling keeps every character equally likely.
            *b = loop {
                let r = (OsRng.next_u32() & 0xff) as u8;
                if r < 252 {
                    break ID_ALPHABET[usize::from(r % 36)];
                }
            };
        }
        KeyId::from_suffix(product, &suffix)
    }
}

/// Deterministic ids for tests: `skey-00000001`, `skey-00000002`, … in base 36, one
/// counter shared by both products.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl SequentialIds {
    /// Starts after `start` (the first id is `start + 1`).
    pub fn starting_at(start: u64) -> Self {
        SequentialIds(AtomicU64::new(start))
    }
}

impl IdGenerator for SequentialIds {
    fn next_id(&self, product: Product) -> KeyId {
        let mut n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        let mut suffix = [b'0'; ID_SUFFIX_LEN];
        for b in suffix.iter_mut().rev() {
            *b = ID_ALPHABET[(n % 36) as usize];
            n /= 36;
        }
        KeyId::from_suffix(product, &suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_follow_the_product_prefix() {
        assert!(KeyId::parse(Product::Cvm, "skey-mv9yzyjj").is_ok());
        assert!(KeyId::parse(Product::Cvm, "skey-1122").is_err());
        assert!(KeyId::parse(Product::Cvm, "skey-MV9YZYJJ").is_err());
        assert!(KeyId::parse(Product::Cvm, "lhkp-omd12oc1").is_err());
        let id = KeyId::parse(Product::Lighthouse, "lhkp-omd12oc1").unwrap();
        assert_eq!(id.product(), Product::Lighthouse);
        assert_eq!(id.key_comment(), "lhkp_omd12oc1");
    }

    #[test]
    fn generated_ids_are_valid() {
        let seq = SequentialIds::default();
        assert_eq!(seq.next_id(Product::Cvm).as_str(), "skey-00000001");
        assert_eq!(seq.next_id(Product::Lighthouse).as_str(), "lhkp-00000002");
        for p in Product::ALL {
            let id = RandomIds.next_id(p);
            assert!(KeyId::parse(p, id.as_str()).is_ok(), "{id}");
        }
    }

    #[test]
    fn instance_and_project_ids() {
        assert!(InstanceId::parse(Product::Cvm, "ins-1e4r6y8i").is_ok());
        assert!(InstanceId::parse(Product::Lighthouse, "ins-1e4r6y8i").is_err());
        assert!(InstanceId::parse(Product::Lighthouse, "lhins-ruy9d2tw").is_ok());
        assert!(ProjectId::parse(-1).is_err());
        assert_eq!(ProjectId::parse(1001).unwrap().get(), 1001);
        assert!(AccountId::parse("").is_err());
        assert!(AccountId::parse("1250000001").is_ok());
    }
}
