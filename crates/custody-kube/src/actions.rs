//! The containment actions on a cluster and their inverses for release.
//!
//! Each action reads the state it is about to replace, changes it, and returns that prior
//! state so the case can record it and release can restore it exactly. Each is idempotent: run
//! twice, it changes nothing the second time and reports the same prior state.

use std::collections::BTreeMap;

use custody_core::id::{
    CaseId, Namespace, NodeName, PodName, check_label_key, check_label_value, is_dns_subdomain,
};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::instrument;

use crate::cluster::{KubeCluster, list_all, node_what, pod_what};
use crate::error::KubeError;
use crate::policy::{self, AllowingPolicy};

/// How many times a label change is retried when the pod changes between read and write
/// (409 on the `resourceVersion` precondition).
const LABEL_ATTEMPTS: usize = 3;

/// The deny-all NetworkPolicy's name for a case: lowercase (Kubernetes names are RFC 1123)
/// and derived from the case id, so a retry finds the same policy and release deletes exactly
/// it.
pub fn deny_all_policy_name(case: &CaseId) -> String {
    format!("custody-deny-all-{}", case.as_str().to_ascii_lowercase())
}

/// What [`KubeCluster::label_pod`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelChange {
    /// Every label the pod had before (the case records them).
    pub prior_labels: BTreeMap<String, String>,
    /// The value the key had before, if any.
    pub replaced: Option<String>,
    /// False if the pod already carried `key=value` and nothing was written.
    pub changed: bool,
}

/// What [`KubeCluster::unlabel_pod`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum UnlabelOutcome {
    /// The label was removed (it had no prior value).
    Removed,
    /// The label was set back to its prior value.
    Restored,
    /// The label no longer carries this case's value (someone changed it, or another case
    /// owns it now): left alone.
    NotOurs {
        /// What it carries now.
        current: Option<String>,
    },
    /// The pod is gone: nothing to undo.
    PodGone,
}

/// What [`KubeCluster::ensure_deny_all_policy`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyOutcome {
    /// It created the policy.
    Created,
    /// The policy was already there with exactly the deny-all spec.
    AlreadyPresent,
}

fn patch_pod_labels(resource_version: Option<&str>, key: &str, value: Value) -> Value {
    let mut metadata = json!({ "labels": { key: value } });
    // With the resourceVersion the write fails (409) if the pod changed since we read the
    // labels we record as prior: the record is then never wrong.
    if let (Some(rv), Some(map)) = (resource_version, metadata.as_object_mut()) {
        map.insert("resourceVersion".to_owned(), Value::String(rv.to_owned()));
    }
    json!({ "metadata": metadata })
}

fn check_label(key: &str, value: &str) -> Result<(), KubeError> {
    let invalid = |reason: &str| KubeError::InvalidInput {
        what: format!("label {key:?}={value:?}"),
        reason: reason.to_owned(),
    };
    check_label_key(key).map_err(invalid)?;
    check_label_value(value).map_err(invalid)
}

fn check_policy_name(name: &str) -> Result<(), KubeError> {
    if is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(KubeError::InvalidInput {
            what: format!("NetworkPolicy name {name:?}"),
            reason: "a NetworkPolicy name is a lowercase DNS subdomain".to_owned(),
        })
    }
}

