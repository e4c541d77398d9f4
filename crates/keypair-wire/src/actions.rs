//! The seven actions on the wire: which parameters each takes per product, decoding them
//! into the core's requests ([`WireRequest`]), running them on a `KeyPairService`
//! ([`execute`]), and the answer in the product's structures (spec §2, §3).

use crate::decode as de;
use crate::encode::{key_pair_json, members, Answer, Members};
use crate::error::{from_domain, ApiError};
use crate::params::Params;
use crate::spec::TagsParameter;
use keypair_core::{
    Action, CreateKeyPair, DescribeKeyPairs, ImportKeyPair, InstanceBinding, KeyPairService,
    ModifyKeyPairAttribute, Product, RawFilter, RawTag, Scope,
};
use serde_json::json;

/// An action's parameters, decoded and type-checked (values are validated by the core).
#[derive(Debug)]
pub enum WireRequest {
    /// CreateKeyPair.
    Create(CreateKeyPair),
    /// ImportKeyPair.
    Import(ImportKeyPair),
    /// DescribeKeyPairs.
    Describe(DescribeKeyPairs),
    /// DeleteKeyPairs: the key ids.
    Delete(Vec<String>),
    /// ModifyKeyPairAttribute.
    Modify(ModifyKeyPairAttribute),
    /// AssociateInstancesKeyPairs.
    Associate(InstanceBinding),
    /// DisassociateInstancesKeyPairs.
    Disassociate(InstanceBinding),
}

/// Decodes `action`'s parameters for `product` into its typed request ([`crate::decode`]):
/// unknown, missing and mistyped parameters are refused here, before anything runs.
pub fn decode(product: Product, action: Action, params: Params) -> Result<WireRequest, ApiError> {
    let name = action.name();
    let wire = crate::spec::spec(product);
    let lighthouse_binding = product.spec().binding_type_parameter;
    Ok(match action {
        Action::Create => WireRequest::Create(match wire.tags {
            TagsParameter::Specification => {
                let r: de::CvmCreate = de::decode(params, name)?;
                let (tags, tag_resource_types) = specified_tags(r.tag_specification);
                CreateKeyPair {
                    name: r.key_name,
                    project_id: Some(r.project_id.0),
                    tags,
                    tag_resource_types,
                }
            }
            TagsParameter::Plain => {
                let r: de::LighthouseCreate = de::decode(params, name)?;
                CreateKeyPair {
                    name: r.key_name,
                    tags: plain_tags(r.tags),
                    ..CreateKeyPair::default()
                }
            }
        }),
        Action::Import => WireRequest::Import(decode_import(wire.tags, params, name)?),
        Action::Describe => WireRequest::Describe(describe_request(de::decode(params, name)?)),
        Action::Delete => WireRequest::Delete(de::decode::<de::Delete>(params, name)?.key_ids),
        Action::Modify => {
            let r: de::Modify = de::decode(params, name)?;
            WireRequest::Modify(ModifyKeyPairAttribute {
                key_id: r.key_id,
                name: r.key_name,
                description: r.description,
            })
        }
        Action::Associate | Action::Disassociate => {
            let binding = decode_binding(lighthouse_binding, action, params)?;
            if action == Action::Associate {
                WireRequest::Associate(binding)
            } else {
                WireRequest::Disassociate(binding)
            }
        }
    })
}

/// The core's DescribeKeyPairs input from the wire's.
fn describe_request(r: de::Describe) -> DescribeKeyPairs {
    let filter = |f: de::Filter| RawFilter {
        name: f.name,
        values: f.values,
    };
    DescribeKeyPairs {
        key_ids: r.key_ids,
        filters: r.filters.map(|fs| fs.into_iter().map(filter).collect()),
        offset: r.offset.map(|i| i.0),
        limit: r.limit.map(|i| i.0),
    }
}

