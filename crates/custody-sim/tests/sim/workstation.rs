//! The forensic workstation: launch once, boot in virtual time, evidence volumes, teardown.

use std::collections::BTreeMap;
use std::time::Duration;

use custody_core::error::ErrorName;
use custody_core::id::{
    AccountId, CaseId, ImageId, InstanceId, SecurityGroupId, SubnetId, Timestamp,
};
use custody_steps::ports::{
    AgentStatus, CopySnapshotRequest, NodeCommands, Snapshots, Workstation, WorkstationSpec,
};

use super::common::{FORENSIC, forensic, target, world};

fn case() -> CaseId {
    CaseId::for_execution(Timestamp::parse("2026-11-23T03:07:00Z").unwrap(), "exec-ws")
}

fn spec(c: &CaseId) -> WorkstationSpec {
    WorkstationSpec {
        case: c.clone(),
        image: ImageId::parse("ami-0f1e2d3c4b5a69788").unwrap(),
        instance_type: "r5.xlarge".into(),
        subnet: SubnetId::parse("subnet-0f0f0f0f0f0f0f0f1").unwrap(),
        security_group: SecurityGroupId::parse("sg-0f0f0f0f0f0f0f0f1").unwrap(),
        instance_profile: "custody-workstation".into(),
        client_token: format!("{c}-workstation"),
        tags: BTreeMap::from([("custody:case".to_string(), c.to_string())]),
    }
}

async fn status(f: &custody_sim::SimAccount, i: &InstanceId) -> AgentStatus {
    f.agent_status(std::slice::from_ref(i))
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test]
async fn a_workstation_launches_once_boots_and_is_torn_down() {
    let w = world("eks-three-nodes.json");
    let (t, f) = (target(&w), forensic(&w));
    let c = case();
    assert_eq!(f.find_workstation(&c).await.unwrap(), None);
    let ws = f.launch_workstation(&spec(&c)).await.unwrap();
    assert_eq!(ws.state, "pending");
    assert_eq!(ws.availability_zone, "us-east-1a");
    assert_eq!(
        f.launch_workstation(&spec(&c)).await.unwrap().instance_id,
        ws.instance_id,
        "same token"
    );
    assert_eq!(
        f.find_workstation(&c).await.unwrap().unwrap().instance_id,
        ws.instance_id
    );
    assert!(!status(&f, &ws.instance_id).await.online);

    w.advance(Duration::from_secs(46));
    assert_eq!(
        f.find_workstation(&c).await.unwrap().unwrap().state,
        "running"
    );
    assert!(
        !status(&f, &ws.instance_id).await.online,
        "agent not registered yet"
    );
    w.advance(Duration::from_secs(30));
    assert!(status(&f, &ws.instance_id).await.online);

    // An evidence volume from a node's snapshot, copied and shared into the forensic account.
    let node = InstanceId::parse("i-0abc1230000000001").unwrap();
    let tags = BTreeMap::from([("custody:case".to_string(), c.to_string())]);
    let snaps = t.create_snapshots(&node, "evidence", &tags).await.unwrap();
    w.advance(Duration::from_secs(3600));
    let req = CopySnapshotRequest {
        source: snaps[0].snapshot_id.clone(),
        source_region: "us-east-1".into(),
        kms_key_id: "arn:aws:kms:us-east-1:444455556666:key/5b8f2c1e-7d4a-4e3b-9c6f-1a2b3c4d5e6f"
            .into(),
        client_token: "copy-1".into(),
        description: "copy".into(),
        tags: tags.clone(),
    };
    let copy = t.copy_snapshot(&req).await.unwrap();
    // Not shared yet: the forensic account cannot make a volume from it.
    let token = format!("{c}-vol-1");
    let err = f
        .create_evidence_volume(&copy, "us-east-1a", &token, &tags)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound);
    t.share_snapshot(&copy, &AccountId::parse(FORENSIC).unwrap())
        .await
        .unwrap();
    assert_eq!(
        f.create_evidence_volume(&copy, "us-east-1a", &token, &tags)
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput,
        "copy still pending"
    );
    w.advance(Duration::from_secs(3600));
    let vol = f
        .create_evidence_volume(&copy, "us-east-1a", &token, &tags)
        .await
        .unwrap();
    assert_eq!(
        f.create_evidence_volume(&copy, "us-east-1a", &token, &tags)
            .await
            .unwrap(),
        vol
    );
    assert_eq!(f.find_case_volumes(&c).await.unwrap()[0].state, "creating");
    assert_eq!(
        f.attach_volume(&vol, &ws.instance_id, "/dev/sdf")
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );
    w.advance(Duration::from_secs(10));
    assert_eq!(f.find_case_volumes(&c).await.unwrap()[0].state, "available");

    f.attach_volume(&vol, &ws.instance_id, "/dev/sdf")
        .await
        .unwrap();
    f.attach_volume(&vol, &ws.instance_id, "/dev/sdf")
        .await
        .unwrap();
    let vols = f.find_case_volumes(&c).await.unwrap();
    assert_eq!(
        (vols[0].state.as_str(), vols[0].attached_to.as_ref()),
        ("in-use", Some(&ws.instance_id))
    );

    // EC2 will not delete an attached volume; after termination it can.
    assert_eq!(
        f.delete_volume(&vol).await.unwrap_err().name,
        ErrorName::Conflict
    );
    f.terminate_workstation(&ws.instance_id).await.unwrap();
    f.terminate_workstation(&ws.instance_id).await.unwrap();
    w.advance(Duration::from_secs(60));
    assert_eq!(f.find_workstation(&c).await.unwrap(), None);
    f.delete_volume(&vol).await.unwrap();
    f.delete_volume(&vol).await.unwrap();
    assert!(f.find_case_volumes(&c).await.unwrap().is_empty());
    // The snapshot, the evidence of record, stays.
    assert_eq!(f.describe_snapshots(&[copy]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_workstation_needs_a_real_subnet_group_and_profile() {
    let w = world("ec2-single.json");
    let f = forensic(&w);
    let c = case();
    let mut bad = spec(&c);
    bad.instance_profile = "nope".into();
    assert_eq!(
        f.launch_workstation(&bad).await.unwrap_err().name,
        ErrorName::InvalidInput
    );
    let mut bad = spec(&c);
    bad.subnet = SubnetId::parse("subnet-0123456789abcdef9").unwrap();
    assert_eq!(
        f.launch_workstation(&bad).await.unwrap_err().name,
        ErrorName::NotFound
    );
}
