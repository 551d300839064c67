//! EC2 adapters against moto: snapshots, quarantine, workstation.

use std::collections::BTreeMap;

use custody_aws::{CASE_TAG, Ec2, INSTANCE_TAG};
use custody_core::error::ErrorName;
use custody_core::id::{AccountId, ImageId, SecurityGroupId, SnapshotId, VolumeId};
use custody_steps::ports::ops::{quarantine as q, snapshots as s, workstation as w};
use custody_steps::ports::{
    CopySnapshotRequest, Quarantine, SnapshotState, Snapshots, Workstation, WorkstationSpec,
};

use super::harness::Moto;
use super::replay::Replay;
use super::seed::{assert_declared, case_id, clients, network};

fn case_tags(case: &custody_core::id::CaseId) -> BTreeMap<String, String> {
    BTreeMap::from([
        (CASE_TAG.to_owned(), case.to_string()),
        ("Name".to_owned(), "custody evidence".to_owned()),
    ])
}

#[tokio::test]
async fn snapshots_are_tagged_found_copied_and_shared() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    let net = network(&c.ec2).await;
    log.clear();
    let ec2 = Ec2::new(a.ec2.clone());
    let case = case_id(1);

    assert!(
        ec2.find_case_snapshots(&case, &net.instance)
            .await
            .unwrap()
            .is_empty()
    );
    assert_declared(&log, &[&s::FIND_CASE_SNAPSHOTS]);

    let made = ec2
        .create_snapshots(&net.instance, "custody case-1", &case_tags(&case))
        .await
        .unwrap();
    assert_declared(&log, &[&s::CREATE_SNAPSHOTS]);
    assert_eq!(made.len(), 1, "one root volume");
    assert_eq!(
        made[0].tags.get(CASE_TAG).map(String::as_str),
        Some(case.as_str())
    );

    // The effect, through the API: the snapshot exists with the case and instance tags.
    let found = ec2.find_case_snapshots(&case, &net.instance).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].snapshot_id, made[0].snapshot_id);
    assert_eq!(
        found[0].tags.get(INSTANCE_TAG).map(String::as_str),
        Some(net.instance.as_str())
    );
    assert_eq!(found[0].state, SnapshotState::Completed);
    assert!(found[0].volume_id.is_some());
    assert!(
        ec2.find_case_snapshots(&case_id(2), &net.instance)
            .await
            .unwrap()
            .is_empty()
    );

    let described = ec2
        .describe_snapshots(&[made[0].snapshot_id.clone()])
        .await
        .unwrap();
    assert_eq!(described[0].progress_percent, 100);
    assert_declared(&log, &[&s::FIND_CASE_SNAPSHOTS, &s::DESCRIBE_SNAPSHOTS]);

    // Copy: the same client token gives the same copy.
    let request = CopySnapshotRequest {
        source: made[0].snapshot_id.clone(),
        source_region: "us-east-1".to_owned(),
        kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/forensic".to_owned(),
        client_token: format!("{case}-{}", made[0].snapshot_id),
        description: "custody copy".to_owned(),
        tags: case_tags(&case),
    };
    let copy = ec2.copy_snapshot(&request).await.unwrap();
    let again = ec2.copy_snapshot(&request).await.unwrap();
    assert_eq!(copy, again, "a retried copy returns the first copy");
    assert_declared(&log, &[&s::COPY_SNAPSHOT]);
    let copied = ec2
        .describe_snapshots(std::slice::from_ref(&copy))
        .await
        .unwrap();
    assert!(copied[0].encrypted);
    assert_eq!(
        copied[0].kms_key_id.as_deref(),
        Some(request.kms_key_id.as_str())
    );

    let forensic = AccountId::parse("210987654321").unwrap();
    ec2.share_snapshot(&copy, &forensic).await.unwrap();
    ec2.share_snapshot(&copy, &forensic).await.unwrap();
    assert_declared(&log, &[&s::SHARE_SNAPSHOT, &s::DESCRIBE_SNAPSHOTS]);
    let attr = c
        .ec2
        .describe_snapshot_attribute()
        .snapshot_id(copy.as_str())
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    let users: Vec<_> = attr
        .create_volume_permissions()
        .iter()
        .filter_map(|p| p.user_id())
        .collect();
    assert_eq!(users, vec!["210987654321"]);
}

