//! Who or what in a cluster a finding is about, from the Kubernetes details GuardDuty writes
//! (natively, or flattened into ASFF `Details.Other`).

use super::InputError;
use super::json::{Node, truncate};
use super::request::{Target, WorkloadType};
use crate::id::{
    AccountId, ClusterName, Namespace, NodeName, PodName, Region, ServiceAccountName,
    is_dns_subdomain,
};

/// The Kubernetes fields of a finding, each with its JSON path.
#[derive(Debug, Default)]
pub(crate) struct KubeDetails<'a> {
    /// `kubernetesWorkloadDetails.name`.
    pub workload_name: Option<Node<'a>>,
    /// `kubernetesWorkloadDetails.type`.
    pub workload_type: Option<Node<'a>>,
    /// `kubernetesWorkloadDetails.namespace`.
    pub workload_namespace: Option<Node<'a>>,
    /// `kubernetesUserDetails.username`.
    pub username: Option<Node<'a>>,
    /// Where the workload type would be, for the error when it is missing.
    pub type_path: String,
    /// Where the workload namespace would be, for the error when it is missing.
    pub namespace_path: String,
}

/// A string field that is absent, null or empty counts as absent (GuardDuty writes empty
/// workload details for API calls that touch no workload).
fn present<'a>(node: Option<Node<'a>>) -> Result<Option<Node<'a>>, InputError> {
    match node {
        Some(n) if n.str()?.is_empty() => Ok(None),
        other => Ok(other),
    }
}

impl KubeDetails<'_> {
    /// The target these details name, most specific first: the workload the activity touched,
    /// then the service account or node whose credentials made the call, then the bare cluster.
    ///
    /// The workload wins over the caller because it is what may be compromised: for
    /// `ExecInKubeSystemPod` the caller is whoever exec'd, the workload is where.
    pub(crate) fn target(
        self,
        account: AccountId,
        region: Region,
        cluster: ClusterName,
    ) -> Result<Target, InputError> {
        if let Some(name) = present(self.workload_name)? {
            let ty_node = present(self.workload_type)?.ok_or_else(|| InputError {
                path: self.type_path.clone(),
                reason: "is required when a workload name is given".to_owned(),
            })?;
            let ns_node = present(self.workload_namespace)?.ok_or_else(|| InputError {
                path: self.namespace_path.clone(),
                reason: "is required when a workload name is given".to_owned(),
            })?;
            let namespace = ns_node.id(Namespace::parse)?;
            let ty = ty_node.str()?;
            return match WorkloadType::parse(ty) {
                Some(WorkloadType::Pod) => Ok(Target::Pods {
                    account,
                    region,
                    cluster,
                    namespace,
                    pods: vec![name.id(PodName::parse)?],
                }),
                Some(WorkloadType::Kind(kind)) => {
                    let text = name.str()?;
                    if !is_dns_subdomain(text) {
                        return Err(name.error(format!(
                            "invalid workload name {:?}: must be an RFC 1123 subdomain (lowercase letters, digits, '-', '.'; at most 253)",
                            truncate(text)
                        )));
                    }
                    Ok(Target::Workload { account, region, cluster, namespace, kind, name: text.to_owned() })
                }
                None => Err(ty_node.error(format!(
                    "unknown workload type {:?} (expected pods, deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs or replicationcontrollers)",
                    truncate(ty)
                ))),
            };
        }
        if let Some(user) = present(self.username)? {
            let text = user.str()?;
            if let Some(rest) = text.strip_prefix("system:serviceaccount:") {
                let Some((ns, sa)) = rest.split_once(':') else {
                    return Err(user.error(format!(
                        "service account username {:?} must be system:serviceaccount:<namespace>:<name>",
                        truncate(text)
                    )));
                };
                let namespace = Namespace::parse(ns).map_err(|e| user.error(e.to_string()))?;
                let name = ServiceAccountName::parse(sa).map_err(|e| user.error(e.to_string()))?;
                return Ok(Target::ServiceAccount {
                    account,
                    region,
                    cluster,
                    namespace,
                    name,
                });
            }
            if let Some(node) = text.strip_prefix("system:node:") {
                let node = NodeName::parse(node).map_err(|e| user.error(e.to_string()))?;
                return Ok(Target::Node {
                    account,
                    region,
                    cluster,
                    node,
                });
            }
        }
        Ok(Target::Cluster {
            account,
            region,
            cluster,
        })
    }
}
