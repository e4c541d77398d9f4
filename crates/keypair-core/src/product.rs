//! CVM and Lighthouse as data: the version, id prefixes, list limits, filter names and
//! the behaviours in which the two products differ.
//!
//! Everything product-specific that the use-cases need is a field of [`ProductSpec`], so
//! that the rest of the crate asks the spec instead of matching on the product.

use crate::RepeatedTagKey;
use std::fmt;

/// A Tencent Cloud product that has key-pair actions. Each is its own namespace: names
/// and public keys are unique per (account, product).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    /// Cloud Virtual Machine, API version 2017-03-12, key ids `skey-xxxxxxxx`.
    Cvm,
    /// Lighthouse, API version 2020-03-24, key ids `lhkp-xxxxxxxx`.
    Lighthouse,
}

/// How the `key-name` filter compares its values with names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameMatch {
    /// The name equals one of the values (CVM).
    Exact,
    /// The name contains one of the values, case-sensitively (Lighthouse "fuzzy match").
    Substring,
}

/// What an association request does with a (key, instance) pair that is already in the
/// requested state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepeatedBinding {
    /// Binding twice or unbinding what is not bound is a no-op (CVM).
    Ignore,
    /// It is an error naming the pair (Lighthouse `KeyPairBindDuplicate` /
    /// `KeyPairNotBoundToInstance`).
    Reject,
}

/// The product-specific facts of the key-pair API (spec §1, §2).
#[derive(Debug)]
#[non_exhaustive]
pub struct ProductSpec {
    /// The product this describes.
    pub product: Product,
    /// API version string, the one discriminator present in every request style.
    pub version: &'static str,
    /// TC3 credential-scope service name and default host prefix.
    pub service: &'static str,
    /// Key id prefix including the dash (`skey-`).
    pub key_id_prefix: &'static str,
    /// Instance id prefix including the dash (`ins-`).
    pub instance_id_prefix: &'static str,
    /// Whether key pairs belong to projects (`ProjectId` exists).
    pub has_projects: bool,
    /// The actions this product has (Lighthouse has no `ModifyKeyPairAttribute`): the
    /// one place that says so. Their wire names and rates are the HTTP adapter's.
    pub actions: &'static [Action],
    /// Filter names `DescribeKeyPairs` accepts, besides `tag:<key>`.
    pub filter_names: &'static [&'static str],
    /// How `key-name` matches.
    pub name_match: NameMatch,
    /// Most filters in one describe.
    pub max_filters: usize,
    /// Most values in one filter.
    pub max_filter_values: usize,
    /// Most ids in one describe.
    pub max_describe_ids: usize,
    /// Most ids in one delete.
    pub max_delete_ids: usize,
    /// Most key ids and most instance ids in one associate or disassociate.
    pub max_association_ids: usize,
    /// Most tags on one key pair.
    pub max_tags: usize,
    /// Behaviour for repeated binds and unbinds.
    pub repeated_binding: RepeatedBinding,
    /// Whether Associate/Disassociate take a type parameter (`AssociateType`: ONLINE or
    /// OFFLINE) rather than `ForceStop`.
    pub binding_type_parameter: bool,
    /// What a tag key repeated in one request does.
    pub repeated_tag_key: RepeatedTagKey,
    /// Whether a repeated id in one request's id list is an error
    /// (`InvalidParameterValue.Duplicated`) rather than folded into one.
    pub reject_duplicate_ids: bool,
}

static CVM: ProductSpec = ProductSpec {
    product: Product::Cvm,
    version: "2017-03-12",
    service: "cvm",
    key_id_prefix: "skey-",
    instance_id_prefix: "ins-",
    has_projects: true,
    actions: &Action::ALL,
    filter_names: &["project-id", "key-name", "tag-key", "tag-value"],
    name_match: NameMatch::Exact,
    // The spec states no CVM maxima; these match Lighthouse's so clients see one rule.
    max_filters: 10,
    max_filter_values: 5,
    max_describe_ids: 100,
    max_delete_ids: 100,
    max_association_ids: 100,
    max_tags: 50,
    repeated_binding: RepeatedBinding::Ignore,
    binding_type_parameter: false,
    // CVM's error list has InvalidParameterValue.DuplicateTags.
    repeated_tag_key: RepeatedTagKey::Reject,
    reject_duplicate_ids: false,
};

