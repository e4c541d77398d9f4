//! Cheap, deterministic test material: syntactically valid RSA public keys made from a
//! seed in microseconds (no prime search), and key-pair records built from them. Shared
//! by the conformance suite and the proptest strategies; and a fake key generator for
//! tests of what surrounds generation.

use crate::{
    AccountId, Association, Description, GeneratedKey, IdGenerator, InstanceId, KeyGenerator,
    KeyId, KeyName, KeyPair, KeyPairStore, PrivateKeyPem, Product, ProjectId, PublicKey, Query,
    RandomIds, Scope, Tag, Tags, Timestamp,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use ssh_key::public::{KeyData, RsaPublicKey};
use ssh_key::Mpint;
use std::sync::atomic::{AtomicU64, Ordering};

/// A 2048-bit RSA public key whose modulus is pseudo-random from `seed`. It is a valid
/// OpenSSH key (not a usable RSA key: the modulus is not a product of two primes), and
/// distinct seeds give distinct fingerprints.
pub fn synthetic_public_key(seed: u64, comment: &str) -> PublicKey {
    let mut n = [0u8; 256];
    ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut n);
    n[0] |= 0x80;
    n[255] |= 1;
    let data = KeyData::Rsa(RsaPublicKey {
        e: Mpint::from_positive_bytes(&[1, 0, 1]).expect("65537 is a valid mpint"),
        n: Mpint::from_positive_bytes(&n).expect("a 2048-bit modulus is a valid mpint"),
    });
    PublicKey::from_key_data(data, comment).expect("a 2048-bit odd modulus is accepted")
}

/// A scope with a fresh random account, so cases never see each other's data even on a
/// shared database.
pub fn fresh_scope(product: Product) -> Scope {
    let account = format!("acct-{:016x}", OsRng.next_u64());
    Scope::new(
        AccountId::parse(&account).expect("valid account id"),
        product,
    )
}

/// A key pair in `scope` named `name`, with a key from `key_seed`, a random id and the
/// given creation time.
pub fn key_pair(scope: &Scope, name: &str, key_seed: u64, created_ms: i64) -> KeyPair {
    let id: KeyId = RandomIds.next_id(scope.product);
    KeyPair {
        public_key: synthetic_public_key(key_seed, &id.key_comment()),
        id,
        account: scope.account.clone(),
        name: KeyName::parse(name).expect("valid test name"),
        project: ProjectId::DEFAULT,
        description: Description::default(),
        created_at: Timestamp::from_millis(created_ms),
        tags: Tags::default(),
        associations: Vec::new(),
    }
}

/// Every key pair `store` holds in `scope`, in describe order; panics if the store fails,
/// since a test that reads back what it wrote has nothing else to do with the error.
pub async fn all_in_scope(store: &dyn KeyPairStore, scope: &Scope) -> Vec<KeyPair> {
    store
        .query(scope, &Query::all())
        .await
        .expect("query")
        .items
}

/// A key generator for tests of what surrounds generation (pools, wiring): every call
/// returns a distinct synthetic public key at once, with a placeholder "private key" that
/// names the same seed. Not RSA; never use it to serve keys.
#[derive(Debug, Default)]
pub struct FakeKeyGenerator {
    next: AtomicU64,
}

impl FakeKeyGenerator {
    /// How many keys it has made.
    pub fn generated(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }
}

impl KeyGenerator for FakeKeyGenerator {
    fn generate(&self) -> crate::Result<GeneratedKey> {
        let seed = self.next.fetch_add(1, Ordering::SeqCst);
        Ok(GeneratedKey {
            public: synthetic_public_key(seed, "").key_data(),
            private_pem: PrivateKeyPem::new(format!("FAKE PRIVATE KEY {seed}").into()),
        })
    }
}

/// `accounts` accounts (`14` + 8 digits) × both products × `per` key pairs, each with its
/// own public key, with two tags on every third and two bindings (Lighthouse's with a
/// username) on every fifth: a store's worth of varied records for transfer tests; and
/// the scopes.
pub fn varied_key_pairs(accounts: u64, per: u64) -> (Vec<KeyPair>, Vec<Scope>) {
    let mut all = Vec::new();
    let mut scopes = Vec::new();
    for a in 0..accounts {
        for product in Product::ALL {
            let scope = Scope::new(
                AccountId::parse(&format!("14{a:08}")).expect("valid"),
                product,
            );
            for i in 0..per {
                let seed = (a * 1000 + i) * 2 + u64::from(product == Product::Lighthouse);
                let mut kp = key_pair(&scope, &format!("k{i}"), seed, 1_700_000_000_000 + i as i64);
                kp.public_key = synthetic_public_key(seed, &format!("c{seed}"));
                if i % 3 == 0 {
                    let tags = vec![
                        Tag::new("team", "ops").expect("valid"),
                        Tag::new("n", &i.to_string()).expect("valid"),
                    ];
                    kp.tags = Tags::new(product, tags).expect("valid");
                }
                if i % 5 == 0 {
                    let prefix = product.spec().instance_id_prefix;
                    let username = (product == Product::Lighthouse).then(|| "ubuntu".to_owned());
                    kp.associations = (0..2)
                        .map(|j| Association {
                            instance: InstanceId::parse(product, &format!("{prefix}{j:04}{i:04}"))
                                .expect("valid"),
                            username: username.clone(),
                        })
                        .collect();
                    kp.associations.sort();
                }
                all.push(kp);
            }
            scopes.push(scope);
        }
    }
    (all, scopes)
}

