//! What a cluster under test must offer the scenarios: the `Cluster` port itself, a way to put
//! a scenario's objects in place, and a way to read back what is stored, independent of the
//! port (so a scenario checks the effect, not the port's own account of it).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use custody_steps::ports::Cluster;

/// Labels as `(key, value)` pairs.
pub type Pairs = &'static [(&'static str, &'static str)];

/// A map from pairs.
pub fn map(pairs: Pairs) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A node to seed.
#[derive(Debug, Clone)]
pub struct SeedNode {
    /// `metadata.name`.
    pub name: &'static str,
    /// `spec.providerID`, as the cloud wrote it (possibly not an EC2 one).
    pub provider_id: &'static str,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
}

/// A pod to seed.
#[derive(Debug, Clone)]
pub struct SeedPod {
    /// `metadata.namespace`.
    pub namespace: &'static str,
    /// `metadata.name`.
    pub name: &'static str,
    /// `metadata.uid`.
    pub uid: &'static str,
    /// `spec.nodeName`.
    pub node: &'static str,
    /// `spec.serviceAccountName`.
    pub service_account: &'static str,
    /// `metadata.labels`.
    pub labels: Pairs,
    /// The runtime ids of its containers (64 hex), `containerd://` in the pod's status.
    pub container_ids: &'static [&'static str],
}

/// A workload controller to seed.
#[derive(Debug, Clone)]
pub struct SeedWorkload {
    /// `metadata.namespace`.
    pub namespace: &'static str,
    /// The Kubernetes kind (`Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`).
    pub kind: &'static str,
    /// `metadata.name`.
    pub name: &'static str,
    /// `spec.selector.matchLabels` (empty: the selector is `{}`).
    pub selector: Pairs,
}

/// A NetworkPolicy to seed: whom it selects and how many (empty, allow-all) rules it has.
#[derive(Debug, Clone)]
pub struct SeedPolicy {
    /// `metadata.namespace`.
    pub namespace: &'static str,
    /// `metadata.name`.
    pub name: &'static str,
    /// `spec.podSelector.matchLabels` (empty selects every pod of the namespace).
    pub pod_selector: Pairs,
    /// `spec.policyTypes` (empty: not given, Kubernetes' defaults apply).
    pub policy_types: &'static [&'static str],
    /// Number of `spec.ingress` rules.
    pub ingress_rules: usize,
    /// Number of `spec.egress` rules.
    pub egress_rules: usize,
}

/// Everything a scenario starts from.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// Nodes.
    pub nodes: Vec<SeedNode>,
    /// Pods.
    pub pods: Vec<SeedPod>,
    /// Workloads.
    pub workloads: Vec<SeedWorkload>,
    /// NetworkPolicies.
    pub policies: Vec<SeedPolicy>,
}

/// A NetworkPolicy as stored, reduced to what isolation depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    /// `spec.podSelector.matchLabels`.
    pub pod_selector: BTreeMap<String, String>,
    /// `spec.policyTypes`.
    pub policy_types: BTreeSet<String>,
    /// Number of ingress rules.
    pub ingress_rules: usize,
    /// Number of egress rules.
    pub egress_rules: usize,
}

/// One implementation of the `Cluster` port with its backing store.
#[async_trait]
pub trait ClusterUnderTest: Send + Sync {
    /// The port under test.
    fn cluster(&self) -> &dyn Cluster;

    /// Puts the scenario's objects in place, bypassing the port.
    async fn seed(&self, seed: &Seed);

    /// A pod's labels as stored; `None` if there is no such pod.
    async fn stored_pod_labels(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Option<BTreeMap<String, String>>;

    /// A node's `spec.unschedulable` as stored; `None` if there is no such node.
    async fn stored_unschedulable(&self, node: &str) -> Option<bool>;

    /// A NetworkPolicy as stored; `None` if there is no such policy.
    async fn stored_policy(&self, namespace: &str, name: &str) -> Option<StoredPolicy>;
}
