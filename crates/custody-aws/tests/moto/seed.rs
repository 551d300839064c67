//! Seeding moto through the SDK directly (not through the adapters under test), and checks that
//! what a call recorded is what its capability declares.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use custody_aws::{Clients, OperationLog};
use custody_core::id::{CaseId, InstanceId, NetworkInterfaceId, SubnetId, VpcId};
use custody_steps::capability::Capability;

use super::harness::Moto;

/// A case id for tests: `case-01J000…0<n>`.
pub fn case_id(n: u32) -> CaseId {
    CaseId::parse(&format!("case-01J{n:023}")).expect("test case id")
}

/// Clients pointed at moto: one set to seed and inspect with (recording nowhere that matters),
/// one set for the adapters under test, recording into the returned log.
pub fn clients(moto: &Moto) -> (Clients, Clients, OperationLog) {
    let log = OperationLog::new();
    (
        Clients::new(&moto.sdk_config(), &OperationLog::new()),
        Clients::new(&moto.sdk_config(), &log),
        log,
    )
}

/// A VPC with one subnet and one running instance in it.
pub struct Network {
    pub vpc: VpcId,
    pub subnet: SubnetId,
    pub instance: InstanceId,
    pub eni: NetworkInterfaceId,
}

/// Seeds a VPC, a subnet and an instance (tagged `Name=suspect`).
pub async fn network(ec2: &aws_sdk_ec2::Client) -> Network {
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_owned();
    let instance = run_instance(ec2, &subnet, None).await;
    let described = ec2
        .describe_instances()
        .instance_ids(instance.as_str())
        .send()
        .await
        .unwrap();
    let eni = described.reservations()[0].instances()[0].network_interfaces()[0]
        .network_interface_id()
        .unwrap()
        .to_owned();
    Network {
        vpc: VpcId::parse(&vpc).unwrap(),
        subnet: SubnetId::parse(&subnet).unwrap(),
        instance,
        eni: NetworkInterfaceId::parse(&eni).unwrap(),
    }
}

/// Runs one instance in `subnet`, optionally with an instance profile.
pub async fn run_instance(
    ec2: &aws_sdk_ec2::Client,
    subnet: &str,
    profile: Option<&str>,
) -> InstanceId {
    let mut run = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("Name").value("suspect").build())
                .build(),
        );
    if let Some(profile) = profile {
        run = run.iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .arn(profile)
                .build(),
        );
    }
    let out = run.send().await.unwrap();
    InstanceId::parse(out.instances()[0].instance_id().unwrap()).unwrap()
}

/// Takes what `log` recorded and asserts it is within what `capabilities` declare.
#[track_caller]
pub fn assert_declared(log: &OperationLog, capabilities: &[&Capability]) -> BTreeSet<String> {
    let recorded = log.take();
    let declared: BTreeSet<&str> = capabilities
        .iter()
        .flat_map(|c| c.iam_actions.iter().copied())
        .collect();
    let undeclared: Vec<&String> = recorded
        .iter()
        .filter(|a| !declared.contains(a.as_str()))
        .collect();
    assert!(
        undeclared.is_empty(),
        "recorded actions {undeclared:?} are not declared by {:?} (declared: {declared:?})",
        capabilities.iter().map(|c| c.operation).collect::<Vec<_>>()
    );
    recorded
}
