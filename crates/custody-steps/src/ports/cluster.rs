//! EKS and the Kubernetes API of the subject's cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{
    AccountId, Arn, CaseId, ClusterName, Namespace, NodeName, PodName, Region, ServiceAccountName,
};
use custody_core::inventory::{NodeFacts, PodFacts};
use serde::{Deserialize, Serialize};

/// What EKS says about a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// The cluster name.
    pub name: ClusterName,
    /// Its ARN.
    pub arn: Arn,
    /// Its tags (the guardrail tag may be here).
    pub tags: BTreeMap<String, String>,
}

/// How to find pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PodSelector {
    /// Pods whose labels include all of these (a workload's selector).
    Labels(BTreeMap<String, String>),
    /// Pods running as this service account.
    ServiceAccount(ServiceAccountName),
    /// Pods scheduled on this node (all namespaces when the namespace is `None`).
    Node(NodeName),
}

/// Connects to a cluster in a target account.
#[async_trait]
pub trait ClusterConnector: Send + Sync {
    /// Describes the cluster and opens its API as the responder; the case id names the session.
    async fn connect(
        &self,
        account: &AccountId,
        region: &Region,
        cluster: &ClusterName,
        case: &CaseId,
    ) -> Result<(ClusterInfo, Arc<dyn Cluster>), StepError>;
}

