//! The `KeyPairStore` conformance suite, written once and run by every store adapter.
//!
//! Each case is a public async function taking the store under test. Cases work in
//! fresh random accounts, so they can share one store (or one database) and run in
//! parallel. An adapter runs them all with one macro call in a test file:
//!
//! ```ignore
//! keypair_core::store_conformance!(async { std::sync::Arc::new(MyStore::open().await) });
//! ```
//!
//! The macro expands to one `#[tokio::test]` per case, so the calling crate needs
//! `tokio` (features `macros`, `rt-multi-thread`) as a dev-dependency. A new backend is
//! done when every case passes unchanged.

use crate::fixtures::{fresh_scope, key_pair, synthetic_public_key};
use crate::{
    Association, Change, Description, Filter, InstanceId, KeyId, KeyName, KeyPair, KeyPairStore,
    NameMatch, Product, ProjectId, Query, RepeatedBinding, Scope, StoreError, Tag, Tags, Timestamp,
};
use crate::{MAX_BINDINGS_PER_INSTANCE, MAX_BINDINGS_PER_KEY_PAIR};
use futures::future::join_all;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use std::sync::Arc;

/// The store under test.
pub type Store = Arc<dyn KeyPairStore>;

const Q: u32 = 1000;

async fn insert(store: &Store, kp: &KeyPair) {
    store
        .insert(kp.clone(), Q)
        .await
        .unwrap_or_else(|e| panic!("insert of {} failed: {e}", kp.id));
}

async fn all(store: &Store, scope: &Scope) -> Vec<KeyPair> {
    crate::fixtures::all_in_scope(store.as_ref(), scope).await
}

fn instance(product: Product, n: u32) -> InstanceId {
    InstanceId::parse(
        product,
        &format!("{}{n:08}", product.spec().instance_id_prefix),
    )
    .expect("valid instance id")
}

fn binding(product: Product, n: u32, user: Option<&str>) -> Association {
    Association {
        instance: instance(product, n),
        username: user.map(str::to_owned),
    }
}

fn tags(product: Product, pairs: &[(&str, &str)]) -> Tags {
    Tags::new(
        product,
        pairs
            .iter()
            .map(|(k, v)| Tag::new(k, v).expect("tag"))
            .collect(),
    )
    .expect("tags")
}

/// Everything written comes back field for field, through `get` and `query`.
pub async fn insert_then_read_round_trips(store: Store) {
    for product in Product::ALL {
        let scope = fresh_scope(product);
        let mut kp = key_pair(&scope, "round_trip", 1, 1_700_000_000_123);
        kp.tags = tags(product, &[("env", "prod"), ("team", "核心")]);
        kp.project = if product.spec().has_projects {
            ProjectId::new(1001)
        } else {
            ProjectId::DEFAULT
        };
        insert(&store, &kp).await;
        let got = store
            .get(&scope, std::slice::from_ref(&kp.id))
            .await
            .expect("get");
        assert_eq!(got, vec![kp.clone()]);
        assert_eq!(all(&store, &scope).await, vec![kp]);
    }
}

/// Names are unique per (account, product), not across accounts or products.
pub async fn duplicate_name_is_rejected_per_scope(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    insert(&store, &key_pair(&scope, "dup", 1, 1)).await;
    let again = store.insert(key_pair(&scope, "dup", 2, 2), Q).await;
    assert!(
        matches!(&again, Err(StoreError::DuplicateName(n)) if n.as_str() == "dup"),
        "{again:?}"
    );
    // Case matters.
    insert(&store, &key_pair(&scope, "DUP", 3, 3)).await;
    let other_account = fresh_scope(Product::Cvm);
    insert(&store, &key_pair(&other_account, "dup", 1, 1)).await;
    let other_product = Scope::new(scope.account.clone(), Product::Lighthouse);
    insert(&store, &key_pair(&other_product, "dup", 1, 1)).await;
    assert_eq!(all(&store, &scope).await.len(), 2);
}

/// Public keys are unique per scope by fingerprint; the comment does not count.
pub async fn duplicate_public_key_is_rejected_per_scope(store: Store) {
    let scope = fresh_scope(Product::Lighthouse);
    let first = key_pair(&scope, "first", 7, 1);
    insert(&store, &first).await;
    let mut same_key = key_pair(&scope, "second", 7, 2);
    same_key.public_key = synthetic_public_key(7, "another comment");
    let r = store.insert(same_key, Q).await;
    assert!(
        matches!(&r, Err(StoreError::DuplicateFingerprint(f)) if f == first.public_key.fingerprint()),
        "{r:?}"
    );
    insert(
        &store,
        &key_pair(&fresh_scope(Product::Lighthouse), "first", 7, 1),
    )
    .await;
    insert(
        &store,
        &key_pair(&Scope::new(scope.account.clone(), Product::Cvm), "x", 7, 1),
    )
    .await;
    assert_eq!(all(&store, &scope).await, vec![first]);
}

/// Ids are unique across the whole store, whatever the scope.
pub async fn duplicate_id_is_rejected_everywhere(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let kp = key_pair(&scope, "one", 1, 1);
    insert(&store, &kp).await;
    let mut clash = key_pair(&fresh_scope(Product::Cvm), "two", 2, 2);
    clash.id = kp.id.clone();
    let scope2 = clash.scope();
    assert!(matches!(
        store.insert(clash, Q).await,
        Err(StoreError::DuplicateId)
    ));
    assert!(all(&store, &scope2).await.is_empty());
}

/// The quota counts the scope's key pairs and frees up on delete.
pub async fn quota_is_enforced_per_scope(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let mut made = Vec::new();
    for i in 0..3 {
        let kp = key_pair(&scope, &format!("k{i}"), i, i as i64);
        store.insert(kp.clone(), 3).await.expect("under quota");
        made.push(kp);
    }
    let over = store.insert(key_pair(&scope, "k3", 3, 3), 3).await;
    assert!(
        matches!(over, Err(StoreError::QuotaExceeded { limit: 3 })),
        "{over:?}"
    );
    store
        .insert(
            key_pair(
                &Scope::new(scope.account.clone(), Product::Lighthouse),
                "k3",
                3,
                3,
            ),
            3,
        )
        .await
        .expect("other product has its own quota");
    store
        .delete(&scope, &[made[0].id.clone()])
        .await
        .expect("delete");
    store
        .insert(key_pair(&scope, "k3", 3, 3), 3)
        .await
        .expect("room again");
}

