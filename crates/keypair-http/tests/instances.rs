//! The instance directory's decisions, table-driven over product × operation × state ×
//! OS × ForceStop/type, each with its expected answer or code; every refusal's code is
//! checked against the action's documented error list; and the same decisions through
//! the wire, with the state change a ForceStop makes visible to the next call.

mod common;

use common::{assert_rows_pass, code, wire_with_instances, CVM, LH};
use keypair_core::{
    binding_decision, AccountId, Admission, BindingOp, Busy, Instance, InstanceId, InstanceState,
    OsFamily, Product, RunningInstance, Scope, StaticInstances,
};
use keypair_wire::error::code_for;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

use BindingOp::{Associate, Disassociate};
use Busy::{LatestOperationUnfinished, OperationInProgress, TaskRunning};
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
    Some(Instance::new(state, os))
}

fn busy(state: InstanceState, busy: Busy) -> Option<Instance> {
    Some(Instance::new(state, Linux).with_busy(busy))
}

fn stop_charging() -> Option<Instance> {
    Some(Instance::new(Stopped, Linux).with_stop_charging())
}

type Case = (
    Product,
    BindingOp,
    Option<Instance>,
    RunningInstance,
    &'static str,
);

/// One row per code: every CVM state code, every busy condition and the stopped mode on
/// each product, Lighthouse's two state codes, and what proceeds.
#[rustfmt::skip]
fn rows() -> Vec<Case> {
    const US: &str = "UnsupportedOperation.";
    let mut rows: Vec<Case> = vec![
        // CVM: STOPPED Linux proceeds; RUNNING needs ForceStop.
        (Cvm, Associate, on(Stopped, Linux), Refuse, "PROCEED"),
        (Cvm, Associate, on(Stopped, Linux), Stop, "PROCEED"),
        (Cvm, Associate, on(Running, Linux), Stop, "STOP"),
        (Cvm, Disassociate, on(Stopped, Linux), Refuse, "PROCEED"),
        (Cvm, Disassociate, on(Running, Linux), Stop, "STOP"),
        (Cvm, Associate, on(Stopped, Windows), Refuse, "UnsupportedOperation.InstanceOsWindows"),
        (Cvm, Associate, on(Running, Windows), Stop, "UnsupportedOperation.InstanceOsWindows"),
        (Cvm, Disassociate, on(Stopped, Windows), Refuse, "UnsupportedOperation.InstanceOsWindows"),
        (Cvm, Associate, None, Refuse, "InvalidInstanceId.NotFound"),
        (Cvm, Disassociate, None, Stop, "InvalidInstanceId.NotFound"),
        // Busy comes before the state: a busy STOPPED instance is refused too.
        (Cvm, Associate, busy(Stopped, TaskRunning), Stop, "MutexOperation.TaskRunning"),
        (Cvm, Disassociate, busy(Running, TaskRunning), Stop, "MutexOperation.TaskRunning"),
        (Cvm, Associate, busy(Stopped, OperationInProgress), Refuse, "OperationDenied.InstanceOperationInProgress"),
        (Cvm, Associate, busy(Stopped, LatestOperationUnfinished), Refuse, "OperationDenied.InstanceOperationInProgress"),
        (Cvm, Associate, stop_charging(), Stop, "UnsupportedOperation.StoppedModeStopCharging"),
        (Cvm, Disassociate, stop_charging(), Refuse, "UnsupportedOperation.StoppedModeStopCharging"),
        // Lighthouse: RUNNING and STOPPED Linux; a running one is stopped unless ONLINE.
        (Lighthouse, Associate, on(Stopped, Linux), Stop, "PROCEED"),
        (Lighthouse, Associate, on(Running, Linux), Stop, "STOP"),
        (Lighthouse, Associate, on(Running, Linux), Online, "PROCEED"),
        (Lighthouse, Disassociate, on(Running, Linux), Stop, "STOP"),
        (Lighthouse, Disassociate, on(Running, Linux), Online, "PROCEED"),
        (Lighthouse, Associate, on(Pending, Linux), Stop, "OperationDenied.InstanceCreating"),
        (Lighthouse, Disassociate, on(Pending, Linux), Online, "OperationDenied.InstanceCreating"),
        (Lighthouse, Associate, on(Stopped, Windows), Stop, "UnsupportedOperation.WindowsNotAllowToAssociateKeyPair"),
        (Lighthouse, Disassociate, on(Stopped, Windows), Stop, "PROCEED"),
        (Lighthouse, Associate, None, Online, "ResourceNotFound.InstanceIdNotFound"),
        (Lighthouse, Disassociate, None, Stop, "ResourceNotFound.InstanceIdNotFound"),
        (Lighthouse, Associate, busy(Running, TaskRunning), Online, "OperationDenied.InstanceOperationInProgress"),
        (Lighthouse, Associate, busy(Stopped, OperationInProgress), Stop, "OperationDenied.InstanceOperationInProgress"),
        (Lighthouse, Associate, busy(Stopped, LatestOperationUnfinished), Stop, "UnsupportedOperation.LatestOperationUnfinished"),
        (Lighthouse, Disassociate, busy(Running, LatestOperationUnfinished), Online, "UnsupportedOperation.LatestOperationUnfinished"),
        (Lighthouse, Associate, stop_charging(), Stop, "UnsupportedOperation.InvalidInstanceState"),
    ];
    // Every state but STOPPED refuses on CVM with its own code (RUNNING: without
    // ForceStop), on both operations; on Lighthouse every state but PENDING, RUNNING and
    // STOPPED is an invalid state.
    for state in InstanceState::ALL.into_iter().filter(|s| *s != Stopped) {
        let cvm: &'static str = Box::leak(format!("{US}InstanceState{}", camel(state)).into_boxed_str());
        rows.push((Cvm, Associate, on(state, Linux), Refuse, cvm));
        rows.push((Cvm, Disassociate, on(state, Linux), Refuse, cvm));
        if ![Pending, Running].contains(&state) {
            rows.push((Lighthouse, Associate, on(state, Linux), Online, "UnsupportedOperation.InvalidInstanceState"));
            rows.push((Lighthouse, Disassociate, on(state, Linux), Stop, "UnsupportedOperation.InvalidInstanceState"));
        }
    }
    rows
}

