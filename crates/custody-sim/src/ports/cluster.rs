//! [`ClusterConnector`] and [`Cluster`] over the world's EKS clusters.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{AccountId, Arn, CaseId, ClusterName, Namespace, NodeName, PodName, Region};
use custody_core::inventory::{NodeFacts, PodFacts};
use custody_steps::capability::Capability;
use custody_steps::ports::ops::cluster as ops;
use custody_steps::ports::{Cluster, ClusterConnector, ClusterInfo, PodSelector};

use super::SimAccount;
use super::cluster_rules::{
    check_label, check_name, check_selector, unsupported_kind, workload_kind,
};
use super::facts;
use crate::errs;
use crate::model::{EksCluster, NetworkPolicy};
use crate::relations::{cluster_resource, node_resource, pod_resource, policy_resource};
use crate::world::{Ctx, World};

/// The Kubernetes API of one simulated cluster, as the responder.
#[derive(Clone, Debug)]
pub struct SimCluster {
    world: World,
    account: AccountId,
    region: Region,
    cluster: ClusterName,
}

fn cluster_arn(region: &Region, account: &AccountId, name: &ClusterName) -> Result<Arn, StepError> {
    Arn::parse(&format!("arn:aws:eks:{region}:{account}:cluster/{name}"))
        .map_err(|e| errs::invalid("InvalidParameterException", e.to_string()))
}

impl SimCluster {
    fn call<T>(
        &self,
        capability: &'static Capability,
        resource: String,
        body: impl FnOnce(&mut EksCluster, &Ctx<'_>) -> Result<T, StepError>,
    ) -> Result<T, StepError> {
        let name = self.cluster.clone();
        self.world.call(
            &self.account,
            &self.region,
            capability,
            vec![resource],
            |cx| {
                let a = cx.acct()?;
                let mut c = a
                    .clusters
                    .iter()
                    .find(|c| c.name == name)
                    .cloned()
                    .ok_or_else(|| {
                        errs::not_found("NotFound", format!("cluster {name} no longer exists"))
                    })?;
                if !c.responder_has_access {
                    return Err(errs::denied(
                        "Forbidden",
                        format!("the responder has no access entry in cluster {name}"),
                    ));
                }
                let out = body(&mut c, cx)?;
                if let Some(slot) = cx.acct()?.clusters.iter_mut().find(|x| x.name == name) {
                    *slot = c;
                }
                Ok(out)
            },
        )
    }

    fn pod_res(&self, ns: &Namespace, pod: &PodName) -> String {
        pod_resource(self.cluster.as_str(), ns.as_str(), pod.as_str())
    }
}

#[async_trait]
impl ClusterConnector for SimAccount {
    async fn connect(
        &self,
        account: &AccountId,
        region: &Region,
        cluster: &ClusterName,
        case: &CaseId,
    ) -> Result<(ClusterInfo, Arc<dyn Cluster>), StepError> {
        let info = self.call(
            &ops::CONNECT,
            vec![cluster_resource(cluster.as_str())],
            |cx| {
                if account != &cx.account || region != &cx.region {
                    return Err(errs::denied(
                        "AccessDenied",
                        format!(
                            "ports of {} ({}) cannot reach account {account} ({region})",
                            cx.account, cx.region
                        ),
                    ));
                }
                let (acct, reg) = (cx.account.clone(), cx.region.clone());
                let c = cx
                    .acct()?
                    .clusters
                    .iter()
                    .find(|c| &c.name == cluster)
                    .ok_or_else(|| {
                        errs::not_found(
                            "ResourceNotFoundException",
                            format!("no cluster found for name: {cluster}"),
                        )
                    })?;
                Ok(ClusterInfo {
                    name: c.name.clone(),
                    arn: cluster_arn(&reg, &acct, &c.name)?,
                    tags: c.tags.clone(),
                })
            },
        )?;
        tracing::debug!(case = %case, cluster = %cluster, "connected to simulated cluster");
        let api = SimCluster {
            world: self.world.clone(),
            account: self.account.clone(),
            region: self.region.clone(),
            cluster: cluster.clone(),
        };
        Ok((info, Arc::new(api)))
    }
}

#[async_trait]
impl Cluster for SimCluster {
    async fn get_pod(
        &self,
        namespace: &Namespace,
        name: &PodName,
    ) -> Result<Option<PodFacts>, StepError> {
        self.call(&ops::GET_POD, self.pod_res(namespace, name), |c, _| {
            Ok(c.pods
                .iter()
                .find(|p| &p.namespace == namespace && &p.name == name)
                .map(facts::pod_facts))
        })
    }