/// Another account, or the other product, cannot see or touch a key pair by its id.
pub async fn scopes_are_isolated(store: Store) {
    let owner = fresh_scope(Product::Cvm);
    let kp = key_pair(&owner, "mine", 1, 1);
    insert(&store, &kp).await;
    let ids = vec![kp.id.clone()];
    for intruder in [
        fresh_scope(Product::Cvm),
        Scope::new(owner.account.clone(), Product::Lighthouse),
    ] {
        assert!(store.get(&intruder, &ids).await.expect("get").is_empty());
        assert_eq!(
            store
                .query(&intruder, &Query::all())
                .await
                .expect("query")
                .total,
            0
        );
        let change = Change {
            name: Some(KeyName::parse("stolen").expect("name")),
            description: None,
        };
        assert!(
            matches!(store.update(&intruder, &kp.id, &change).await, Err(StoreError::NotFound(v)) if v == ids)
        );
        assert!(
            matches!(store.delete(&intruder, &ids).await, Err(StoreError::NotFound(v)) if v == ids)
        );
        let b = [binding(intruder.product, 1, None)];
        assert!(matches!(
            store
                .associate(&intruder, &ids, &b, RepeatedBinding::Ignore)
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store
                .disassociate(
                    &intruder,
                    &ids,
                    &unbind(&[b[0].instance.clone()], RepeatedBinding::Ignore)
                )
                .await,
            Err(StoreError::NotFound(_))
        ));
    }
    assert_eq!(all(&store, &owner).await, vec![kp]);
}

/// `get` returns existing ids in describe order and leaves missing ones out.
pub async fn get_returns_found_ids_in_order(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let old = key_pair(&scope, "old", 1, 100);
    let new = key_pair(&scope, "new", 2, 200);
    insert(&store, &old).await;
    insert(&store, &new).await;
    let missing = KeyId::parse(Product::Cvm, "skey-zzzzzzzz").expect("id");
    let got = store
        .get(&scope, &[old.id.clone(), missing, new.id.clone()])
        .await
        .expect("get");
    assert_eq!(got, vec![new, old]);
}

fn named_filter(names: &[&str], m: NameMatch) -> Filter {
    Filter::Names(names.iter().map(|s| s.to_string()).collect(), m)
}