#[tokio::test]
async fn snapshot_errors_are_named() {
    let moto = Moto::start();
    let (c, a, _log) = clients(&moto);
    let net = network(&c.ec2).await;
    let ec2 = Ec2::new(a.ec2.clone());
    let unknown = SnapshotId::parse("snap-0123456789abcdef0").unwrap();
    let err = ec2.describe_snapshots(&[unknown]).await.unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound, "{err:?}");
    assert!(err.service_code.as_deref().unwrap().contains("NotFound"));

    let untagged = BTreeMap::from([("Name".to_owned(), "x".to_owned())]);
    let err = ec2
        .create_snapshots(&net.instance, "d", &untagged)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(err.cause.contains(CASE_TAG), "{}", err.cause);
}

#[tokio::test]
async fn quarantine_group_is_closed_found_and_put_on_the_eni() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    let net = network(&c.ec2).await;
    log.clear();
    let ec2 = Ec2::new(a.ec2.clone());
    let name = format!("custody-quarantine-{}", net.vpc);
    let tags = case_tags(&case_id(3));

    assert_eq!(
        ec2.find_security_group(&net.vpc, &name).await.unwrap(),
        None
    );
    let group = ec2
        .create_quarantine_group(&net.vpc, &name, "custody quarantine: no traffic", &tags)
        .await
        .unwrap();
    assert_declared(
        &log,
        &[&q::FIND_SECURITY_GROUP, &q::CREATE_QUARANTINE_GROUP],
    );

    let described = c
        .ec2
        .describe_security_groups()
        .group_ids(group.as_str())
        .send()
        .await
        .unwrap();
    let sg = &described.security_groups()[0];
    assert!(
        sg.ip_permissions_egress().is_empty(),
        "egress must be revoked: {:?}",
        sg.ip_permissions_egress()
    );
    assert!(sg.ip_permissions().is_empty());
    assert_eq!(
        ec2.find_security_group(&net.vpc, &name).await.unwrap(),
        Some(group.clone())
    );
    // A retried creation takes the existing group over instead of failing on the duplicate.
    assert_eq!(
        ec2.create_quarantine_group(&net.vpc, &name, "again", &tags)
            .await
            .unwrap(),
        group
    );
    assert_declared(
        &log,
        &[&q::FIND_SECURITY_GROUP, &q::CREATE_QUARANTINE_GROUP],
    );

    // A group with this name that has rules (interrupted creation) is not handed out as sealed,
    // and creation closes it.
    c.ec2
        .authorize_security_group_egress()
        .group_id(group.as_str())
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        ec2.find_security_group(&net.vpc, &name).await.unwrap(),
        None
    );
    assert_eq!(
        ec2.create_quarantine_group(&net.vpc, &name, "again", &tags)
            .await
            .unwrap(),
        group
    );
    let described = c
        .ec2
        .describe_security_groups()
        .group_ids(group.as_str())
        .send()
        .await
        .unwrap();
    assert!(
        described.security_groups()[0]
            .ip_permissions_egress()
            .is_empty()
    );
    log.clear();

    let before = ec2.eni_groups(&net.eni).await.unwrap();
    assert!(!before.contains(&group));
    ec2.set_eni_groups(&net.eni, std::slice::from_ref(&group))
        .await
        .unwrap();
    assert_eq!(ec2.eni_groups(&net.eni).await.unwrap(), vec![group.clone()]);
    assert_declared(&log, &[&q::ENI_GROUPS, &q::SET_ENI_GROUPS]);

    let unknown = custody_core::id::NetworkInterfaceId::parse("eni-0123456789abcdef0").unwrap();
    assert_eq!(
        ec2.eni_groups(&unknown).await.unwrap_err().name,
        ErrorName::NotFound
    );
    let err = ec2.set_eni_groups(&net.eni, &[]).await.unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
}