/// `ENTER_RESCUE_MODE` as `EnterRescueMode`, written independently of the code table.
fn camel(state: InstanceState) -> String {
    state
        .as_str()
        .split('_')
        .map(|w| w[..1].to_owned() + &w[1..].to_lowercase())
        .collect()
}

#[test]
fn decisions_table() {
    let rows = rows();
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(product, op, inst, running, want)| {
            let got = answer(*product, *op, *inst, *running);
            (got != *want)
                .then(|| format!("{product} {op:?} {inst:?} {running:?}: want {want}, got {got}"))
        })
        .collect();
    assert_rows_pass(&failures);
    // One row or more for every answer the decision can give, per product.
    for product in Product::ALL {
        let in_table: BTreeSet<String> = rows
            .iter()
            .filter(|r| r.0 == product)
            .map(|r| r.4.to_owned())
            .collect();
        let reachable: BTreeSet<String> = [Associate, Disassociate]
            .into_iter()
            .flat_map(|op| walk(product, op).into_iter().map(|(_, _, got)| got))
            .collect();
        assert_eq!(in_table, reachable, "{product}: the table's answers");
    }
}

/// Every instance the directory can describe (missing; each state on each OS; each
/// state busy in each way; stopped in no-charge mode) with every running-instance
/// choice, and the answer for each.
fn walk(product: Product, op: BindingOp) -> Vec<(Option<Instance>, RunningInstance, String)> {
    let mut instances: Vec<Option<Instance>> = vec![None, stop_charging()];
    for state in InstanceState::ALL {
        instances.extend([on(state, Linux), on(state, Windows)]);
        instances.extend(Busy::ALL.map(|b| busy(state, b)));
    }
    let mut out = Vec::new();
    for inst in instances {
        for running in [Refuse, Stop, Online] {
            out.push((inst, running, answer(product, op, inst, running)));
        }
    }
    out
}