/// One error of every kind the core reports, for tests that walk an error table (the
/// wire's codes, say). [`error_kind`] names each one with a match without a wildcard, so
/// a variant added to [`crate::Error`] fails to compile there until it is named, and its
/// example is added here beside it.
pub fn one_error_of_each_kind() -> Vec<crate::Error> {
    let mut all = input_errors();
    all.extend(binding_errors());
    all.extend(query_errors());
    all
}

fn examples() -> (KeyId, InstanceId, String) {
    let key = KeyId::parse(Product::Cvm, "skey-11112222").expect("id");
    let inst = InstanceId::parse(Product::Cvm, "ins-11112222").expect("id");
    (key, inst, "x".to_owned())
}

/// What Create, Import and Modify refuse, and the failures that are not the caller's.
fn input_errors() -> Vec<crate::Error> {
    use crate::Error as E;
    let (_, _, x) = examples();
    let source = || -> crate::BoxError { "cause".into() };
    let (k, r) = (x.clone(), x.clone());
    vec![
        E::KeyNameEmpty,
        E::KeyNameTooLong { len: 26, max: 25 },
        E::KeyNameIllegalChar { ch: '-' },
        E::AccountIdMalformed(x.clone()),
        E::ProjectIdInvalid(-1),
        E::ProjectNotFound(7),
        E::DescriptionTooLong { len: 61, max: 60 },
        E::DescriptionIllegalChar { ch: '\0' },
        E::TagKeyReserved(x.clone()),
        E::TooManyTags { given: 51, max: 50 },
        E::TagResourceType(x.clone()),
        E::TagKeyIllegal { key: k, reason: r },
        E::TagValueIllegal {
            value: x.clone(),
            reason: x.clone(),
        },
        E::DuplicateTagKey(x.clone()),
        E::PublicKeyMalformed(x.clone()),
        E::DuplicateName(x.clone()),
        E::DuplicatePublicKey { fingerprint: x },
        E::QuotaExceeded { limit: 1 },
        E::NothingToModify,
        E::UnsupportedAction {
            product: Product::Lighthouse,
            action: "ModifyKeyPairAttribute",
        },
        E::KeyGeneration(source()),
        E::Storage(source()),
    ]
}

/// What Associate, Disassociate and Delete refuse, with every instance state and busy
/// condition.
fn binding_errors() -> Vec<crate::Error> {
    use crate::{Busy, Error as E, InstanceState};
    let (key, i, x) = examples();
    let mut all = vec![
        E::KeyPairInUse {
            key: key.clone(),
            instances: vec![i.clone()],
        },
        E::AlreadyAssociated {
            key: key.clone(),
            instance: i.clone(),
        },
        E::NotAssociated {
            key: key.clone(),
            instance: i.clone(),
        },
        E::TooManyInstancesForKeyPair {
            key: key.clone(),
            limit: 100,
        },
        E::TooManyKeyPairsForInstance {
            instance: i.clone(),
            limit: 100,
        },
        E::InstanceNotFound(i.clone()),
        E::InstanceWindows(i.clone()),
        E::InstanceStopCharging(i.clone()),
        E::UnbindUsernameMismatch {
            key,
            instance: i.clone(),
        },
        E::BindingTypeInvalid {
            field: "AssociateType",
            value: x.clone(),
        },
        E::UsernameWithOffline {
            field: "AssociateType",
        },
        E::InvalidUsername(x),
    ];
    let state = |state| E::InstanceState {
        instance: i.clone(),
        state,
    };
    all.extend(InstanceState::ALL.map(state));
    all.extend(Busy::ALL.map(|busy| E::InstanceBusy {
        instance: i.clone(),
        busy,
    }));
    all
}