#[tokio::test]
async fn quarantine_acl_is_found_by_name_and_swapped_in() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    let net = network(&c.ec2).await;
    log.clear();
    let ec2 = Ec2::new(a.ec2.clone());
    let name = format!("custody-quarantine-{}", net.vpc);

    let original = ec2.subnet_acl(&net.subnet).await.unwrap();
    let acl = ec2
        .ensure_quarantine_acl(&net.vpc, &name, &case_tags(&case_id(4)))
        .await
        .unwrap();
    assert_eq!(
        ec2.ensure_quarantine_acl(&net.vpc, &name, &case_tags(&case_id(4)))
            .await
            .unwrap(),
        acl
    );
    assert_declared(&log, &[&q::SUBNET_ACL, &q::ENSURE_QUARANTINE_ACL]);
    assert_ne!(acl, original.acl_id);

    let described = c
        .ec2
        .describe_network_acls()
        .network_acl_ids(acl.as_str())
        .send()
        .await
        .unwrap();
    let entries = described.network_acls()[0].entries();
    for egress in [true, false] {
        assert!(
            entries.iter().any(|e| e.egress() == Some(egress)
                && e.rule_number() == Some(1)
                && e.rule_action() == Some(&aws_sdk_ec2::types::RuleAction::Deny)),
            "deny-all rule 1 (egress={egress}) missing: {entries:?}"
        );
    }

    let new_association = ec2
        .replace_acl_association(&original.association_id, &acl)
        .await
        .unwrap();
    assert_declared(&log, &[&q::REPLACE_ACL_ASSOCIATION]);
    let now = ec2.subnet_acl(&net.subnet).await.unwrap();
    assert_eq!(now.acl_id, acl);
    assert_eq!(now.association_id, new_association);
}

#[tokio::test]
async fn workstation_and_evidence_volumes_are_idempotent() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    let net = network(&c.ec2).await;
    let ec2 = Ec2::new(a.ec2.clone());
    let case = case_id(5);
    let sg = c
        .ec2
        .create_security_group()
        .group_name("custody-workstation")
        .description("workstation")
        .vpc_id(net.vpc.as_str())
        .send()
        .await
        .unwrap();
    let iam = &c.iam;
    iam.create_instance_profile()
        .instance_profile_name("custody-workstation")
        .send()
        .await
        .unwrap();
    let snapshot = ec2
        .create_snapshots(&net.instance, "evidence", &case_tags(&case))
        .await
        .unwrap()
        .remove(0);
    log.clear();

    assert_eq!(ec2.find_workstation(&case).await.unwrap(), None);
    let spec = WorkstationSpec {
        case: case.clone(),
        image: ImageId::parse("ami-12c6146b").unwrap(),
        instance_type: "m5.large".to_owned(),
        subnet: net.subnet.clone(),
        security_group: SecurityGroupId::parse(sg.group_id().unwrap()).unwrap(),
        instance_profile: "custody-workstation".to_owned(),
        client_token: format!("{case}-workstation"),
        tags: BTreeMap::from([("Name".to_owned(), "custody workstation".to_owned())]),
    };
    // moto ignores RunInstances' and CreateVolume's client tokens (EC2 honours them; the token on
    // the wire is checked in `client_tokens_are_sent`): a retry here goes through the finder.
    let launched = ec2.launch_workstation(&spec).await.unwrap();
    assert_eq!(launched.availability_zone, "us-east-1a");
    assert_declared(&log, &[&w::FIND_WORKSTATION, &w::LAUNCH_WORKSTATION]);
    let found = ec2.find_workstation(&case).await.unwrap().unwrap();
    assert_eq!(found.instance_id, launched.instance_id);
    assert_eq!(ec2.find_workstation(&case_id(6)).await.unwrap(), None);

    let token = format!("{case}-{}", snapshot.snapshot_id);
    let volume = ec2
        .create_evidence_volume(
            &snapshot.snapshot_id,
            "us-east-1a",
            &token,
            &case_tags(&case),
        )
        .await
        .unwrap();
    assert_declared(&log, &[&w::FIND_WORKSTATION, &w::CREATE_EVIDENCE_VOLUME]);

    ec2.attach_volume(&volume, &launched.instance_id, "/dev/sdf")
        .await
        .unwrap();
    ec2.attach_volume(&volume, &launched.instance_id, "/dev/sdf")
        .await
        .unwrap();
    assert_declared(&log, &[&w::ATTACH_VOLUME]);
    let volumes = ec2.find_case_volumes(&case).await.unwrap();
    let ours: Vec<_> = volumes.iter().filter(|v| v.volume_id == volume).collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].attached_to.as_ref(), Some(&launched.instance_id));
    assert_eq!(ours[0].device.as_deref(), Some("/dev/sdf"));
    assert_eq!(ours[0].snapshot_id.as_ref(), Some(&snapshot.snapshot_id));

    c.ec2
        .detach_volume()
        .volume_id(volume.as_str())
        .instance_id(launched.instance_id.as_str())
        .device("/dev/sdf")
        .send()
        .await
        .unwrap();
    ec2.terminate_workstation(&launched.instance_id)
        .await
        .unwrap();
    ec2.terminate_workstation(&launched.instance_id)
        .await
        .unwrap();
    let state = c
        .ec2
        .describe_instances()
        .instance_ids(launched.instance_id.as_str())
        .send()
        .await
        .unwrap();
    let name = state.reservations()[0].instances()[0]
        .state()
        .unwrap()
        .name()
        .unwrap()
        .as_str()
        .to_owned();
    assert!(name == "shutting-down" || name == "terminated", "{name}");

    ec2.delete_volume(&volume).await.unwrap();
    ec2.delete_volume(&volume).await.unwrap();
    assert_declared(
        &log,
        &[
            &w::TERMINATE_WORKSTATION,
            &w::DELETE_VOLUME,
            &w::FIND_CASE_VOLUMES,
        ],
    );
    assert!(
        ec2.find_case_volumes(&case)
            .await
            .unwrap()
            .iter()
            .all(|v| v.volume_id != volume)
    );

    let missing = VolumeId::parse("vol-0123456789abcdef0").unwrap();
    let err = ec2
        .attach_volume(&missing, &launched.instance_id, "/dev/sdg")
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound);
}

