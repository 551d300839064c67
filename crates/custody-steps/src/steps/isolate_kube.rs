//! Kubernetes containment: quarantine label, deny-all NetworkPolicy, cordon.

use std::collections::BTreeSet;

use custody_core::case::{ActionKind, PriorState};
use custody_core::id::{CaseId, Namespace, NodeName};
use custody_core::inventory::PodFacts;

use crate::name::StepName;
use crate::ports::{Cluster, Environment};
use crate::support::actions::{self, ActionLog, Planned};

/// The NetworkPolicy name for a case: lower-case (Kubernetes names are RFC 1123) and derived
/// from the case id, so a retry finds the same policy and release deletes exactly it.
pub(crate) fn policy_name(case: &CaseId) -> String {
    format!("custody-deny-all-{}", case.as_str().to_ascii_lowercase())
}

/// Kubernetes containment for one case.
pub(crate) struct KubeIsolation<'a> {
    /// Where the step runs.
    pub env: &'a dyn Environment,
    /// The cluster's API.
    pub api: &'a dyn Cluster,
    /// The case.
    pub case: &'a CaseId,
    /// The step applying the actions.
    pub step: StepName,
    /// The actions the plan lists for this target.
    pub actions: &'a [ActionKind],
}

impl KubeIsolation<'_> {
    fn planned(&self, id: String, kind: ActionKind, target: String, detail: String) -> Planned<'_> {
        Planned {
            id,
            kind,
            target,
            detail: Some(detail),
            step: self.step,
            case: self.case,
        }
    }

    /// Labels each pod, then ensures one deny-all policy per namespace, and names the policies
    /// that still allow traffic to the pods.
    pub(crate) async fn contain_pods(
        &self,
        pods: &[PodFacts],
        log: &mut ActionLog,
        notes: &mut Vec<String>,
    ) {
        let key = self.env.settings().quarantine_label.clone();
        let value = self.case.to_string();
        if !self.actions.contains(&ActionKind::LabelPod) {
            return;
        }
        for pod in pods {
            let (ns, name) = (pod.namespace.clone(), pod.name.clone());
            let planned = self.planned(
                format!("label/{ns}/{name}"),
                ActionKind::LabelPod,
                format!("pod {ns}/{name}"),
                format!("label {key}={value}"),
            );
            let (k1, k2) = (key.clone(), key.clone());
            let (ns1, name1) = (ns.clone(), name.clone());
            actions::apply(
                self.env,
                log,
                planned,
                async || {
                    let current = self.api.get_pod(&ns1, &name1).await?;
                    let prior = current.and_then(|p| p.labels.get(&k1).cloned());
                    Ok(PriorState::PodLabel {
                        namespace: ns1.clone(),
                        pod: name1.clone(),
                        key: k1.clone(),
                        prior,
                    })
                },
                async |_| {
                    self.api
                        .label_pod(&ns, &name, &k2, &value)
                        .await
                        .map(|_| ())
                },
            )
            .await;
        }
        if !self.actions.contains(&ActionKind::DenyAllNetworkPolicy) {
            return;
        }
        let namespaces: BTreeSet<&Namespace> = pods.iter().map(|p| &p.namespace).collect();
        let policy = policy_name(self.case);
        for ns in namespaces {
            let planned = self.planned(
                format!("netpol/{ns}/{policy}"),
                ActionKind::DenyAllNetworkPolicy,
                format!("namespace {ns}"),
                format!("NetworkPolicy {policy} denying all ingress and egress of pods labelled {key}={value}"),
            );
            actions::apply(
                self.env,
                log,
                planned,
                async || {
                    Ok(PriorState::NetworkPolicyAbsent {
                        namespace: ns.clone(),
                        name: policy.clone(),
                    })
                },
                async |_| {
                    self.api
                        .ensure_deny_all_policy(ns, &policy, &key, &value)
                        .await
                        .map(|_| ())
                },
            )
            .await;
            for pod in pods.iter().filter(|p| &p.namespace == ns) {
                let mut labels = pod.labels.clone();
                labels.insert(key.clone(), value.clone());
                match self.api.allowing_policies(ns, &labels, &policy).await {
                    Ok(allowing) if !allowing.is_empty() => notes.push(format!(
                        "pod {ns}/{} is still selected by NetworkPolicies that allow traffic ({}); policies are additive",
                        pod.name,
                        allowing.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
                    )),
                    Ok(_) => {}
                    Err(err) => notes.push(format!(
                        "could not list the NetworkPolicies selecting pod {ns}/{}: {}",
                        pod.name, err.cause
                    )),
                }
            }
        }
    }

    /// Cordons the node (new pods cannot be scheduled onto the compromised machine).
    pub(crate) async fn cordon(&self, node: &NodeName, log: &mut ActionLog) {
        let planned = self.planned(
            format!("cordon/{node}"),
            ActionKind::CordonNode,
            format!("node {node}"),
            "spec.unschedulable=true".to_owned(),
        );
        actions::apply(
            self.env,
            log,
            planned,
            async || {
                let current = self.api.get_node(node).await?;
                let prior = current.is_some_and(|n| n.unschedulable);
                Ok(PriorState::Unschedulable {
                    node: node.clone(),
                    prior,
                })
            },
            async |_| self.api.set_unschedulable(node, true).await.map(|_| ()),
        )
        .await;
    }
}
