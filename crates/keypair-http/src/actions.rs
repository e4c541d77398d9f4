//! The seven actions on the wire: which parameters each takes per product, decoding them
//! into the core's requests, and writing the answer in the product's structures
//! (spec §2, §3).

use crate::error::{from_domain, ApiError};
use crate::params::{Fields, Params};
use keypair_core::{
    Action, CreateKeyPair, DescribeKeyPairs, ImportKeyPair, InstanceBinding, KeyPair,
    KeyPairService, ModifyKeyPairAttribute, Product, RawFilter, RawTag, Scope,
};
use serde_json::{json, Map, Value};

type Out = Map<String, Value>;

/// Runs `action` for `scope` with the decoded parameters; the answer's fields without
/// `RequestId`.
pub async fn run(
    service: &KeyPairService,
    scope: &Scope,
    action: Action,
    params: &Params,
) -> Result<Out, ApiError> {
    let product = scope.product;
    let domain = |e: keypair_core::Error| {
        if crate::error::is_internal(&e) {
            tracing::error!(action = action.name(), %product, error = %e, "internal error");
        }
        from_domain(&e, product)
    };
    let name = action.name();
    match action {
        Action::Create => {
            let req = decode_new(params, product, name, false)?;
            let created = service
                .create(
                    scope,
                    CreateKeyPair {
                        name: req.name,
                        project_id: req.project_id,
                        tags: req.tags,
                    },
                )
                .await
                .map_err(domain)?;
            let kp = key_pair_json(&created.key_pair, Some(created.private_key.expose()));
            Ok(obj([("KeyPair", kp)]))
        }
        Action::Import => {
            let req = decode_new(params, product, name, true)?;
            let kp = service
                .import(
                    scope,
                    ImportKeyPair {
                        name: req.name,
                        project_id: req.project_id,
                        public_key: req.public_key.unwrap_or_default(),
                        tags: req.tags,
                    },
                )
                .await
                .map_err(domain)?;
            Ok(obj([("KeyId", json!(kp.id.as_str()))]))
        }
        Action::Describe => {
            let f = Fields::new(params, name, &["KeyIds", "Filters", "Offset", "Limit"])?;
            let filters = f.structs("Filters", name, &["Name", "Values"], |s| {
                Ok(RawFilter {
                    name: s.required_string("Name")?,
                    values: s.required_strings("Values")?,
                })
            })?;
            let req = DescribeKeyPairs {
                key_ids: f.strings("KeyIds")?,
                filters,
                offset: f.integer("Offset")?,
                limit: f.integer("Limit")?,
            };
            let page = service.describe(scope, &req).await.map_err(domain)?;
            let set: Vec<Value> = page
                .items
                .iter()
                .map(|kp| key_pair_json(kp, None))
                .collect();
            Ok(obj([
                ("TotalCount", json!(page.total)),
                ("KeyPairSet", Value::Array(set)),
            ]))
        }
        Action::Delete => {
            let f = Fields::new(params, name, &["KeyIds"])?;
            service
                .delete(scope, &f.required_strings("KeyIds")?)
                .await
                .map_err(domain)?;
            Ok(Out::new())
        }
        Action::Modify => {
            let f = Fields::new(params, name, &["KeyId", "KeyName", "Description"])?;
            let req = ModifyKeyPairAttribute {
                key_id: f.required_string("KeyId")?,
                name: f.string("KeyName")?,
                description: f.string("Description")?,
            };
            service.modify(scope, &req).await.map_err(domain)?;
            Ok(Out::new())
        }
        Action::Associate | Action::Disassociate => {
            let binding = decode_binding(params, product, action)?;
            if action == Action::Associate {
                service.associate(scope, &binding).await.map_err(domain)?;
            } else {
                service
                    .disassociate(scope, &binding)
                    .await
                    .map_err(domain)?;
            }
            Ok(Out::new())
        }
    }
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
    let mut allowed = vec!["KeyName"];
    if import {
        allowed.push("PublicKey");
    }
    match product {
        Product::Cvm => allowed.extend(["ProjectId", "TagSpecification"]),
        Product::Lighthouse => allowed.push("Tags"),
    }
    let f = Fields::new(params, action, &allowed)?;
    let name = f.required_string("KeyName")?;
    let public_key = if import {
        Some(f.required_string("PublicKey")?)
    } else {
        None
    };
    let read_tag = |t: &Fields<'_>| {
        Ok(RawTag {
            key: t.required_string("Key")?,
            value: t.required_string("Value")?,
        })
    };
    let (project_id, tags) = match product {
        Product::Cvm => {
            let project = f.required_integer("ProjectId")?;
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
            (
                Some(project),
                specs.unwrap_or_default().into_iter().flatten().collect(),
            )
        }
        Product::Lighthouse => {
            let tags = f.structs("Tags", action, &["Key", "Value"], read_tag)?;
            (None, tags.unwrap_or_default())
        }
    };
    Ok(NewKeyPair {
        name,
        project_id,
        public_key,
        tags,
    })
}

