//! The use-cases end to end over the memory store: validation order, business errors,
//! id collisions, projects and what create hands back.

use futures::executor::block_on;
use keypair_core::fixtures::{fresh_scope, synthetic_public_key};
use keypair_core::*;
use keypair_memory::MemoryStore;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn service() -> KeyPairService {
    KeyPairService::builder(Arc::new(MemoryStore::new()))
        .key_generator(Arc::new(RsaKeyGenerator::seeded(KeyBits::Rsa2048, 7)))
        .build()
}

fn import(name: &str, seed: u64) -> ImportKeyPair {
    ImportKeyPair {
        name: name.into(),
        public_key: synthetic_public_key(seed, "me@laptop")
            .as_openssh()
            .to_owned(),
        ..Default::default()
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn create_returns_the_private_key_once_and_stores_the_public_half() {
    let svc = service();
    let scope = fresh_scope(Product::Cvm);
    let req = CreateKeyPair {
        name: "Tencent".into(),
        project_id: Some(0),
        tags: vec![RawTag {
            key: "env".into(),
            value: "prod".into(),
        }],
        ..Default::default()
    };
    let created = block_on(svc.create(&scope, req)).unwrap();
    let kp = &created.key_pair;
    assert!(kp.id.as_str().starts_with("skey-"));
    let comment = kp.public_key.as_openssh().rsplit(' ').next().unwrap();
    assert_eq!(comment, kp.id.key_comment());
    assert!(created
        .private_key
        .expose()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert_eq!(
        format!("{:?}", created.private_key),
        "PrivateKeyPem(<redacted>)"
    );
    let page = block_on(svc.describe(&scope, &DescribeKeyPairs::default())).unwrap();
    assert_eq!(page.items, vec![kp.clone()]);
    assert_eq!(page.items[0].tags.get("env"), Some("prod"));
}

#[test]
fn import_rejects_duplicate_names_and_keys_whatever_the_comment() {
    let svc = service();
    let scope = fresh_scope(Product::Lighthouse);
    let kp = block_on(svc.import(&scope, import("laptop", 1))).unwrap();
    assert!(kp.id.as_str().starts_with("lhkp-"));
    let err = block_on(svc.import(&scope, import("laptop", 2))).unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateName(n) if n == "laptop"),
        "{err}"
    );
    let mut same_key = import("other", 1);
    same_key.public_key = synthetic_public_key(1, "another comment")
        .as_openssh()
        .to_owned();
    let err = block_on(svc.import(&scope, same_key)).unwrap_err();
    assert!(matches!(err, Error::DuplicatePublicKey { .. }), "{err}");
    let mut bad = import("bad", 3);
    bad.public_key = "ssh-rsa AAAA".into();
    assert!(matches!(
        block_on(svc.import(&scope, bad)),
        Err(Error::PublicKeyMalformed(_))
    ));
    // The name is checked before the key.
    let mut both_bad = import("", 3);
    both_bad.public_key = String::new();
    assert!(matches!(
        block_on(svc.import(&scope, both_bad)),
        Err(Error::KeyNameEmpty)
    ));
}

#[test]
fn projects_must_exist_for_the_account() {
    let scope = fresh_scope(Product::Cvm);
    let svc = KeyPairService::builder(Arc::new(MemoryStore::new()))
        .projects(Arc::new(
            StaticProjects::new().with(scope.account.clone(), [ProjectId::new(1001)]),
        ))
        .build();
    let mut req = import("p", 1);
    req.project_id = Some(1002);
    assert!(matches!(
        block_on(svc.import(&scope, req.clone())),
        Err(Error::ProjectNotFound(1002))
    ));
    req.project_id = Some(-1);
    assert!(matches!(
        block_on(svc.import(&scope, req.clone())),
        Err(Error::ProjectIdInvalid(-1))
    ));
    req.project_id = Some(1001);
    let kp = block_on(svc.import(&scope, req.clone())).unwrap();
    assert_eq!(kp.project, ProjectId::new(1001));
    // Another account does not have project 1001.
    let other = fresh_scope(Product::Cvm);
    assert!(matches!(
        block_on(svc.import(&other, req)),
        Err(Error::ProjectNotFound(1001))
    ));
}

#[test]
fn describe_validates_before_touching_the_store() {
    let svc = service();
    let scope = fresh_scope(Product::Cvm);
    let both = DescribeKeyPairs {
        key_ids: Some(strings(&["skey-11112222"])),
        filters: Some(vec![RawFilter {
            name: "key-name".into(),
            values: strings(&["a"]),
        }]),
        ..Default::default()
    };
    assert!(matches!(
        block_on(svc.describe(&scope, &both)),
        Err(Error::IdsWithFilters)
    ));
    let bad_id = DescribeKeyPairs {
        key_ids: Some(strings(&["skey-1122"])),
        ..Default::default()
    };
    assert!(matches!(
        block_on(svc.describe(&scope, &bad_id)),
        Err(Error::KeyIdMalformed { .. })
    ));
    let limit = DescribeKeyPairs {
        limit: Some(101),
        ..Default::default()
    };
    assert!(matches!(
        block_on(svc.describe(&scope, &limit)),
        Err(Error::LimitOutOfRange {
            value: 101,
            max: 100
        })
    ));
    let unknown = DescribeKeyPairs {
        filters: Some(vec![RawFilter {
            name: "key-id".into(),
            values: strings(&["skey-11112222"]),
        }]),
        ..Default::default()
    };
    assert!(matches!(
        block_on(svc.describe(&scope, &unknown)),
        Err(Error::UnknownFilter { .. })
    ));
}

#[test]
fn describe_by_ids_skips_ids_that_do_not_exist() {
    let svc = service();
    let scope = fresh_scope(Product::Cvm);
    let kp = block_on(svc.import(&scope, import("one", 1))).unwrap();
    let req = DescribeKeyPairs {
        key_ids: Some(vec![kp.id.to_string(), "skey-zzzzzzzz".into()]),
        ..Default::default()
    };
    let page = block_on(svc.describe(&scope, &req)).unwrap();
    assert_eq!((page.total, page.items), (1, vec![kp]));
}

#[test]
fn delete_refuses_bound_key_pairs_and_missing_ids() {
    let svc = service();
    let scope = fresh_scope(Product::Cvm);
    let kp = block_on(svc.import(&scope, import("bound", 1))).unwrap();
    let bind = InstanceBinding {
        key_ids: vec![kp.id.to_string()],
        instance_ids: strings(&["ins-1e4r6y8i"]),
        ..Default::default()
    };
    block_on(svc.associate(&scope, &bind)).unwrap();
    let err = block_on(svc.delete(&scope, &[kp.id.to_string()])).unwrap_err();
    assert!(
        matches!(&err, Error::KeyPairInUse { key, .. } if key == &kp.id),
        "{err}"
    );
    assert!(
        err.to_string().contains("ins-1e4r6y8i"),
        "the message names the instance: {err}"
    );
    block_on(svc.disassociate(&scope, &bind)).unwrap();
    let err =
        block_on(svc.delete(&scope, &[kp.id.to_string(), "skey-zzzzzzzz".into()])).unwrap_err();
    assert!(
        matches!(&err, Error::KeyPairNotFound(ids) if ids.len() == 1),
        "{err}"
    );
    block_on(svc.delete(&scope, &[kp.id.to_string(), kp.id.to_string()])).unwrap();
    assert!(matches!(
        block_on(svc.delete(&scope, &[])),
        Err(Error::NoIds("KeyIds"))
    ));
}

#[test]
fn lighthouse_rules_differ_as_data() {
    let svc = service();
    let scope = fresh_scope(Product::Lighthouse);
    let kp = block_on(svc.import(&scope, import("lh", 1))).unwrap();
    let id = kp.id.to_string();
    assert!(matches!(
        block_on(svc.delete(&scope, &[id.clone(), id.clone()])),
        Err(Error::DuplicateId { .. })
    ));
    let eleven: Vec<String> = (0..11).map(|i| format!("lhkp-{i:08}")).collect();
    assert!(matches!(
        block_on(svc.delete(&scope, &eleven)),
        Err(Error::TooManyIds { max: 10, .. })
    ));
    let modify = ModifyKeyPairAttribute {
        key_id: id.clone(),
        name: Some("x".into()),
        description: None,
    };
    assert!(matches!(
        block_on(svc.modify(&scope, &modify)),
        Err(Error::UnsupportedAction { .. })
    ));
    let bind = InstanceBinding {
        key_ids: vec![id.clone()],
        instance_ids: strings(&["lhins-ruy9d2tw"]),
        username: Some("ubuntu".into()),
        ..Default::default()
    };
    block_on(svc.associate(&scope, &bind)).unwrap();
    assert!(matches!(
        block_on(svc.associate(&scope, &bind)),
        Err(Error::AlreadyAssociated { .. })
    ));
    let page = block_on(svc.describe(&scope, &DescribeKeyPairs::default())).unwrap();
    assert_eq!(
        page.items[0].associations[0].username.as_deref(),
        Some("ubuntu")
    );
    let cvm_instance = InstanceBinding {
        instance_ids: strings(&["ins-1e4r6y8i"]),
        ..bind.clone()
    };
    assert!(matches!(
        block_on(svc.associate(&scope, &cvm_instance)),
        Err(Error::InstanceIdMalformed { .. })
    ));
    let bad_user = InstanceBinding {
        username: Some("Root!".into()),
        ..bind
    };
    assert!(matches!(
        block_on(svc.associate(&scope, &bad_user)),
        Err(Error::InvalidUsername(_))
    ));
}

#[test]
fn modify_needs_something_to_change_and_keeps_names_unique() {
    let svc = service();
    let scope = fresh_scope(Product::Cvm);
    let a = block_on(svc.import(&scope, import("a", 1))).unwrap();
    block_on(svc.import(&scope, import("b", 2))).unwrap();
    let mut req = ModifyKeyPairAttribute {
        key_id: a.id.to_string(),
        ..Default::default()
    };
    assert!(matches!(
        block_on(svc.modify(&scope, &req)),
        Err(Error::NothingToModify)
    ));
    req.name = Some("b".into());
    assert!(matches!(
        block_on(svc.modify(&scope, &req)),
        Err(Error::DuplicateName(_))
    ));
    req.name = Some("c".into());
    req.description = Some("x".repeat(61));
    assert!(matches!(
        block_on(svc.modify(&scope, &req)),
        Err(Error::DescriptionTooLong { .. })
    ));
    req.description = Some("for the build farm".into());
    block_on(svc.modify(&scope, &req)).unwrap();
    let page = block_on(svc.describe(
        &scope,
        &DescribeKeyPairs {
            key_ids: Some(vec![a.id.to_string()]),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(
        (
            page.items[0].name.as_str(),
            page.items[0].description.as_str()
        ),
        ("c", "for the build farm")
    );
}

/// Hands out one id twice, then counts on.
struct CollidingIds(AtomicUsize);

impl IdGenerator for CollidingIds {
    fn next_id(&self, product: Product) -> KeyId {
        let n = self.0.fetch_add(1, Ordering::SeqCst).saturating_sub(1);
        KeyId::parse(product, &format!("{}{n:08}", product.spec().key_id_prefix)).unwrap()
    }
}

#[test]
fn id_collisions_are_retried_not_surfaced() {
    let svc = KeyPairService::builder(Arc::new(MemoryStore::new()))
        .ids(Arc::new(CollidingIds(AtomicUsize::new(0))))
        .build();
    let scope = fresh_scope(Product::Cvm);
    let first = block_on(svc.import(&scope, import("first", 1))).unwrap();
    let second = block_on(svc.import(&scope, import("second", 2))).unwrap();
    assert_eq!(first.id.as_str(), "skey-00000000");
    assert_eq!(second.id.as_str(), "skey-00000001");
}

#[test]
fn quota_is_reported_with_its_limit() {
    let svc = KeyPairService::builder(Arc::new(MemoryStore::new()))
        .quota(2)
        .build();
    let scope = fresh_scope(Product::Cvm);
    block_on(svc.import(&scope, import("a", 1))).unwrap();
    block_on(svc.import(&scope, import("b", 2))).unwrap();
    let err = block_on(svc.import(&scope, import("c", 3))).unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded { limit: 2 }), "{err}");
}

#[test]
fn manual_clock_orders_newest_first() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_000)));
    let svc = KeyPairService::builder(Arc::new(MemoryStore::new()))
        .clock(clock.clone())
        .build();
    let scope = fresh_scope(Product::Cvm);
    let old = block_on(svc.import(&scope, import("old", 1))).unwrap();
    clock.advance(1_000);
    let new = block_on(svc.import(&scope, import("new", 2))).unwrap();
    let page = block_on(svc.describe(&scope, &DescribeKeyPairs::default())).unwrap();
    assert_eq!(page.items, vec![new, old]);
}

#[test]
fn tags_may_be_specified_for_key_pairs_only() {
    let svc = service();
    let scope = fresh_scope(Product::Cvm);
    let req = CreateKeyPair {
        name: "tagged".into(),
        project_id: Some(0),
        tag_resource_types: vec!["keypair".into(), "instance".into()],
        ..Default::default()
    };
    let err = block_on(svc.create(&scope, req)).unwrap_err();
    assert!(
        matches!(&err, keypair_core::Error::TagResourceType(t) if t == "instance"),
        "{err}"
    );
    let ok = CreateKeyPair {
        name: "tagged".into(),
        project_id: Some(0),
        tag_resource_types: vec!["keypair".into()],
        ..Default::default()
    };
    assert!(block_on(svc.create(&scope, ok)).is_ok());
}
