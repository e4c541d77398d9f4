//! The instance directory's decisions, table-driven over product × operation × state ×
//! OS × ForceStop/type, each with its expected answer or code; every refusal's code is
//! checked against the action's documented error list; and the same decisions through
//! the wire, with the state change a ForceStop makes visible to the next call.

mod common;

use common::{code, wire_with_instances, CVM, LH};
use keypair_core::{
    binding_decision, AccountId, Admission, BindingOp, Instance, InstanceId, InstanceState,
    OsFamily, Product, RunningInstance, Scope, StaticInstances,
};
use keypair_wire::error::code_for;
use serde_json::json;
use std::sync::Arc;

use BindingOp::{Associate, Disassociate};
use InstanceState::*;
use OsFamily::{Linux, Windows};
use Product::{Cvm, Lighthouse};
use RunningInstance::{Online, Refuse, Stop};

/// The answer for one instance: `PROCEED`, `STOP` (stop first, then proceed), or a code.
fn answer(
    product: Product,
    op: BindingOp,
    inst: Option<Instance>,
    running: RunningInstance,
) -> String {
    let prefix = product.spec().instance_id_prefix;
    let id = InstanceId::parse(product, &format!("{prefix}00000001")).unwrap();
    match binding_decision(product, op, &id, inst, running) {
        Ok(Admission::Proceed) => "PROCEED".into(),
        Ok(Admission::StopFirst) => "STOP".into(),
        Err(e) => code_for(&e, product).0.into(),
    }
}

fn on(state: InstanceState, os: OsFamily) -> Option<Instance> {
    Some(Instance { state, os })
}

