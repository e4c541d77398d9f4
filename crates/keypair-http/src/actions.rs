//! The seven actions on the wire: which parameters each takes per product, decoding them
//! into the core's requests, and writing the answer in the product's structures
//! (spec §2, §3).

use crate::error::{from_domain, ApiError};
use crate::params::{Fields, Params};
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

/// Decodes `action`'s parameters for `product`: unknown, missing and mistyped parameters
/// are refused here, before anything runs.
pub fn decode(product: Product, action: Action, params: &Params) -> Result<Request, ApiError> {
    let name = action.name();
    Ok(match action {
        Action::Create => {
            let req = decode_new(params, product, name, false)?;
            Request::Create(CreateKeyPair {
                name: req.name,
                project_id: req.project_id,
                tags: req.tags,
            })
        }
        Action::Import => {
            let req = decode_new(params, product, name, true)?;
            Request::Import(ImportKeyPair {
                name: req.name,
                project_id: req.project_id,
                public_key: req.public_key.unwrap_or_default(),
                tags: req.tags,
            })
        }
        Action::Describe => {
            let f = Fields::new(params, name, &["KeyIds", "Filters", "Offset", "Limit"])?;
            let filters = f.structs("Filters", name, &["Name", "Values"], |s| {
                Ok(RawFilter {
                    name: s.required_string("Name")?,
                    values: s.required_strings("Values")?,
                })
            })?;
            Request::Describe(DescribeKeyPairs {
                key_ids: f.strings("KeyIds")?,
                filters,
                offset: f.integer("Offset")?,
                limit: f.integer("Limit")?,
            })
        }
        Action::Delete => {
            Request::Delete(Fields::new(params, name, &["KeyIds"])?.required_strings("KeyIds")?)
        }
        Action::Modify => {
            let f = Fields::new(params, name, &["KeyId", "KeyName", "Description"])?;
            Request::Modify(ModifyKeyPairAttribute {
                key_id: f.required_string("KeyId")?,
                name: f.string("KeyName")?,
                description: f.string("Description")?,
            })
        }
        Action::Associate => Request::Associate(decode_binding(params, product, action)?),
        Action::Disassociate => Request::Disassociate(decode_binding(params, product, action)?),
    })
}

/// Runs `action` for `scope` with the request's parameters; the answer's fields without
/// `RequestId`.
pub async fn run(
    service: &KeyPairService,
    scope: &Scope,
    action: Action,
    params: &Params,
) -> Result<Answer, ApiError> {
    let product = scope.product;
    let domain = |e: keypair_core::Error| {
        if crate::error::is_internal(&e) {
            let cause = crate::error::chain(&e);
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

struct NewKeyPair {
    name: String,
    project_id: Option<i64>,
    public_key: Option<String>,
    tags: Vec<RawTag>,
}

/// Create and Import share their parameters but `PublicKey`; CVM requires `ProjectId`
/// and tags arrive as `TagSpecification`, Lighthouse has `Tags`.
fn decode_new(
    params: &Params,
    product: Product,
    action: &str,
    import: bool,
) -> Result<NewKeyPair, ApiError> {
    let wire = crate::wire::spec(product);
    let mut allowed = vec!["KeyName"];
    if import {
        allowed.push("PublicKey");
    }
    allowed.extend(wire.new_key_pair_params);
    let f = Fields::new(params, action, &allowed)?;
    let name = f.required_string("KeyName")?;
    let public_key = if import {
        Some(f.required_string("PublicKey")?)
    } else {
        None
    };
    let project_id = if wire.requires_project {
        Some(f.required_integer("ProjectId")?)
    } else {
        None
    };
    let read_tag = |t: &Fields<'_>| {
        Ok(RawTag {
            key: t.required_string("Key")?,
            value: t.required_string("Value")?,
        })
    };
    let tags = match wire.tags {
        TagsParameter::Specification => {
            let specs = f.structs("TagSpecification", action, &["ResourceType", "Tags"], |s| {
                let rt = s.required_string("ResourceType")?;
                if rt != "keypair" {
                    return Err(from_domain(
                        &keypair_core::Error::TagResourceType(rt),
                        product,
                    ));
                }
                Ok(s.structs("Tags", action, &["Key", "Value"], read_tag)?
                    .unwrap_or_default())
            })?;
            specs.unwrap_or_default().into_iter().flatten().collect()
        }
        TagsParameter::Plain => f
            .structs("Tags", action, &["Key", "Value"], read_tag)?
            .unwrap_or_default(),
    };
    Ok(NewKeyPair {
        name,
        project_id,
        public_key,
        tags,
    })
}

/// Associate/Disassociate: CVM takes `ForceStop`; Lighthouse takes `AssociateType` /
/// `DisassociateType` and a `Username`. Their values are the core's to check.
fn decode_binding(
    params: &Params,
    product: Product,
    action: Action,
) -> Result<InstanceBinding, ApiError> {
    let name = action.name();
    let type_field = if action == Action::Associate {
        "AssociateType"
    } else {
        "DisassociateType"
    };
    let allowed: &[&str] = if product.spec().binding_type_parameter {
        &["KeyIds", "InstanceIds", type_field, "Username"]
    } else {
        &["KeyIds", "InstanceIds", "ForceStop"]
    };
    let f = Fields::new(params, name, allowed)?;
    Ok(InstanceBinding {
        key_ids: f.required_strings("KeyIds")?,
        instance_ids: f.required_strings("InstanceIds")?,
        username: f.string("Username")?,
        force_stop: f.boolean("ForceStop")?,
        binding_type: f.string(type_field)?,
    })
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
