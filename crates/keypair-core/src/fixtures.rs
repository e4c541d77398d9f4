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