/// Every filter kind, values ORed within a filter, filters ANDed.
pub async fn every_filter_kind_works(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let mut a = key_pair(&scope, "web_prod", 1, 3);
    a.tags = tags(Product::Cvm, &[("env", "prod"), ("team", "web")]);
    a.project = ProjectId::new(1001);
    let mut b = key_pair(&scope, "web_dev", 2, 2);
    b.tags = tags(Product::Cvm, &[("env", "dev")]);
    let mut c = key_pair(&scope, "db_prod", 3, 1);
    c.tags = tags(Product::Cvm, &[("owner", "prod")]);
    for kp in [&a, &b, &c] {
        insert(&store, kp).await;
    }
    let run = |filters: Vec<Filter>| {
        let store = store.clone();
        let scope = scope.clone();
        async move {
            let q = Query::new(filters, 0, 100).expect("a valid query");
            let page = store.query(&scope, &q).await.expect("query");
            assert_eq!(page.total as usize, page.items.len());
            page.items
                .into_iter()
                .map(|k| k.name.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        run(vec![named_filter(
            &["web_prod", "db_prod"],
            NameMatch::Exact
        )])
        .await,
        ["web_prod", "db_prod"]
    );
    assert_eq!(
        run(vec![named_filter(&["web"], NameMatch::Exact)]).await,
        Vec::<String>::new()
    );
    assert_eq!(
        run(vec![named_filter(&["web"], NameMatch::Substring)]).await,
        ["web_prod", "web_dev"]
    );
    assert_eq!(
        run(vec![named_filter(&["_pro", "xyz"], NameMatch::Substring)]).await,
        ["web_prod", "db_prod"]
    );
    assert_eq!(
        run(vec![Filter::Projects(vec![ProjectId::new(1001)])]).await,
        ["web_prod"]
    );
    assert_eq!(
        run(vec![Filter::Projects(vec![ProjectId::DEFAULT])]).await,
        ["web_dev", "db_prod"]
    );
    assert_eq!(
        run(vec![Filter::KeyIds(vec![c.id.clone(), a.id.clone()])]).await,
        ["web_prod", "db_prod"]
    );
    assert_eq!(
        run(vec![Filter::TagKeys(vec!["env".into()])]).await,
        ["web_prod", "web_dev"]
    );
    assert_eq!(
        run(vec![Filter::TagValues(vec!["prod".into()])]).await,
        ["web_prod", "db_prod"]
    );
    let tag_env = |vals: &[&str]| Filter::Tag {
        key: "env".into(),
        values: vals.iter().map(|s| s.to_string()).collect(),
    };
    assert_eq!(run(vec![tag_env(&["prod"])]).await, ["web_prod"]);
    assert_eq!(
        run(vec![tag_env(&["prod", "dev"])]).await,
        ["web_prod", "web_dev"]
    );
    // AND across filters.
    assert_eq!(
        run(vec![
            tag_env(&["prod", "dev"]),
            named_filter(&["dev"], NameMatch::Substring)
        ])
        .await,
        ["web_dev"]
    );
    assert_eq!(
        run(vec![
            Filter::TagValues(vec!["prod".into()]),
            Filter::TagKeys(vec!["owner".into()])
        ])
        .await,
        ["db_prod"]
    );
    // Filter values are literal: LIKE wildcards match nothing special.
    assert_eq!(
        run(vec![named_filter(&["%"], NameMatch::Substring)]).await,
        Vec::<String>::new()
    );
    assert_eq!(
        run(vec![named_filter(&["_"], NameMatch::Substring)]).await,
        ["web_prod", "web_dev", "db_prod"]
    );
}

/// Walking all pages of any size yields every match exactly once, in describe order,
/// with the same total on every page; many key pairs share a creation time.
pub async fn paging_walks_every_match_once_in_order(store: Store) {
    let scope = fresh_scope(Product::Lighthouse);
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let mut made = Vec::new();
    // Past offset 100, where the PostgreSQL store reads a page's ids first.
    for i in 0..130u64 {
        let mut kp = key_pair(
            &scope,
            &format!("key_{}_{i}", ["a", "b", "c"][(i % 3) as usize]),
            i,
            (rng.next_u32() % 6) as i64,
        );
        if i % 2 == 0 {
            kp.tags = tags(Product::Lighthouse, &[("parity", "even")]);
        }
        insert(&store, &kp).await;
        made.push(kp);
    }
    let filter_sets = [
        vec![],
        vec![named_filter(&["key_a", "key_c"], NameMatch::Substring)],
        vec![Filter::TagKeys(vec!["parity".into()])],
    ];
    for filters in filter_sets {
        let q0 = Query::new(filters.clone(), 0, 100).expect("a valid query");
        // Every match in describe order (more than one page of the largest size).
        let mut expected = crate::evaluate(&q0, &made);
        expected.items = made.iter().filter(|kp| q0.matches(kp)).cloned().collect();
        expected.items.sort_by(crate::describe_order);
        for limit in [1u32, 2, 7, 20, 100] {
            let mut seen = Vec::new();
            let mut offset = 0u64;
            loop {
                let q = Query::new(filters.clone(), offset, limit).expect("a valid query");
                let page = store.query(&scope, &q).await.expect("query");
                assert_eq!(
                    page.total, expected.total,
                    "total differs at offset {offset}, limit {limit}"
                );
                if page.items.is_empty() {
                    break;
                }
                assert!(page.items.len() <= limit as usize);
                offset += page.items.len() as u64;
                seen.extend(page.items);
            }
            assert_eq!(
                seen, expected.items,
                "pages of {limit} differ from the describe order"
            );
        }
        let beyond = Query::new(filters, 10_000, 5).expect("a valid query");
        let page = store.query(&scope, &beyond).await.expect("query");
        assert_eq!((page.total, page.items.len()), (expected.total, 0));
    }
}

/// Rename and re-describe; names stay unique; the old name becomes free.
pub async fn update_renames_and_describes(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let a = key_pair(&scope, "alpha", 1, 1);
    let b = key_pair(&scope, "beta", 2, 2);
    insert(&store, &a).await;
    insert(&store, &b).await;
    let rename = |n: &str| Change {
        name: Some(KeyName::parse(n).expect("name")),
        description: None,
    };
    let clash = store.update(&scope, &a.id, &rename("beta")).await;
    assert!(
        matches!(clash, Err(StoreError::DuplicateName(_))),
        "{clash:?}"
    );
    store
        .update(&scope, &a.id, &rename("alpha"))
        .await
        .expect("own name is fine");
    store
        .update(&scope, &a.id, &rename("gamma"))
        .await
        .expect("rename");
    let describe = Change {
        name: None,
        description: Some(Description::parse("ops key").expect("description")),
    };
    store
        .update(&scope, &a.id, &describe)
        .await
        .expect("describe");
    let got = &store
        .get(&scope, std::slice::from_ref(&a.id))
        .await
        .expect("get")[0];
    assert_eq!(
        (got.name.as_str(), got.description.as_str()),
        ("gamma", "ops key")
    );
    assert_eq!(got.public_key, a.public_key);
    insert(&store, &key_pair(&scope, "alpha", 3, 3)).await;
    let missing = KeyId::parse(Product::Cvm, "skey-zzzzzzzz").expect("id");
    assert!(matches!(
        store.update(&scope, &missing, &rename("x")).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Delete takes all or nothing, and frees names and public keys.
pub async fn delete_is_all_or_nothing(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let a = key_pair(&scope, "a", 1, 1);
    let b = key_pair(&scope, "b", 2, 2);
    insert(&store, &a).await;
    insert(&store, &b).await;
    let missing = KeyId::parse(Product::Cvm, "skey-zzzzzzzz").expect("id");
    let r = store.delete(&scope, &[a.id.clone(), missing.clone()]).await;
    assert!(matches!(r, Err(StoreError::NotFound(v)) if v == vec![missing]));
    assert_eq!(all(&store, &scope).await.len(), 2);
    store
        .delete(&scope, &[a.id.clone(), b.id.clone()])
        .await
        .expect("delete");
    assert!(all(&store, &scope).await.is_empty());
    insert(&store, &key_pair(&scope, "a", 1, 5)).await;
}

/// Bound key pairs cannot be deleted; bindings are all or nothing.
pub async fn associations_block_delete(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let a = key_pair(&scope, "a", 1, 1);
    let b = key_pair(&scope, "b", 2, 2);
    insert(&store, &a).await;
    insert(&store, &b).await;
    let both = [
        binding(Product::Cvm, 2, None),
        binding(Product::Cvm, 1, None),
    ];
    store
        .associate(
            &scope,
            std::slice::from_ref(&a.id),
            &both,
            RepeatedBinding::Ignore,
        )
        .await
        .expect("bind");
    let got = &store
        .get(&scope, std::slice::from_ref(&a.id))
        .await
        .expect("get")[0];
    let bound: Vec<_> = got
        .associations
        .iter()
        .map(|x| x.instance.as_str().to_owned())
        .collect();
    assert_eq!(bound, ["ins-00000001", "ins-00000002"]);
    let r = store.delete(&scope, &[b.id.clone(), a.id.clone()]).await;
    assert!(
        matches!(&r, Err(StoreError::InUse { key, instances }) if key == &a.id && instances.len() == 2),
        "{r:?}"
    );
    assert_eq!(all(&store, &scope).await.len(), 2, "nothing deleted");
    let instances: Vec<_> = both.iter().map(|x| x.instance.clone()).collect();
    store
        .disassociate(
            &scope,
            std::slice::from_ref(&a.id),
            &unbind(&instances, RepeatedBinding::Ignore),
        )
        .await
        .expect("unbind");
    store
        .delete(&scope, &[a.id.clone(), b.id.clone()])
        .await
        .expect("delete");
}

/// Repeated binds and unbinds: ignored or refused as asked, refusals change nothing.
pub async fn repeated_bindings_follow_the_product_rule(store: Store) {
    let product = Product::Lighthouse;
    let scope = fresh_scope(product);
    let a = key_pair(&scope, "a", 1, 1);
    let b = key_pair(&scope, "b", 2, 2);
    insert(&store, &a).await;
    insert(&store, &b).await;
    let one = [binding(product, 1, Some("root"))];
    store
        .associate(
            &scope,
            std::slice::from_ref(&b.id),
            &one,
            RepeatedBinding::Reject,
        )
        .await
        .expect("bind");
    let r = store
        .associate(
            &scope,
            &[a.id.clone(), b.id.clone()],
            &one,
            RepeatedBinding::Reject,
        )
        .await;
    assert!(
        matches!(&r, Err(StoreError::AlreadyAssociated { key, .. }) if key == &b.id),
        "{r:?}"
    );
    assert!(
        store
            .get(&scope, std::slice::from_ref(&a.id))
            .await
            .expect("get")[0]
            .associations
            .is_empty(),
        "a untouched"
    );
    let again = [binding(product, 1, Some("ubuntu"))];
    store
        .associate(
            &scope,
            std::slice::from_ref(&b.id),
            &again,
            RepeatedBinding::Ignore,
        )
        .await
        .expect("ignored");
    let got = &store
        .get(&scope, std::slice::from_ref(&b.id))
        .await
        .expect("get")[0];
    assert_eq!(got.associations, one.to_vec(), "first username kept");
    let inst = [instance(product, 1)];
    let r = store
        .disassociate(
            &scope,
            &[a.id.clone(), b.id.clone()],
            &unbind(&inst, RepeatedBinding::Reject),
        )
        .await;
    assert!(
        matches!(&r, Err(StoreError::NotAssociated { key, .. }) if key == &a.id),
        "{r:?}"
    );
    assert_eq!(
        store
            .get(&scope, std::slice::from_ref(&b.id))
            .await
            .expect("get")[0]
            .associations
            .len(),
        1
    );
    store
        .disassociate(
            &scope,
            &[a.id.clone(), b.id.clone()],
            &unbind(&inst, RepeatedBinding::Ignore),
        )
        .await
        .expect("unbind");
    assert!(store
        .get(&scope, std::slice::from_ref(&b.id))
        .await
        .expect("get")[0]
        .associations
        .is_empty());
    let missing = KeyId::parse(product, "lhkp-zzzzzzzz").expect("id");
    let r = store
        .associate(
            &scope,
            &[a.id.clone(), missing.clone()],
            &one,
            RepeatedBinding::Ignore,
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(v)) if v == vec![missing]));
    assert!(store
        .get(&scope, std::slice::from_ref(&a.id))
        .await
        .expect("get")[0]
        .associations
        .is_empty());
}

/// The instances each key pair of `scope` is bound to, by key name, as describe lists
/// them.
async fn bound_by_name(store: &Store, scope: &Scope) -> Vec<(String, Vec<String>)> {
    let mut listed: Vec<(String, Vec<String>)> = all(store, scope)
        .await
        .into_iter()
        .map(|kp| {
            let instances = kp.associations.iter();
            let names = instances.map(|a| a.instance.as_str().to_owned()).collect();
            (kp.name.as_str().to_owned(), names)
        })
        .collect();
    listed.sort();
    listed
}

/// An associate sets each listed instance's keys to the keys it names: binding k2 to an
/// instance that had k1 ends k1's binding there (and only there); binding [k1, k2] in
/// one request keeps both; another scope's binding of the same instance id stays; a
/// refused associate ends nothing.
pub async fn associate_replaces_an_instances_keys(store: Store) {
    for product in Product::ALL {
        replaces_in(&store, product).await;
    }
}

/// Key pairs `k1`, `k2`, `k3` in a fresh scope and one named `k1` in another.
async fn three_and_one_elsewhere(store: &Store, product: Product) -> (Scope, Scope, [KeyId; 4]) {
    let (scope, other) = (fresh_scope(product), fresh_scope(product));
    let made = [
        (&scope, "k1"),
        (&scope, "k2"),
        (&scope, "k3"),
        (&other, "k1"),
    ];
    let mut ids = Vec::new();
    for (seed, (s, name)) in made.into_iter().enumerate() {
        let kp = key_pair(s, name, 7_000 + seed as u64, 1);
        ids.push(kp.id.clone());
        insert(store, &kp).await;
    }
    let ids: [KeyId; 4] = ids.try_into().expect("four ids");
    (scope, other, ids)
}

/// `k1`, `k2` and `k3` with the instances each is bound to.
fn named(bound: [&[&str]; 3]) -> Vec<(String, Vec<String>)> {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    ["k1", "k2", "k3"]
        .into_iter()
        .zip(bound)
        .map(|(name, instances)| (name.to_owned(), owned(instances)))
        .collect()
}

async fn replaces_in(store: &Store, product: Product) {
    let rule = product.spec().repeated_binding;
    let (scope, other, [k1, k2, k3, theirs]) = three_and_one_elsewhere(store, product).await;
    let (i1, i2) = (binding(product, 1, None), binding(product, 2, None));
    let (n1, n2) = (i1.instance.as_str(), i2.instance.as_str());
    let bind = |s: &Scope, keys: Vec<KeyId>, to: Vec<Association>| {
        let (s, store) = (s.clone(), store.clone());
        async move { store.associate(&s, &keys, &to, rule).await }
    };
    bind(&scope, vec![k1.clone()], vec![i1.clone(), i2.clone()])
        .await
        .expect("k1");
    bind(&other, vec![theirs], vec![i1.clone()])
        .await
        .expect("theirs");
    bind(&scope, vec![k2.clone()], vec![i1.clone()])
        .await
        .expect("k2");
    let now = bound_by_name(store, &scope).await;
    assert_eq!(
        now,
        named([&[n2], &[n1], &[]]),
        "{product}: k2 replaced k1 on i1 only"
    );
    bind(&scope, vec![k1, k3], vec![i1.clone()])
        .await
        .expect("two keys");
    let both = named([&[n1, n2], &[], &[n1]]);
    let now = bound_by_name(store, &scope).await;
    assert_eq!(now, both, "{product}: both keys of one request stay");
    let prefix = product.spec().key_id_prefix;
    let missing = KeyId::parse(product, &format!("{prefix}zzzzzzzz")).expect("id");
    let refused = bind(&scope, vec![k2, missing], vec![i1.clone()]).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );
    let now = bound_by_name(store, &scope).await;
    assert_eq!(now, both, "{product}: a refusal ends nothing");
    let theirs_now = bound_by_name(store, &other).await;
    let stays = vec![("k1".to_owned(), vec![n1.to_owned()])];
    assert_eq!(
        theirs_now, stays,
        "{product}: another scope's binding stays"
    );
}

/// 64 concurrent inserts of one name: exactly one wins, the rest see `DuplicateName`.
pub async fn concurrent_inserts_of_one_name_admit_one(store: Store) {
    concurrent_inserts_across_stores_admit_one(&[store]).await;
}

/// 64 concurrent inserts against a quota of 10: exactly 10 are stored.
pub async fn concurrent_inserts_respect_the_quota(store: Store) {
    let scope = fresh_scope(Product::Lighthouse);
    let attempts = (0..64u64).map(|i| {
        let store = store.clone();
        let kp = key_pair(&scope, &format!("k{i}"), i, i as i64);
        async move { store.insert(kp, 10).await }
    });
    let results = join_all(attempts).await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let over = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::QuotaExceeded { limit: 10 })))
        .count();
    assert_eq!((wins, over), (10, 54), "{results:?}");
    assert_eq!(
        store
            .query(&scope, &Query::all())
            .await
            .expect("query")
            .total,
        10
    );
}

