//! U+0000 in every free-text member and every filter value of both products. PostgreSQL
//! text cannot hold or compare NUL, so the core refuses it (and every other control
//! character) before a store sees it: each store gives the same answer (the golden
//! capture holds them), a parameter code, never an internal error, and nothing stored
//! changes.

use crate::common::*;
use serde_json::{json, Value};

const NUL: &str = "a\u{0}b";

/// A CVM `TagSpecification` with one tag.
fn spec(key: &str, value: &str, resource: &str) -> Value {
    json!([{"ResourceType": resource, "Tags": [{"Key": key, "Value": value}]}])
}

fn filter(name: &str, value: &str) -> Value {
    json!({"Filters": [{"Name": name, "Values": [value]}]})
}

/// (what, version, action, body, the code that answers).
fn rows(
    cvm_key: &str,
    lh_key: &str,
) -> Vec<(String, &'static str, &'static str, Value, &'static str)> {
    let key = SEED_KEY;
    let with_comment = format!("{key} {NUL}");
    let mut rows: Vec<(String, &'static str, &'static str, Value, &'static str)> = vec![
        (
            "CVM create KeyName".into(),
            CVM,
            "CreateKeyPair",
            json!({"KeyName": NUL, "ProjectId": 0}),
            "InvalidKeyPairNameIncludeIllegalChar",
        ),
        (
            "CVM import KeyName".into(),
            CVM,
            "ImportKeyPair",
            json!({"KeyName": NUL, "ProjectId": 0, "PublicKey": key}),
            "InvalidKeyPairNameIncludeIllegalChar",
        ),
        (
            "CVM import PublicKey comment".into(),
            CVM,
            "ImportKeyPair",
            json!({"KeyName": "n1", "ProjectId": 0, "PublicKey": with_comment}),
            "InvalidPublicKey.Malformed",
        ),
        (
            "CVM tag key".into(),
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "n2", "ProjectId": 0, "TagSpecification": spec(NUL, "v", "keypair")}),
            "FailedOperation.IllegalTagKey",
        ),
        (
            "CVM tag value".into(),
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "n3", "ProjectId": 0, "TagSpecification": spec("k", NUL, "keypair")}),
            "FailedOperation.IllegalTagValue",
        ),
        (
            "CVM tag ResourceType".into(),
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "n4", "ProjectId": 0, "TagSpecification": spec("k", "v", NUL)}),
            "InvalidParameterValue",
        ),
        (
            "CVM modify KeyName".into(),
            CVM,
            "ModifyKeyPairAttribute",
            json!({"KeyId": cvm_key, "KeyName": NUL}),
            "InvalidKeyPairNameIncludeIllegalChar",
        ),
        (
            "CVM modify Description".into(),
            CVM,
            "ModifyKeyPairAttribute",
            json!({"KeyId": cvm_key, "Description": NUL}),
            "InvalidParameterValue",
        ),
        (
            "CVM modify KeyId".into(),
            CVM,
            "ModifyKeyPairAttribute",
            json!({"KeyId": NUL, "Description": "d"}),
            "InvalidKeyPairId.Malformed",
        ),
        (
            "CVM describe KeyIds".into(),
            CVM,
            "DescribeKeyPairs",
            json!({"KeyIds": [NUL]}),
            "InvalidKeyPairId.Malformed",
        ),
        (
            "CVM delete KeyIds".into(),
            CVM,
            "DeleteKeyPairs",
            json!({"KeyIds": [NUL]}),
            "InvalidKeyPairId.Malformed",
        ),
        (
            "CVM associate InstanceIds".into(),
            CVM,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": [cvm_key], "InstanceIds": [NUL]}),
            "InvalidInstanceId.Malformed",
        ),
        (
            "CVM disassociate InstanceIds".into(),
            CVM,
            "DisassociateInstancesKeyPairs",
            json!({"KeyIds": [cvm_key], "InstanceIds": [NUL]}),
            "InvalidInstanceId.Malformed",
        ),
        (
            "LH create KeyName".into(),
            LH,
            "CreateKeyPair",
            json!({"KeyName": NUL}),
            "InvalidParameterValue.InvalidKeyPairNameIncludeIllegalChar",
        ),
        (
            "LH import KeyName".into(),
            LH,
            "ImportKeyPair",
            json!({"KeyName": NUL, "PublicKey": key}),
            "InvalidParameterValue.InvalidKeyPairNameIncludeIllegalChar",
        ),
        (
            "LH import PublicKey comment".into(),
            LH,
            "ImportKeyPair",
            json!({"KeyName": "n1", "PublicKey": with_comment}),
            "InvalidParameterValue.KeyPairPublicKeyMalformed",
        ),
        (
            "LH tag key".into(),
            LH,
            "CreateKeyPair",
            json!({"KeyName": "n2", "Tags": [{"Key": NUL, "Value": "v"}]}),
            "InvalidParameterValue",
        ),
        (
            "LH tag value".into(),
            LH,
            "CreateKeyPair",
            json!({"KeyName": "n3", "Tags": [{"Key": "k", "Value": NUL}]}),
            "InvalidParameterValue",
        ),
        (
            "LH describe KeyIds".into(),
            LH,
            "DescribeKeyPairs",
            json!({"KeyIds": [NUL]}),
            "InvalidParameterValue.KeyPairIdMalformed",
        ),
        (
            "LH delete KeyIds".into(),
            LH,
            "DeleteKeyPairs",
            json!({"KeyIds": [NUL]}),
            "InvalidParameterValue.KeyPairIdMalformed",
        ),
        (
            "LH associate InstanceIds".into(),
            LH,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": [lh_key], "InstanceIds": [NUL]}),
            "InvalidParameterValue.InstanceIdMalformed",
        ),
        (
            "LH associate Username".into(),
            LH,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": [lh_key], "InstanceIds": ["lhins-11112222"], "Username": NUL}),
            "InvalidParameterValue",
        ),
        (
            "LH associate AssociateType".into(),
            LH,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": [lh_key], "InstanceIds": ["lhins-11112222"], "AssociateType": NUL}),
            "InvalidParameterValue",
        ),
        (
            "LH disassociate Username".into(),
            LH,
            "DisassociateInstancesKeyPairs",
            json!({"KeyIds": [lh_key], "InstanceIds": ["lhins-11112222"], "Username": NUL}),
            "InvalidParameterValue",
        ),
        (
            "LH disassociate DisassociateType".into(),
            LH,
            "DisassociateInstancesKeyPairs",
            json!({"KeyIds": [lh_key], "InstanceIds": ["lhins-11112222"], "DisassociateType": NUL}),
            "InvalidParameterValue",
        ),
    ];
    let filters: [(&'static str, &[&str], &'static str); 2] = [
        (
            CVM,
            &["key-name", "tag-key", "tag-value", "tag:env", "project-id"],
            "InvalidFilter",
        ),
        (
            LH,
            &["key-id", "key-name", "tag-key", "tag-value", "tag:env"],
            "InvalidParameter.InvalidFilter",
        ),
    ];
    for (version, names, want) in filters {
        for name in names {
            rows.push((
                format!("{version} filter {name}"),
                version,
                "DescribeKeyPairs",
                filter(name, NUL),
                want,
            ));
        }
        rows.push((
            format!("{version} filter tag:<key> with NUL in the key"),
            version,
            "DescribeKeyPairs",
            filter(&format!("tag:{NUL}"), "v"),
            want,
        ));
    }
    rows
}

