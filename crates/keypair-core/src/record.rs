//! The serde form of a stored key pair (feature `serde`): plain fields, so embedders and
//! the export format (`keypaird export`) share one shape, and a deserialised record is
//! re-validated through the core's value types, so a hand-edited or hostile record cannot
//! become a [`KeyPair`] the API would refuse.

use crate::{
    AccountId, Association, Description, Error, InstanceId, KeyId, KeyName, KeyPair, Product,
    ProjectId, PublicKey, Result, Tag, Tags, Timestamp,
};
use serde::{Deserialize, Serialize};

/// A key pair as plain data. Field order is the canonical order of the export format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPairRecord {
    /// `skey-…` or `lhkp-…`; the prefix names the product.
    pub id: String,
    /// The owning account.
    pub account: String,
    /// The name.
    pub name: String,
    /// The CVM project (0 on Lighthouse).
    pub project: u64,
    /// The CVM description.
    pub description: String,
    /// The normalised OpenSSH public key.
    pub public_key: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Tags in order.
    pub tags: Vec<TagRecord>,
    /// Bindings, ordered by instance id.
    pub associations: Vec<AssociationRecord>,
}

/// A tag as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRecord {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A binding as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssociationRecord {
    /// The instance.
    pub instance: String,
    /// Lighthouse: the login user it was bound for.
    pub username: Option<String>,
}

impl From<&KeyPair> for KeyPairRecord {
    fn from(kp: &KeyPair) -> Self {
        KeyPairRecord {
            id: kp.id.as_str().to_owned(),
            account: kp.account.as_str().to_owned(),
            name: kp.name.as_str().to_owned(),
            project: kp.project.get(),
            description: kp.description.as_str().to_owned(),
            public_key: kp.public_key.as_openssh().to_owned(),
            created_ms: kp.created_at.as_millis(),
            tags: kp
                .tags
                .as_slice()
                .iter()
                .map(|t| TagRecord {
                    key: t.key().to_owned(),
                    value: t.value().to_owned(),
                })
                .collect(),
            associations: kp
                .associations
                .iter()
                .map(|a| AssociationRecord {
                    instance: a.instance.as_str().to_owned(),
                    username: a.username.clone(),
                })
                .collect(),
        }
    }
}

impl From<KeyPair> for KeyPairRecord {
    fn from(kp: KeyPair) -> Self {
        KeyPairRecord::from(&kp)
    }
}

impl TryFrom<KeyPairRecord> for KeyPair {
    type Error = Error;

    /// Every field through its value type, as the API would check it: a Lighthouse
    /// record with a project or a description, tags over the product's rules, bindings
    /// to another product's instances or an unsorted or repeated binding are refused.
    fn try_from(r: KeyPairRecord) -> Result<KeyPair> {
        let product = Product::ALL
            .into_iter()
            .find(|p| r.id.starts_with(p.spec().key_id_prefix))
            .ok_or_else(|| Error::KeyIdMalformed {
                id: r.id.clone(),
                prefix: "skey- or lhkp-",
            })?;
        let id = KeyId::parse(product, &r.id)?;
        let project = i64::try_from(r.project)
            .map_err(|_| Error::ProjectIdInvalid(i64::MAX))
            .and_then(ProjectId::parse)?;
        let description = Description::parse(&r.description)?;
        if !product.spec().has_projects
            && (project != ProjectId::DEFAULT || !description.as_str().is_empty())
        {
            return Err(Error::ProjectNotFound(r.project));
        }
        let tags = r
            .tags
            .iter()
            .map(|t| Tag::new(&t.key, &t.value))
            .collect::<Result<Vec<_>>>()?;
        let count = tags.len();
        let tags = Tags::new(product, tags)?;
        if tags.as_slice().len() != count {
            return Err(Error::DuplicateTagKey(
                "(a repeated key in the record)".into(),
            ));
        }
        let associations = r
            .associations
            .iter()
            .map(|a| {
                let instance = InstanceId::parse(product, &a.instance)?;
                if let Some(u) = &a.username {
                    crate::service::validate_username(u)?;
                }
                Ok(Association {
                    instance,
                    username: a.username.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if associations
            .windows(2)
            .any(|w| w[0].instance >= w[1].instance)
        {
            return Err(Error::DuplicateId {
                what: "associations (sorted by instance id, each once)",
                id: r.id.clone(),
            });
        }
        Ok(KeyPair {
            id,
            account: AccountId::parse(&r.account)?,
            name: KeyName::parse(&r.name)?,
            project,
            description,
            public_key: PublicKey::parse_openssh(&r.public_key)?,
            created_at: Timestamp::from_millis(r.created_ms),
            tags,
            associations,
        })
    }
}
