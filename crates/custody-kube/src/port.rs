//! [`KubeCluster`] as the steps' [`Cluster`] port: Kubernetes objects become custody-core facts
//! and [`KubeError`]s become step errors.

use std::collections::BTreeMap;

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{ContainerId, Namespace, NodeName, PodName, ServiceAccountName};
use custody_core::inventory::{NodeFacts, PodFacts};
use custody_steps::ports::{Cluster, PodSelector};
use k8s_openapi::api::core::v1::{Node, Pod};

use crate::cluster::{KubeCluster, PodQuery, WorkloadKind, instance_id_of};
use crate::error::KubeError;

/// A pod's facts. Names come from the cluster and are validated like any untrusted input; a
/// container id the runtime reports in a form custody cannot use is left out (logged), since
/// one odd sidecar must not hide the whole pod from the case.
///
/// # Errors
/// [`KubeError::Unusable`] for a pod without a valid namespace or name.
pub fn pod_facts(pod: &Pod) -> Result<PodFacts, KubeError> {
    let raw_ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let raw_name = pod.metadata.name.as_deref().unwrap_or_default();
    let unusable = |reason: String| KubeError::Unusable {
        what: format!("pod {raw_ns:?}/{raw_name:?}"),
        reason,
    };
    let namespace = Namespace::parse(raw_ns).map_err(|e| unusable(e.to_string()))?;
    let name = PodName::parse(raw_name).map_err(|e| unusable(e.to_string()))?;
    let spec = pod.spec.as_ref();
    let node = spec
        .and_then(|s| s.node_name.as_deref())
        .map(NodeName::parse)
        .transpose()
        .map_err(|e| unusable(e.to_string()))?;
    let service_account = spec
        .and_then(|s| s.service_account_name.as_deref())
        .map(ServiceAccountName::parse)
        .transpose()
        .map_err(|e| unusable(e.to_string()))?;
    let status = pod.status.as_ref();
    // Ephemeral (debug) containers are included: an attacker's `kubectl debug` shell is exactly
    // what the memory and pod-to-PID evidence should cover.
    let container_ids = status
        .into_iter()
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.ephemeral_container_statuses.iter().flatten())
        })
        .filter_map(|c| c.container_id.as_deref())
        .filter_map(|uri| match ContainerId::from_runtime_uri(uri) {
            Ok(id) => Some(id),
            Err(err) => {
                tracing::warn!(pod = %name, error = %err, "container id left out");
                None
            }
        })
        .collect();
    Ok(PodFacts {
        namespace,
        name,
        uid: pod.metadata.uid.clone(),
        node,
        service_account,
        labels: pod.metadata.labels.clone().unwrap_or_default(),
        container_ids,
    })
}

/// A node's facts; `instance_id` is `None` for a node that is not an EC2 instance (Fargate).
///
/// # Errors
/// [`KubeError::Unusable`] for a node without a valid name.
pub fn node_facts(node: &Node) -> Result<NodeFacts, KubeError> {
    let raw = node.metadata.name.as_deref().unwrap_or_default();
    let name = NodeName::parse(raw).map_err(|e| KubeError::Unusable {
        what: format!("node {raw:?}"),
        reason: e.to_string(),
    })?;
    let instance_id = match instance_id_of(node) {
        Ok(id) => Some(id),
        Err(err) => {
            tracing::info!(node = %name, error = %err, "node has no EC2 instance");
            None
        }
    };
    Ok(NodeFacts {
        name,
        instance_id,
        labels: node.metadata.labels.clone().unwrap_or_default(),
        unschedulable: node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false),
    })
}

/// Pods whose facts could be made; the others are logged and left out, so one pod with a name
/// custody refuses cannot hide its neighbours.
fn facts_of(pods: &[Pod]) -> Vec<PodFacts> {
    pods.iter()
        .filter_map(|p| match pod_facts(p) {
            Ok(facts) => Some(facts),
            Err(err) => {
                tracing::warn!(error = %err, "pod left out");
                None
            }
        })
        .collect()
}

#[async_trait]
impl Cluster for KubeCluster {
    async fn get_pod(
        &self,
        namespace: &Namespace,
        name: &PodName,
    ) -> Result<Option<PodFacts>, StepError> {
        match KubeCluster::get_pod(self, namespace, name).await? {
            Some(pod) => Ok(Some(pod_facts(&pod)?)),
            None => Ok(None),
        }
    }

    async fn list_pods(
        &self,
        namespace: Option<&Namespace>,
        selector: &PodSelector,
    ) -> Result<Vec<PodFacts>, StepError> {
        let query = match selector {
            PodSelector::Labels(labels) => PodQuery::Labels(labels.clone()),
            PodSelector::ServiceAccount(sa) => PodQuery::ServiceAccount(sa.clone()),
            PodSelector::Node(node) => PodQuery::Node(node.clone()),
        };
        let pods = KubeCluster::list_pods(self, namespace, &query).await?;
        Ok(facts_of(&pods))
    }

    async fn workload_selector(
        &self,
        namespace: &Namespace,
        kind: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, StepError> {
        let Some(kind_parsed) = WorkloadKind::parse(kind) else {
            return Err(StepError::unsupported(format!(
                "workload kind {kind:?} has no pod selector custody can read (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job)"
            )));
        };
        Ok(KubeCluster::workload_selector(self, namespace, kind_parsed, name).await?)
    }

    async fn get_node(&self, name: &NodeName) -> Result<Option<NodeFacts>, StepError> {
        match KubeCluster::get_node(self, name).await? {
            Some(node) => Ok(Some(node_facts(&node)?)),
            None => Ok(None),
        }
    }

    async fn label_pod(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
    ) -> Result<Option<String>, StepError> {
        Ok(KubeCluster::label_pod(self, namespace, pod, key, value)
            .await?
            .replaced)
    }

    async fn restore_pod_label(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
        prior: Option<&str>,
    ) -> Result<(), StepError> {
        let outcome = self.unlabel_pod(namespace, pod, key, value, prior).await?;
        tracing::info!(namespace = %namespace, pod = %pod, ?outcome, "quarantine label released");
        Ok(())
    }

    async fn ensure_deny_all_policy(
        &self,
        namespace: &Namespace,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<bool, StepError> {
        let outcome =
            KubeCluster::ensure_deny_all_policy(self, namespace, name, key, value).await?;
        Ok(outcome == crate::PolicyOutcome::Created)
    }

    async fn allowing_policies(
        &self,
        namespace: &Namespace,
        pod_labels: &BTreeMap<String, String>,
        except: &str,
    ) -> Result<Vec<String>, StepError> {
        let allowing = KubeCluster::allowing_policies(self, namespace, pod_labels, except).await?;
        Ok(allowing.into_iter().map(|a| a.name).collect())
    }

    async fn delete_policy(&self, namespace: &Namespace, name: &str) -> Result<(), StepError> {
        KubeCluster::delete_policy(self, namespace, name).await?;
        Ok(())
    }

    async fn set_unschedulable(
        &self,
        node: &NodeName,
        unschedulable: bool,
    ) -> Result<bool, StepError> {
        Ok(KubeCluster::set_unschedulable(self, node, unschedulable).await?)
    }
}