    async fn list_pods(
        &self,
        namespace: Option<&Namespace>,
        selector: &PodSelector,
    ) -> Result<Vec<PodFacts>, StepError> {
        let res = match namespace {
            Some(ns) => format!("{}/pods/{ns}", cluster_resource(self.cluster.as_str())),
            None => format!("{}/pods", cluster_resource(self.cluster.as_str())),
        };
        self.call(&ops::LIST_PODS, res, |c, _| {
            if let PodSelector::Labels(labels) = selector {
                check_selector(labels)?;
            }
            Ok(c.pods
                .iter()
                .filter(|p| namespace.is_none_or(|ns| &p.namespace == ns))
                .filter(|p| match selector {
                    PodSelector::Labels(l) => p.matches(l),
                    PodSelector::ServiceAccount(sa) => &p.service_account == sa,
                    PodSelector::Node(n) => &p.node == n,
                })
                .map(facts::pod_facts)
                .collect())
        })
    }

    async fn workload_selector(
        &self,
        namespace: &Namespace,
        kind: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, StepError> {
        let res = format!(
            "{}/{}/{namespace}/{name}",
            cluster_resource(self.cluster.as_str()),
            kind.to_ascii_lowercase()
        );
        self.call(&ops::WORKLOAD_SELECTOR, res, |c, _| {
            let canonical = workload_kind(kind).ok_or_else(|| unsupported_kind(kind))?;
            check_name(canonical, name)?;
            let Some(workload) = c.workloads.iter().find(|w| {
                &w.namespace == namespace
                    && workload_kind(&w.kind) == Some(canonical)
                    && w.name == name
            }) else {
                return Ok(None);
            };
            if workload.selector.is_empty() {
                return Err(errs::unsupported(
                    "EmptySelector",
                    format!(
                        "{canonical} {:?}/{name:?}: its selector is empty and would select every pod in the namespace",
                        namespace.as_str()
                    ),
                ));
            }
            Ok(Some(workload.selector.clone()))
        })
    }

    async fn get_node(&self, name: &NodeName) -> Result<Option<NodeFacts>, StepError> {
        self.call(
            &ops::GET_NODE,
            node_resource(self.cluster.as_str(), name.as_str()),
            |c, _| {
                Ok(c.nodes
                    .iter()
                    .find(|n| &n.name == name)
                    .map(facts::node_facts))
            },
        )
    }

    async fn label_pod(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
    ) -> Result<Option<String>, StepError> {
        self.call(&ops::LABEL_POD, self.pod_res(namespace, pod), |c, _| {
            check_label(key, value)?;
            let p = c
                .pods
                .iter_mut()
                .find(|p| &p.namespace == namespace && &p.name == pod)
                .ok_or_else(|| {
                    errs::not_found("NotFound", format!("pods {:?} not found", pod.as_str()))
                })?;
            Ok(p.labels.insert(key.to_string(), value.to_string()))
        })
    }

    async fn restore_pod_label(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
        prior: Option<&str>,
    ) -> Result<(), StepError> {
        self.call(
            &ops::RESTORE_POD_LABEL,
            self.pod_res(namespace, pod),
            |c, _| {
                check_label(key, value)?;
                // A prior equal to custody's own value (the case id) was read back after
                // custody's own change by a retried step: nothing was there before, so the
                // label goes.
                let prior = prior.filter(|p| *p != value);
                if let Some(prior) = prior {
                    check_label(key, prior)?;
                }
                let Some(p) = c
                    .pods
                    .iter_mut()
                    .find(|p| &p.namespace == namespace && &p.name == pod)
                else {
                    return Ok(());
                };
                if p.labels.get(key).map(String::as_str) == Some(value) {
                    match prior {
                        Some(v) => {
                            p.labels.insert(key.to_string(), v.to_string());
                        }
                        None => {
                            p.labels.remove(key);
                        }
                    }
                }
                Ok(())
            },
        )
    }

    async fn ensure_deny_all_policy(
        &self,
        namespace: &Namespace,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<bool, StepError> {
        let res = policy_resource(self.cluster.as_str(), namespace.as_str(), name);
        self.call(&ops::ENSURE_DENY_ALL_POLICY, res, |c, _| {
            check_name("NetworkPolicy", name)?;
            check_label(key, value)?;
            let wanted = NetworkPolicy {
                namespace: namespace.clone(),
                name: name.to_string(),
                pod_selector: BTreeMap::from([(key.to_string(), value.to_string())]),
                policy_types: vec!["Ingress".into(), "Egress".into()],
                ingress_rules: 0,
                egress_rules: 0,
                labels: BTreeMap::from([("app.kubernetes.io/managed-by".to_string(), "custody".to_string())]),
            };
            if let Some(existing) = c.network_policies.iter().find(|p| &p.namespace == namespace && p.name == name) {
                let same = existing.pod_selector == wanted.pod_selector
                    && existing.ingress_rules == 0
                    && existing.egress_rules == 0
                    && existing.policy_types.iter().any(|t| t == "Ingress")
                    && existing.policy_types.iter().any(|t| t == "Egress");
                return if same {
                    Ok(false)
                } else {
                    Err(errs::conflict(
                        "AlreadyExists",
                        format!("networkpolicies {name:?} already exists in {namespace} and is not custody's deny-all policy"),
                    ))
                };
            }
            c.network_policies.push(wanted);
            Ok(true)
        })
    }

    async fn allowing_policies(
        &self,
        namespace: &Namespace,
        pod_labels: &BTreeMap<String, String>,
        except: &str,
    ) -> Result<Vec<String>, StepError> {
        let res = format!(
            "{}/networkpolicies/{namespace}",
            cluster_resource(self.cluster.as_str())
        );
        self.call(&ops::ALLOWING_POLICIES, res, |c, _| {
            Ok(c.network_policies
                .iter()
                .filter(|p| &p.namespace == namespace && p.name != except)
                .filter(|p| p.selects(pod_labels) && p.allows_traffic())
                .map(|p| p.name.clone())
                .collect())
        })
    }

    async fn delete_policy(&self, namespace: &Namespace, name: &str) -> Result<(), StepError> {
        let res = policy_resource(self.cluster.as_str(), namespace.as_str(), name);
        self.call(&ops::DELETE_POLICY, res, |c, _| {
            check_name("NetworkPolicy", name)?;
            c.network_policies
                .retain(|p| !(&p.namespace == namespace && p.name == name));
            Ok(())
        })
    }

    async fn set_unschedulable(
        &self,
        node: &NodeName,
        unschedulable: bool,
    ) -> Result<bool, StepError> {
        self.call(
            &ops::SET_UNSCHEDULABLE,
            node_resource(self.cluster.as_str(), node.as_str()),
            |c, _| {
                let n = c
                    .nodes
                    .iter_mut()
                    .find(|n| &n.name == node)
                    .ok_or_else(|| {
                        errs::not_found("NotFound", format!("nodes {:?} not found", node.as_str()))
                    })?;
                Ok(std::mem::replace(&mut n.unschedulable, unschedulable))
            },
        )
    }
}