#[test]
fn decisions_table() {
    #[rustfmt::skip]
    let rows: &[(Product, BindingOp, Option<Instance>, RunningInstance, &str)] = &[
        // CVM: STOPPED Linux proceeds; RUNNING needs ForceStop; each other state its code.
        (Cvm, Associate, on(Stopped, Linux), Refuse, "PROCEED"),
        (Cvm, Associate, on(Stopped, Linux), Stop, "PROCEED"),
        (Cvm, Associate, on(Running, Linux), Refuse, "UnsupportedOperation.InstanceStateRunning"),
        (Cvm, Associate, on(Running, Linux), Stop, "STOP"),
        (Cvm, Associate, on(Pending, Linux), Stop, "UnsupportedOperation.InstanceStatePending"),
        (Cvm, Associate, on(Starting, Linux), Refuse, "UnsupportedOperation.InstanceStateStarting"),
        (Cvm, Associate, on(Stopping, Linux), Stop, "UnsupportedOperation.InstanceStateStopping"),
        (Cvm, Associate, on(Rebooting, Linux), Refuse, "UnsupportedOperation.InstanceStateRebooting"),
        (Cvm, Associate, on(Shutdown, Linux), Refuse, "UnsupportedOperation.InstanceStateShutdown"),
        (Cvm, Associate, on(Terminating, Linux), Stop, "UnsupportedOperation.InstanceStateTerminating"),
        (Cvm, Associate, on(LaunchFailed, Linux), Refuse, "InvalidInstance.NotSupported"),
        (Cvm, Associate, on(Stopped, Windows), Refuse, "UnsupportedOperation.InstanceOsWindows"),
        (Cvm, Associate, on(Running, Windows), Stop, "UnsupportedOperation.InstanceOsWindows"),
        (Cvm, Associate, None, Refuse, "InvalidInstanceId.NotFound"),
        (Cvm, Disassociate, on(Stopped, Linux), Refuse, "PROCEED"),
        (Cvm, Disassociate, on(Running, Linux), Refuse, "UnsupportedOperation.InstanceStateRunning"),
        (Cvm, Disassociate, on(Running, Linux), Stop, "STOP"),
        (Cvm, Disassociate, on(Stopped, Windows), Refuse, "UnsupportedOperation.InstanceOsWindows"),
        (Cvm, Disassociate, None, Stop, "InvalidInstanceId.NotFound"),
        // Lighthouse: RUNNING and STOPPED Linux; a running one is stopped unless ONLINE.
        (Lighthouse, Associate, on(Stopped, Linux), Stop, "PROCEED"),
        (Lighthouse, Associate, on(Running, Linux), Stop, "STOP"),
        (Lighthouse, Associate, on(Running, Linux), Online, "PROCEED"),
        (Lighthouse, Associate, on(Pending, Linux), Stop, "OperationDenied.InstanceCreating"),
        (Lighthouse, Associate, on(Stopping, Linux), Online, "UnsupportedOperation.InvalidInstanceState"),
        (Lighthouse, Associate, on(Rebooting, Linux), Stop, "UnsupportedOperation.InvalidInstanceState"),
        (Lighthouse, Associate, on(Stopped, Windows), Stop, "UnsupportedOperation.WindowsNotAllowToAssociateKeyPair"),
        (Lighthouse, Associate, None, Online, "ResourceNotFound.InstanceIdNotFound"),
        (Lighthouse, Disassociate, on(Running, Linux), Stop, "STOP"),
        (Lighthouse, Disassociate, on(Running, Linux), Online, "PROCEED"),
        (Lighthouse, Disassociate, on(Terminating, Linux), Online, "UnsupportedOperation.InvalidInstanceState"),
        (Lighthouse, Disassociate, on(Stopped, Windows), Stop, "PROCEED"),
        (Lighthouse, Disassociate, None, Stop, "ResourceNotFound.InstanceIdNotFound"),
    ];
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(product, op, inst, running, want)| {
            let got = answer(*product, *op, *inst, *running);
            (got != *want)
                .then(|| format!("{product} {op:?} {inst:?} {running:?}: want {want}, got {got}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The action's error list in the official SDKs (spec §2.6, §2.7), plus the codes every
/// action may answer.
fn documented(product: Product, op: BindingOp) -> Vec<&'static str> {
    let cvm_states = [
        "Pending",
        "Running",
        "Starting",
        "Stopping",
        "Rebooting",
        "Shutdown",
        "Terminating",
    ];
    match product {
        Cvm => {
            let mut codes = vec![
                "InvalidInstance.NotSupported",
                "InvalidInstanceId.NotFound",
                "UnsupportedOperation.InstanceOsWindows",
            ];
            for s in cvm_states {
                codes.push(Box::leak(
                    format!("UnsupportedOperation.InstanceState{s}").into_boxed_str(),
                ));
            }
            codes
        }
        Lighthouse => {
            let mut codes = vec![
                "OperationDenied.InstanceCreating",
                "ResourceNotFound.InstanceIdNotFound",
                "UnsupportedOperation.InvalidInstanceState",
            ];
            if op == Associate {
                codes.push("UnsupportedOperation.WindowsNotAllowToAssociateKeyPair");
            }
            codes
        }
    }
}

#[test]
fn every_refusal_is_a_code_of_the_actions_error_list() {
    let mut combinations = 0;
    for product in Product::ALL {
        for op in [Associate, Disassociate] {
            let listed = documented(product, op);
            let mut instances: Vec<Option<Instance>> = vec![None];
            for state in InstanceState::ALL {
                for os in [Linux, Windows] {
                    instances.push(on(state, os));
                }
            }
            for inst in instances {
                for running in [Refuse, Stop, Online] {
                    let got = answer(product, op, inst, running);
                    combinations += 1;
                    assert!(
                        got == "PROCEED" || got == "STOP" || listed.contains(&got.as_str()),
                        "{product} {op:?} {inst:?} {running:?} answers {got}, not in the action's list"
                    );
                    if got == "STOP" {
                        assert_eq!(
                            inst.map(|i| i.state),
                            Some(Running),
                            "only a running instance is stopped"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(combinations, 2 * 2 * 19 * 3);
}

fn account() -> AccountId {
    AccountId::parse("1000001").unwrap()
}

fn directory() -> Arc<StaticInstances> {
    let inst = |product: Product, id: &str, state, os| {
        (
            Scope::new(account(), product),
            InstanceId::parse(product, id).unwrap(),
            Instance { state, os },
        )
    };
    let dir = StaticInstances::new();
    for (scope, id, i) in [
        inst(Cvm, "ins-running1", Running, Linux),
        inst(Cvm, "ins-stopped1", Stopped, Linux),
        inst(Cvm, "ins-pending1", Pending, Linux),
        inst(Cvm, "ins-windows1", Stopped, Windows),
        inst(Lighthouse, "lhins-running1", Running, Linux),
        inst(Lighthouse, "lhins-running2", Running, Linux),
    ] {
        dir.insert(scope, id, i);
    }
    Arc::new(dir)
}

#[tokio::test]
async fn through_the_wire_with_the_state_change_visible() {
    let w = wire_with_instances(directory());
    let created = w
        .call(
            CVM,
            "CreateKeyPair",
            json!({"KeyName": "k", "ProjectId": 0}),
        )
        .await;
    let key = created["KeyPair"]["KeyId"].as_str().unwrap().to_owned();
    let bind = |instance: &str, force: bool| json!({"KeyIds": [key.clone()], "InstanceIds": [instance], "ForceStop": force});
    let cases = [
        (bind("ins-missing1", false), "InvalidInstanceId.NotFound"),
        (
            bind("ins-windows1", true),
            "UnsupportedOperation.InstanceOsWindows",
        ),
        (
            bind("ins-pending1", true),
            "UnsupportedOperation.InstanceStatePending",
        ),
        (
            bind("ins-running1", false),
            "UnsupportedOperation.InstanceStateRunning",
        ),
        (bind("ins-stopped1", false), "OK"),
        (bind("ins-running1", true), "OK"),
        // ForceStop left it STOPPED: a plain bind now succeeds.
        (bind("ins-running1", false), "OK"),
    ];
    for (body, want) in cases {
        let got = w
            .call(CVM, "AssociateInstancesKeyPairs", body.clone())
            .await;
        assert_eq!(code(&got), want, "{body} -> {got}");
    }
    let page = w.call(CVM, "DescribeKeyPairs", json!({})).await;
    assert_eq!(
        page["KeyPairSet"][0]["AssociatedInstanceIds"],
        json!(["ins-running1", "ins-stopped1"])
    );
}

#[tokio::test]
async fn lighthouse_types_usernames_and_the_unbind_username() {
    let dir = directory();
    let w = wire_with_instances(dir.clone());
    let state = |id: &str| {
        let scope = Scope::new(account(), Lighthouse);
        let id = InstanceId::parse(Lighthouse, id).unwrap();
        futures::executor::block_on(keypair_core::InstanceDirectory::lookup(&*dir, &scope, &id))
            .unwrap()
            .unwrap()
            .state
    };
    let created = w.call(LH, "CreateKeyPair", json!({"KeyName": "k"})).await;
    let key = created["KeyPair"]["KeyId"].as_str().unwrap().to_owned();
    let body = |inst: &str, extra: serde_json::Value| {
        let mut b = json!({"KeyIds": [key.clone()], "InstanceIds": [inst]});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let online = body(
        "lhins-running1",
        json!({"AssociateType": "ONLINE", "Username": "ubuntu"}),
    );
    assert_eq!(
        code(&w.call(LH, "AssociateInstancesKeyPairs", online).await),
        "OK"
    );
    let conflict = body(
        "lhins-running2",
        json!({"AssociateType": "OFFLINE", "Username": "ubuntu"}),
    );
    assert_eq!(
        code(&w.call(LH, "AssociateInstancesKeyPairs", conflict).await),
        "InvalidParameter.ParameterConflict"
    );
    let bad_type = body("lhins-running2", json!({"AssociateType": "SOMETIMES"}));
    assert_eq!(
        code(&w.call(LH, "AssociateInstancesKeyPairs", bad_type).await),
        "InvalidParameterValue"
    );
    let missing = body("lhins-missing1", json!({}));
    assert_eq!(
        code(&w.call(LH, "AssociateInstancesKeyPairs", missing).await),
        "ResourceNotFound.InstanceIdNotFound"
    );
    let wrong_user = body("lhins-running1", json!({"Username": "root"}));
    assert_eq!(
        code(
            &w.call(LH, "DisassociateInstancesKeyPairs", wrong_user.clone())
                .await
        ),
        "UnsupportedOperation.KeyPairUnbindUsernameMismatch"
    );
    let page = w.call(LH, "DescribeKeyPairs", json!({})).await;
    assert_eq!(
        page["KeyPairSet"][0]["AssociatedInstanceSet"],
        json!([{"InstanceId": "lhins-running1", "Username": "ubuntu"}]),
        "nothing changed"
    );
    assert_eq!(
        state("lhins-running1"),
        Running,
        "a refused unbind stops nothing"
    );
    let right_user = body(
        "lhins-running1",
        json!({"Username": "ubuntu", "DisassociateType": "ONLINE"}),
    );
    assert_eq!(
        code(
            &w.call(LH, "DisassociateInstancesKeyPairs", right_user)
                .await
        ),
        "OK"
    );
    assert_eq!(state("lhins-running1"), Running, "ONLINE leaves it running");
    let offline = body("lhins-running2", json!({}));
    assert_eq!(
        code(&w.call(LH, "AssociateInstancesKeyPairs", offline).await),
        "OK"
    );
    assert_eq!(
        state("lhins-running2"),
        Stopped,
        "the default (OFFLINE) stopped it first"
    );
}