/// Every row against `w`, after storing one key pair per product for the rows that need
/// an existing key.
pub async fn nul_in_every_free_text_member_and_filter_value_is_refused_alike(w: Wire) {
    let tags = json!([{"ResourceType": "keypair", "Tags": [{"Key": "env", "Value": "prod"}]}]);
    let cvm = w.call(CVM, "ImportKeyPair", json!({"KeyName": "keep", "ProjectId": 0, "PublicKey": SEED_KEY, "TagSpecification": tags})).await;
    let lh = w.call(LH, "ImportKeyPair", json!({"KeyName": "keep", "PublicKey": SEED_KEY, "Tags": [{"Key": "env", "Value": "prod"}]})).await;
    let (cvm_key, lh_key) = (
        cvm["KeyId"].as_str().expect("CVM import"),
        lh["KeyId"].as_str().expect("LH import"),
    );
    let before = snapshot(&w).await;
    let rows = rows(cvm_key, lh_key);
    assert_eq!(rows.len(), 37);
    let mut failures = Vec::new();
    for (what, version, action, body, want) in rows {
        let got = w.call(version, action, body).await;
        if code(&got) != want {
            failures.push(format!("{what}: want {want}, got {got}"));
        }
    }
    assert_rows_pass(&failures);
    assert_eq!(snapshot(&w).await, before, "no stored data changed");
}