/// Timestamps far apart and far from now survive storage to the millisecond.
pub async fn timestamps_round_trip(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    for (i, ms) in [0i64, 1, 1_480_638_160_999, 4_102_444_800_000]
        .into_iter()
        .enumerate()
    {
        let kp = key_pair(&scope, &format!("t{i}"), i as u64, ms);
        insert(&store, &kp).await;
        let got = &store
            .get(&scope, std::slice::from_ref(&kp.id))
            .await
            .expect("get")[0];
        assert_eq!(got.created_at, Timestamp::from_millis(ms));
    }
}

/// Expands to one test per conformance case, each calling `$make` (an expression
/// evaluating to a future of `Arc<dyn KeyPairStore>`) for a fresh store.
///
/// - `store_conformance!($make)`: each case is a `#[tokio::test]` on a multi-thread
///   runtime (the test crate needs `tokio` with `macros` and `rt-multi-thread`).
/// - `store_conformance!(current_thread: $make)`: the same on tokio's current-thread
///   runtime (`tokio` with `macros` and `rt`).
/// - `store_conformance!(futures: $make)`: each case is a plain `#[test]` driven by
///   `futures::executor::block_on`, with no tokio at all.
/// - `store_conformance!(multi_thread: $make)` is the first form, spelt out; attributes
///   before any spelt-out form are put on every case, e.g.
///   `store_conformance!(#[ignore = "needs a server"] multi_thread: $make)`.
#[macro_export]
macro_rules! store_conformance {
    ($(#[$attr:meta])* current_thread: $make:expr) => {
        $crate::store_conformance!(@all current_thread; [$(#[$attr])*]; $crate::store_conformance!(@some $make));
    };
    ($(#[$attr:meta])* futures: $make:expr) => {
        $crate::store_conformance!(@all futures; [$(#[$attr])*]; $crate::store_conformance!(@some $make));
    };
    (@some $make:expr) => {
        async {
            let store: $crate::testkit::Store = $make.await;
            Some(store)
        }
    };
    (@all $runner:ident; $attrs:tt; $make:expr) => {
        $crate::store_conformance!(@cases $runner; $attrs; $make;
            insert_then_read_round_trips,
            duplicate_name_is_rejected_per_scope,
            duplicate_public_key_is_rejected_per_scope,
            duplicate_id_is_rejected_everywhere,
            quota_is_enforced_per_scope,
            scopes_are_isolated,
            get_returns_found_ids_in_order,
            every_filter_kind_works,
            paging_walks_every_match_once_in_order,
            update_renames_and_describes,
            delete_is_all_or_nothing,
            associations_block_delete,
            repeated_bindings_follow_the_product_rule,
            associate_replaces_an_instances_keys,
            concurrent_inserts_of_one_name_admit_one,
            concurrent_inserts_respect_the_quota,
            timestamps_round_trip,
            check_new_answers_like_insert,
            binding_counts_are_bounded,
            unbind_username_must_match,
            purge_removes_one_account,
            ready_answers,
            tags_written_under_older_rules_read_back,
            scan_walks_every_key_pair_in_id_order,
            load_keeps_every_field_and_refuses_conflicts,
        );
    };
    (@cases $runner:ident; $attrs:tt; $make:expr; $($case:ident),* $(,)?) => {
        $( $crate::store_conformance!(@case $runner; $attrs; $make; $case); )*
    };
    (@case multi_thread; [$($attrs:tt)*]; $make:expr; $case:ident) => {
        $($attrs)*
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            $crate::store_conformance!(@body $make; $case);
        }
    };
    (@case current_thread; [$($attrs:tt)*]; $make:expr; $case:ident) => {
        $($attrs)*
        #[::tokio::test(flavor = "current_thread")]
        async fn $case() {
            $crate::store_conformance!(@body $make; $case);
        }
    };
    (@case futures; [$($attrs:tt)*]; $make:expr; $case:ident) => {
        $($attrs)*
        #[test]
        fn $case() {
            $crate::testkit::block_on(async {
                $crate::store_conformance!(@body $make; $case);
            });
        }
    };
    (@body $make:expr; $case:ident) => {
        let store: Option<$crate::testkit::Store> = $make.await;
        if let Some(store) = store {
            $crate::testkit::$case(store).await;
        }
    };
    ($(#[$attr:meta])* multi_thread: $make:expr) => {
        $crate::store_conformance!(@all multi_thread; [$(#[$attr])*]; $crate::store_conformance!(@some $make));
    };
    ($make:expr) => {
        $crate::store_conformance!(@all multi_thread; []; $crate::store_conformance!(@some $make));
    };
}

/// Drives a future to completion on this thread, for [`store_conformance!`]'s
/// `futures:` form: the conformance suite under an executor that is not tokio.
pub use futures::executor::block_on;

/// Purging one account removes its key pairs of both products, with their tags and
/// bindings, and nothing of another account; its names and keys are free again.
pub async fn purge_removes_one_account(store: Store) {
    let cvm = fresh_scope(Product::Cvm);
    let lh = Scope::new(cvm.account.clone(), Product::Lighthouse);
    let other = fresh_scope(Product::Cvm);
    let mut tagged = key_pair(&cvm, "gone", 6001, 1);
    tagged.tags =
        Tags::new(Product::Cvm, vec![Tag::new("env", "test").expect("tag")]).expect("tags");
    let id = tagged.id.clone();
    store.insert(tagged, 10).await.expect("insert");
    let inst = Association {
        instance: InstanceId::parse(Product::Cvm, "ins-00purge1").expect("valid"),
        username: None,
    };
    store
        .associate(
            &cvm,
            std::slice::from_ref(&id),
            &[inst],
            RepeatedBinding::Ignore,
        )
        .await
        .expect("bind");
    store
        .insert(key_pair(&lh, "gone_too", 6002, 2), 10)
        .await
        .expect("insert");
    store
        .insert(key_pair(&other, "kept", 6003, 3), 10)
        .await
        .expect("insert");
    assert_eq!(store.purge(Some(&cvm.account)).await.expect("purge"), 2);
    assert!(all(&store, &cvm).await.is_empty());
    assert!(all(&store, &lh).await.is_empty());
    assert_eq!(
        all(&store, &other).await.len(),
        1,
        "another account is untouched"
    );
    // The quota count and the uniqueness indexes were reset too.
    store
        .insert(key_pair(&cvm, "gone", 6001, 4), 1)
        .await
        .expect("name and key free again");
    assert_eq!(store.purge(Some(&other.account)).await.expect("purge"), 1);
}

/// A store returns tags exactly as written, without re-applying today's input rules:
/// data written by an earlier version under looser tag rules stays readable.
pub async fn tags_written_under_older_rules_read_back(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let mut kp = key_pair(&scope, "legacy", 5001, 1);
    kp.tags = Tags::from_stored(vec![Tag::from_stored("a#b".into(), "v!x".into())]);
    let id = kp.id.clone();
    store.insert(kp.clone(), 10).await.expect("insert");
    let got = store.get(&scope, &[id]).await.expect("get");
    assert_eq!(got, vec![kp]);
}

/// `scan` walks the whole store in key-id order from any cursor, across accounts and
/// products, in batches of at most `limit`.
pub async fn scan_walks_every_key_pair_in_id_order(store: Store) {
    let (a, b) = (fresh_scope(Product::Cvm), fresh_scope(Product::Lighthouse));
    let mut mine = std::collections::BTreeSet::new();
    for i in 0..7u64 {
        let scope = if i % 2 == 0 { &a } else { &b };
        let kp = key_pair(scope, &format!("s{i}"), 4100 + i, i as i64);
        mine.insert(kp.id.clone());
        store.insert(kp, 100).await.expect("insert");
    }
    let mut seen = Vec::new();
    let mut cursor: Option<KeyId> = None;
    loop {
        let batch = store.scan(cursor.as_ref(), 3).await.expect("scan");
        assert!(batch.len() <= 3);
        let Some(last) = batch.last() else { break };
        cursor = Some(last.id.clone());
        seen.extend(batch.into_iter().map(|kp| kp.id));
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "strictly in key-id order"
    );
    let found: std::collections::BTreeSet<KeyId> =
        seen.into_iter().filter(|id| mine.contains(id)).collect();
    assert_eq!(found, mine, "every key pair once");
    assert!(store.count_all().await.expect("count") >= 7);
}

/// `load` writes records field for field (tags, bindings with usernames, description,
/// project, creation time), skips identical ones, ignores the quota, and refuses a
/// conflicting record without writing any of its batch.
pub async fn load_keeps_every_field_and_refuses_conflicts(store: Store) {
    let scope = fresh_scope(Product::Lighthouse);
    let cvm = Scope::new(scope.account.clone(), Product::Cvm);
    let mut lh = key_pair(&scope, "loaded_lh", 4201, 1_600_000_000_123);
    lh.tags = Tags::new(
        Product::Lighthouse,
        vec![Tag::new("env", "prod").expect("tag")],
    )
    .expect("tags");
    lh.associations = vec![Association {
        instance: InstanceId::parse(Product::Lighthouse, "lhins-00load01").expect("valid"),
        username: Some("ubuntu".into()),
    }];
    let mut c = key_pair(&cvm, "loaded_cvm", 4202, 1_600_000_000_456);
    c.project = ProjectId::new(1001);
    c.description = Description::parse("restored").expect("valid");
    let batch = vec![lh.clone(), c.clone()];
    let report = store.load(&batch).await.expect("load");
    assert_eq!((report.loaded, report.present), (2, 0));
    assert_eq!(
        store
            .get(&scope, std::slice::from_ref(&lh.id))
            .await
            .expect("get"),
        vec![lh.clone()]
    );
    assert_eq!(
        store
            .get(&cvm, std::slice::from_ref(&c.id))
            .await
            .expect("get"),
        vec![c.clone()]
    );
    let again = store.load(&batch).await.expect("load twice");
    assert_eq!(
        (again.loaded, again.present),
        (0, 2),
        "identical records are a no-op"
    );
    // The quota is not applied to a load.
    let over: Vec<KeyPair> = (0..3)
        .map(|i| key_pair(&cvm, &format!("q{i}"), 4210 + i, 5))
        .collect();
    store.load(&over).await.expect("a load ignores the quota");
    assert!(matches!(
        store.insert(key_pair(&cvm, "q9", 4219, 6), 2).await,
        Err(StoreError::QuotaExceeded { .. })
    ));
    // Conflicts: the same id with other content, or a taken name; nothing of the batch lands.
    let fresh = key_pair(&scope, "fresh", 4220, 7);
    let mut renamed = lh.clone();
    renamed.name = KeyName::parse("other_name").expect("valid");
    let r = store.load(&[fresh.clone(), renamed]).await;
    assert!(
        matches!(&r, Err(StoreError::LoadConflict { id, .. }) if *id == lh.id),
        "{r:?}"
    );
    let same_name = key_pair(&scope, "loaded_lh", 4221, 8);
    let r = store.load(&[fresh.clone(), same_name]).await;
    assert!(matches!(r, Err(StoreError::LoadConflict { .. })), "{r:?}");
    let same_key = key_pair(&scope, "new_name", 4201, 9);
    assert!(matches!(
        store.load(&[same_key]).await,
        Err(StoreError::LoadConflict { .. })
    ));
    assert!(
        store
            .get(&scope, std::slice::from_ref(&fresh.id))
            .await
            .expect("get")
            .is_empty(),
        "all or nothing"
    );
}

/// A working store is ready.
pub async fn ready_answers(store: Store) {
    store.ready().await.expect("ready");
}

/// Unbinding `instances` with no username to match.
fn unbind(instances: &[InstanceId], repeated: RepeatedBinding) -> crate::Unbind<'_> {
    crate::Unbind {
        instances,
        repeated,
        username: None,
    }
}

/// A Lighthouse unbind naming another user than the binding's changes nothing and is
/// refused; the right user (or the default `root` for a binding made without one)
/// unbinds.
pub async fn unbind_username_must_match(store: Store) {
    let scope = fresh_scope(Product::Lighthouse);
    let (a, b) = (
        key_pair(&scope, "user_a", 7001, 1),
        key_pair(&scope, "user_b", 7002, 2),
    );
    let (ka, kb) = (a.id.clone(), b.id.clone());
    insert(&store, &a).await;
    insert(&store, &b).await;
    // Each key on its own instance: an associate sets an instance's keys, and one
    // request binds all its keys for one user.
    let inst = InstanceId::parse(Product::Lighthouse, "lhins-0000user").expect("valid");
    let inst_b = InstanceId::parse(Product::Lighthouse, "lhins-000userb").expect("valid");
    let (reject, ignore) = (RepeatedBinding::Reject, RepeatedBinding::Ignore);
    for (key, instance, user) in [(&ka, &inst, Some("ubuntu")), (&kb, &inst_b, None)] {
        let to = Association {
            instance: instance.clone(),
            username: user.map(str::to_owned),
        };
        let keys = std::slice::from_ref(key);
        store
            .associate(&scope, keys, &[to], reject)
            .await
            .expect("bind");
    }
    let unbind = |keys: Vec<KeyId>, instances: Vec<InstanceId>, repeated, user: &'static str| {
        let (store, scope) = (store.clone(), scope.clone());
        async move {
            let rule = crate::Unbind {
                instances: &instances,
                repeated,
                username: Some(user),
            };
            store.disassociate(&scope, &keys, &rule).await
        }
    };
    let refused = unbind(vec![ka.clone()], vec![inst.clone()], reject, "root").await;
    assert!(
        matches!(&refused, Err(StoreError::UsernameMismatch { key, instance }) if *key == ka && *instance == inst),
        "{refused:?}"
    );
    // Both keys at once: one mismatch refuses the whole request.
    let both = vec![ka.clone(), kb.clone()];
    let both_instances = vec![inst.clone(), inst_b.clone()];
    let refused = unbind(both.clone(), both_instances, ignore, "ubuntu").await;
    assert!(
        matches!(refused, Err(StoreError::UsernameMismatch { .. })),
        "{refused:?}"
    );
    let still = store.get(&scope, &both).await.expect("get");
    let unchanged = still.iter().all(|kp| kp.associations.len() == 1);
    assert!(unchanged, "nothing was unbound");
    unbind(vec![ka], vec![inst], reject, "ubuntu")
        .await
        .expect("same user");
    unbind(vec![kb], vec![inst_b], reject, "root")
        .await
        .expect("default user");
    let after = store.get(&scope, &both).await.expect("get");
    assert!(after.iter().all(|kp| kp.associations.is_empty()));
}

/// An associate that would pass [`MAX_BINDINGS_PER_KEY_PAIR`] or name more than
/// [`MAX_BINDINGS_PER_INSTANCE`] keys for an instance is refused whole; up to the bound
/// is accepted.
pub async fn binding_counts_are_bounded(store: Store) {
    let scope = fresh_scope(Product::Cvm);
    let quota = MAX_BINDINGS_PER_INSTANCE as u32 + 10;
    let mut keys = Vec::new();
    for i in 0..=MAX_BINDINGS_PER_INSTANCE as u64 {
        let kp = key_pair(&scope, &format!("k{i}"), 9000 + i, i as i64);
        keys.push(kp.id.clone());
        store.insert(kp, quota).await.expect("insert");
    }
    let binding = |n: usize| Association {
        instance: InstanceId::parse(Product::Cvm, &format!("ins-{n:08}")).expect("valid"),
        username: None,
    };
    // One key pair up to its bound, in two calls; one more is refused whole.
    let first: Vec<Association> = (0..MAX_BINDINGS_PER_KEY_PAIR - 1).map(binding).collect();
    let ignore = RepeatedBinding::Ignore;
    store
        .associate(&scope, &keys[..1], &first, ignore)
        .await
        .expect("below the bound");
    let last = [binding(MAX_BINDINGS_PER_KEY_PAIR - 1), binding(0)];
    store
        .associate(&scope, &keys[..1], &last, ignore)
        .await
        .expect("up to the bound");
    let over = [binding(MAX_BINDINGS_PER_KEY_PAIR)];
    let refused = store.associate(&scope, &keys[..2], &over, ignore).await;
    assert!(
        matches!(&refused, Err(StoreError::KeyPairBindingsExceeded { key, limit }) if *key == keys[0] && *limit == MAX_BINDINGS_PER_KEY_PAIR),
        "{refused:?}"
    );
    let got = store.get(&scope, &keys[..2]).await.expect("get");
    let counts: Vec<usize> = got.iter().map(|kp| kp.associations.len()).collect();
    assert!(
        counts.contains(&MAX_BINDINGS_PER_KEY_PAIR) && counts.contains(&0),
        "{counts:?}"
    );
    instance_bound_is_one_request(&store, quota).await;
}

/// One request sets an instance's keys, so an instance's bound is on the keys one
/// request names: one more is refused whole, up to the bound is accepted.
async fn instance_bound_is_one_request(store: &Store, quota: u32) {
    let ignore = RepeatedBinding::Ignore;
    let binding = |n: usize| Association {
        instance: InstanceId::parse(Product::Cvm, &format!("ins-{n:08}")).expect("valid"),
        username: None,
    };
    let fresh = fresh_scope(Product::Cvm);
    let mut fresh_keys = Vec::new();
    for i in 0..=MAX_BINDINGS_PER_INSTANCE as u64 {
        let kp = key_pair(&fresh, &format!("f{i}"), 19_000 + i, i as i64);
        fresh_keys.push(kp.id.clone());
        store.insert(kp, quota).await.expect("insert");
    }
    let shared = [binding(0)];
    let refused = store.associate(&fresh, &fresh_keys, &shared, ignore).await;
    assert!(
        matches!(&refused, Err(StoreError::InstanceBindingsExceeded { limit, .. }) if *limit == MAX_BINDINGS_PER_INSTANCE),
        "{refused:?}"
    );
    let got = store.get(&fresh, &fresh_keys).await.expect("get");
    assert!(
        got.iter().all(|kp| kp.associations.is_empty()),
        "nothing was bound"
    );
    store
        .associate(
            &fresh,
            &fresh_keys[..MAX_BINDINGS_PER_INSTANCE],
            &shared,
            ignore,
        )
        .await
        .expect("up to the bound");
    let got = store.get(&fresh, &fresh_keys).await.expect("get");
    let bound = got.iter().filter(|kp| !kp.associations.is_empty()).count();
    assert_eq!(bound, MAX_BINDINGS_PER_INSTANCE);
}

/// `check_new` refuses exactly what `insert` would refuse for the name and the quota,
/// and nothing else.
pub async fn check_new_answers_like_insert(store: Store) {
    let scope = fresh_scope(Product::Lighthouse);
    let name = KeyName::parse("early").expect("valid");
    store
        .check_new(&scope, &name, 2)
        .await
        .expect("empty scope");
    store
        .insert(key_pair(&scope, "early", 1, 1), 2)
        .await
        .expect("insert");
    assert!(matches!(
        store.check_new(&scope, &name, 2).await,
        Err(StoreError::DuplicateName(n)) if n == name
    ));
    // A name that only contains the stored one is free, on both products.
    let longer = KeyName::parse("early_bird").expect("valid");
    store
        .check_new(&scope, &longer, 2)
        .await
        .expect("free name");
    store
        .insert(key_pair(&scope, "other", 2, 2), 2)
        .await
        .expect("insert");
    assert!(matches!(
        store.check_new(&scope, &longer, 2).await,
        Err(StoreError::QuotaExceeded { limit: 2 })
    ));
    // Another scope is unaffected.
    let other = fresh_scope(Product::Lighthouse);
    store.check_new(&other, &name, 2).await.expect("isolated");
}

/// The conformance of a `KeyGenerator` backend: RSA-2048 by default, a PKCS#1 PEM private
/// key whose public half is the public key, an encoding that parses back to the same
/// fingerprint, and a new key on every call. Every backend runs this.
pub fn key_generator_conformance(generator: &dyn crate::KeyGenerator) {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let first = generator.generate().expect("generate");
    let second = generator.generate().expect("generate");
    let encoded =
        crate::PublicKey::from_key_data(first.public.clone(), "skey_conform").expect("encodes");
    assert_eq!(encoded.bits(), 2048, "RSA-2048 by default");
    let parsed = crate::PublicKey::parse_openssh(encoded.as_openssh()).expect("parses back");
    assert_eq!(parsed.fingerprint(), encoded.fingerprint());
    let pem = first.private_pem.expose();
    assert!(
        pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
        "PKCS#1 PEM"
    );
    assert!(
        pem.ends_with("-----END RSA PRIVATE KEY-----\n"),
        "LF line ends and a final newline"
    );
    let private = rsa::RsaPrivateKey::from_pkcs1_pem(pem).expect("a valid PKCS#1 key");
    let half =
        ssh_key::public::RsaPublicKey::try_from(private.to_public_key()).expect("public half");
    assert_eq!(
        ssh_key::public::KeyData::Rsa(half),
        first.public,
        "the private key's public half is the public key"
    );
    assert_ne!(first.public, second.public, "every call makes a new key");
}

/// Several stores on one backend (as several processes would have: their own pools on
/// one file or database) race 64 inserts of one name: exactly one is stored, and every
/// other attempt sees `DuplicateName`.
pub async fn concurrent_inserts_across_stores_admit_one(stores: &[Store]) {
    assert!(!stores.is_empty());
    let scope = fresh_scope(Product::Cvm);
    let attempts = (0..64u64).map(|i| {
        let store = stores[i as usize % stores.len()].clone();
        let kp = key_pair(&scope, "contested", i, i as i64);
        async move { store.insert(kp, 100).await }
    });
    let results = join_all(attempts).await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let dups = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::DuplicateName(_))))
        .count();
    assert_eq!((wins, dups), (1, 63), "{results:?}");
    assert_eq!(
        stores[0]
            .query(&scope, &Query::all())
            .await
            .expect("query")
            .total,
        1
    );
}