impl KubeCluster {
    /// Sets label `key=value` on a pod (JSON merge patch, guarded by the pod's
    /// `resourceVersion`) and returns the labels it had before.
    ///
    /// # Idempotency
    /// A pod already carrying `key=value` is not written; `changed` is then false.
    ///
    /// # Errors
    /// [`KubeError::NotFound`] if the pod does not exist; [`KubeError::Conflict`] if it kept
    /// changing under us for [`LABEL_ATTEMPTS`] tries; [`KubeError::InvalidInput`] for a
    /// malformed label; or the API's failure.
    #[instrument(skip(self), fields(namespace = %namespace, pod = %pod))]
    pub async fn label_pod(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
    ) -> Result<LabelChange, KubeError> {
        check_label(key, value)?;
        let what = pod_what(namespace, pod);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace.as_str());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current =
                self.get_pod(namespace, pod)
                    .await?
                    .ok_or_else(|| KubeError::NotFound {
                        what: what.clone(),
                        reason: "NotFound".to_owned(),
                        message: "no such pod".to_owned(),
                    })?;
            let prior_labels = current.metadata.labels.clone().unwrap_or_default();
            let replaced = prior_labels.get(key).cloned();
            if replaced.as_deref() == Some(value) {
                return Ok(LabelChange {
                    prior_labels,
                    replaced,
                    changed: false,
                });
            }
            let patch = patch_pod_labels(
                current.metadata.resource_version.as_deref(),
                key,
                Value::String(value.to_owned()),
            );
            match api
                .patch(pod.as_str(), &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    return Ok(LabelChange {
                        prior_labels,
                        replaced,
                        changed: true,
                    });
                }
                Err(err) => match KubeError::from_kube(what.clone(), err) {
                    KubeError::Conflict { .. } if attempt < LABEL_ATTEMPTS => {
                        tracing::debug!(attempt, "pod changed between read and write; re-reading");
                    }
                    err => return Err(err),
                },
            }
        }
    }

    /// Undoes [`KubeCluster::label_pod`]: if the pod still carries `key=value`, removes the
    /// label, or sets it back to `prior` when there was one.
    ///
    /// # Idempotency
    /// A pod that no longer carries `key=value` (already released, relabelled by someone else)
    /// or no longer exists is left alone and reported as such.
    ///
    /// # Errors
    /// [`KubeError::InvalidInput`] for a malformed label, [`KubeError::Conflict`] if the pod
    /// kept changing, or the API's failure.
    #[instrument(skip(self), fields(namespace = %namespace, pod = %pod))]
    pub async fn unlabel_pod(
        &self,
        namespace: &Namespace,
        pod: &PodName,
        key: &str,
        value: &str,
        prior: Option<&str>,
    ) -> Result<UnlabelOutcome, KubeError> {
        check_label(key, value)?;
        // A "prior" equal to our own value was recorded by a retried label step: there was
        // nothing before us to restore.
        let prior = prior.filter(|p| *p != value);
        if let Some(prior) = prior {
            check_label(key, prior)?;
        }
        let what = pod_what(namespace, pod);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace.as_str());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(current) = self.get_pod(namespace, pod).await? else {
                return Ok(UnlabelOutcome::PodGone);
            };
            let now = current
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(key))
                .cloned();
            if now.as_deref() != Some(value) {
                return Ok(UnlabelOutcome::NotOurs { current: now });
            }
            let new_value = prior.map_or(Value::Null, |p| Value::String(p.to_owned()));
            let patch =
                patch_pod_labels(current.metadata.resource_version.as_deref(), key, new_value);
            match api
                .patch(pod.as_str(), &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) if prior.is_some() => return Ok(UnlabelOutcome::Restored),
                Ok(_) => return Ok(UnlabelOutcome::Removed),
                Err(err) => match KubeError::from_kube(what.clone(), err) {
                    KubeError::Conflict { .. } if attempt < LABEL_ATTEMPTS => {}
                    KubeError::NotFound { .. } => return Ok(UnlabelOutcome::PodGone),
                    err => return Err(err),
                },
            }
        }
    }

    /// Ensures a NetworkPolicy `name` in `namespace` that selects exactly the pods labelled
    /// `key=value` and allows no ingress and no egress.
    ///
    /// # Idempotency
    /// The name is deterministic per case ([`deny_all_policy_name`]). A create answered with
    /// 409 AlreadyExists reads the existing policy: the same spec is success
    /// ([`PolicyOutcome::AlreadyPresent`]); a different spec is never overwritten.
    ///
    /// # Caveats
    /// Policies are additive: other policies selecting the pod may still allow traffic (see
    /// [`KubeCluster::allowing_policies`]). And a policy is only enforced if the cluster's CNI
    /// enforces NetworkPolicies (VPC CNI with network policy enabled, Calico, Cilium).
    ///
    /// # Errors
    /// [`KubeError::Conflict`] if a policy of that name exists with another spec;
    /// [`KubeError::InvalidInput`] for a malformed name or label; or the API's failure.
    #[instrument(skip(self), fields(namespace = %namespace, policy = %name, case = %value))]
    pub async fn ensure_deny_all_policy(
        &self,
        namespace: &Namespace,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<PolicyOutcome, KubeError> {
        check_policy_name(name)?;
        check_label(key, value)?;
        let what = format!("NetworkPolicy {:?}/{name:?}", namespace.as_str());
        let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace.as_str());
        let desired = policy::deny_all_policy(namespace.as_str(), name, key, value);
        // Two rounds: a policy deleted between our 409 and our read is created again.
        for _ in 0..2 {
            match api.create(&PostParams::default(), &desired).await {
                Ok(_) => return Ok(PolicyOutcome::Created),
                Err(err) => match KubeError::from_kube(what.clone(), err) {
                    KubeError::Conflict { .. } => {}
                    err => return Err(err),
                },
            }
            let existing = api
                .get_opt(name)
                .await
                .map_err(|e| KubeError::from_kube(what.clone(), e))?;
            match existing {
                Some(existing) if policy::is_deny_all_for(&existing, key, value) => {
                    return Ok(PolicyOutcome::AlreadyPresent);
                }
                Some(_) => {
                    return Err(KubeError::Conflict {
                        what,
                        reason: "AlreadyExists".to_owned(),
                        message: format!(
                            "it exists with a spec other than deny-all for {key}={value}; custody does not overwrite it"
                        ),
                    });
                }
                None => {}
            }
        }
        Err(KubeError::Conflict {
            what,
            reason: "Conflict".to_owned(),
            message: "it was deleted and re-created concurrently; try again".to_owned(),
        })
    }

    /// OTHER NetworkPolicies in the namespace (all but `except`) that select a pod with
    /// `pod_labels` and allow it some traffic: while they exist, the deny-all policy does not
    /// isolate the pod in those directions.
    ///
    /// # Errors
    /// The API's failure.
    #[instrument(skip(self, pod_labels), fields(namespace = %namespace))]
    pub async fn allowing_policies(
        &self,
        namespace: &Namespace,
        pod_labels: &BTreeMap<String, String>,
        except: &str,
    ) -> Result<Vec<AllowingPolicy>, KubeError> {
        let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace.as_str());
        let what = format!("NetworkPolicies in namespace {:?}", namespace.as_str());
        let policies = list_all(&api, ListParams::default(), &what).await?;
        Ok(policies
            .iter()
            .filter(|p| p.metadata.name.as_deref() != Some(except))
            .filter_map(|p| policy::allowed_directions(p, pod_labels))
            .collect())
    }

    /// Deletes a NetworkPolicy; returns false if it was already gone.
    ///
    /// # Idempotency
    /// 404 is success.
    ///
    /// # Errors
    /// [`KubeError::InvalidInput`] for a malformed name, or the API's failure.
    #[instrument(skip(self), fields(namespace = %namespace, policy = %name))]
    pub async fn delete_policy(
        &self,
        namespace: &Namespace,
        name: &str,
    ) -> Result<bool, KubeError> {
        check_policy_name(name)?;
        let what = format!("NetworkPolicy {:?}/{name:?}", namespace.as_str());
        let api: Api<NetworkPolicy> = Api::namespaced(self.client.clone(), namespace.as_str());
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(true),
            Err(err) => match KubeError::from_kube(what, err) {
                KubeError::NotFound { .. } => Ok(false),
                err => Err(err),
            },
        }
    }

    /// Sets a node's `spec.unschedulable` (cordon with `true`, restore with the recorded prior)
    /// and returns the value it replaced.
    ///
    /// # Idempotency
    /// A node already in the wanted state is not written.
    ///
    /// # Caveats
    /// Cordoning stops new pods landing on the node; it does not evict the pods running there
    /// (which are evidence).
    ///
    /// # Errors
    /// [`KubeError::NotFound`] if the node does not exist, or the API's failure.
    #[instrument(skip(self), fields(node = %node))]
    pub async fn set_unschedulable(
        &self,
        node: &NodeName,
        unschedulable: bool,
    ) -> Result<bool, KubeError> {
        let what = node_what(node);
        let current = self
            .get_node(node)
            .await?
            .ok_or_else(|| KubeError::NotFound {
                what: what.clone(),
                reason: "NotFound".to_owned(),
                message: "no such node".to_owned(),
            })?;
        let prior = current
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if prior != unschedulable {
            let api: Api<Node> = Api::all(self.client.clone());
            let patch = json!({ "spec": { "unschedulable": unschedulable } });
            api.patch(
                node.as_str(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map_err(|e| KubeError::from_kube(what, e))?;
        }
        Ok(prior)
    }
}
