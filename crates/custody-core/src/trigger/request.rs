//! What a case is asked to do: the validated result of parsing any start input.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::{
    AccountId, Arn, ClusterName, InstanceId, Namespace, NodeName, PodName, Region,
    ServiceAccountName,
};

/// A validated request to open a case, whatever shape it arrived in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseRequest {
    /// Which entry path it came through.
    pub source: RequestSource,
    /// What is wanted beyond acquisition.
    pub intent: Intent,
    /// The subject.
    pub target: Target,
    /// The findings that motivated it (empty for a plain request).
    pub findings: Vec<FindingRef>,
    /// Who or what asked.
    pub requested_by: Requester,
    /// Why, in the requester's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The entry path a case started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RequestSource {
    /// A Security Hub custom action, delivered by EventBridge.
    SecurityHubAction {
        /// The custom action's ARN (`…:action/custom/<id>`).
        action_arn: Arn,
    },
    /// A GuardDuty finding in its native JSON (from a SIEM or an operator).
    GuardDutyFinding,
    /// One or more findings in ASFF, outside a custom-action event.
    AsffFinding,
    /// A request naming the target directly.
    PlainRequest,
}

/// What the case does beyond acquiring evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// Contain the subject as well (network quarantine, credentials, cordon).
    pub isolate: bool,
}

/// Who asked for the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Requester {
    /// Automation: an EventBridge rule or custom action (its ARN) or another named automation.
    Automation {
        /// The rule or action ARN, or the name of the automation.
        rule: String,
    },
    /// A person (or a SIEM acting for one), as named in the request.
    Human {
        /// The principal, as given (an email, an IAM ARN, a SIEM user).
        principal: String,
    },
}

impl fmt::Display for Requester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requester::Automation { rule } => write!(f, "automation {rule:?}"),
            Requester::Human { principal } => write!(f, "{principal:?}"),
        }
    }
}

/// A Kubernetes workload kind that owns pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `batch/v1` Job.
    Job,
    /// `batch/v1` CronJob.
    CronJob,
    /// `v1` ReplicationController.
    ReplicationController,
}

impl WorkloadKind {
    /// Every kind.
    pub const ALL: [WorkloadKind; 7] = [
        WorkloadKind::Deployment,
        WorkloadKind::ReplicaSet,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
        WorkloadKind::ReplicationController,
    ];

    /// The Kubernetes `kind`, e.g. `Deployment`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::ReplicationController => "ReplicationController",
        }
    }

    /// The API resource name, e.g. `deployments` (what GuardDuty audit-log findings write).
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::ReplicaSet => "replicasets",
            WorkloadKind::StatefulSet => "statefulsets",
            WorkloadKind::DaemonSet => "daemonsets",
            WorkloadKind::Job => "jobs",
            WorkloadKind::CronJob => "cronjobs",
            WorkloadKind::ReplicationController => "replicationcontrollers",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a finding names a workload's type: GuardDuty writes `pods`, `deployments`, `PODS`,
/// `Pod`, `Deployment` depending on the feature and API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkloadType {
    /// A bare pod.
    Pod,
    /// A controller owning pods.
    Kind(WorkloadKind),
}

impl WorkloadType {
    /// Matches case-insensitively against the kind and its resource name, singular or plural.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let lower = s.to_ascii_lowercase();
        if lower == "pod" || lower == "pods" {
            return Some(WorkloadType::Pod);
        }
        WorkloadKind::ALL
            .into_iter()
            .find(|k| {
                let kind = k.as_str().to_ascii_lowercase();
                lower == kind || lower == k.resource()
            })
            .map(WorkloadType::Kind)
    }
}

/// The subject of a case. Every name in it is validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Target {
    /// Named pods in one namespace of an EKS cluster.
    Pods {
        /// Account of the cluster.
        account: AccountId,
        /// Region of the cluster.
        region: Region,
        /// The cluster.
        cluster: ClusterName,
        /// The pods' namespace.
        namespace: Namespace,
        /// The pods (at least one).
        pods: Vec<PodName>,
    },
    /// The pods of a workload (Deployment, DaemonSet, …).
    Workload {
        /// Account of the cluster.
        account: AccountId,
        /// Region of the cluster.
        region: Region,
        /// The cluster.
        cluster: ClusterName,
        /// The workload's namespace.
        namespace: Namespace,
        /// Its kind.
        #[serde(rename = "workloadKind")]
        kind: WorkloadKind,
        /// Its name (a validated RFC 1123 subdomain).
        name: String,
    },
    /// The pods running as a service account (a finding about the account's API calls).
    ServiceAccount {
        /// Account of the cluster.
        account: AccountId,
        /// Region of the cluster.
        region: Region,
        /// The cluster.
        cluster: ClusterName,
        /// The service account's namespace.
        namespace: Namespace,
        /// The service account.
        name: ServiceAccountName,
    },
    /// A Kubernetes node (a finding about the kubelet's credentials, or a named node).
    Node {
        /// Account of the cluster.
        account: AccountId,
        /// Region of the cluster.
        region: Region,
        /// The cluster.
        cluster: ClusterName,
        /// The node.
        node: NodeName,
    },
    /// A cluster with no workload named: the planner refuses it with a reason, because custody
    /// does not act on a whole cluster.
    Cluster {
        /// Account of the cluster.
        account: AccountId,
        /// Region of the cluster.
        region: Region,
        /// The cluster.
        cluster: ClusterName,
    },
    /// An EC2 instance.
    Instance {
        /// Its account.
        account: AccountId,
        /// Its region.
        region: Region,
        /// The instance.
        instance_id: InstanceId,
    },
}

