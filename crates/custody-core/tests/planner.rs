//! The triage planner and the `IsTriageRequired` guardrail, against a small EKS world:
//! cluster `prod-payments`, namespace `payments`, two nodes each backed by an instance.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers build fixed, known-good fixtures; a failure is a test bug"
)]

use std::collections::BTreeMap;

use custody_core::case::ActionKind;
use custody_core::guardrail::{GuardrailScope, TagVerdict};
use custody_core::id::{
    AccountId, Arn, ClusterName, InstanceId, Namespace, NodeName, PodName, Region, VolumeId,
};
use custody_core::inventory::{
    ClusterFacts, InstanceFacts, Inventory, NodeFacts, PodFacts, VolumeFacts,
};
use custody_core::plan::{PlanConfig, RefusalReason, plan};
use custody_core::trigger::{CaseRequest, Intent, RequestSource, Requester, Target, WorkloadKind};

const NODE_A: &str = "ip-10-0-1-23.ec2.internal";
const NODE_B: &str = "ip-10-0-2-45.ec2.internal";
const INSTANCE_A: &str = "i-0a1b2c3d4e5f60718";
const INSTANCE_B: &str = "i-0b2c3d4e5f6071829";

fn account() -> AccountId {
    AccountId::parse("111122223333").unwrap()
}
fn region() -> Region {
    Region::parse("us-east-1").unwrap()
}
fn cluster() -> ClusterName {
    ClusterName::parse("prod-payments").unwrap()
}
fn ns() -> Namespace {
    Namespace::parse("payments").unwrap()
}
fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn instance(id: &str, node: Option<&str>, instance_tags: &[(&str, &str)]) -> InstanceFacts {
    let mut facts = InstanceFacts::new(InstanceId::parse(id).unwrap());
    facts.tags = tags(instance_tags);
    facts.state = Some("running".to_owned());
    facts.ssm_managed = true;
    facts.node = node.map(|n| NodeName::parse(n).unwrap());
    facts.volumes = vec![VolumeFacts {
        id: VolumeId::parse(&format!("vol-{}", &id[2..])).unwrap(),
        device: "/dev/xvda".to_owned(),
        size_gib: 80,
        encrypted: true,
        kms_key_id: None,
        delete_on_termination: true,
    }];
    facts.instance_profile = Some(
        Arn::parse("arn:aws:iam::111122223333:instance-profile/eks-node-prod-payments").unwrap(),
    );
    facts
}

fn pod(name: &str, node: Option<&str>, sa: &str) -> PodFacts {
    PodFacts {
        namespace: ns(),
        name: PodName::parse(name).unwrap(),
        uid: Some(format!("uid-{name}")),
        node: node.map(|n| NodeName::parse(n).unwrap()),
        service_account: Some(sa.parse().unwrap()),
        labels: tags(&[("app", "payments-api")]),
        container_ids: Vec::new(),
    }
}

fn node(name: &str, id: Option<&str>) -> NodeFacts {
    NodeFacts {
        name: NodeName::parse(name).unwrap(),
        instance_id: id.map(|i| InstanceId::parse(i).unwrap()),
        labels: BTreeMap::new(),
        unschedulable: false,
    }
}

/// Two nodes; `payments-api-…-x2k4q` on A, `payments-api-…-7hj2m` on B, `ledger-…` on B.
fn world(
    cluster_tags: &[(&str, &str)],
    a_tags: &[(&str, &str)],
    b_tags: &[(&str, &str)],
) -> Inventory {
    Inventory {
        instances: vec![
            instance(INSTANCE_A, Some(NODE_A), a_tags),
            instance(INSTANCE_B, Some(NODE_B), b_tags),
        ],
        cluster: Some(ClusterFacts {
            name: cluster(),
            arn: Some(
                Arn::parse("arn:aws:eks:us-east-1:111122223333:cluster/prod-payments").unwrap(),
            ),
            tags: tags(cluster_tags),
            nodes: vec![
                node(NODE_A, Some(INSTANCE_A)),
                node(NODE_B, Some(INSTANCE_B)),
            ],
            pods: vec![
                pod("payments-api-7d9f8b6c5-x2k4q", Some(NODE_A), "payments-api"),
                pod("payments-api-7d9f8b6c5-7hj2m", Some(NODE_B), "payments-api"),
                pod("ledger-5c6d7e8f9-abcde", Some(NODE_B), "ledger"),
            ],
        }),
    }
}

