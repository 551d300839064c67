//! EKS clusters and the Kubernetes objects the sim keeps for them.

use std::collections::BTreeMap;

use custody_core::id::{
    ClusterName, ContainerId, Namespace, NodeName, PodName, ServiceAccountName,
};
use serde::{Deserialize, Serialize};

/// An EKS cluster and its Kubernetes state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EksCluster {
    /// The cluster name.
    pub name: ClusterName,
    /// EKS tags (the guardrail tag may be here).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Whether the responder role is mapped in the cluster's access entries (without it, every
    /// Kubernetes call is `Custody.AccessDenied`, as with a missing EKS access entry).
    #[serde(default = "yes")]
    pub responder_has_access: bool,
    /// Nodes.
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// Pods.
    #[serde(default)]
    pub pods: Vec<Pod>,
    /// Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job) and their selectors.
    #[serde(default)]
    pub workloads: Vec<Workload>,
    /// NetworkPolicies.
    #[serde(default)]
    pub network_policies: Vec<NetworkPolicy>,
}

fn yes() -> bool {
    true
}

/// A node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Node {
    /// Node name (`ip-10-0-1-23.ec2.internal`).
    pub name: NodeName,
    /// `spec.providerID` (`aws:///us-east-1a/i-…`).
    pub provider_id: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `spec.unschedulable` (cordoned).
    #[serde(default)]
    pub unschedulable: bool,
}

/// A pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pod {
    /// Namespace.
    pub namespace: Namespace,
    /// Name.
    pub name: PodName,
    /// `metadata.uid`.
    pub uid: String,
    /// The node it is scheduled on.
    pub node: NodeName,
    /// Its service account.
    pub service_account: ServiceAccountName,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `status.phase`.
    #[serde(default = "phase_running")]
    pub phase: String,
    /// Its containers.
    #[serde(default)]
    pub containers: Vec<Container>,
}

fn phase_running() -> String {
    "Running".into()
}

/// A container of a pod, as the container runtime on its node knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Runtime container id (64 hex).
    pub id: ContainerId,
    /// Image reference.
    #[serde(default)]
    pub image: String,
    /// PID of the container's init process in the host PID namespace.
    pub host_pid: u32,
}

/// A workload controller and its selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workload {
    /// Namespace.
    pub namespace: Namespace,
    /// Kind, as GuardDuty names it (`Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`).
    pub kind: String,
    /// Name.
    pub name: String,
    /// `spec.selector.matchLabels`.
    pub selector: BTreeMap<String, String>,
}

/// A NetworkPolicy, reduced to what isolation needs: whom it selects and whether it allows
/// anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPolicy {
    /// Namespace.
    pub namespace: Namespace,
    /// Name.
    pub name: String,
    /// `spec.podSelector.matchLabels` (empty selects every pod of the namespace).
    #[serde(default)]
    pub pod_selector: BTreeMap<String, String>,
    /// `spec.policyTypes`.
    #[serde(default)]
    pub policy_types: Vec<String>,
    /// Number of ingress rules (any rule allows some traffic).
    #[serde(default)]
    pub ingress_rules: u32,
    /// Number of egress rules.
    #[serde(default)]
    pub egress_rules: u32,
    /// Labels on the policy object.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl NetworkPolicy {
    /// Whether the policy selects a pod with these labels.
    pub fn selects(&self, pod_labels: &BTreeMap<String, String>) -> bool {
        self.pod_selector
            .iter()
            .all(|(k, v)| pod_labels.get(k) == Some(v))
    }

    /// Whether the policy allows some traffic to or from the pods it selects.
    pub fn allows_traffic(&self) -> bool {
        let (ingress, egress) = self.allowed_directions();
        ingress || egress
    }

    /// Which directions the policy lets some traffic through, as Kubernetes reads it:
    /// `policyTypes` default to `Ingress`, plus `Egress` when there are egress rules; rules in a
    /// direction the policy does not cover are ignored; a covered direction with no rules allows
    /// nothing (that is a default-deny).
    pub fn allowed_directions(&self) -> (bool, bool) {
        let (covers_ingress, covers_egress) = if self.policy_types.is_empty() {
            (true, self.egress_rules > 0)
        } else {
            (
                self.policy_types.iter().any(|t| t == "Ingress"),
                self.policy_types.iter().any(|t| t == "Egress"),
            )
        };
        (
            covers_ingress && self.ingress_rules > 0,
            covers_egress && self.egress_rules > 0,
        )
    }
}

impl Pod {
    /// Whether the pod's labels include all of `selector`.
    pub fn matches(&self, selector: &BTreeMap<String, String>) -> bool {
        selector.iter().all(|(k, v)| self.labels.get(k) == Some(v))
    }
}
