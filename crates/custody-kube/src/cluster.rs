//! [`KubeCluster`]: the reads custody makes of a subject's cluster.
//!
//! Every list is paginated and every server-side selector is re-checked on the client: the
//! answer decides which pods a case touches, so a server that ignores a selector (an old
//! apiserver, a test emulator, a proxy) must not widen the case.

use std::collections::BTreeMap;

use custody_core::id::{
    InstanceId, Namespace, NodeName, PodName, ServiceAccountName, check_label_key,
    check_label_value, is_dns_subdomain,
};
use custody_core::inventory::instance_id_from_provider_id;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use kube::core::NamespaceResourceScope;
use serde::de::DeserializeOwned;
use tracing::instrument;

use crate::error::KubeError;

/// Page size for list calls: large enough that a typical namespace is one request, small enough
/// that a node with hundreds of pods does not make one huge answer.
pub const PAGE_SIZE: u32 = 250;

/// The Kubernetes API of one cluster, as custody uses it.
#[derive(Clone)]
pub struct KubeCluster {
    pub(crate) client: kube::Client,
}

impl std::fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeCluster").finish_non_exhaustive()
    }
}

/// Which pods to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodQuery {
    /// Pods carrying all of these labels (a workload's `matchLabels`).
    Labels(BTreeMap<String, String>),
    /// Pods running as this service account (`spec.serviceAccountName`).
    ServiceAccount(ServiceAccountName),
    /// Pods scheduled on this node (`spec.nodeName`).
    Node(NodeName),
}

/// The workload kinds whose pod selector custody can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
    /// apps/v1 DaemonSet.
    DaemonSet,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// batch/v1 Job.
    Job,
}

impl WorkloadKind {
    /// Parses a kind as GuardDuty writes it (`deployments`, `Deployment`, `statefulsets`, …).
    pub fn parse(kind: &str) -> Option<Self> {
        let lower = kind.trim().to_ascii_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        match singular {
            "deployment" => Some(Self::Deployment),
            "statefulset" => Some(Self::StatefulSet),
            "daemonset" => Some(Self::DaemonSet),
            "replicaset" => Some(Self::ReplicaSet),
            "job" => Some(Self::Job),
            _ => None,
        }
    }
}

pub(crate) fn pod_what(namespace: &Namespace, pod: &PodName) -> String {
    format!("pod {:?}/{:?}", namespace.as_str(), pod.as_str())
}

pub(crate) fn node_what(node: &NodeName) -> String {
    format!("node {:?}", node.as_str())
}

/// The EC2 instance behind a node, from `spec.providerID` (`aws:///<az>/<instance-id>`).
///
/// # Errors
/// [`KubeError::Unusable`] for a node without an EC2 provider id (Fargate, other clouds) or
/// with a malformed one.
pub fn instance_id_of(node: &Node) -> Result<InstanceId, KubeError> {
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let unusable = |reason: String| KubeError::Unusable {
        what: format!("node {name:?}"),
        reason,
    };
    let provider_id = node
        .spec
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .ok_or_else(|| {
            unusable("it has no spec.providerID (Fargate or not an EC2 node)".to_owned())
        })?;
    instance_id_from_provider_id(provider_id).map_err(|e| unusable(e.to_string()))
}

/// True if the pod matches the query (the client-side re-check of the server's selector).
fn pod_matches(pod: &Pod, query: &PodQuery) -> bool {
    let spec = pod.spec.as_ref();
    match query {
        PodQuery::Labels(wanted) => {
            let labels = pod.metadata.labels.as_ref();
            wanted
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        }
        PodQuery::ServiceAccount(sa) => {
            spec.and_then(|s| s.service_account_name.as_deref()) == Some(sa.as_str())
        }
        PodQuery::Node(node) => spec.and_then(|s| s.node_name.as_deref()) == Some(node.as_str()),
    }
}