static LIGHTHOUSE: ProductSpec = ProductSpec {
    product: Product::Lighthouse,
    version: "2020-03-24",
    service: "lighthouse",
    key_id_prefix: "lhkp-",
    instance_id_prefix: "lhins-",
    has_projects: false,
    actions: &[
        Action::Create,
        Action::Import,
        Action::Describe,
        Action::Delete,
        Action::Associate,
        Action::Disassociate,
    ],
    filter_names: &["key-id", "key-name", "tag-key", "tag-value"],
    name_match: NameMatch::Substring,
    max_filters: 10,
    max_filter_values: 5,
    max_describe_ids: 100,
    max_delete_ids: 10,
    max_association_ids: 100,
    max_tags: 10,
    repeated_binding: RepeatedBinding::Reject,
    binding_type_parameter: true,
    // Lighthouse's `Tags`: an existing key gets its value replaced.
    repeated_tag_key: RepeatedTagKey::Replace,
    reject_duplicate_ids: true,
};

impl Product {
    /// Both products, CVM first.
    pub const ALL: [Product; 2] = [Product::Cvm, Product::Lighthouse];

    /// The facts of this product.
    pub fn spec(self) -> &'static ProductSpec {
        match self {
            Product::Cvm => &CVM,
            Product::Lighthouse => &LIGHTHOUSE,
        }
    }

    /// The product whose API version this is.
    pub fn from_version(version: &str) -> Option<Product> {
        Product::ALL
            .into_iter()
            .find(|p| p.spec().version == version)
    }

    /// The product whose TC3 service name this is.
    pub fn from_service(service: &str) -> Option<Product> {
        Product::ALL
            .into_iter()
            .find(|p| p.spec().service == service)
    }

    /// A short stable name (`cvm`, `lighthouse`) for storage and logs.
    pub fn as_str(self) -> &'static str {
        self.spec().service
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Product {
    type Err = UnknownProduct;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Product::from_service(s).ok_or_else(|| UnknownProduct(s.to_owned()))
    }
}

/// A product name that is neither `cvm` nor `lighthouse`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown product {0:?}: expected \"cvm\" or \"lighthouse\"")]
pub struct UnknownProduct(pub String);

/// The key-pair actions of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// CreateKeyPair
    Create,
    /// ImportKeyPair
    Import,
    /// DescribeKeyPairs
    Describe,
    /// DeleteKeyPairs
    Delete,
    /// ModifyKeyPairAttribute (CVM only)
    Modify,
    /// AssociateInstancesKeyPairs
    Associate,
    /// DisassociateInstancesKeyPairs
    Disassociate,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 7] = [
        Action::Create,
        Action::Import,
        Action::Describe,
        Action::Delete,
        Action::Modify,
        Action::Associate,
        Action::Disassociate,
    ];

    /// The wire name (`CreateKeyPair`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "CreateKeyPair",
            Action::Import => "ImportKeyPair",
            Action::Describe => "DescribeKeyPairs",
            Action::Delete => "DeleteKeyPairs",
            Action::Modify => "ModifyKeyPairAttribute",
            Action::Associate => "AssociateInstancesKeyPairs",
            Action::Disassociate => "DisassociateInstancesKeyPairs",
        }
    }

    /// The action with this wire name, if the product has it.
    pub fn from_name(name: &str, product: Product) -> Option<Action> {
        let spec = product.spec();
        Action::ALL
            .into_iter()
            .find(|a| a.name() == name && spec.has_action(*a))
    }
}

impl ProductSpec {
    /// Whether this product has `action`.
    pub fn has_action(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_services_round_trip() {
        for p in Product::ALL {
            assert_eq!(Product::from_version(p.spec().version), Some(p));
            assert_eq!(p.as_str().parse::<Product>(), Ok(p));
        }
        assert_eq!(Product::from_version("2017-03-13"), None);
        assert!("ec2".parse::<Product>().is_err());
    }

    #[test]
    fn modify_exists_only_on_cvm() {
        assert_eq!(
            Action::from_name("ModifyKeyPairAttribute", Product::Cvm),
            Some(Action::Modify)
        );
        assert_eq!(
            Action::from_name("ModifyKeyPairAttribute", Product::Lighthouse),
            None
        );
        assert!(!Product::Lighthouse.spec().has_action(Action::Modify));
        assert!(Product::Cvm.spec().has_action(Action::Modify));
    }
}