fn request(target: Target, isolate: bool) -> CaseRequest {
    CaseRequest {
        source: RequestSource::PlainRequest,
        intent: Intent { isolate },
        target,
        findings: Vec::new(),
        requested_by: Requester::Human {
            principal: "oncall@example.com".to_owned(),
        },
        reason: None,
    }
}

fn pods_target(names: &[&str]) -> Target {
    Target::Pods {
        account: account(),
        region: region(),
        cluster: cluster(),
        namespace: ns(),
        pods: names.iter().map(|n| PodName::parse(n).unwrap()).collect(),
    }
}

fn instance_target(id: &str) -> Target {
    Target::Instance {
        account: account(),
        region: region(),
        instance_id: InstanceId::parse(id).unwrap(),
    }
}

fn ec2_only(instance_tags: &[(&str, &str)]) -> Inventory {
    Inventory {
        instances: vec![instance(INSTANCE_A, None, instance_tags)],
        cluster: None,
    }
}

#[test]
fn tag_missing_allows_acquisition_without_isolation() {
    let p = plan(
        &request(instance_target(INSTANCE_A), false),
        &ec2_only(&[("Name", "web")]),
        &PlanConfig::default(),
    );
    assert!(p.eligible());
    assert_eq!(p.memory.len(), 1);
    assert_eq!(p.disk.len(), 1);
    assert_eq!(p.disk[0].volumes.len(), 1);
    assert!(p.isolation.is_empty(), "isolation was not asked for");
    assert!(p.refusals.is_empty());
    assert_eq!(p.decisions.len(), 1);
    assert_eq!(p.decisions[0].verdict, TagVerdict::Allowed { value: None });
}

#[test]
fn instance_protected_refuses_everything() {
    let p = plan(
        &request(instance_target(INSTANCE_A), true),
        &ec2_only(&[("IsTriageRequired", "False")]),
        &PlanConfig::default(),
    );
    assert!(!p.eligible());
    assert!(p.memory.is_empty() && p.disk.is_empty() && p.isolation.is_empty());
    let refusal = p.refusal(INSTANCE_A).expect("the instance is refused");
    assert_eq!(
        refusal.reason,
        RefusalReason::Protected {
            scope: GuardrailScope::Instance,
            tagged: INSTANCE_A.to_owned()
        }
    );
    assert!(refusal.reason.to_string().contains("IsTriageRequired"));
}

#[test]
fn tag_true_allows() {
    let p = plan(
        &request(instance_target(INSTANCE_A), true),
        &ec2_only(&[("IsTriageRequired", " TRUE ")]),
        &PlanConfig::default(),
    );
    assert!(p.eligible());
    assert_eq!(p.isolation.len(), 1);
}

#[test]
fn tag_malformed_is_a_refusal_with_the_value_quoted() {
    for value in ["no", "", "0", "yes"] {
        let p = plan(
            &request(instance_target(INSTANCE_A), false),
            &ec2_only(&[("IsTriageRequired", value)]),
            &PlanConfig::default(),
        );
        assert!(!p.eligible(), "{value:?} must not be guessed");
        let refusal = p.refusal(INSTANCE_A).unwrap();
        assert!(
            matches!(&refusal.reason, RefusalReason::MalformedTag { value: v, .. } if v == value)
        );
        assert!(refusal.reason.to_string().contains(&format!("{value:?}")));
    }
}

#[test]
fn cluster_protected_refuses_every_node_and_pod() {
    let inv = world(&[("IsTriageRequired", "false")], &[], &[]);
    let target = Target::Workload {
        account: account(),
        region: region(),
        cluster: cluster(),
        namespace: ns(),
        kind: WorkloadKind::Deployment,
        name: "payments-api".to_owned(),
    };
    let p = plan(&request(target, true), &inv, &PlanConfig::default());
    assert!(!p.eligible());
    for resource in [
        INSTANCE_A,
        INSTANCE_B,
        "payments/payments-api-7d9f8b6c5-x2k4q",
    ] {
        let r = p
            .refusal(resource)
            .unwrap_or_else(|| panic!("{resource} not refused"));
        assert_eq!(
            r.reason,
            RefusalReason::Protected {
                scope: GuardrailScope::Cluster,
                tagged: "prod-payments".to_owned()
            }
        );
    }
    assert!(
        p.decisions
            .iter()
            .any(|d| d.scope == GuardrailScope::Cluster
                && matches!(d.verdict, TagVerdict::Protected { .. }))
    );
}

#[test]
fn cluster_tag_malformed_refuses_every_node() {
    let inv = world(&[("IsTriageRequired", "maybe")], &[], &[]);
    let p = plan(
        &request(pods_target(&["payments-api-7d9f8b6c5-x2k4q"]), false),
        &inv,
        &PlanConfig::default(),
    );
    assert!(!p.eligible());
    assert!(matches!(
        p.refusal(INSTANCE_A).unwrap().reason,
        RefusalReason::MalformedTag {
            scope: GuardrailScope::Cluster,
            ..
        }
    ));
}

