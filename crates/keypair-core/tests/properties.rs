//! Property tests of the core's rules: name validation, key encoding round trips,
//! public-key parsing and paging.

use futures::executor::block_on;
use keypair_core::fixtures::{fresh_scope, key_pair};
use keypair_core::strategies::*;
use keypair_core::{
    describe_order, Error, Filter, KeyBits, KeyGenerator, KeyId, KeyName, KeyPairStore, NameMatch,
    Product, PublicKey, Query, RsaKeyGenerator, Tag, Tags,
};
use keypair_memory::MemoryStore;
use proptest::prelude::*;
use rsa::pkcs1::DecodeRsaPrivateKey;

proptest! {
    /// Every accepted name matches ^[A-Za-z0-9_]{1,25}$; every other string gets the one
    /// right error of the three.
    #[test]
    fn name_validator_agrees_with_the_regex(s in any_key_name()) {
        let result = KeyName::parse(&s);
        if is_valid_name_by_regex(&s) {
            let name = result.unwrap();
            prop_assert_eq!(name.as_str(), s.as_str());
        } else {
            let first_illegal = s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_'));
            match (result, first_illegal) {
                (Err(Error::KeyNameEmpty), _) => prop_assert!(s.is_empty()),
                (Err(Error::KeyNameIllegalChar { ch }), Some(c)) => prop_assert_eq!(ch, c),
                (Err(Error::KeyNameTooLong { len, max: 25 }), None) => {
                    prop_assert_eq!(len, s.chars().count());
                    prop_assert!(len > 25);
                }
                (other, _) => prop_assert!(false, "{:?} gave {:?}", s, other),
            }
        }
    }

    #[test]
    fn invalid_names_are_rejected(s in invalid_key_name()) {
        prop_assert!(KeyName::parse(&s).is_err());
    }

    #[test]
    fn key_ids_validate_per_product(good in key_id(Product::Cvm), bad in malformed_key_id(Product::Cvm)) {
        prop_assert!(KeyId::parse(Product::Cvm, &good).is_ok());
        prop_assert!(KeyId::parse(Product::Lighthouse, &good).is_err());
        prop_assert!(matches!(KeyId::parse(Product::Cvm, &bad), Err(Error::KeyIdMalformed { .. })), "{}", bad);
    }

    /// Parsing is idempotent: the normalised form parses to itself.
    #[test]
    fn public_keys_normalise_idempotently(line in public_key_line(), pad in "[ \t]{0,3}") {
        let messy = format!("{pad}{}{pad}\n", line.replace(' ', "  "));
        let k = PublicKey::parse_openssh(&messy).unwrap();
        prop_assert_eq!(k.as_openssh(), line.as_str());
        let again = PublicKey::parse_openssh(k.as_openssh()).unwrap();
        prop_assert_eq!(again, k);
    }

    #[test]
    fn malformed_public_keys_are_rejected(line in malformed_public_key()) {
        prop_assert!(
            matches!(PublicKey::parse_openssh(&line), Err(Error::PublicKeyMalformed(_))),
            "accepted {:?}", line
        );
    }

    #[test]
    fn tags_with_an_illegal_character_are_refused(text in text_with_illegal_tag_char()) {
        prop_assert!(matches!(Tag::new(&text, "v"), Err(Error::TagKeyIllegal { .. })), "key {:?}", text);
        prop_assert!(matches!(Tag::new("k", &text), Err(Error::TagValueIllegal { .. })), "value {:?}", text);
    }

    #[test]
    fn tag_strategies_make_valid_tags(t in tags(Product::Lighthouse)) {
        prop_assert!(t.as_slice().len() <= 10);
        prop_assert!(Tags::new(Product::Lighthouse, t.as_slice().to_vec()).is_ok());
    }
}

proptest! {
    // Real RSA generation costs ~0.2 s a key; a few cases cover the encoding.
    #![proptest_config(ProptestConfig::with_cases(4))]

    /// generate → encode → parse gives the same fingerprint, and the PEM private key's
    /// public half is the public key.
    #[test]
    fn generated_keys_round_trip(seed in any::<u64>()) {
        let generated = RsaKeyGenerator::seeded(KeyBits::Rsa2048, seed).generate().unwrap();
        let encoded = PublicKey::from_key_data(generated.public.clone(), "skey_abc").unwrap();
        let parsed = PublicKey::parse_openssh(encoded.as_openssh()).unwrap();
        prop_assert_eq!(parsed.fingerprint(), encoded.fingerprint());
        prop_assert_eq!(parsed.bits(), 2048);
        let pem = generated.private_pem.expose();
        prop_assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        prop_assert!(pem.ends_with("-----END RSA PRIVATE KEY-----\n"));
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(pem).unwrap();
        let half = ssh_key::public::RsaPublicKey::try_from(private.to_public_key()).unwrap();
        prop_assert_eq!(ssh_key::public::KeyData::Rsa(half), parsed.key_data());
    }
}

#[derive(Debug, Clone)]
struct Spec {
    name: String,
    created: i64,
    tag: Option<(String, String)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        "[ab][ab_]{0,3}",
        0i64..5,
        prop::option::of(("[xy]", "[12]")),
    )
        .prop_map(|(name, created, tag)| Spec { name, created, tag })
}

fn filter() -> impl Strategy<Value = Vec<Filter>> {
    let one = prop_oneof![
        prop::collection::vec("[ab_]{1,2}", 1..3)
            .prop_map(|v| Filter::Names(v, NameMatch::Substring)),
        prop::collection::vec("[ab][ab_]{0,3}", 1..3)
            .prop_map(|v| Filter::Names(v, NameMatch::Exact)),
        prop::collection::vec("[xyz]", 1..3).prop_map(Filter::TagKeys),
        prop::collection::vec("[123]", 1..3).prop_map(Filter::TagValues),
        ("[xy]", prop::collection::vec("[12]", 1..3))
            .prop_map(|(key, values)| Filter::Tag { key, values }),
    ];
    prop::collection::vec(one, 0..3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For any key pairs, filters and page size, walking all pages yields each match
    /// exactly once, in describe order, with the same TotalCount on every page.
    #[test]
    fn paging_yields_each_match_once_in_order(
        specs in prop::collection::vec(spec(), 0..40),
        filters in filter(),
        limit in 1u32..=12,
    ) {
        let store = MemoryStore::new();
        let scope = fresh_scope(Product::Lighthouse);
        let mut stored = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let mut kp = key_pair(&scope, &s.name, i as u64, s.created);
            if let Some((k, v)) = &s.tag {
                kp.tags = Tags::new(Product::Lighthouse, vec![Tag::new(k, v).unwrap()]).unwrap();
            }
            // Repeated names are refused by the store; the model keeps what it accepted.
            if block_on(store.insert(kp.clone(), 1000)).is_ok() {
                stored.push(kp);
            }
        }
        let expected: Vec<KeyId> = stored.iter().filter(|kp| filters.iter().all(|f| f.matches(kp))).map(|kp| kp.id.clone()).collect();
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let page = block_on(store.query(&scope, &Query::new(filters.clone(), offset, limit).expect("a valid query"))).unwrap();
            prop_assert_eq!(page.total as usize, expected.len());
            if page.items.is_empty() { break; }
            offset += page.items.len() as u64;
            seen.extend(page.items);
        }
        prop_assert!(seen.windows(2).all(|w| describe_order(&w[0], &w[1]).is_lt()), "not in describe order");
        let mut got: Vec<KeyId> = seen.iter().map(|kp| kp.id.clone()).collect();
        let mut want = expected.clone();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }
}