/// ImportKeyPair for a product whose tags arrive as `tags`.
fn decode_import(
    tags: TagsParameter,
    params: Params,
    name: &str,
) -> Result<ImportKeyPair, ApiError> {
    Ok(match tags {
        TagsParameter::Specification => {
            let r: de::CvmImport = de::decode(params, name)?;
            let (tags, tag_resource_types) = specified_tags(r.tag_specification);
            ImportKeyPair {
                name: r.key_name,
                project_id: Some(r.project_id.0),
                public_key: r.public_key,
                tags,
                tag_resource_types,
            }
        }
        TagsParameter::Plain => {
            let r: de::LighthouseImport = de::decode(params, name)?;
            ImportKeyPair {
                name: r.key_name,
                public_key: r.public_key,
                tags: plain_tags(r.tags),
                ..ImportKeyPair::default()
            }
        }
    })
}

/// CVM's `TagSpecification`s: their tags, flattened, and their resource types (the
/// core's to judge).
fn specified_tags(specs: Option<Vec<de::TagSpecification>>) -> (Vec<RawTag>, Vec<String>) {
    let specs = specs.unwrap_or_default();
    let types = specs.iter().map(|s| s.resource_type.clone()).collect();
    let tags = specs.into_iter().flat_map(|s| plain_tags(s.tags)).collect();
    (tags, types)
}

fn plain_tags(tags: Option<Vec<de::Tag>>) -> Vec<RawTag> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|t| RawTag {
            key: t.key,
            value: t.value,
        })
        .collect()
}

/// Associate/Disassociate: CVM takes `ForceStop`; Lighthouse takes `AssociateType` /
/// `DisassociateType` and a `Username`. Their values are the core's to check.
fn decode_binding(
    lighthouse: bool,
    action: Action,
    params: Params,
) -> Result<InstanceBinding, ApiError> {
    let name = action.name();
    if !lighthouse {
        let r: de::CvmBinding = de::decode(params, name)?;
        return Ok(InstanceBinding {
            key_ids: r.key_ids,
            instance_ids: r.instance_ids,
            force_stop: r.force_stop.map(|f| f.0),
            ..InstanceBinding::default()
        });
    }
    let (key_ids, instance_ids, binding_type, username) = if action == Action::Associate {
        let r: de::LighthouseAssociate = de::decode(params, name)?;
        (r.key_ids, r.instance_ids, r.associate_type, r.username)
    } else {
        let r: de::LighthouseDisassociate = de::decode(params, name)?;
        (r.key_ids, r.instance_ids, r.disassociate_type, r.username)
    };
    Ok(InstanceBinding {
        key_ids,
        instance_ids,
        username,
        binding_type,
        force_stop: None,
    })
}

/// Runs a decoded request for `scope` on `service`; the answer's fields without
/// `RequestId`. A domain error becomes the product's code ([`from_domain`]); an internal
/// one keeps its cause in [`ApiError::detail`] for the host's log.
pub async fn execute(
    service: &KeyPairService,
    scope: &Scope,
    request: WireRequest,
) -> Result<Answer, ApiError> {
    let product = scope.product;
    let domain = |e: keypair_core::Error| from_domain(&e, product);
    Ok(Answer::Fields(match request {
        WireRequest::Create(req) => {
            let created = service.create(scope, req).await.map_err(domain)?;
            let kp = key_pair_json(&created.key_pair, Some(created.private_key.expose()));
            members([("KeyPair", kp)])
        }
        WireRequest::Import(req) => {
            let kp = service.import(scope, req).await.map_err(domain)?;
            members([("KeyId", json!(kp.id.as_str()))])
        }
        WireRequest::Describe(req) => {
            let page = service.describe(scope, &req).await.map_err(domain)?;
            return Ok(Answer::Page(page));
        }
        WireRequest::Delete(ids) => {
            service.delete(scope, &ids).await.map_err(domain)?;
            Members::new()
        }
        WireRequest::Modify(req) => {
            service.modify(scope, &req).await.map_err(domain)?;
            Members::new()
        }
        WireRequest::Associate(binding) => {
            service.associate(scope, &binding).await.map_err(domain)?;
            Members::new()
        }
        WireRequest::Disassociate(binding) => {
            service
                .disassociate(scope, &binding)
                .await
                .map_err(domain)?;
            Members::new()
        }
    }))
}
