//! The cluster every scenario starts from: two namespaces, three nodes (one cordoned, one that
//! is not an EC2 instance), pods that share labels across namespaces, one workload of each kind,
//! and NetworkPolicies that do and do not let the payments pods talk.

use custody_core::id::{Namespace, NodeName, PodName};

use crate::contract::{Seed, SeedNode, SeedPod, SeedPolicy, SeedWorkload};

/// The namespace of the case.
pub const NS: &str = "payments";
/// Another namespace with a pod carrying the same labels and service account name.
pub const OTHER_NS: &str = "batch";
/// A node backed by an EC2 instance.
pub const NODE_A: &str = "ip-10-0-1-23.ec2.internal";
/// Node A's instance.
pub const INSTANCE_A: &str = "i-0abc1230000000001";
/// A node already cordoned by its operators before any case.
pub const NODE_B: &str = "ip-10-0-2-88.ec2.internal";
/// A node whose `providerID` names no EC2 instance.
pub const NODE_ODD: &str = "fargate-ip-10-0-3-4.ec2.internal";
/// The quarantine label key (the settings' `quarantineLabel`).
pub const KEY: &str = "custody.io/quarantine";
/// custody's label value: the case id.
pub const CASE: &str = "01JD0K5W8ZQ3C7R2X9M4T6B1NA";
/// The case's deny-all policy name (lowercase: object names are RFC 1123).
pub const POLICY: &str = "custody-deny-all-01jd0k5w8zq3c7r2x9m4t6b1na";

/// The first api pod's only container.
pub const API_1_CONTAINER: &str =
    "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa99887766554433221100";

/// A namespace.
pub fn ns(name: &str) -> Namespace {
    Namespace::parse(name).unwrap()
}

/// A pod name.
pub fn pod(name: &str) -> PodName {
    PodName::parse(name).unwrap()
}

/// A node name.
pub fn node(name: &str) -> NodeName {
    NodeName::parse(name).unwrap()
}

const API: &[(&str, &str)] = &[("app", "payments-api"), ("team", "payments")];

/// The standard cluster.
pub fn standard() -> Seed {
    Seed {
        nodes: vec![
            SeedNode {
                name: NODE_A,
                provider_id: "aws:///us-east-1a/i-0abc1230000000001",
                unschedulable: false,
            },
            SeedNode {
                name: NODE_B,
                provider_id: "aws:///us-east-1b/i-0abc1230000000002",
                unschedulable: true,
            },
            SeedNode {
                name: NODE_ODD,
                provider_id: "aws:///us-east-1c/fargate-ip-10-0-3-4",
                unschedulable: false,
            },
        ],
        pods: vec![
            SeedPod {
                namespace: NS,
                name: "api-1",
                uid: "6a1f0c2e-1b7d-4c55-9d0e-2f3a4b5c6d71",
                node: NODE_A,
                service_account: "payments-api",
                labels: API,
                container_ids: &[API_1_CONTAINER],
            },
            SeedPod {
                namespace: NS,
                name: "api-2",
                uid: "6a1f0c2e-1b7d-4c55-9d0e-2f3a4b5c6d72",
                node: NODE_B,
                service_account: "payments-api",
                labels: API,
                container_ids: &[],
            },
            SeedPod {
                namespace: NS,
                name: "worker-1",
                uid: "6a1f0c2e-1b7d-4c55-9d0e-2f3a4b5c6d73",
                node: NODE_A,
                service_account: "payments-worker",
                labels: &[("app", "payments-worker"), ("team", "payments")],
                container_ids: &[],
            },
            // Already quarantined by an earlier case.
            SeedPod {
                namespace: NS,
                name: "held-1",
                uid: "6a1f0c2e-1b7d-4c55-9d0e-2f3a4b5c6d74",
                node: NODE_B,
                service_account: "payments-api",
                labels: &[
                    ("app", "payments-held"),
                    (KEY, "01JCZZEARLIERCASE000000000"),
                ],
                container_ids: &[],
            },
            SeedPod {
                namespace: OTHER_NS,
                name: "api-1",
                uid: "6a1f0c2e-1b7d-4c55-9d0e-2f3a4b5c6d75",
                node: NODE_A,
                service_account: "payments-api",
                labels: &[("app", "payments-api")],
                container_ids: &[],
            },
        ],
        workloads: vec![
            workload("Deployment", "payments-api", API),
            workload(
                "ReplicaSet",
                "payments-api-7d9f8b6c5d",
                &[("app", "payments-api"), ("pod-template-hash", "7d9f8b6c5d")],
            ),
            workload("StatefulSet", "ledger", &[("app", "ledger")]),
            workload("DaemonSet", "node-agent", &[("app", "node-agent")]),
            workload("Job", "migrate", &[("job-name", "migrate")]),
            workload("Deployment", "everything", &[]),
        ],
        policies: vec![
            policy(
                "allow-api-ingress",
                &[("app", "payments-api")],
                &["Ingress"],
                1,
                0,
            ),
            policy("default-deny-ingress", &[], &["Ingress"], 0, 0),
            // Ingress rules in a policy that only covers Egress are ignored by Kubernetes.
            policy(
                "api-egress-types-only",
                &[("app", "payments-api")],
                &["Egress"],
                2,
                0,
            ),
            // No policyTypes: Ingress, plus Egress because it has egress rules.
            policy(
                "allow-worker-egress",
                &[("app", "payments-worker")],
                &[],
                0,
                1,
            ),
            SeedPolicy {
                namespace: OTHER_NS,
                name: "allow-all-batch",
                pod_selector: &[],
                policy_types: &["Ingress"],
                ingress_rules: 1,
                egress_rules: 0,
            },
        ],
    }
}

fn workload(
    kind: &'static str,
    name: &'static str,
    selector: &'static [(&'static str, &'static str)],
) -> SeedWorkload {
    SeedWorkload {
        namespace: NS,
        kind,
        name,
        selector,
    }
}

fn policy(
    name: &'static str,
    pod_selector: &'static [(&'static str, &'static str)],
    policy_types: &'static [&'static str],
    ingress_rules: usize,
    egress_rules: usize,
) -> SeedPolicy {
    SeedPolicy {
        namespace: NS,
        name,
        pod_selector,
        policy_types,
        ingress_rules,
        egress_rules,
    }
}