#[test]
fn mixed_nodes_are_judged_one_by_one() {
    let inv = world(&[], &[], &[("IsTriageRequired", "false")]);
    let target = pods_target(&[
        "payments-api-7d9f8b6c5-x2k4q",
        "payments-api-7d9f8b6c5-7hj2m",
    ]);
    let p = plan(&request(target, true), &inv, &PlanConfig::default());
    assert!(p.eligible());
    let memory: Vec<&str> = p.memory.iter().map(|m| m.instance_id.as_str()).collect();
    assert_eq!(memory, [INSTANCE_A]);
    assert_eq!(p.isolation.len(), 1);
    assert_eq!(p.isolation[0].instance_id.as_str(), INSTANCE_A);
    assert_eq!(p.isolation[0].pods.len(), 1);
    assert!(p.refusal(INSTANCE_B).is_some());
    assert!(
        p.refusal("payments/payments-api-7d9f8b6c5-7hj2m").is_some(),
        "the protected node's pod is refused too"
    );
    assert_eq!(p.decisions.len(), 3, "cluster + two instances");
}

#[test]
fn isolation_actions_follow_the_subject_and_config() {
    let inv = world(&[], &[], &[]);
    let p = plan(
        &request(pods_target(&["payments-api-7d9f8b6c5-x2k4q"]), true),
        &inv,
        &PlanConfig::default(),
    );
    assert_eq!(
        p.isolation[0].actions,
        [
            ActionKind::LabelPod,
            ActionKind::DenyAllNetworkPolicy,
            ActionKind::CordonNode,
            ActionKind::TerminationProtection,
            ActionKind::PreserveVolumes,
            ActionKind::QuarantineSecurityGroup,
            ActionKind::RevokeRoleSessions,
            ActionKind::InstanceProfile,
        ]
    );
    let cfg = PlanConfig {
        isolate_nacl: true,
        revoke_sessions: false,
    };
    let p = plan(
        &request(pods_target(&["payments-api-7d9f8b6c5-x2k4q"]), true),
        &inv,
        &cfg,
    );
    assert!(p.isolation[0].actions.contains(&ActionKind::NaclIsolation));
    assert!(
        !p.isolation[0]
            .actions
            .contains(&ActionKind::RevokeRoleSessions)
    );

    let p = plan(
        &request(instance_target(INSTANCE_A), true),
        &ec2_only(&[]),
        &PlanConfig::default(),
    );
    assert!(!p.isolation[0].actions.contains(&ActionKind::LabelPod));
    assert!(!p.isolation[0].actions.contains(&ActionKind::CordonNode));
}

#[test]
fn nodes_without_ssm_keep_disk_and_isolation() {
    let mut inv = world(&[], &[], &[]);
    inv.instances[0].ssm_managed = false;
    let p = plan(
        &request(pods_target(&["payments-api-7d9f8b6c5-x2k4q"]), true),
        &inv,
        &PlanConfig::default(),
    );
    assert_eq!(p.memory.len(), 1);
    assert!(!p.memory[0].capturable());
    assert_eq!(p.disk.len(), 1);
    assert_eq!(p.isolation.len(), 1);
}

#[test]
fn missing_and_unscheduled_pods_are_refused_with_reasons() {
    let mut inv = world(&[], &[], &[]);
    if let Some(c) = inv.cluster.as_mut() {
        c.pods
            .push(pod("payments-api-7d9f8b6c5-pend1", None, "payments-api"));
    }
    let target = pods_target(&[
        "payments-api-7d9f8b6c5-x2k4q",
        "payments-api-gone",
        "payments-api-7d9f8b6c5-pend1",
    ]);
    let p = plan(&request(target, false), &inv, &PlanConfig::default());
    assert!(p.eligible());
    assert_eq!(
        p.refusal("payments/payments-api-gone").unwrap().reason,
        RefusalReason::PodNotFound
    );
    assert_eq!(
        p.refusal("payments/payments-api-7d9f8b6c5-pend1")
            .unwrap()
            .reason,
        RefusalReason::PodNotScheduled
    );
}

#[test]
fn a_bare_cluster_is_refused() {
    let target = Target::Cluster {
        account: account(),
        region: region(),
        cluster: cluster(),
    };
    let p = plan(
        &request(target, true),
        &world(&[], &[], &[]),
        &PlanConfig::default(),
    );
    assert!(!p.eligible());
    assert_eq!(
        p.refusal("prod-payments").unwrap().reason,
        RefusalReason::NoWorkload
    );
}

