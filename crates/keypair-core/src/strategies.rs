//! proptest strategies for valid and invalid names, ids, tags and public keys, so a
//! service embedding the core can property-test its own handling with the same
//! generators the core's tests use. Enabled by the `proptest` feature.

use crate::fixtures::synthetic_public_key;
use crate::{KeyName, Product, Tag, Tags};
use proptest::prelude::*;
use proptest::sample::SizeRange;

/// Names the validator accepts: 1–25 of `[A-Za-z0-9_]`.
pub fn valid_key_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{1,25}"
}

/// Names the validator rejects: empty, too long, or with an illegal character
/// (punctuation, spaces, control characters, Unicode look-alikes).
pub fn invalid_key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-Za-z0-9_]{26,60}",
        ("[A-Za-z0-9_]{0,12}", "[^A-Za-z0-9_]", "[A-Za-z0-9_]{0,12}")
            .prop_map(|(a, bad, b)| format!("{a}{bad}{b}")),
        // Fullwidth and Cyrillic look-alikes of valid characters.
        (
            "[A-Za-z0-9_]{0,10}",
            prop::sample::select(vec!["Ａ", "а", "о", "＿", "１"])
        )
            .prop_map(|(a, l)| format!("{a}{l}")),
    ]
}

/// Any string at all, biased towards the edges of the name rules.
pub fn any_key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        valid_key_name(),
        invalid_key_name(),
        "\\PC{0,30}",
        ".{0,30}"
    ]
}

/// Well-formed key ids of `product`.
pub fn key_id(product: Product) -> impl Strategy<Value = String> {
    let prefix = product.spec().key_id_prefix;
    "[0-9a-z]{8}".prop_map(move |s| format!("{prefix}{s}"))
}

/// Malformed key ids of `product`: wrong length, case, characters or prefix.
pub fn malformed_key_id(product: Product) -> impl Strategy<Value = String> {
    let prefix = product.spec().key_id_prefix;
    prop_oneof![
        "[0-9a-z]{0,7}".prop_map(move |s| format!("{prefix}{s}")),
        "[0-9a-z]{9,12}".prop_map(move |s| format!("{prefix}{s}")),
        "[0-9a-z]{0,7}[A-Z_.-][0-9a-z]{0,7}".prop_map(move |s| format!("{prefix}{s}")),
        "[a-z]{1,5}-[0-9a-z]{8}"
            .prop_filter("not this product's prefix", move |s| !s.starts_with(prefix)),
    ]
}

/// Valid tags (keys avoid the reserved prefixes): ASCII letters and digits, Chinese
/// characters, the allowed punctuation (ASCII and full-width), and spaces inside.
pub fn tag() -> impl Strategy<Value = Tag> {
    (
        "[a-o一-龥][a-z0-9_:.@/=+()\\[\\],;<>-]{0,20}",
        "[A-Za-z0-9一-龥]([A-Za-z0-9 _.:/=+@()\\[\\],;<>（）【】：＋－＝／＠一-龥-]{0,38}[A-Za-z0-9_.】）])?",
    )
        .prop_map(|(k, v)| Tag::new(&k, &v).expect("strategy makes valid tags"))
}

/// Tag text (a key or a value) that breaks Tencent's character rule: one character
/// that is not an ASCII letter or digit, a Chinese character, a space or the allowed
/// punctuation (other scripts' letters, look-alikes, invisible and control characters
/// among them), somewhere in otherwise valid text.
pub fn text_with_illegal_tag_char() -> impl Strategy<Value = String> {
    (
        "[a-z]{1,10}",
        "[#!$%^&*{}?|~`'\"\\\\\t\n\u{7f}\u{200b}\u{a0}\u{3000}αсéЖ١🚀々]",
        "[a-z]{0,10}",
    )
        .prop_map(|(head, bad, tail)| format!("{head}{bad}{tail}"))
}

/// Valid tag lists for `product`: distinct keys, at most the product's maximum.
pub fn tags(product: Product) -> impl Strategy<Value = Tags> {
    let max = product.spec().max_tags.min(10);
    prop::collection::vec(tag(), SizeRange::from(0..=max)).prop_map(move |mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|t| seen.insert(t.key().to_owned()));
        Tags::new(product, v).expect("deduplicated list within the maximum")
    })
}

/// Valid OpenSSH RSA public-key lines (2048-bit, synthetic moduli), with or without a
/// comment.
pub fn public_key_line() -> impl Strategy<Value = String> {
    (any::<u64>(), prop::option::of("[A-Za-z0-9_@.-]{1,20}")).prop_map(|(seed, comment)| {
        synthetic_public_key(seed, comment.as_deref().unwrap_or(""))
            .as_openssh()
            .to_owned()
    })
}

/// Lines ImportKeyPair must reject: broken, truncated, wrapped, multiplied or
/// non-RSA keys.
pub fn malformed_public_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "\\PC{0,60}".prop_filter("not a key", |s| !s.trim_start().starts_with("ssh-rsa ")),
        public_key_line().prop_map(|k| format!("{k}\n{k}")),
        public_key_line().prop_map(|k| format!("command=\"ls\" {k}")),
        public_key_line().prop_map(|k| k[..k.len().min(200)].to_owned()),
        public_key_line().prop_map(|k| k.replacen("AAAA", "AA!A", 1)),
        public_key_line()
            .prop_map(|k| format!("-----BEGIN PUBLIC KEY-----\n{k}\n-----END PUBLIC KEY-----")),
        Just(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti"
                .to_owned()
        ),
    ]
}

/// Whether `s` matches `^[A-Za-z0-9_]{1,25}$`, written independently of [`KeyName`].
pub fn is_valid_name_by_regex(s: &str) -> bool {
    let n = s.chars().count();
    (1..=KeyName::MAX_LEN).contains(&n) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