/// The codes the official Go SDK lists for one action (tests/data/action-error-lists.txt).
fn listed(product: Product, op: BindingOp) -> BTreeSet<String> {
    let action = match op {
        Associate => "AssociateInstancesKeyPairs",
        Disassociate => "DisassociateInstancesKeyPairs",
    };
    let data = include_str!("data/action-error-lists.txt");
    let line = data
        .lines()
        .find(|l| l.starts_with(&format!("{} {action} ", product.as_str())))
        .expect("the action's list is in the data file");
    line.split_whitespace().skip(2).map(str::to_owned).collect()
}

/// The codes answered for states the action's list does not name, each defined in CVM's
/// `errorcodes.py`; docs/api.md ("Instances") lists the same.
fn unlisted(product: Product, op: BindingOp) -> BTreeSet<String> {
    let states: &[&str] = match (product, op) {
        (Cvm, Associate) => &[
            "Banning",
            "EnterRescueMode",
            "ExitServiceLiveMigrate",
            "LaunchFailed",
            "ServiceLiveMigrate",
        ],
        (Cvm, Disassociate) => &[
            "EnterServiceLiveMigrate",
            "ExitRescueMode",
            "ExitServiceLiveMigrate",
            "Isolating",
            "LaunchFailed",
            "ServiceLiveMigrate",
        ],
        (Lighthouse, _) => &[],
    };
    states
        .iter()
        .map(|s| format!("UnsupportedOperation.InstanceState{s}"))
        .collect()
}

#[test]
fn every_refusal_is_in_the_actions_list_or_documented_as_unlisted() {
    let mut combinations = 0;
    for product in Product::ALL {
        for op in [Associate, Disassociate] {
            let list = listed(product, op);
            let mut outside = BTreeSet::new();
            for (inst, _, got) in walk(product, op) {
                combinations += 1;
                if got == "STOP" {
                    let state = inst.map(|i| i.state);
                    assert_eq!(state, Some(Running), "only a running instance is stopped");
                } else if got != "PROCEED" && !list.contains(&got) {
                    outside.insert(got);
                }
            }
            assert_eq!(
                outside,
                unlisted(product, op),
                "{product} {op:?}: codes outside the action's list"
            );
        }
    }
    assert_eq!(combinations, 2 * 2 * (2 + 18 * 5) * 3);
}

fn account() -> AccountId {
    AccountId::parse("1000001").unwrap()
}

fn directory() -> Arc<StaticInstances> {
    let inst = |product: Product, id: &str, instance: Option<Instance>| {
        (
            Scope::new(account(), product),
            InstanceId::parse(product, id).unwrap(),
            instance.unwrap(),
        )
    };
    let dir = StaticInstances::new();
    for (scope, id, i) in [
        inst(Cvm, "ins-running1", on(Running, Linux)),
        inst(Cvm, "ins-stopped1", on(Stopped, Linux)),
        inst(Cvm, "ins-pending1", on(Pending, Linux)),
        inst(Cvm, "ins-windows1", on(Stopped, Windows)),
        inst(Cvm, "ins-busy0001", busy(Stopped, TaskRunning)),
        inst(Cvm, "ins-nocharge", stop_charging()),
        inst(Cvm, "ins-rescue01", on(RescueMode, Linux)),
        inst(Lighthouse, "lhins-running1", on(Running, Linux)),
        inst(Lighthouse, "lhins-running2", on(Running, Linux)),
        inst(
            Lighthouse,
            "lhins-unfinish",
            busy(Running, LatestOperationUnfinished),
        ),
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
        (bind("ins-busy0001", true), "MutexOperation.TaskRunning"),
        (
            bind("ins-nocharge", false),
            "UnsupportedOperation.StoppedModeStopCharging",
        ),
        (
            bind("ins-rescue01", true),
            "UnsupportedOperation.InstanceStateRescueMode",
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
