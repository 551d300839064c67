//! Failure knobs and the call record.

use std::time::Duration;

use custody_core::error::ErrorName;
use custody_core::id::{InstanceId, NetworkInterfaceId, SecurityGroupId, VolumeId};
use custody_sim::{CallOutcome, World};
use custody_steps::capability::Effect;
use custody_steps::ports::{Compute, Quarantine, SnapshotState, Snapshots};
use serde_json::json;

use super::common::{patched, target};

#[tokio::test]
async fn a_throttle_knob_fails_n_calls_then_lets_them_through() {
    let json = patched("ec2-single.json", |v| {
        v["faults"] = json!([{"kind": "throttle", "operation": "describe_instances", "times": 2}]);
    });
    let w = World::from_json(&json).unwrap();
    let t = target(&w);
    let i = InstanceId::parse("i-0123456789abcdef0").unwrap();
    for _ in 0..2 {
        let e = t.termination_protection(&i).await;
        assert!(e.is_ok(), "other operations are not throttled");
    }
    let a = t
        .describe_instances(std::slice::from_ref(&i))
        .await
        .unwrap_err();
    assert_eq!(a.name, ErrorName::Throttled);
    assert_eq!(a.service_code.as_deref(), Some("RequestLimitExceeded"));
    assert!(a.is_transient());
    assert!(
        t.describe_instances(std::slice::from_ref(&i))
            .await
            .is_err()
    );
    assert!(t.describe_instances(std::slice::from_ref(&i)).await.is_ok());
    let outcomes: Vec<CallOutcome> = w
        .calls()
        .into_iter()
        .filter(|c| c.capability.operation == "describe_instances")
        .map(|c| c.outcome)
        .collect();
    assert_eq!(
        outcomes,
        vec![
            CallOutcome::Err("Custody.Throttled".into()),
            CallOutcome::Err("Custody.Throttled".into()),
            CallOutcome::Ok
        ]
    );
}

#[tokio::test]
async fn a_deny_knob_refuses_one_operation_on_one_resource() {
    let json = patched("ec2-single.json", |v| {
        v["faults"] = json!([{"kind": "deny", "operation": "set_eni_groups", "resource": "i-0123456789abcdef0"}]);
    });
    let w = World::from_json(&json).unwrap();
    let t = target(&w);
    let sg = SecurityGroupId::parse("sg-0d0d0d0d0d0d0d0d1").unwrap();
    // The knob names the instance; the ENI belongs to it, so the call is denied.
    let eni = NetworkInterfaceId::parse("eni-0123456789abcdef0").unwrap();
    let e = t
        .set_eni_groups(&eni, std::slice::from_ref(&sg))
        .await
        .unwrap_err();
    assert_eq!(e.name, ErrorName::AccessDenied);
    assert_eq!(e.service_code.as_deref(), Some("UnauthorizedOperation"));
    let other = NetworkInterfaceId::parse("eni-0123456789abcdef1").unwrap();
    t.set_eni_groups(&other, &[sg]).await.unwrap();
    // The denied call changed nothing.
    assert_eq!(t.eni_groups(&eni).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_stuck_snapshot_never_completes() {
    let json = patched("ec2-single.json", |v| {
        v["faults"] = json!([{"kind": "snapshotStuck", "volumeId": "vol-0123456789abcdef1"}]);
    });
    let w = World::from_json(&json).unwrap();
    let t = target(&w);
    let i = InstanceId::parse("i-0123456789abcdef0").unwrap();
    let snaps = t
        .create_snapshots(&i, "d", &Default::default())
        .await
        .unwrap();
    w.advance(Duration::from_secs(7 * 24 * 3600));
    let ids: Vec<_> = snaps.iter().map(|s| s.snapshot_id.clone()).collect();
    let now = t.describe_snapshots(&ids).await.unwrap();
    let stuck = now
        .iter()
        .find(|s| s.volume_id == Some(VolumeId::parse("vol-0123456789abcdef1").unwrap()))
        .unwrap();
    assert_eq!(stuck.state, SnapshotState::Pending);
    assert!(stuck.progress_percent < 50);
    assert!(now.iter().any(|s| s.state == SnapshotState::Completed));
}

#[tokio::test]
async fn every_call_is_recorded_with_its_capability_time_and_subject() {
    let w = super::common::world("eks-three-nodes.json");
    let t = target(&w);
    let start = w.now();
    let i = InstanceId::parse("i-0abc1230000000002").unwrap();
    t.set_termination_protection(&i, true).await.unwrap();
    let missing = InstanceId::parse("i-0123456789abcdef9").unwrap();
    assert_eq!(
        t.termination_protection(&missing).await.unwrap_err().name,
        ErrorName::NotFound
    );
    let calls = w.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].capability.operation, "set_termination_protection");
    assert_eq!(
        calls[0].capability.iam_actions,
        &["ec2:ModifyInstanceAttribute"]
    );
    assert_eq!(calls[0].capability.effect, Effect::Mutate);
    assert_eq!(calls[0].account.as_str(), "111122223333");
    assert_eq!(calls[0].at, start);
    assert!(calls[1].at > start, "each call takes the API latency");
    // The instance backs a node: the call concerns the node and the cluster too.
    assert!(calls[0].concerns("i-0abc1230000000002"));
    assert!(calls[0].concerns("eks:prod-payments/node/ip-10-0-1-57.ec2.internal"));
    assert!(calls[0].concerns("eks:prod-payments"));
    assert_eq!(
        calls[1].outcome,
        CallOutcome::Err("Custody.NotFound".into())
    );
}