impl Target {
    /// The account and region the subject lives in: where custody assumes its responder role.
    pub fn account_region(&self) -> (&AccountId, &Region) {
        match self {
            Target::Pods {
                account, region, ..
            }
            | Target::Workload {
                account, region, ..
            }
            | Target::ServiceAccount {
                account, region, ..
            }
            | Target::Node {
                account, region, ..
            }
            | Target::Cluster {
                account, region, ..
            }
            | Target::Instance {
                account, region, ..
            } => (account, region),
        }
    }

    /// The EKS cluster, for Kubernetes subjects.
    pub fn cluster(&self) -> Option<&ClusterName> {
        match self {
            Target::Pods { cluster, .. }
            | Target::Workload { cluster, .. }
            | Target::ServiceAccount { cluster, .. }
            | Target::Node { cluster, .. }
            | Target::Cluster { cluster, .. } => Some(cluster),
            Target::Instance { .. } => None,
        }
    }

    /// The namespace, for subjects inside one.
    pub fn namespace(&self) -> Option<&Namespace> {
        match self {
            Target::Pods { namespace, .. }
            | Target::Workload { namespace, .. }
            | Target::ServiceAccount { namespace, .. } => Some(namespace),
            Target::Node { .. } | Target::Cluster { .. } | Target::Instance { .. } => None,
        }
    }
}

impl fmt::Display for Target {
    /// A one-line description for notifications and the timeline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (account, region) = self.account_region();
        match self {
            Target::Pods {
                cluster,
                namespace,
                pods,
                ..
            } => {
                let names: Vec<&str> = pods.iter().map(PodName::as_str).collect();
                write!(f, "pod(s) {} in {cluster}/{namespace}", names.join(", "))?;
            }
            Target::Workload {
                cluster,
                namespace,
                kind,
                name,
                ..
            } => {
                write!(f, "{kind} {name} in {cluster}/{namespace}")?;
            }
            Target::ServiceAccount {
                cluster,
                namespace,
                name,
                ..
            } => {
                write!(f, "service account {name} in {cluster}/{namespace}")?;
            }
            Target::Node { cluster, node, .. } => write!(f, "node {node} of {cluster}")?,
            Target::Cluster { cluster, .. } => write!(f, "cluster {cluster}")?,
            Target::Instance { instance_id, .. } => write!(f, "instance {instance_id}")?,
        }
        write!(f, " ({account}, {region})")
    }
}

/// A reference to a finding that motivated the case: enough to find it again and to annotate it
/// in Security Hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingRef {
    /// The product's own finding id (for GuardDuty, the finding id, never the detector).
    pub id: String,
    /// The product that produced it: `GuardDuty`, `Security Hub`, or the ASFF `ProductName`.
    pub product: String,
    /// The finding type, e.g. `Execution:Kubernetes/ExecInKubeSystemPod` (GuardDuty) or the
    /// first ASFF `Types` entry.
    pub finding_type: String,
    /// Severity on the product's scale (GuardDuty 1–8.9; else ASFF `Normalized` 0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<f64>,
    /// The finding's title (untrusted text: print with `{:?}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The account the finding is about.
    pub account: AccountId,
    /// The region it was raised in.
    pub region: Region,
    /// The Security Hub product ARN (for `BatchUpdateFindings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_arn: Option<String>,
    /// The ASFF `Id` (for `BatchUpdateFindings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asff_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_types_are_read_in_every_spelling() {
        for s in ["pods", "PODS", "Pod", "pod"] {
            assert_eq!(WorkloadType::parse(s), Some(WorkloadType::Pod), "{s}");
        }
        for s in ["deployments", "DEPLOYMENTS", "Deployment", "deployment"] {
            assert_eq!(
                WorkloadType::parse(s),
                Some(WorkloadType::Kind(WorkloadKind::Deployment)),
                "{s}"
            );
        }
        assert_eq!(
            WorkloadType::parse("DAEMONSETS"),
            Some(WorkloadType::Kind(WorkloadKind::DaemonSet))
        );
        assert_eq!(
            WorkloadType::parse("cronjobs"),
            Some(WorkloadType::Kind(WorkloadKind::CronJob))
        );
        assert_eq!(WorkloadType::parse("services"), None);
        assert_eq!(WorkloadType::parse(""), None);
    }

    #[test]
    fn target_serialises_with_a_kind_tag() {
        let t = Target::Instance {
            account: AccountId::parse("111122223333").unwrap(),
            region: Region::parse("us-east-1").unwrap(),
            instance_id: InstanceId::parse("i-0123456789abcdef0").unwrap(),
        };
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "instance", "account": "111122223333", "region": "us-east-1", "instanceId": "i-0123456789abcdef0"})
        );
        assert_eq!(serde_json::from_value::<Target>(v).unwrap(), t);
        assert_eq!(
            t.to_string(),
            "instance i-0123456789abcdef0 (111122223333, us-east-1)"
        );
    }
}