/// Associate/Disassociate: CVM takes `ForceStop`; Lighthouse takes `AssociateType` /
/// `DisassociateType` (`ONLINE`, `OFFLINE`) and a `Username` that OFFLINE excludes.
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
    let allowed: &[&str] = match product {
        Product::Cvm => &["KeyIds", "InstanceIds", "ForceStop"],
        _ => &["KeyIds", "InstanceIds", type_field, "Username"],
    };
    let f = Fields::new(params, name, allowed)?;
    let mut username = None;
    if product == Product::Cvm {
        // Instances are not modelled, so there is nothing to stop: the flag is checked
        // for type and otherwise has no effect.
        f.boolean("ForceStop")?;
    } else {
        let kind = f.string(type_field)?;
        if let Some(k) = kind.as_deref() {
            if k != "ONLINE" && k != "OFFLINE" {
                return Err(ApiError::invalid_value(format!(
                    "`{type_field}` must be ONLINE or OFFLINE, got {k:?}"
                )));
            }
        }
        username = f.string("Username")?;
        if kind.as_deref() == Some("OFFLINE") && username.is_some() {
            return Err(ApiError::new(
                "InvalidParameter.ParameterConflict",
                "参数冲突",
                format!("`Username` cannot be given with {type_field}=OFFLINE"),
            ));
        }
    }
    Ok(InstanceBinding {
        key_ids: f.required_strings("KeyIds")?,
        instance_ids: f.required_strings("InstanceIds")?,
        username,
    })
}

/// Lighthouse's login user when none was given at bind time.
const DEFAULT_USERNAME: &str = "root";

/// A key pair in the product's `KeyPair` structure (spec §3.1, §3.2).
pub fn key_pair_json(kp: &KeyPair, private_key: Option<&str>) -> Value {
    let instances: Vec<&str> = kp
        .associations
        .iter()
        .map(|a| a.instance.as_str())
        .collect();
    let tags: Vec<Value> = kp
        .tags
        .as_slice()
        .iter()
        .map(|t| json!({"Key": t.key(), "Value": t.value()}))
        .collect();
    let mut out = obj([
        ("KeyId", json!(kp.id.as_str())),
        ("KeyName", json!(kp.name.as_str())),
        ("PublicKey", json!(kp.public_key.as_openssh())),
        ("AssociatedInstanceIds", json!(instances)),
        ("CreatedTime", json!(kp.created_at.to_string())),
        ("Tags", Value::Array(tags)),
    ]);
    match kp.product() {
        Product::Cvm => {
            out.insert("ProjectId".into(), json!(kp.project.get()));
            out.insert("Description".into(), json!(kp.description.as_str()));
            if let Some(pk) = private_key {
                out.insert("PrivateKey".into(), json!(pk));
            }
        }
        _ => {
            let set: Vec<Value> = kp
                .associations
                .iter()
                .map(|a| json!({"InstanceId": a.instance.as_str(), "Username": a.username.as_deref().unwrap_or(DEFAULT_USERNAME)}))
                .collect();
            out.insert("AssociatedInstanceSet".into(), Value::Array(set));
            out.insert(
                "PrivateKey".into(),
                private_key.map_or(Value::Null, |pk| json!(pk)),
            );
        }
    }
    Value::Object(out)
}
