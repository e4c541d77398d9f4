//! The error-mapping rows: dispatch and business errors answered with each product's
//! documented code (docs/api.md, "Error codes").

use crate::common::*;
use serde_json::{json, Value};

/// The error rows: each request answered with its documented code per product,
/// against `w`.
pub async fn dispatch_and_business_error_codes_per_product(w: Wire) {
    let cases: Vec<(&str, &str, Value, &str, &str)> = vec![
        // (action, field under test, body, CVM code, Lighthouse code)
        (
            "DescribeKeyPairs",
            "unknown",
            json!({"Foo": 1}),
            "UnknownParameter",
            "UnknownParameter",
        ),
        (
            "DescribeKeyPairs",
            "wrong type",
            json!({"Limit": "many"}),
            "InvalidParameter",
            "InvalidParameter",
        ),
        (
            "DescribeKeyPairs",
            "wrong type list",
            json!({"KeyIds": "skey-11112222"}),
            "InvalidParameter",
            "InvalidParameter",
        ),
        (
            "DescribeKeyPairs",
            "limit",
            json!({"Limit": 101}),
            "InvalidParameterValueLimit",
            "InvalidParameterValue.OutOfRange",
        ),
        (
            "DescribeKeyPairs",
            "offset",
            json!({"Offset": -1}),
            "InvalidParameterValueOffset",
            "InvalidParameterValue.Negative",
        ),
        (
            "DescribeKeyPairs",
            "ids+filters",
            json!({"KeyIds": ["x"], "Filters": [{"Name": "key-name", "Values": ["a"]}]}),
            "InvalidParameterCombination",
            "InvalidParameter.ParameterConflict",
        ),
        (
            "DescribeKeyPairs",
            "filter",
            json!({"Filters": [{"Name": "nope", "Values": ["a"]}]}),
            "InvalidFilter",
            "InvalidParameter.InvalidFilter",
        ),
        (
            "DescribeKeyPairs",
            "filter member",
            json!({"Filters": [{"Name": "key-name", "Values": ["a"], "X": 1}]}),
            "UnknownParameter",
            "UnknownParameter",
        ),
        (
            "DeleteKeyPairs",
            "missing",
            json!({}),
            "MissingParameter",
            "MissingParameter",
        ),
        (
            "DeleteKeyPairs",
            "malformed id",
            json!({"KeyIds": ["skey-1122"]}),
            "InvalidKeyPairId.Malformed",
            "InvalidParameterValue.KeyPairIdMalformed",
        ),
    ];
    for (action, what, body, cvm, lh) in cases {
        assert_eq!(
            code(&w.call(CVM, action, body.clone()).await),
            cvm,
            "CVM {action} {what}"
        );
        assert_eq!(
            code(&w.call(LH, action, body).await),
            lh,
            "Lighthouse {action} {what}"
        );
    }
    let names = [
        ("", "InvalidKeyPairNameEmpty"),
        ("a b", "InvalidKeyPairNameIncludeIllegalChar"),
        ("abcdefghijklmnopqrstuvwxyz", "InvalidKeyPairNameTooLong"),
    ];
    for (name, cvm) in names {
        let r = w
            .call(
                CVM,
                "ImportKeyPair",
                json!({"KeyName": name, "ProjectId": 0, "PublicKey": SEED_KEY}),
            )
            .await;
        assert_eq!(code(&r), cvm);
        let r = w
            .call(
                LH,
                "ImportKeyPair",
                json!({"KeyName": name, "PublicKey": SEED_KEY}),
            )
            .await;
        assert_eq!(code(&r), format!("InvalidParameterValue.{cvm}"));
    }
    assert_eq!(
        code(
            &w.call(
                CVM,
                "ImportKeyPair",
                json!({"KeyName": "k", "ProjectId": 0})
            )
            .await
        ),
        "MissingParameter"
    );
    assert_eq!(
        code(
            &w.call(
                CVM,
                "ImportKeyPair",
                json!({"KeyName": "k", "PublicKey": SEED_KEY})
            )
            .await
        ),
        "MissingParameter",
        "ProjectId is required on CVM"
    );
    assert_eq!(
        code(
            &w.call(
                LH,
                "ImportKeyPair",
                json!({"KeyName": "k", "ProjectId": 0, "PublicKey": SEED_KEY})
            )
            .await
        ),
        "UnknownParameter",
        "no ProjectId on Lighthouse"
    );
    assert_eq!(
        code(
            &w.call(
                CVM,
                "ImportKeyPair",
                json!({"KeyName": "k", "ProjectId": 7, "PublicKey": SEED_KEY})
            )
            .await
        ),
        "InvalidProjectId.NotFound"
    );
    let bad_key = json!({"KeyName": "k", "ProjectId": 0, "PublicKey": "ssh-rsa AAAA"});
    assert_eq!(
        code(&w.call(CVM, "ImportKeyPair", bad_key).await),
        "InvalidPublicKey.Malformed"
    );
    assert_eq!(
        code(
            &w.call(
                LH,
                "ImportKeyPair",
                json!({"KeyName": "k", "PublicKey": "ssh-dss AAAA"})
            )
            .await
        ),
        "InvalidParameterValue.KeyPairPublicKeyMalformed"
    );
    // Duplicates.
    w.call(
        CVM,
        "ImportKeyPair",
        json!({"KeyName": "dup", "ProjectId": 0, "PublicKey": SEED_KEY}),
    )
    .await;
    w.call(
        LH,
        "ImportKeyPair",
        json!({"KeyName": "dup", "PublicKey": SEED_KEY}),
    )
    .await;
    let other_key = keypair_core::fixtures::synthetic_public_key(9, "x");
    let dup_name_cvm = w
        .call(
            CVM,
            "ImportKeyPair",
            json!({"KeyName": "dup", "ProjectId": 0, "PublicKey": other_key.as_openssh()}),
        )
        .await;
    assert_eq!(code(&dup_name_cvm), "InvalidKeyPairName.Duplicate");
    let dup_name_lh = w
        .call(
            LH,
            "ImportKeyPair",
            json!({"KeyName": "dup", "PublicKey": other_key.as_openssh()}),
        )
        .await;
    assert_eq!(
        code(&dup_name_lh),
        "InvalidParameterValue.DuplicateParameterValue"
    );
    let seed_other_comment = SEED_KEY.replace("skey_112168", "me@laptop");
    let dup_key_cvm = w
        .call(
            CVM,
            "ImportKeyPair",
            json!({"KeyName": "dup2", "ProjectId": 0, "PublicKey": seed_other_comment}),
        )
        .await;
    assert_eq!(code(&dup_key_cvm), "InvalidPublicKey.Duplicate");
    let dup_key_lh = w
        .call(
            LH,
            "ImportKeyPair",
            json!({"KeyName": "dup2", "PublicKey": SEED_KEY}),
        )
        .await;
    assert_eq!(
        code(&dup_key_lh),
        "InvalidParameterValue.KeyPairPublicKeyDuplicated"
    );
    assert_eq!(
        code(
            &w.call(CVM, "DeleteKeyPairs", json!({"KeyIds": ["skey-zzzzzzzz"]}))
                .await
        ),
        "InvalidKeyPairId.NotFound"
    );
    assert_eq!(
        code(
            &w.call(LH, "DeleteKeyPairs", json!({"KeyIds": ["lhkp-zzzzzzzz"]}))
                .await
        ),
        "ResourceNotFound.KeyIdNotFound"
    );
    let bad_rt = json!({"KeyName": "t", "ProjectId": 0, "TagSpecification": [{"ResourceType": "instance", "Tags": []}]});
    assert_eq!(
        code(&w.call(CVM, "CreateKeyPair", bad_rt).await),
        "InvalidParameterValue"
    );
    let offline_user = json!({"KeyIds": ["lhkp-11112222"], "InstanceIds": ["lhins-11112222"], "AssociateType": "OFFLINE", "Username": "root"});
    assert_eq!(
        code(&w.call(LH, "AssociateInstancesKeyPairs", offline_user).await),
        "InvalidParameter.ParameterConflict"
    );
}
