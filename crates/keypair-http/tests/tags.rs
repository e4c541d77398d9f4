//! Tencent's tag rules as a table: each key and value accepted or refused with each
//! product's code, checked through the core (`Tag`, `Tags`) and through the wire
//! (CreateKeyPair with CVM `TagSpecification` / Lighthouse `Tags`, then Describe).

mod common;

use common::{code, wire, CVM, LH};
use keypair_core::{Product, Tag, Tags};
use keypair_wire::error::code_for;
use serde_json::{json, Value};

const OK: &str = "OK";
const CVM_KEY: &str = "FailedOperation.IllegalTagKey";
const CVM_VALUE: &str = "FailedOperation.IllegalTagValue";
const CVM_RESERVED: &str = "FailedOperation.TagKeyReserved";
const LH_BAD: &str = "InvalidParameterValue";

/// (what, key, value, CVM answer, Lighthouse answer).
fn rows() -> Vec<(&'static str, String, String, &'static str, &'static str)> {
    let s = |x: &str| x.to_owned();
    vec![
        ("plain", s("env"), s("prod"), OK, OK),
        ("Chinese letters", s("部门"), s("电商"), OK, OK),
        ("Greek letters", s("αβγ"), s("δ"), OK, OK),
        ("Arabic-Indic digits", s("١٢٣"), s("٤"), OK, OK),
        (
            "every allowed punctuation",
            s("a+b-c=d.e_f:g/h@i"),
            s("+-=._:/@"),
            OK,
            OK,
        ),
        ("spaces inside", s("cost center"), s("team a"), OK, OK),
        ("only spaces in the value", s("blank"), s("   "), OK, OK),
        ("digits only", s("2024"), s("7"), OK, OK),
        (
            "reserved word inside, not as prefix",
            s("my-qcloud"),
            s("x"),
            OK,
            OK,
        ),
        ("127-character key", "k".repeat(127), s("v"), OK, OK),
        ("255-character value", s("k"), "v".repeat(255), OK, OK),
        ("127 four-byte characters", "𐍈".repeat(127), s("v"), OK, OK),
        (
            "128-character key",
            "k".repeat(128),
            s("v"),
            CVM_KEY,
            LH_BAD,
        ),
        (
            "256-character value",
            s("k"),
            "v".repeat(256),
            CVM_VALUE,
            LH_BAD,
        ),
        ("empty key", s(""), s("v"), CVM_KEY, LH_BAD),
        ("empty value", s("k"), s(""), CVM_VALUE, LH_BAD),
        ("'#' in a key", s("a#b"), s("v"), CVM_KEY, LH_BAD),
        ("'!' in a value", s("k"), s("v!x"), CVM_VALUE, LH_BAD),
        ("comma in a value", s("k"), s("a,b"), CVM_VALUE, LH_BAD),
        (
            "quote in a value",
            s("k"),
            s("say \"hi\""),
            CVM_VALUE,
            LH_BAD,
        ),
        (
            "markup in a value",
            s("k"),
            s("<script>"),
            CVM_VALUE,
            LH_BAD,
        ),
        ("emoji key", s("🚀"), s("v"), CVM_KEY, LH_BAD),
        ("tab in a key", s("a\tb"), s("v"), CVM_KEY, LH_BAD),
        ("newline in a key", s("a\nb"), s("v"), CVM_KEY, LH_BAD),
        ("NUL in a value", s("k"), s("a\0b"), CVM_VALUE, LH_BAD),
        (
            "no-break space in a key",
            s("a\u{a0}b"),
            s("v"),
            CVM_KEY,
            LH_BAD,
        ),
        (
            "reserved qcloud prefix",
            s("qcloud:owner"),
            s("v"),
            CVM_RESERVED,
            LH_BAD,
        ),
        (
            "reserved Tencent prefix, any case",
            s("Tencent"),
            s("v"),
            CVM_RESERVED,
            LH_BAD,
        ),
        (
            "reserved project prefix",
            s("PROJECT_x"),
            s("v"),
            CVM_RESERVED,
            LH_BAD,
        ),
    ]
}

fn core_answer(product: Product, key: &str, value: &str) -> String {
    match Tag::new(key, value).and_then(|t| Tags::new(product, vec![t])) {
        Ok(_) => OK.into(),
        Err(e) => code_for(&e, product).0.into(),
    }
}

#[test]
fn through_the_core() {
    let table = rows();
    assert!(table.len() >= 25);
    let failures: Vec<String> = table
        .iter()
        .flat_map(|(what, key, value, cvm, lh)| {
            [(Product::Cvm, *cvm), (Product::Lighthouse, *lh)]
                .into_iter()
                .filter_map(move |(product, want)| {
                    let got = core_answer(product, key, value);
                    (got != want).then(|| format!("{what} on {product}: want {want}, got {got}"))
                })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn create_body(version: &str, name: &str, tags: Value) -> Value {
    if version == CVM {
        json!({"KeyName": name, "ProjectId": 0,
               "TagSpecification": [{"ResourceType": "keypair", "Tags": tags}]})
    } else {
        json!({"KeyName": name, "Tags": tags})
    }
}

#[tokio::test]
async fn through_the_wire() {
    let w = wire();
    let mut failures = Vec::new();
    for (i, (what, key, value, cvm, lh)) in rows().into_iter().enumerate() {
        for (version, want) in [(CVM, cvm), (LH, lh)] {
            let name = format!("t{i}");
            let tags = json!([{"Key": key, "Value": value}]);
            let got = w
                .call(
                    version,
                    "CreateKeyPair",
                    create_body(version, &name, tags.clone()),
                )
                .await;
            if code(&got) != want {
                failures.push(format!("{what} ({version}): want {want}, got {got}"));
            } else if want == OK && got["KeyPair"]["Tags"] != tags {
                failures.push(format!(
                    "{what} ({version}): stored tags {}",
                    got["KeyPair"]["Tags"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn repeated_keys_and_too_many_tags_per_product() {
    let w = wire();
    let twice =
        json!([{"Key": "k", "Value": "1"}, {"Key": "j", "Value": "x"}, {"Key": "k", "Value": "2"}]);
    let cvm = w
        .call(
            CVM,
            "CreateKeyPair",
            create_body(CVM, "twice", twice.clone()),
        )
        .await;
    assert_eq!(code(&cvm), "InvalidParameterValue.DuplicateTags");
    let lh = w
        .call(LH, "CreateKeyPair", create_body(LH, "twice", twice))
        .await;
    assert_eq!(
        lh["KeyPair"]["Tags"],
        json!([{"Key": "k", "Value": "2"}, {"Key": "j", "Value": "x"}]),
        "Lighthouse: the later value replaces the earlier, where the key first stood"
    );
    let many = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
                .collect(),
        )
    };
    let cvm = w
        .call(CVM, "CreateKeyPair", create_body(CVM, "many", many(51)))
        .await;
    assert_eq!(code(&cvm), "LimitExceeded.TagResourceQuota");
    let lh = w
        .call(LH, "CreateKeyPair", create_body(LH, "many", many(11)))
        .await;
    assert_eq!(code(&lh), "InvalidParameterValue.LimitExceeded");
    let at_max = w
        .call(CVM, "CreateKeyPair", create_body(CVM, "fifty", many(50)))
        .await;
    assert_eq!(code(&at_max), OK);
}