/// What id lists and Describe refuse.
fn query_errors() -> Vec<crate::Error> {
    use crate::Error as E;
    let (key, _, x) = examples();
    let filter = |reason: &str| E::InvalidFilterValue {
        name: "n".into(),
        value: "v".into(),
        reason: reason.into(),
    };
    vec![
        E::KeyIdMalformed {
            id: x.clone(),
            prefix: "skey-",
        },
        E::InstanceIdMalformed {
            id: x.clone(),
            prefix: "ins-",
        },
        E::KeyPairNotFound(vec![key]),
        E::IdsWithFilters,
        E::LimitOutOfRange {
            value: 101,
            max: 100,
        },
        E::OffsetNegative(-1),
        E::UnknownFilter {
            name: x.clone(),
            supported: x.clone(),
        },
        filter("why"),
        E::EmptyFilter(x.clone()),
        E::TooManyFilters { given: 11, max: 10 },
        E::TooManyFilterValues {
            name: x.clone(),
            given: 6,
            max: 5,
        },
        E::TooManyIds {
            what: "KeyIds",
            given: 101,
            max: 100,
        },
        E::NoIds("KeyIds"),
        E::DuplicateId {
            what: "KeyIds",
            id: x,
        },
    ]
}

/// The name of an error's kind. A match without a wildcard: see
/// [`one_error_of_each_kind`].
pub fn error_kind(err: &crate::Error) -> &'static str {
    use crate::Error as E;
    match err {
        E::KeyNameEmpty => "KeyNameEmpty",
        E::KeyNameTooLong { .. } => "KeyNameTooLong",
        E::KeyNameIllegalChar { .. } => "KeyNameIllegalChar",
        E::KeyIdMalformed { .. } => "KeyIdMalformed",
        E::InstanceIdMalformed { .. } => "InstanceIdMalformed",
        E::AccountIdMalformed(_) => "AccountIdMalformed",
        E::ProjectIdInvalid(_) => "ProjectIdInvalid",
        E::ProjectNotFound(_) => "ProjectNotFound",
        E::DescriptionTooLong { .. } => "DescriptionTooLong",
        E::DescriptionIllegalChar { .. } => "DescriptionIllegalChar",
        E::TagKeyReserved(_) => "TagKeyReserved",
        E::TooManyTags { .. } => "TooManyTags",
        E::TagResourceType(_) => "TagResourceType",
        E::PublicKeyMalformed(_) => "PublicKeyMalformed",
        E::DuplicateName(_) => "DuplicateName",
        E::DuplicatePublicKey { .. } => "DuplicatePublicKey",
        E::QuotaExceeded { .. } => "QuotaExceeded",
        E::KeyPairNotFound(_) => "KeyPairNotFound",
        E::KeyPairInUse { .. } => "KeyPairInUse",
        E::AlreadyAssociated { .. } => "AlreadyAssociated",
        E::NotAssociated { .. } => "NotAssociated",
        E::TooManyInstancesForKeyPair { .. } => "TooManyInstancesForKeyPair",
        E::TooManyKeyPairsForInstance { .. } => "TooManyKeyPairsForInstance",
        E::InstanceNotFound(_) => "InstanceNotFound",
        E::InstanceWindows(_) => "InstanceWindows",
        E::InstanceState { .. } => "InstanceState",
        E::InstanceBusy { .. } => "InstanceBusy",
        E::InstanceStopCharging(_) => "InstanceStopCharging",
        E::UnbindUsernameMismatch { .. } => "UnbindUsernameMismatch",
        E::BindingTypeInvalid { .. } => "BindingTypeInvalid",
        E::UsernameWithOffline { .. } => "UsernameWithOffline",
        E::TagKeyIllegal { .. } => "TagKeyIllegal",
        E::TagValueIllegal { .. } => "TagValueIllegal",
        E::DuplicateTagKey(_) => "DuplicateTagKey",
        E::IdsWithFilters => "IdsWithFilters",
        E::LimitOutOfRange { .. } => "LimitOutOfRange",
        E::OffsetNegative(_) => "OffsetNegative",
        E::UnknownFilter { .. } => "UnknownFilter",
        E::InvalidFilterValue { .. } => "InvalidFilterValue",
        E::EmptyFilter(_) => "EmptyFilter",
        E::TooManyFilters { .. } => "TooManyFilters",
        E::TooManyFilterValues { .. } => "TooManyFilterValues",
        E::TooManyIds { .. } => "TooManyIds",
        E::NoIds(_) => "NoIds",
        E::DuplicateId { .. } => "DuplicateId",
        E::InvalidUsername(_) => "InvalidUsername",
        E::NothingToModify => "NothingToModify",
        E::UnsupportedAction { .. } => "UnsupportedAction",
        E::KeyGeneration(_) => "KeyGeneration",
        E::Storage(_) => "Storage",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_kind_of_error_has_an_example() {
        let examples = one_error_of_each_kind();
        let kinds: BTreeSet<&str> = examples.iter().map(error_kind).collect();
        // The number of arms in `error_kind`: a new variant adds an arm there (or the
        // build fails) and then an example here (or this count is off).
        assert_eq!(kinds.len(), 50, "{kinds:?}");
    }
}
