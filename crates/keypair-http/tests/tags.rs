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
const CVM_QUOTA: &str = "LimitExceeded.TagResourceQuota";
const LH_BAD: &str = "InvalidParameterValue";
const LH_TOO_MANY: &str = "InvalidParameterValue.LimitExceeded";

/// One rule of the table: the tags sent, each product's answer, and words a refusal's
/// message must contain (the character and its code point, or the rule broken).
struct Row {
    what: &'static str,
    tags: Vec<(String, String)>,
    cvm: &'static str,
    lh: &'static str,
    says: &'static str,
}

fn one(what: &'static str, key: &str, value: &str, cvm: &'static str, lh: &'static str) -> Row {
    Row {
        what,
        tags: vec![(key.to_owned(), value.to_owned())],
        cvm,
        lh,
        says: "",
    }
}

fn saying(mut row: Row, says: &'static str) -> Row {
    row.says = says;
    row
}

fn many(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("k{i}"), "v".to_owned())).collect()
}

/// The rules of the Tag service's "Use Limits" page (doc 651/13354), accepted and
/// refused, one row each.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    let bad_key = |what, key: &str, says| saying(one(what, key, "v", CVM_KEY, LH_BAD), says);
    let bad_value =
        |what, value: &str, says| saying(one(what, "k", value, CVM_VALUE, LH_BAD), says);
    let reserved = |what, key: &str| saying(one(what, key, "v", CVM_RESERVED, LH_BAD), "reserved");
    vec![
        one("ASCII letters and digits", "env2", "Prod7", OK, OK),
        one("Chinese characters", "部门", "电商", OK, OK),
        one("every ASCII punctuation", "a+b-c=d.e_f:g/h@i(j)k[l]m,n;o>p<q", "+-=._:/@()[],;><", OK, OK),
        one("full-width punctuation", "成本（中心）", "＋－＝／＠：", OK, OK),
        one("full-width brackets 【】", "【环境】", "【】", OK, OK),
        one("spaces inside", "cost center", "team a", OK, OK),
        one("digits only", "2024", "7", OK, OK),
        one("a reserved word inside, not as the prefix", "my-qcloud", "x", OK, OK),
        one("qcs without its colon", "qcs-team", "x", OK, OK),
        one("127-character key", &"k".repeat(127), "v", OK, OK),
        one("255-character value", "k", &"v".repeat(255), OK, OK),
        one("127 four-byte Chinese characters", &"𠀀".repeat(127), "v", OK, OK),
        Row { what: "50 tags", tags: many(50), cvm: OK, lh: LH_TOO_MANY, says: "" },
        bad_key("128-character key", &"k".repeat(128), "128 characters"),
        bad_value("256-character value", &"v".repeat(256), "256 characters"),
        bad_key("empty key", "", "empty"),
        bad_value("empty value", "", "empty"),
        bad_key("Cyrillic look-alike qсloud:", "q\u{441}loud:owner", "U+0441"),
        bad_key("zero-width space", "a\u{200b}b", "U+200B"),
        bad_key("leading space", " env", "starts with a space"),
        bad_value("trailing space", "prod ", "ends with a space"),
        bad_value("only spaces", "   ", "starts with a space"),
        bad_key("ideographic space", "a\u{3000}b", "U+3000"),
        bad_key("no-break space", "a\u{a0}b", "U+00A0"),
        bad_key("Greek letters", "αβγ", "U+03B1"),
        bad_value("accented Latin", "café", "U+00E9"),
        bad_key("Arabic-Indic digits", "١٢٣", "U+0661"),
        bad_key("'#' in a key", "a#b", "U+0023"),
        bad_value("'!' in a value", "v!x", "U+0021"),
        bad_value("a quote", "say \"hi\"", "U+0022"),
        bad_key("emoji", "🚀", "U+1F680"),
        bad_key("tab", "a\tb", "U+0009"),
        bad_key("newline", "a\nb", "U+000A"),
        bad_value("NUL", "a\0b", "U+0000"),
        reserved("reserved qcs: prefix", "qcs:env"),
        reserved("reserved qcs: prefix, any case", "QCS:env"),
        reserved("reserved project prefix", "PROJECT_x"),
        reserved("reserved 项目 prefix", "项目组"),
        reserved("reserved qcloud prefix (older pages)", "qcloud:owner"),
        reserved("reserved tencent prefix, any case (older pages)", "Tencent"),
        Row { what: "51 tags", tags: many(51), cvm: CVM_QUOTA, lh: LH_TOO_MANY, says: "51 tags" },
    ]
}

/// The core's answer and message for `tags` on `product`.
fn core_answer(product: Product, tags: &[(String, String)]) -> (String, String) {
    let built = tags
        .iter()
        .map(|(k, v)| Tag::new(k, v))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|t| Tags::new(product, t));
    match built {
        Ok(_) => (OK.into(), String::new()),
        Err(e) => (code_for(&e, product).0.into(), e.to_string()),
    }
}

#[test]
fn through_the_core() {
    let table = rows();
    assert_eq!(table.len(), 41, "docs/api.md counts the rows");
    let failures: Vec<String> = table
        .iter()
        .flat_map(|row| {
            [(Product::Cvm, row.cvm), (Product::Lighthouse, row.lh)]
                .into_iter()
                .filter_map(move |(product, want)| {
                    let (got, message) = core_answer(product, &row.tags);
                    let said = want == OK || message.contains(row.says);
                    (got != want || !said).then(|| {
                        format!(
                            "{} on {product}: want {want} saying {:?}, got {got}: {message}",
                            row.what, row.says
                        )
                    })
                })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn tag_json(tags: &[(String, String)]) -> Value {
    let list = tags.iter().map(|(k, v)| json!({"Key": k, "Value": v}));
    Value::Array(list.collect())
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
    for (i, row) in rows().into_iter().enumerate() {
        for (version, want) in [(CVM, row.cvm), (LH, row.lh)] {
            let name = format!("t{i}");
            let tags = tag_json(&row.tags);
            let got = w
                .call(
                    version,
                    "CreateKeyPair",
                    create_body(version, &name, tags.clone()),
                )
                .await;
            let message = got["Error"]["Message"].as_str().unwrap_or_default();
            if code(&got) != want || (want != OK && !message.contains(row.says)) {
                failures.push(format!(
                    "{} ({version}): want {want} saying {:?}, got {got}",
                    row.what, row.says
                ));
            } else if want == OK && got["KeyPair"]["Tags"] != tags {
                failures.push(format!(
                    "{} ({version}): stored tags {}",
                    row.what, got["KeyPair"]["Tags"]
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
    // The table has 50 and 51; Lighthouse's `Tags` takes at most 10.
    let lh = w
        .call(
            LH,
            "CreateKeyPair",
            create_body(LH, "many", tag_json(&many(11))),
        )
        .await;
    assert_eq!(code(&lh), LH_TOO_MANY);
    let at_max = w
        .call(
            LH,
            "CreateKeyPair",
            create_body(LH, "ten", tag_json(&many(10))),
        )
        .await;
    assert_eq!(code(&at_max), OK);
}
