//! The stored key-pair record and its parts. The record has no private-key field, so a
//! store cannot persist a private key even by mistake.

use crate::{
    AccountId, Description, InstanceId, KeyId, KeyName, Product, ProjectId, PublicKey, Tags,
    Timestamp,
};

/// Whose key pairs an operation sees: one account within one product.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The account.
    pub account: AccountId,
    /// The product namespace.
    pub product: Product,
}

impl Scope {
    /// The scope of `account` in `product`.
    pub fn new(account: AccountId, product: Product) -> Self {
        Scope { account, product }
    }
}

/// An instance a key pair is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Association {
    /// The instance.
    pub instance: InstanceId,
    /// Lighthouse: the login user the key was bound for (`root` by default).
    pub username: Option<String>,
}

/// A key pair as stored and described. With the `serde` feature it (de)serialises as a
/// `KeyPairRecord`, and deserialising re-validates every field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(into = "crate::KeyPairRecord", try_from = "crate::KeyPairRecord")
)]
pub struct KeyPair {
    /// The id; its prefix names the product.
    pub id: KeyId,
    /// The owning account.
    pub account: AccountId,
    /// The name, unique within (account, product).
    pub name: KeyName,
    /// The CVM project; 0 on Lighthouse.
    pub project: ProjectId,
    /// The CVM description; empty on Lighthouse.
    pub description: Description,
    /// The public key, unique by fingerprint within (account, product).
    pub public_key: PublicKey,
    /// When it was created or imported.
    pub created_at: Timestamp,
    /// Its tags.
    pub tags: Tags,
    /// Instances it is bound to, ordered by instance id.
    pub associations: Vec<Association>,
}

impl KeyPair {
    /// The product, from the id.
    pub fn product(&self) -> Product {
        self.id.product()
    }

    /// The (account, product) namespace of this key pair.
    pub fn scope(&self) -> Scope {
        Scope::new(self.account.clone(), self.product())
    }
}

/// What ModifyKeyPairAttribute changes; at least one field is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// A new name.
    pub name: Option<KeyName>,
    /// A new description.
    pub description: Option<Description>,
}
