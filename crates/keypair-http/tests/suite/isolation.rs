//! Isolation, table-driven over every action: a second account using the first account's
//! key ids, names and public keys sees nothing, changes nothing, and gets the same answer
//! as for ids that do not exist; CVM and Lighthouse key pairs never see each other.

use crate::common::*;
use serde_json::{json, Value};

/// The answer with any key id and request id blanked, so two answers compare by meaning.
fn normalised(v: &Value, ids: &[&str]) -> Value {
    let mut text = v.to_string();
    for id in ids {
        text = text.replace(id, "<id>");
    }
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("RequestId");
    v
}

/// A request body from (key id, key name, public key, instance id).
type Body = fn(&str, &str, &str, &str) -> Value;

/// Every action, as a function of (key id, key name, public key, instance id).
fn actions(version: &str) -> Vec<(&'static str, Body)> {
    let mut v: Vec<(&'static str, Body)> = vec![
        ("DescribeKeyPairs", |id, _, _, _| json!({"KeyIds": [id]})),
        (
            "DescribeKeyPairs",
            |_, name, _, _| json!({"Filters": [{"Name": "key-name", "Values": [name]}]}),
        ),
        ("DeleteKeyPairs", |id, _, _, _| json!({"KeyIds": [id]})),
        (
            "AssociateInstancesKeyPairs",
            |id, _, _, inst| json!({"KeyIds": [id], "InstanceIds": [inst]}),
        ),
        (
            "DisassociateInstancesKeyPairs",
            |id, _, _, inst| json!({"KeyIds": [id], "InstanceIds": [inst]}),
        ),
    ];
    if version == CVM {
        v.push((
            "ModifyKeyPairAttribute",
            |id, _, _, _| json!({"KeyId": id, "KeyName": "stolen"}),
        ));
        v.push((
            "ModifyKeyPairAttribute",
            |id, _, _, _| json!({"KeyId": id, "Description": "stolen"}),
        ));
    }
    v
}

/// Every action of a second account on the first account's key pairs, against `w`.
pub async fn a_second_account_cannot_reach_the_first_accounts_key_pairs(w: Wire) {
    let mut owned = Vec::new();
    for (version, project, inst) in [
        (CVM, json!({"ProjectId": 0}), "ins-11112222"),
        (LH, json!({}), "lhins-11112222"),
    ] {
        let mut body = json!({"KeyName": "owned", "PublicKey": SEED_KEY});
        body.as_object_mut()
            .unwrap()
            .extend(project.as_object().unwrap().clone());
        let r = w.call(version, "ImportKeyPair", body).await;
        let id = r["KeyId"].as_str().unwrap().to_owned();
        // Bound, so a successful delete or unbind by the intruder would show.
        let bind = w
            .call(
                version,
                "AssociateInstancesKeyPairs",
                json!({"KeyIds": [id], "InstanceIds": [inst]}),
            )
            .await;
        assert_eq!(code(&bind), "OK");
        owned.push((version, id, inst));
    }
    let before = snapshot(&w).await;
    let mut rows = 0;
    for (version, id, inst) in &owned {
        let missing = format!("{}zzzzzzzz", &id[..5]);
        for (action, body) in actions(version) {
            let as_intruder = w
                .send(w.post(
                    (ID2, KEY2),
                    version,
                    action,
                    &body(id, "owned", SEED_KEY, inst),
                ))
                .await;
            let nothing_there = w
                .send(w.post(
                    (ID2, KEY2),
                    version,
                    action,
                    &body(&missing, "nobody", SEED_KEY, inst),
                ))
                .await;
            assert_eq!(
                normalised(&as_intruder, &[id, &missing]),
                normalised(&nothing_there, &[id, &missing]),
                "{version} {action}: another account's key pair must look like one that does not exist"
            );
            if action == "DescribeKeyPairs" {
                assert_eq!(as_intruder["TotalCount"], 0);
            }
            rows += 1;
        }
    }
    assert!(rows >= 12);
    assert_eq!(
        snapshot(&w).await,
        before,
        "the first account's key pairs are unchanged"
    );
    // The intruder's own namespace is separate: the same name and key are free there.
    for (version, _, _) in &owned {
        let mut body = json!({"KeyName": "owned", "PublicKey": SEED_KEY});
        if *version == CVM {
            body["ProjectId"] = json!(0);
        }
        let r = w
            .send(w.post((ID2, KEY2), version, "ImportKeyPair", &body))
            .await;
        assert_eq!(code(&r), "OK", "{version}");
    }
    assert_eq!(
        snapshot(&w).await,
        before,
        "still unchanged for the first account"
    );
}

/// CVM and Lighthouse key pairs of one account, against `w`.
pub async fn cvm_and_lighthouse_never_see_each_other(w: Wire) {
    let cvm = w
        .call(
            CVM,
            "ImportKeyPair",
            json!({"KeyName": "same", "ProjectId": 0, "PublicKey": SEED_KEY}),
        )
        .await;
    let lh = w
        .call(
            LH,
            "ImportKeyPair",
            json!({"KeyName": "same", "PublicKey": SEED_KEY}),
        )
        .await;
    let (cvm_id, lh_id) = (
        cvm["KeyId"].as_str().unwrap(),
        lh["KeyId"].as_str().unwrap(),
    );
    let cvm_list = w.call(CVM, "DescribeKeyPairs", json!({})).await;
    let lh_list = w.call(LH, "DescribeKeyPairs", json!({})).await;
    assert_eq!(
        (
            cvm_list["TotalCount"].as_u64(),
            lh_list["TotalCount"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(cvm_list["KeyPairSet"][0]["KeyId"], cvm_id);
    assert_eq!(lh_list["KeyPairSet"][0]["KeyId"], lh_id);
    // An id of the other product is not even well-formed here.
    let r = w
        .call(LH, "DeleteKeyPairs", json!({"KeyIds": [cvm_id]}))
        .await;
    assert_eq!(code(&r), "InvalidParameterValue.KeyPairIdMalformed");
    let r = w
        .call(CVM, "DescribeKeyPairs", json!({"KeyIds": [lh_id]}))
        .await;
    assert_eq!(code(&r), "InvalidKeyPairId.Malformed");
}