/// A `labelSelector` for exactly these labels, refusing keys or values that would change the
/// selector's meaning.
pub(crate) fn label_selector(labels: &BTreeMap<String, String>) -> Result<String, KubeError> {
    let mut parts = Vec::with_capacity(labels.len());
    for (key, value) in labels {
        let invalid = |reason: &str| KubeError::InvalidInput {
            what: format!("label {key:?}={value:?}"),
            reason: reason.to_owned(),
        };
        check_label_key(key).map_err(invalid)?;
        check_label_value(value).map_err(invalid)?;
        parts.push(format!("{key}={value}"));
    }
    Ok(parts.join(","))
}

impl KubeCluster {
    /// Wraps a client (from [`crate::connect`], or any `kube::Client` in tests).
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }

    /// One pod, `None` if it does not exist.
    ///
    /// # Errors
    /// [`KubeError::Unusable`] if the server answered with a pod of another name or namespace
    /// (never acted on); [`KubeError`] for any failure but 404 NotFound.
    #[instrument(skip(self), fields(namespace = %namespace, pod = %name))]
    pub async fn get_pod(
        &self,
        namespace: &Namespace,
        name: &PodName,
    ) -> Result<Option<Pod>, KubeError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace.as_str());
        let pod = api
            .get_opt(name.as_str())
            .await
            .map_err(|e| KubeError::from_kube(pod_what(namespace, name), e))?;
        match pod {
            Some(pod)
                if pod.metadata.name.as_deref() != Some(name.as_str())
                    || pod.metadata.namespace.as_deref() != Some(namespace.as_str()) =>
            {
                Err(KubeError::Unusable {
                    what: pod_what(namespace, name),
                    reason: format!(
                        "the API server answered with pod {:?}/{:?}",
                        pod.metadata.namespace.as_deref().unwrap_or_default(),
                        pod.metadata.name.as_deref().unwrap_or_default()
                    ),
                })
            }
            pod => Ok(pod),
        }
    }

    /// Pods matching `query`, in `namespace` or (with `None`) in all namespaces.
    ///
    /// # Errors
    /// [`KubeError::InvalidInput`] for a label that is not a valid Kubernetes label, or the
    /// API's failure.
    #[instrument(skip(self))]
    pub async fn list_pods(
        &self,
        namespace: Option<&Namespace>,
        query: &PodQuery,
    ) -> Result<Vec<Pod>, KubeError> {
        let params = match query {
            PodQuery::Labels(labels) if labels.is_empty() => {
                return Err(KubeError::InvalidInput {
                    what: "pod label selector".to_owned(),
                    reason: "it is empty and would select every pod".to_owned(),
                });
            }
            PodQuery::Labels(labels) => ListParams::default().labels(&label_selector(labels)?),
            PodQuery::ServiceAccount(sa) => {
                ListParams::default().fields(&format!("spec.serviceAccountName={sa}"))
            }
            PodQuery::Node(node) => ListParams::default().fields(&format!("spec.nodeName={node}")),
        };
        let api: Api<Pod> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns.as_str()),
            None => Api::all(self.client.clone()),
        };
        let what = match namespace {
            Some(ns) => format!("pods in namespace {:?}", ns.as_str()),
            None => "pods in all namespaces".to_owned(),
        };
        let pods = list_all(&api, params, &what).await?;
        Ok(pods
            .into_iter()
            .filter(|p| pod_matches(p, query))
            .filter(|p| {
                namespace.is_none_or(|ns| p.metadata.namespace.as_deref() == Some(ns.as_str()))
            })
            .collect())
    }

    /// One node, `None` if it does not exist.
    ///
    /// # Errors
    /// [`KubeError`] for any failure but 404.
    #[instrument(skip(self), fields(node = %name))]
    pub async fn get_node(&self, name: &NodeName) -> Result<Option<Node>, KubeError> {
        let api: Api<Node> = Api::all(self.client.clone());
        api.get_opt(name.as_str())
            .await
            .map_err(|e| KubeError::from_kube(node_what(name), e))
    }

    /// The EC2 instance behind a node.
    ///
    /// # Errors
    /// [`KubeError::NotFound`] if the node does not exist, [`KubeError::Unusable`] if it is not
    /// an EC2 node, or the API's failure.
    pub async fn node_instance_id(&self, name: &NodeName) -> Result<InstanceId, KubeError> {
        let node = self
            .get_node(name)
            .await?
            .ok_or_else(|| KubeError::NotFound {
                what: node_what(name),
                reason: "NotFound".to_owned(),
                message: "no such node".to_owned(),
            })?;
        instance_id_of(&node)
    }

    /// A workload's pod selector (`spec.selector.matchLabels`), `None` if the workload does not
    /// exist.
    ///
    /// # Errors
    /// [`KubeError::InvalidInput`] for a name that is not a Kubernetes name;
    /// [`KubeError::Unusable`] when the selector uses `matchExpressions` or is empty (it cannot
    /// be turned into an exact list without selecting more pods than the workload's); or the
    /// API's failure.
    #[instrument(skip(self), fields(namespace = %namespace))]
    pub async fn workload_selector(
        &self,
        namespace: &Namespace,
        kind: WorkloadKind,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, KubeError> {
        let what = format!("{kind:?} {:?}/{name:?}", namespace.as_str());
        if !is_dns_subdomain(name) {
            return Err(KubeError::InvalidInput {
                what,
                reason: "a workload name is a lowercase DNS subdomain".to_owned(),
            });
        }
        let selector = match kind {
            WorkloadKind::Deployment => {
                self.selector_of::<Deployment>(namespace, name, &what, |d| {
                    d.spec.map(|s| s.selector)
                })
                .await?
            }
            WorkloadKind::StatefulSet => {
                self.selector_of::<StatefulSet>(namespace, name, &what, |d| {
                    d.spec.map(|s| s.selector)
                })
                .await?
            }
            WorkloadKind::DaemonSet => {
                self.selector_of::<DaemonSet>(namespace, name, &what, |d| {
                    d.spec.map(|s| s.selector)
                })
                .await?
            }
            WorkloadKind::ReplicaSet => {
                self.selector_of::<ReplicaSet>(namespace, name, &what, |d| {
                    d.spec.map(|s| s.selector)
                })
                .await?
            }
            WorkloadKind::Job => {
                self.selector_of::<Job>(namespace, name, &what, |d| d.spec.and_then(|s| s.selector))
                    .await?
            }
        };
        let Some(selector) = selector else {
            return Ok(None);
        };
        if selector
            .match_expressions
            .as_ref()
            .is_some_and(|e| !e.is_empty())
        {
            return Err(KubeError::Unusable {
                what,
                reason: "its selector uses matchExpressions; list its pods by label instead"
                    .to_owned(),
            });
        }
        match selector.match_labels {
            Some(labels) if !labels.is_empty() => Ok(Some(labels)),
            _ => Err(KubeError::Unusable {
                what,
                reason: "its selector is empty and would select every pod in the namespace"
                    .to_owned(),
            }),
        }
    }

    /// Gets a namespaced workload and extracts its selector; `Ok(None)` if it does not exist.
    async fn selector_of<K>(
        &self,
        namespace: &Namespace,
        name: &str,
        what: &str,
        selector: impl FnOnce(K) -> Option<LabelSelector>,
    ) -> Result<Option<LabelSelector>, KubeError>
    where
        K: kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace.as_str());
        let Some(object) = api
            .get_opt(name)
            .await
            .map_err(|e| KubeError::from_kube(what, e))?
        else {
            return Ok(None);
        };
        Ok(Some(selector(object).unwrap_or_default()))
    }
}

/// Every item of a paginated list.
pub(crate) async fn list_all<K>(
    api: &Api<K>,
    params: ListParams,
    what: &str,
) -> Result<Vec<K>, KubeError>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = params.limit(PAGE_SIZE);
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|e| KubeError::from_kube(what, e))?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}