/// The Kubernetes operations custody performs. Names given to it are already validated.
///
/// Each mutating method is idempotent and returns the state it replaced, for the case record and
/// for release.
///
/// # Contract
/// Every implementation (custody-kube's `KubeCluster`, custody-sim's `SimCluster`) is held to the
/// rules written on each method by one shared suite,
/// `crates/custody-scenarios/tests/cluster_contract/`, which judges them by the objects stored
/// afterwards. Failures carry the same `Custody.<Reason>` on every implementation:
/// `Custody.NotFound` (service code `NotFound`) for an object that must exist and does not,
/// `Custody.Conflict` (`AlreadyExists`) for a name taken by an object custody did not write,
/// `Custody.InvalidInput` for a label, selector or name the API server would refuse (checked
/// before anything is sent), `Custody.AccessDenied` (`Forbidden`) when RBAC refuses, and
/// `Custody.Unsupported` for an object custody cannot act on safely.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// One pod, `None` if absent.
    async fn get_pod(
        &self,
        namespace: &Namespace,
        name: &PodName,
    ) -> Result<Option<PodFacts>, StepError>;

    /// Pods matching a selector, in a namespace or (with `None`) all namespaces.
    ///
    /// Only pods the selector matches are returned, whatever the server answered: a server (or
    /// proxy, or emulator) that ignores a selector must not widen the case. An empty label
    /// selector (it would select every pod) or a label that is not a Kubernetes label (it could
    /// change the selector's meaning) is `Custody.InvalidInput`.
    async fn list_pods(
        &self,
        namespace: Option<&Namespace>,
        selector: &PodSelector,
    ) -> Result<Vec<PodFacts>, StepError>;

    /// A workload's pod selector (`matchLabels`) — Deployment, StatefulSet, DaemonSet, ReplicaSet,
    /// Job — so its pods can be listed; `None` if the workload does not exist.
    ///
    /// `kind` is the workload kind as Kubernetes or GuardDuty names it, in any case, singular or
    /// plural (`Deployment`, `deployments`). Any other kind (CronJob, ReplicationController, …) is
    /// `Custody.Unsupported`: a case must fail loudly rather than isolate no pods and look done.
    /// A selector that is empty or uses `matchExpressions` is `Custody.Unsupported` too (it cannot
    /// be listed exactly without selecting more than the workload's pods); a name that is not a
    /// DNS subdomain is `Custody.InvalidInput`.
    async fn workload_selector(
        &self,
        namespace: &Namespace,
        kind: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, StepError>;

    /// One node, `None` if absent. A node whose `spec.providerID` names no EC2 instance
    /// (Fargate, malformed) has `instance_id: None`: it is still a node of the case.
    async fn get_node(&self, name: &NodeName) -> Result<Option<NodeFacts>, StepError>;

    /// Sets label `key=value` on the pod, keeping its other labels; returns the value it
    /// replaced (custody's own value when the pod already carried it: nothing is written). A
    /// missing pod is `Custody.NotFound`.
    async fn label_pod(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
    ) -> Result<Option<String>, StepError>;

    /// Removes label `key` if it still has `value` (or restores `prior` when given); a pod that is
    /// gone is fine, and a label someone changed since is left alone.
    ///
    /// A `prior` equal to `value` (custody's value is the case id, so it can only have been read
    /// back after custody's own change, by a retried step) means nothing was there before: the
    /// label is removed, never written back, so release always lifts the quarantine.
    async fn restore_pod_label(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
        prior: Option<&str>,
    ) -> Result<(), StepError>;

    /// Ensures a deny-all ingress+egress NetworkPolicy named `name` selecting exactly `key=value`;
    /// returns `true` if it created it, `false` if it was already there. A policy of that name
    /// with any other spec is `Custody.Conflict` and is never overwritten; a name that is not a
    /// DNS subdomain is `Custody.InvalidInput`.
    async fn ensure_deny_all_policy(
        &self,
        namespace: &Namespace,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<bool, StepError>;

    /// Names of OTHER policies in the namespace that select a pod with these labels and allow
    /// some traffic: NetworkPolicies are additive, so they keep the pod reachable.
    ///
    /// Directions are read as Kubernetes reads them: `policyTypes` default to `Ingress` (plus
    /// `Egress` when there are egress rules), rules in a direction the policy does not cover
    /// allow nothing, and a covered direction without rules is a deny, not an allow.
    async fn allowing_policies(
        &self,
        namespace: &Namespace,
        pod_labels: &BTreeMap<String, String>,
        except: &str,
    ) -> Result<Vec<String>, StepError>;

    /// Deletes a NetworkPolicy; a missing one is fine.
    async fn delete_policy(&self, namespace: &Namespace, name: &str) -> Result<(), StepError>;

    /// Sets `spec.unschedulable`; returns the prior value (nothing is written when it already
    /// has the value). A missing node is `Custody.NotFound`.
    async fn set_unschedulable(
        &self,
        node: &NodeName,
        unschedulable: bool,
    ) -> Result<bool, StepError>;
}

/// Capabilities of [`ClusterConnector`] and [`Cluster`].
pub mod ops {
    use crate::capability::{Capability, Effect, PortName::Cluster as P};

    /// [`super::ClusterConnector::connect`]
    pub const CONNECT: Capability = Capability::read(P, "connect", &["eks:DescribeCluster"]);
    /// [`super::Cluster::get_pod`]
    pub const GET_POD: Capability = Capability::kube("get_pod", &["pods:get"], Effect::Read);
    /// [`super::Cluster::list_pods`]
    pub const LIST_PODS: Capability = Capability::kube("list_pods", &["pods:list"], Effect::Read);
    /// [`super::Cluster::workload_selector`]
    pub const WORKLOAD_SELECTOR: Capability = Capability::kube(
        "workload_selector",
        &[
            "deployments.apps:get",
            "statefulsets.apps:get",
            "daemonsets.apps:get",
            "replicasets.apps:get",
            "jobs.batch:get",
        ],
        Effect::Read,
    );
    /// [`super::Cluster::get_node`]
    pub const GET_NODE: Capability = Capability::kube("get_node", &["nodes:get"], Effect::Read);
    /// [`super::Cluster::label_pod`]
    pub const LABEL_POD: Capability =
        Capability::kube("label_pod", &["pods:get", "pods:patch"], Effect::Mutate);
    /// [`super::Cluster::restore_pod_label`]
    pub const RESTORE_POD_LABEL: Capability = Capability::kube(
        "restore_pod_label",
        &["pods:get", "pods:patch"],
        Effect::Mutate,
    );
    /// [`super::Cluster::ensure_deny_all_policy`]
    pub const ENSURE_DENY_ALL_POLICY: Capability = Capability::kube(
        "ensure_deny_all_policy",
        &[
            "networkpolicies.networking.k8s.io:create",
            "networkpolicies.networking.k8s.io:get",
        ],
        Effect::Mutate,
    );
    /// [`super::Cluster::allowing_policies`]
    pub const ALLOWING_POLICIES: Capability = Capability::kube(
        "allowing_policies",
        &["networkpolicies.networking.k8s.io:list"],
        Effect::Read,
    );
    /// [`super::Cluster::delete_policy`]
    pub const DELETE_POLICY: Capability = Capability::kube(
        "delete_policy",
        &["networkpolicies.networking.k8s.io:delete"],
        Effect::Mutate,
    );
    /// [`super::Cluster::set_unschedulable`]
    pub const SET_UNSCHEDULABLE: Capability = Capability::kube(
        "set_unschedulable",
        &["nodes:get", "nodes:patch"],
        Effect::Mutate,
    );

    /// All of them.
    pub const ALL: &[&Capability] = &[
        &CONNECT,
        &GET_POD,
        &LIST_PODS,
        &WORKLOAD_SELECTOR,
        &GET_NODE,
        &LABEL_POD,
        &RESTORE_POD_LABEL,
        &ENSURE_DENY_ALL_POLICY,
        &ALLOWING_POLICIES,
        &DELETE_POLICY,
        &SET_UNSCHEDULABLE,
    ];
}
