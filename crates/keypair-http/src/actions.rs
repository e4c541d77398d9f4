//! The seven actions on the wire: which parameters each takes per product, decoding them
//! into the core's requests, and writing the answer in the product's structures
//! (spec §2, §3).

use crate::decode as de;
use crate::error::{from_domain, ApiError};
use crate::params::Params;
use crate::wire::TagsParameter;
use keypair_core::{
    Action, CreateKeyPair, DescribeKeyPairs, ImportKeyPair, InstanceBinding, KeyPair,
    KeyPairService, ModifyKeyPairAttribute, Product, RawFilter, RawTag, Scope,
};
use serde_json::{json, Map, Value};

type Out = Map<String, Value>;

/// An action's answer, without its `RequestId`.
#[derive(Debug)]
pub enum Answer {
    /// The answer's members.
    Fields(Out),
    /// A describe page, encoded straight from its key pairs ([`crate::encode`]).
    Page(keypair_core::Page),
}

/// An action's parameters, decoded and type-checked (values are validated by the core).
#[derive(Debug)]
pub enum Request {
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
pub fn decode(product: Product, action: Action, params: Params) -> Result<Request, ApiError> {
    let name = action.name();
    let wire = crate::wire::spec(product);
    let lighthouse_binding = product.spec().binding_type_parameter;
    Ok(match action {
        Action::Create => Request::Create(match wire.tags {
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
        Action::Import => Request::Import(decode_import(wire.tags, params, name)?),
        Action::Describe => Request::Describe(describe_request(de::decode(params, name)?)),
        Action::Delete => Request::Delete(de::decode::<de::Delete>(params, name)?.key_ids),
        Action::Modify => {
            let r: de::Modify = de::decode(params, name)?;
            Request::Modify(ModifyKeyPairAttribute {
                key_id: r.key_id,
                name: r.key_name,
                description: r.description,
            })
        }
        Action::Associate | Action::Disassociate => {
            let binding = decode_binding(lighthouse_binding, action, params)?;
            if action == Action::Associate {
                Request::Associate(binding)
            } else {
                Request::Disassociate(binding)
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

/// Runs `action` for `scope` with the request's parameters; the answer's fields without
/// `RequestId`.
pub async fn run(
    service: &KeyPairService,
    scope: &Scope,
    action: Action,
    params: Params,
) -> Result<Answer, ApiError> {
    let product = scope.product;
    let domain = |e: keypair_core::Error| {
        if crate::error::is_internal(&e) {
            let cause = keypair_core::error_chain(&e);
            tracing::error!(action = action.name(), %product, error = %cause, "internal error");
        }
        from_domain(&e, product)
    };
    Ok(Answer::Fields(match decode(product, action, params)? {
        Request::Create(req) => {
            let created = service.create(scope, req).await.map_err(domain)?;
            let kp = key_pair_json(&created.key_pair, Some(created.private_key.expose()));
            obj([("KeyPair", kp)])
        }
        Request::Import(req) => {
            let kp = service.import(scope, req).await.map_err(domain)?;
            obj([("KeyId", json!(kp.id.as_str()))])
        }
        Request::Describe(req) => {
            let page = service.describe(scope, &req).await.map_err(domain)?;
            return Ok(Answer::Page(page));
        }
        Request::Delete(ids) => {
            service.delete(scope, &ids).await.map_err(domain)?;
            Out::new()
        }
        Request::Modify(req) => {
            service.modify(scope, &req).await.map_err(domain)?;
            Out::new()
        }
        Request::Associate(binding) => {
            service.associate(scope, &binding).await.map_err(domain)?;
            Out::new()
        }
        Request::Disassociate(binding) => {
            service
                .disassociate(scope, &binding)
                .await
                .map_err(domain)?;
            Out::new()
        }
    }))
}

fn obj<const N: usize>(fields: [(&str, Value); N]) -> Out {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A key pair as the API answers it ([`crate::encode::KeyPairJson`]).
pub fn key_pair_json(key_pair: &KeyPair, private_key: Option<&str>) -> Value {
    let view = crate::encode::KeyPairJson {
        key_pair,
        private_key,
    };
    // Serialising plain strings and numbers into a Value cannot fail.
    serde_json::to_value(view).unwrap_or(Value::Null)
}