#[test]
fn a_node_target_takes_its_pods_but_does_not_fence_them() {
    let target = Target::Node {
        account: account(),
        region: region(),
        cluster: cluster(),
        node: NodeName::parse(NODE_B).unwrap(),
    };
    let p = plan(
        &request(target, true),
        &world(&[], &[], &[]),
        &PlanConfig::default(),
    );
    assert_eq!(p.memory.len(), 1);
    assert_eq!(p.memory[0].instance_id.as_str(), INSTANCE_B);
    assert_eq!(p.memory[0].pods.len(), 2);
    assert!(p.isolation[0].pods.is_empty());
    assert!(p.isolation[0].actions.contains(&ActionKind::CordonNode));
    assert!(!p.isolation[0].actions.contains(&ActionKind::LabelPod));
}

#[test]
fn unknown_nodes_and_fargate_nodes_are_refused() {
    let mut inv = world(&[], &[], &[]);
    if let Some(c) = inv.cluster.as_mut() {
        c.nodes.push(node("fargate-ip-10-0-3-9.ec2.internal", None));
    }
    let fargate = Target::Node {
        account: account(),
        region: region(),
        cluster: cluster(),
        node: NodeName::parse("fargate-ip-10-0-3-9.ec2.internal").unwrap(),
    };
    let p = plan(&request(fargate, false), &inv, &PlanConfig::default());
    assert!(matches!(
        p.refusals[0].reason,
        RefusalReason::NodeWithoutInstance { .. }
    ));
    let unknown = Target::Node {
        account: account(),
        region: region(),
        cluster: cluster(),
        node: NodeName::parse("ip-10-9-9-9.ec2.internal").unwrap(),
    };
    let p = plan(&request(unknown, false), &inv, &PlanConfig::default());
    assert!(matches!(
        p.refusals[0].reason,
        RefusalReason::NodeNotFound { .. }
    ));
}

#[test]
fn service_account_targets_only_its_pods() {
    let target = Target::ServiceAccount {
        account: account(),
        region: region(),
        cluster: cluster(),
        namespace: ns(),
        name: "ledger".parse().unwrap(),
    };
    let p = plan(
        &request(target, false),
        &world(&[], &[], &[]),
        &PlanConfig::default(),
    );
    assert_eq!(p.memory.len(), 1);
    assert_eq!(p.memory[0].instance_id.as_str(), INSTANCE_B);
    assert_eq!(p.memory[0].pods.len(), 1);
    assert_eq!(p.memory[0].pods[0].name.as_str(), "ledger-5c6d7e8f9-abcde");
}

#[test]
fn a_workload_with_no_pods_is_refused() {
    let mut inv = world(&[], &[], &[]);
    if let Some(c) = inv.cluster.as_mut() {
        c.pods.clear();
    }
    let target = Target::Workload {
        account: account(),
        region: region(),
        cluster: cluster(),
        namespace: ns(),
        kind: WorkloadKind::DaemonSet,
        name: "node-exporter".to_owned(),
    };
    let p = plan(&request(target, false), &inv, &PlanConfig::default());
    assert!(!p.eligible());
    assert_eq!(p.refusals[0].reason, RefusalReason::NothingResolved);
}

#[test]
fn terminated_and_missing_instances_are_refused() {
    let mut inv = ec2_only(&[]);
    inv.instances[0].state = Some("terminated".to_owned());
    let p = plan(
        &request(instance_target(INSTANCE_A), true),
        &inv,
        &PlanConfig::default(),
    );
    assert!(matches!(
        p.refusal(INSTANCE_A).unwrap().reason,
        RefusalReason::InstanceGone { .. }
    ));
    let p = plan(
        &request(instance_target(INSTANCE_B), true),
        &inv,
        &PlanConfig::default(),
    );
    assert_eq!(
        p.refusal(INSTANCE_B).unwrap().reason,
        RefusalReason::InstanceNotFound
    );
}

#[test]
fn plans_round_trip() {
    let inv = world(&[], &[], &[("IsTriageRequired", "false")]);
    let p = plan(
        &request(
            pods_target(&[
                "payments-api-7d9f8b6c5-x2k4q",
                "payments-api-7d9f8b6c5-7hj2m",
            ]),
            true,
        ),
        &inv,
        &PlanConfig::default(),
    );
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(
        serde_json::from_str::<custody_core::plan::Plan>(&json).unwrap(),
        p
    );
}