/// RunInstances and CreateVolume carry the client token (moto ignores it, so this checks the
/// request the production client serialises; the answers are EC2's documented response shapes).
#[tokio::test]
async fn client_tokens_are_sent() {
    let replay = Replay::default();
    replay.respond(
        200,
        &[("content-type", "text/xml")],
        r#"<RunInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><reservationId>r-0123456789abcdef0</reservationId><ownerId>123456789012</ownerId><instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><imageId>ami-12c6146b</imageId><instanceState><code>0</code><name>pending</name></instanceState><placement><availabilityZone>us-east-1a</availabilityZone></placement></item></instancesSet></RunInstancesResponse>"#,
    );
    replay.respond(
        200,
        &[("content-type", "text/xml")],
        r#"<CreateVolumeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-2</requestId><volumeId>vol-0123456789abcdef0</volumeId><size>8</size><snapshotId>snap-0123456789abcdef0</snapshotId><availabilityZone>us-east-1a</availabilityZone><status>creating</status><volumeType>gp3</volumeType></CreateVolumeResponse>"#,
    );
    let log = custody_aws::OperationLog::new();
    let ec2 = Ec2::new(custody_aws::Clients::new(&replay.sdk_config(), &log).ec2);
    let case = case_id(9);
    let spec = WorkstationSpec {
        case: case.clone(),
        image: ImageId::parse("ami-12c6146b").unwrap(),
        instance_type: "m5.large".to_owned(),
        subnet: custody_core::id::SubnetId::parse("subnet-0123456789abcdef0").unwrap(),
        security_group: SecurityGroupId::parse("sg-0123456789abcdef0").unwrap(),
        instance_profile: "custody-workstation".to_owned(),
        client_token: format!("{case}-workstation"),
        tags: BTreeMap::new(),
    };
    let launched = ec2.launch_workstation(&spec).await.unwrap();
    assert_eq!(launched.state, "pending");
    let snapshot = SnapshotId::parse("snap-0123456789abcdef0").unwrap();
    let volume = ec2
        .create_evidence_volume(&snapshot, "us-east-1a", "tok-1", &case_tags(&case))
        .await
        .unwrap();
    assert_eq!(volume.as_str(), "vol-0123456789abcdef0");
    assert_declared(&log, &[&w::LAUNCH_WORKSTATION, &w::CREATE_EVIDENCE_VOLUME]);
    let sent = replay.sent();
    assert!(
        sent[0]
            .body
            .contains(&format!("ClientToken={case}-workstation")),
        "{}",
        sent[0].body
    );
    assert!(
        sent[0].body.contains("MetadataOptions.HttpTokens=required"),
        "{}",
        sent[0].body
    );
    assert!(
        sent[1].body.contains("ClientToken=tok-1"),
        "{}",
        sent[1].body
    );
}
