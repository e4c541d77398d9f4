//! The wire end to end through the router, in-process: signatures (the spec's vectors
//! byte for byte, then freshly signed requests), both parameter encodings, the error
//! envelope and codes, limits and isolation.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use keypair_core::Product;
use keypair_http::{HttpConfig, RateLimits};
use serde_json::{json, Value};
use tower::ServiceExt;

#[tokio::test]
async fn the_spec_vectors_authenticate_byte_for_byte() {
    let w = wire();
    let body =
        r#"{"Filters": [{"Name": "key-name", "Values": ["Tencent"]}], "Offset": 0, "Limit": 20}"#;
    let post = Request::post("/")
        .header("content-type", "application/json")
        .header("host", HOST)
        .header("x-tc-action", "DescribeKeyPairs")
        .header("x-tc-version", CVM)
        .header("x-tc-timestamp", NOW.to_string())
        .header("authorization", format!("TC3-HMAC-SHA256 Credential={ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=9effba6087bb40d3ef690307c70db07f156bdea4dd41914e8bdf8e68f72893d2"))
        .body(Body::from(body))
        .unwrap();
    let r = w.send(post).await;
    assert_eq!((code(&r), r["TotalCount"].as_u64()), ("OK", Some(0)), "{r}");

    let get = Request::get("/?Filters.0.Name=key-name&Filters.0.Values.0=Tencent&Offset=0&Limit=20")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("x-tc-action", "DescribeKeyPairs")
        .header("x-tc-version", CVM)
        .header("x-tc-timestamp", NOW.to_string())
        .header("authorization", format!("TC3-HMAC-SHA256 Credential={ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=3b768b7de90ea63db19a1c4b0031b9cb656ccab6406b05e785f7ccbf995e87b6"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(code(&w.send(get).await), "OK");

    let lh = Request::post("/")
        .header("content-type", "application/json")
        .header("host", HOST)
        .header("x-tc-action", "DescribeKeyPairs")
        .header("x-tc-version", LH)
        .header("x-tc-timestamp", NOW.to_string())
        .header("authorization", format!("TC3-HMAC-SHA256 Credential={ID}/2019-02-25/lighthouse/tc3_request, SignedHeaders=content-type;host, Signature=010af01185c838b8c5cb4b33b0b163540c84e737526c3e4aa8c02378bda560f4"))
        .body(Body::from(r#"{"KeyIds": ["lhkp-omd12oc1"]}"#))
        .unwrap();
    assert_eq!(code(&w.send(lh).await), "OK");

    let form = "Action=DescribeKeyPairs&Filters.0.Name=key-name&Filters.0.Values.0=Tencent&Language=zh-CN&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&RequestClient=SDK_PYTHON_TEST&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Timestamp=1551113065&Version=2017-03-12&Signature=CrAKrxZKEkG%2FMbSkk8JicgkeOPCfSNSDzBF4LIxJdLo%3D";
    let legacy = Request::post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .body(Body::from(form))
        .unwrap();
    assert_eq!(code(&w.send(legacy).await), "OK");
    let sha1 = "/?Action=DescribeKeyPairs&Filters.0.Name=key-name&Filters.0.Values.0=Tencent&Language=zh-CN&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&RequestClient=SDK_PYTHON_TEST&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA1&Timestamp=1551113065&Version=2017-03-12&Signature=raJRyog9wWm9m5aCkZiQovZqmu0%3D";
    let get = || {
        Request::get(sha1)
            .header("host", HOST)
            .body(Body::empty())
            .unwrap()
    };
    // Both legacy vectors use Nonce 11886 with one SecretId: the second is a replay here,
    // and verifies on a server that has not seen the nonce.
    assert_eq!(code(&w.send(get()).await), "AuthFailure.SignatureFailure");
    assert_eq!(code(&wire().send(get()).await), "OK");
}

#[tokio::test]
async fn every_action_of_both_products_over_json() {
    let w = wire();
    // CVM: create, import, describe, modify, associate, delete.
    let created = w
        .call(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "Tencent", "ProjectId": 0}),
        )
        .await;
    let kp = &created["KeyPair"];
    let id = kp["KeyId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("skey-"));
    assert!(kp["PrivateKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert_eq!(
        kp["PublicKey"]
            .as_str()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap(),
        id.replace('-', "_")
    );
    assert_eq!(kp["CreatedTime"], "2019-02-25T16:44:25Z");
    let imported = w
        .call(CVM, "ImportKeyPair", json!({"KeyName": "laptop", "ProjectId": "0", "PublicKey": SEED_KEY,
            "TagSpecification": [{"ResourceType": "keypair", "Tags": [{"Key": "env", "Value": "prod"}]}]}))
        .await;
    let imported_id = imported["KeyId"].as_str().unwrap().to_owned();
    let d = w
        .call(
            CVM,
            "DescribeKeyPairs",
            json!({"Filters": [{"Name": "tag:env", "Values": ["prod"]}]}),
        )
        .await;
    assert_eq!(d["TotalCount"], 1);
    let item = &d["KeyPairSet"][0];
    assert_eq!(item["KeyId"], imported_id.as_str());
    assert_eq!(item["PublicKey"], SEED_KEY);
    assert_eq!(item["Tags"], json!([{"Key": "env", "Value": "prod"}]));
    assert_eq!(item["ProjectId"], 0);
    assert_eq!(item["Description"], "");
    assert!(item.get("PrivateKey").is_none(), "never in Describe");
    let m = w
        .call(
            CVM,
            "ModifyKeyPairAttribute",
            json!({"KeyId": imported_id, "KeyName": "renamed", "Description": "ops"}),
        )
        .await;
    assert_eq!(code(&m), "OK");
    let a = w
        .call(
            CVM,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": [id], "InstanceIds": ["ins-1e4r6y8i"], "ForceStop": true}),
        )
        .await;
    assert_eq!(code(&a), "OK");
    let del = w.call(CVM, "DeleteKeyPairs", json!({"KeyIds": [id]})).await;
    assert_eq!(code(&del), "InvalidParameterValue.KeyPairNotSupported");
    assert!(del["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("ins-1e4r6y8i"));
    w.call(
        CVM,
        "DisassociateInstancesKeyPairs",
        json!({"KeyIds": [id], "InstanceIds": ["ins-1e4r6y8i"]}),
    )
    .await;
    assert_eq!(
        code(
            &w.call(CVM, "DeleteKeyPairs", json!({"KeyIds": [id, imported_id]}))
                .await
        ),
        "OK"
    );
    assert_eq!(
        w.call(CVM, "DescribeKeyPairs", json!({})).await["TotalCount"],
        0
    );

    // Lighthouse.
    let created = w
        .call(
            LH,
            "CreateKeyPair",
            json!({"KeyName": "lh", "Tags": [{"Key": "a", "Value": "b"}]}),
        )
        .await;
    let lid = created["KeyPair"]["KeyId"].as_str().unwrap().to_owned();
    assert!(lid.starts_with("lhkp-"));
    assert!(created["KeyPair"]["PrivateKey"].is_string());
    let a = w
        .call(
            LH,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": [lid], "InstanceIds": ["lhins-ruy9d2tw"], "Username": "ubuntu"}),
        )
        .await;
    assert_eq!(code(&a), "OK");
    let again = w
        .call(
            LH,
            "AssociateInstancesKeyPairs",
            json!({"KeyIds": [lid], "InstanceIds": ["lhins-ruy9d2tw"]}),
        )
        .await;
    assert_eq!(code(&again), "UnsupportedOperation.KeyPairBindDuplicate");
    let d = w
        .call(
            LH,
            "DescribeKeyPairs",
            json!({"Filters": [{"Name": "key-name", "Values": ["l"]}]}),
        )
        .await;
    let item = &d["KeyPairSet"][0];
    assert_eq!(item["PrivateKey"], Value::Null);
    assert_eq!(
        item["AssociatedInstanceSet"],
        json!([{"InstanceId": "lhins-ruy9d2tw", "Username": "ubuntu"}])
    );
    assert_eq!(item["AssociatedInstanceIds"], json!(["lhins-ruy9d2tw"]));
    assert_eq!(
        code(&w.call(LH, "DeleteKeyPairs", json!({"KeyIds": [lid]})).await),
        "ResourceInUse.KeyPairInUse"
    );
    w.call(
        LH,
        "DisassociateInstancesKeyPairs",
        json!({"KeyIds": [lid], "InstanceIds": ["lhins-ruy9d2tw"]}),
    )
    .await;
    let imported = w
        .call(
            LH,
            "ImportKeyPair",
            json!({"KeyName": "seed", "PublicKey": SEED_KEY}),
        )
        .await;
    assert!(
        imported["KeyId"].as_str().unwrap().starts_with("lhkp-"),
        "CVM and Lighthouse are separate namespaces"
    );
    assert_eq!(
        code(&w.call(LH, "DeleteKeyPairs", json!({"KeyIds": [lid]})).await),
        "OK"
    );
    assert_eq!(
        code(
            &w.call(
                LH,
                "ModifyKeyPairAttribute",
                json!({"KeyId": lid, "KeyName": "x"})
            )
            .await
        ),
        "InvalidAction"
    );
}

#[tokio::test]
async fn flattened_forms_decode_like_json() {
    let w = wire();
    let r = w
        .send(w.legacy(
            CVM,
            "ImportKeyPair",
            &[
                ("KeyName", "from_form"),
                ("ProjectId", "0"),
                ("PublicKey", SEED_KEY),
                ("TagSpecification.0.ResourceType", "keypair"),
                ("TagSpecification.0.Tags.0.Key", "team"),
                ("TagSpecification.0.Tags.0.Value", "web"),
            ],
            "1",
        ))
        .await;
    let id = r["KeyId"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let q = "Filters.0.Name=tag%3Ateam&Filters.0.Values.0=web&Limit=5";
    let d = w.send(w.get(CVM, "DescribeKeyPairs", q)).await;
    assert_eq!(d["KeyPairSet"][0]["KeyId"], id.as_str());
    let by_ids = w
        .send(w.get(CVM, "DescribeKeyPairs", &format!("KeyIds.0={id}")))
        .await;
    assert_eq!(by_ids["TotalCount"], 1);
    let del = w
        .send(w.legacy(CVM, "DeleteKeyPairs", &[("KeyIds.0", &id)], "2"))
        .await;
    assert_eq!(code(&del), "OK");
}

#[tokio::test]
async fn authentication_failures() {
    let w = wire();
    let ok = w.post((ID, KEY), CVM, "DescribeKeyPairs", &json!({}));
    assert_eq!(code(&w.send(ok).await), "OK");
    assert_eq!(
        code(
            &w.send(w.post((ID, "wrong-key"), CVM, "DescribeKeyPairs", &json!({})))
                .await
        ),
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(
        code(
            &w.send(w.post(("AKIDunknown", KEY), CVM, "DescribeKeyPairs", &json!({})))
                .await
        ),
        "AuthFailure.SecretIdNotFound"
    );
    // Signed 301 s ago.
    let old = w.post((ID, KEY), CVM, "DescribeKeyPairs", &json!({}));
    w.clock.advance(301_000);
    assert_eq!(code(&w.send(old).await), "AuthFailure.SignatureExpire");
    // A tampered body no longer matches.
    let mut tampered = w.post((ID, KEY), CVM, "DescribeKeyPairs", &json!({"Limit": 1}));
    *tampered.body_mut() = Body::from(r#"{"Limit": 2}"#);
    assert_eq!(
        code(&w.send(tampered).await),
        "AuthFailure.SignatureFailure"
    );
    let unsigned = Request::post("/")
        .header("content-type", "application/json")
        .header("host", HOST)
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(code(&w.send(unsigned).await), "MissingParameter");
    let garbage = Request::post("/")
        .header("content-type", "application/json")
        .header("authorization", "Bearer x")
        .header("x-tc-action", "DescribeKeyPairs")
        .header("x-tc-version", CVM)
        .header("x-tc-timestamp", w.now().to_string())
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        code(&w.send(garbage).await),
        "AuthFailure.InvalidAuthorization"
    );
    // Legacy: a replayed Nonce is refused; a fresh one passes.
    assert_eq!(
        code(&w.send(w.legacy(CVM, "DescribeKeyPairs", &[], "77")).await),
        "OK"
    );
    let replay = w.send(w.legacy(CVM, "DescribeKeyPairs", &[], "77")).await;
    assert_eq!(code(&replay), "AuthFailure.SignatureFailure");
    assert!(replay["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("Nonce"));
    assert_eq!(
        code(&w.send(w.legacy(CVM, "DescribeKeyPairs", &[], "78")).await),
        "OK"
    );
}

#[tokio::test]
async fn product_contradictions_are_errors() {
    let w = wire();
    // Credential scope says lighthouse, Version says CVM.
    let req = w.signed(
        (ID, KEY),
        "lighthouse",
        CVM,
        "DescribeKeyPairs",
        b"{}",
        "application/json",
    );
    assert_eq!(code(&w.send(req).await), "AuthFailure.InvalidAuthorization");
    // The Node SDK's service `127` at an IP endpoint names no product: accepted.
    let req = w.signed(
        (ID, KEY),
        "127",
        CVM,
        "DescribeKeyPairs",
        b"{}",
        "application/json",
    );
    assert_eq!(code(&w.send(req).await), "OK");
    assert_eq!(
        code(&w.call("2099-01-01", "DescribeKeyPairs", json!({})).await),
        "NoSuchVersion"
    );
    assert_eq!(
        code(&w.call(CVM, "RunInstances", json!({})).await),
        "InvalidAction"
    );
}

#[tokio::test]
async fn accounts_see_only_their_own_key_pairs() {
    let w = wire();
    let created = w
        .call(
            CVM,
            "ImportKeyPair",
            json!({"KeyName": "mine", "ProjectId": 0, "PublicKey": SEED_KEY}),
        )
        .await;
    let id = created["KeyId"].as_str().unwrap();
    let other = |action: &str, body: Value| w.post((ID2, KEY2), CVM, action, &body);
    let d = w
        .send(other("DescribeKeyPairs", json!({"KeyIds": [id]})))
        .await;
    assert_eq!(d["TotalCount"], 0);
    let del = w
        .send(other("DeleteKeyPairs", json!({"KeyIds": [id]})))
        .await;
    assert_eq!(code(&del), "InvalidKeyPairId.NotFound");
    // The second account may use the same name and key in its own namespace.
    let mine = w
        .send(other(
            "ImportKeyPair",
            json!({"KeyName": "mine", "ProjectId": 0, "PublicKey": SEED_KEY}),
        ))
        .await;
    assert_eq!(code(&mine), "OK");
    assert_eq!(
        w.call(CVM, "DescribeKeyPairs", json!({})).await["TotalCount"],
        1
    );
}

#[tokio::test]
async fn protocol_limits() {
    let w = wire_with(HttpConfig {
        body: keypair_http::BodyLimits {
            max_bytes: 1024,
            ..Default::default()
        },
        rate_limits: RateLimits::default(),
        ..HttpConfig::default()
    });
    let put = Request::put("/").body(Body::empty()).unwrap();
    assert_eq!(code(&w.send(put).await), "UnsupportedProtocol");
    let big = json!({"KeyName": "x".repeat(2000)});
    assert_eq!(
        code(&w.call(CVM, "DescribeKeyPairs", big).await),
        "RequestSizeLimitExceeded"
    );
    let not_object = Request::post("/")
        .header("content-type", "application/json")
        .header("host", HOST)
        .body(Body::from("[1,2]"))
        .unwrap();
    // Unsigned: authentication comes before the body is parsed.
    assert_eq!(code(&w.send(not_object).await), "MissingParameter");
    let signed_array = w.post_raw(CVM, "DescribeKeyPairs", b"[1,2]", "application/json");
    let r = w.send(signed_array).await;
    assert_eq!(code(&r), "InvalidParameter");
    // The default (spec) rate: CVM DescribeKeyPairs 10/s per account; the clock is pinned.
    let mut codes = Vec::new();
    for _ in 0..12 {
        codes.push(code(&w.call(CVM, "DescribeKeyPairs", json!({})).await).to_owned());
    }
    assert_eq!(codes.iter().filter(|c| *c == "OK").count(), 10);
    assert_eq!(codes.last().unwrap(), "RequestLimitExceeded");
    w.clock.advance(1000);
    assert_eq!(
        code(&w.call(CVM, "DescribeKeyPairs", json!({})).await),
        "OK",
        "refilled after a second"
    );
    let health = w
        .app
        .clone()
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let elsewhere = Request::get("/admin").body(Body::empty()).unwrap();
    assert_eq!(code(&w.send(elsewhere).await), "UnsupportedProtocol");
}

#[tokio::test]
async fn messages_follow_the_language() {
    let w = wire();
    let en = w.call(CVM, "DescribeKeyPairs", json!({"Limit": 0})).await;
    assert!(en["Error"]["Message"]
        .as_str()
        .unwrap()
        .starts_with("Limit 0 is out of range"));
    let mut zh = w.post((ID, KEY), CVM, "DescribeKeyPairs", &json!({"Limit": 0}));
    zh.headers_mut().remove("x-tc-language");
    let zh = w.send(zh).await;
    assert!(
        zh["Error"]["Message"]
            .as_str()
            .unwrap()
            .starts_with("Limit 取值超出范围"),
        "{zh}"
    );
}

#[test]
fn every_domain_error_maps_to_a_spec_code_for_each_product() {
    use keypair_core::Error as E;
    use keypair_wire::error::code_for;
    let id = keypair_core::KeyId::parse(Product::Cvm, "skey-11112222").unwrap();
    let inst = keypair_core::InstanceId::parse(Product::Cvm, "ins-11112222").unwrap();
    let rows: Vec<(E, &str, &str)> = vec![
        (
            E::KeyNameEmpty,
            "InvalidKeyPairNameEmpty",
            "InvalidParameterValue.InvalidKeyPairNameEmpty",
        ),
        (
            E::KeyNameTooLong { len: 26, max: 25 },
            "InvalidKeyPairNameTooLong",
            "InvalidParameterValue.InvalidKeyPairNameTooLong",
        ),
        (
            E::KeyNameIllegalChar { ch: ' ' },
            "InvalidKeyPairNameIncludeIllegalChar",
            "InvalidParameterValue.InvalidKeyPairNameIncludeIllegalChar",
        ),
        (
            E::KeyIdMalformed {
                id: "x".into(),
                prefix: "skey-",
            },
            "InvalidKeyPairId.Malformed",
            "InvalidParameterValue.KeyPairIdMalformed",
        ),
        (
            E::InstanceIdMalformed {
                id: "x".into(),
                prefix: "ins-",
            },
            "InvalidInstanceId.Malformed",
            "InvalidParameterValue.InstanceIdMalformed",
        ),
        (
            E::ProjectNotFound(7),
            "InvalidProjectId.NotFound",
            "InvalidParameterValue",
        ),
        (
            E::DescriptionTooLong { len: 61, max: 60 },
            "InvalidParameterValue",
            "InvalidParameterValue",
        ),
        (
            E::TagKeyReserved("qcloud:x".into()),
            "FailedOperation.TagKeyReserved",
            "InvalidParameterValue",
        ),
        (
            E::TooManyTags { given: 11, max: 10 },
            "LimitExceeded.TagResourceQuota",
            "InvalidParameterValue.LimitExceeded",
        ),
        (
            E::PublicKeyMalformed("x".into()),
            "InvalidPublicKey.Malformed",
            "InvalidParameterValue.KeyPairPublicKeyMalformed",
        ),
        (
            E::DuplicateName("x".into()),
            "InvalidKeyPairName.Duplicate",
            "InvalidParameterValue.DuplicateParameterValue",
        ),
        (
            E::DuplicatePublicKey {
                fingerprint: "x".into(),
            },
            "InvalidPublicKey.Duplicate",
            "InvalidParameterValue.KeyPairPublicKeyDuplicated",
        ),
        (
            E::QuotaExceeded { limit: 1 },
            "InvalidKeyPair.LimitExceeded",
            "LimitExceeded.KeyPairLimitExceeded",
        ),
        (
            E::KeyPairNotFound(vec![id.clone()]),
            "InvalidKeyPairId.NotFound",
            "ResourceNotFound.KeyIdNotFound",
        ),
        (
            E::KeyPairInUse {
                key: id.clone(),
                instances: vec![inst.clone()],
            },
            "InvalidParameterValue.KeyPairNotSupported",
            "ResourceInUse.KeyPairInUse",
        ),
        (
            E::AlreadyAssociated {
                key: id.clone(),
                instance: inst.clone(),
            },
            "InvalidParameterValue",
            "UnsupportedOperation.KeyPairBindDuplicate",
        ),
        (
            E::NotAssociated {
                key: id,
                instance: inst,
            },
            "InvalidParameterValue",
            "UnsupportedOperation.KeyPairNotBoundToInstance",
        ),
        (
            E::IdsWithFilters,
            "InvalidParameterCombination",
            "InvalidParameter.ParameterConflict",
        ),
        (
            E::LimitOutOfRange { value: 0, max: 100 },
            "InvalidParameterValueLimit",
            "InvalidParameterValue.OutOfRange",
        ),
        (
            E::OffsetNegative(-1),
            "InvalidParameterValueOffset",
            "InvalidParameterValue.Negative",
        ),
        (
            E::UnknownFilter {
                name: "x".into(),
                supported: String::new(),
            },
            "InvalidFilter",
            "InvalidParameter.InvalidFilter",
        ),
        (
            E::TooManyFilters { given: 11, max: 10 },
            "InvalidParameterValue.LimitExceeded",
            "InvalidParameterValue.LimitExceeded",
        ),
        (
            E::TooManyFilterValues {
                name: "x".into(),
                given: 6,
                max: 5,
            },
            "InvalidFilterValue.LimitExceeded",
            "InvalidParameterValue.LimitExceeded",
        ),
        (
            E::TooManyIds {
                what: "KeyIds",
                given: 101,
                max: 100,
            },
            "InvalidParameterValue.LimitExceeded",
            "InvalidParameterValue.LimitExceeded",
        ),
        (E::NoIds("KeyIds"), "MissingParameter", "MissingParameter"),
        (
            E::DuplicateId {
                what: "KeyIds",
                id: "x".into(),
            },
            "InvalidParameterValue",
            "InvalidParameterValue.Duplicated",
        ),
        (E::NothingToModify, "MissingParameter", "MissingParameter"),
        (
            E::Storage("disk on fire".into()),
            "InternalServerError",
            "InternalError",
        ),
        (
            E::KeyGeneration("x".into()),
            "InternalServerError",
            "InternalError",
        ),
    ];
    for (err, cvm, lh) in &rows {
        assert_eq!(code_for(err, Product::Cvm).0, *cvm, "{err:?}");
        assert_eq!(code_for(err, Product::Lighthouse).0, *lh, "{err:?}");
    }
    let internal = keypair_wire::error::from_domain(
        &E::Storage("disk on fire at /var/lib".into()),
        Product::Cvm,
    );
    assert!(
        !internal.en.contains("disk") && !internal.zh.contains("disk"),
        "internals are not sent"
    );
}

#[tokio::test]
async fn metrics_count_requests_and_can_be_turned_off() {
    let w = wire();
    w.call(CVM, "DescribeKeyPairs", json!({})).await;
    w.call(CVM, "DescribeKeyPairs", json!({"Limit": 0})).await;
    let resp = w
        .app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "no authentication");
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains(
            r#"keypair_requests_total{action="DescribeKeyPairs",product="cvm",code="OK"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"code="InvalidParameterValueLimit"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            "keypair_request_duration_seconds_count{action=\"DescribeKeyPairs\",product=\"cvm\"} 2"
        ),
        "{text}"
    );
    let off = wire_with(HttpConfig {
        metrics: false,
        ..HttpConfig::default()
    });
    let r = off
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(code(&r), "UnsupportedProtocol");
}
