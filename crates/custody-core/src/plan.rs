//! Triage planning: request + inventory → what may be acquired and isolated, and what is refused.
//!
//! A pure function, so every guardrail decision is a value a test can assert and the case can
//! store. The steps that act later check the stored plan, not the state machine's data: a
//! resource refused here is never touched.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::case::ActionKind;
use crate::guardrail::{self, GuardrailDecision, GuardrailScope, TagVerdict};
use crate::id::{InstanceId, Namespace, NodeName, PodName, VolumeId};
use crate::inventory::{InstanceFacts, Inventory, PodFacts};
use crate::trigger::{CaseRequest, Target};

/// Deployment choices that change what isolation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlanConfig {
    /// Also swap the subnet's network ACL. Off by default: it cuts off every instance in the
    /// subnet, not just the subject.
    pub isolate_nacl: bool,
    /// Revoke the sessions of the instance profile's role(s). On by default: stolen role
    /// credentials keep working after the instance is quarantined.
    pub revoke_sessions: bool,
}

impl Default for PlanConfig {
    fn default() -> Self {
        Self {
            isolate_nacl: false,
            revoke_sessions: true,
        }
    }
}

/// A pod in a plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRef {
    /// Its namespace.
    pub namespace: Namespace,
    /// Its name.
    pub name: PodName,
    /// Its uid when known (a same-named later pod is a different pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

impl From<&PodFacts> for PodRef {
    fn from(p: &PodFacts) -> Self {
        Self {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            uid: p.uid.clone(),
        }
    }
}

/// An instance whose memory is to be captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryTarget {
    /// The instance.
    pub instance_id: InstanceId,
    /// The node it backs, for EKS subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeName>,
    /// The subject's pods on it (for the pod-to-PID map).
    #[serde(default)]
    pub pods: Vec<PodRef>,
    /// Whether SSM can reach it. When false, memory is not capturable and the case says so;
    /// disk evidence and isolation still proceed.
    pub ssm_managed: bool,
}

impl MemoryTarget {
    /// Whether memory can actually be captured (the SSM agent is online).
    pub fn capturable(&self) -> bool {
        self.ssm_managed
    }
}

/// An instance whose volumes are to be snapshotted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskTarget {
    /// The instance.
    pub instance_id: InstanceId,
    /// Its attached volumes at triage.
    pub volumes: Vec<VolumeId>,
}

/// An instance (and its pods) to contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IsolationTarget {
    /// The instance.
    pub instance_id: InstanceId,
    /// The node it backs, for EKS subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeName>,
    /// The subject's pods on it, to label and fence with a deny-all NetworkPolicy.
    #[serde(default)]
    pub pods: Vec<PodRef>,
    /// The containment actions planned, in the order they are applied.
    pub actions: Vec<ActionKind>,
}

/// Why a resource is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "code",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RefusalReason {
    /// `IsTriageRequired=false` on the resource or its cluster.
    Protected {
        /// Where the tag is.
        scope: GuardrailScope,
        /// The tagged resource.
        tagged: String,
    },
    /// The guardrail tag has a value (or key spelling) that is neither true nor false.
    MalformedTag {
        /// Where the tag is.
        scope: GuardrailScope,
        /// The tagged resource.
        tagged: String,
        /// The key as written.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A pod the request names is not in the cluster (already deleted, or never existed).
    PodNotFound,
    /// A pod is not scheduled on a node, so there is no host to acquire.
    PodNotScheduled,
    /// A node the subject needs was not found.
    NodeNotFound {
        /// The node.
        node: NodeName,
    },
    /// A node has no EC2 instance behind it (Fargate, or not AWS).
    NodeWithoutInstance {
        /// The node.
        node: NodeName,
    },
    /// An instance the subject needs was not found in EC2.
    InstanceNotFound,
    /// The instance is terminated or terminating: nothing left to acquire or contain.
    InstanceGone {
        /// Its EC2 state.
        state: String,
    },
    /// The workload or service account resolved to no pods.
    NothingResolved,
    /// The finding names only a cluster: custody does not act on a whole cluster.
    NoWorkload,
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefusalReason::Protected { scope, tagged } => {
                write!(f, "protected: {} is {:?} on {scope} {tagged:?}", guardrail::GUARDRAIL_TAG, "false")
            }
            RefusalReason::MalformedTag { scope, tagged, key, value } => write!(
                f,
                "refused: guardrail tag {key:?}={value:?} on {scope} {tagged:?} is neither true nor false (expected key {:?} with value true or false; custody does not guess)",
                guardrail::GUARDRAIL_TAG
            ),
            RefusalReason::PodNotFound => f.write_str("pod not found in the cluster (deleted, or never existed)"),
            RefusalReason::PodNotScheduled => f.write_str("pod is not scheduled on any node: no host to acquire"),
            RefusalReason::NodeNotFound { node } => write!(f, "node {node:?} not found in the cluster"),
            RefusalReason::NodeWithoutInstance { node } => {
                write!(f, "node {node:?} has no EC2 instance behind it (Fargate or not AWS)")
            }
            RefusalReason::InstanceNotFound => f.write_str("instance not found in EC2"),
            RefusalReason::InstanceGone { state } => write!(f, "instance is {state:?}: nothing left to acquire or contain"),
            RefusalReason::NothingResolved => f.write_str("resolved to no running pods"),
            RefusalReason::NoWorkload => f.write_str(
                "the finding names the cluster but no workload, node or instance; custody does not act on a whole cluster",
            ),
        }
    }
}

/// A resource custody will not act on, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// The resource: an instance id, a node name, a cluster name, `namespace/pod`, or the
    /// subject's description.
    pub resource: String,
    /// Why.
    pub reason: RefusalReason,
}

/// What triage decided.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Instances whose memory is captured (marked when not capturable).
    pub memory: Vec<MemoryTarget>,
    /// Instances whose volumes are snapshotted.
    pub disk: Vec<DiskTarget>,
    /// Instances (and pods) to contain; empty unless isolation was asked for.
    pub isolation: Vec<IsolationTarget>,
    /// Resources refused, with reasons.
    pub refusals: Vec<Refusal>,
    /// The guardrail's verdict on every instance and cluster considered.
    pub decisions: Vec<GuardrailDecision>,
}

impl Plan {
    /// Whether there is anything to do at all. A case with nothing eligible is `Skipped`.
    pub fn eligible(&self) -> bool {
        !self.memory.is_empty() || !self.disk.is_empty() || !self.isolation.is_empty()
    }

    /// The refusal of `resource`, if it was refused.
    pub fn refusal(&self, resource: &str) -> Option<&Refusal> {
        self.refusals.iter().find(|r| r.resource == resource)
    }
}

/// An instance the subject resolved to, with the node it backs and the subject's pods on it.
struct Host<'a> {
    facts: &'a InstanceFacts,
    node: Option<NodeName>,
    pods: Vec<&'a PodFacts>,
}

/// The refusal for a guardrail verdict that is not "allowed".
fn refusal_for(verdict: &TagVerdict, scope: GuardrailScope, tagged: &str) -> Option<RefusalReason> {
    match verdict {
        TagVerdict::Allowed { .. } => None,
        TagVerdict::Protected { .. } => Some(RefusalReason::Protected {
            scope,
            tagged: tagged.to_owned(),
        }),
        TagVerdict::Malformed { key, value } => Some(RefusalReason::MalformedTag {
            scope,
            tagged: tagged.to_owned(),
            key: key.clone(),
            value: value.clone(),
        }),
    }
}

fn pod_resource(namespace: &Namespace, name: &PodName) -> String {
    format!("{namespace}/{name}")
}

/// Plans a case.
///
/// Resolution: pods → their nodes → the nodes' instances (by the node's provider id, or the
/// instance's recorded node). Pods or nodes that cannot be resolved are refused with a reason.
///
/// Guardrail: `IsTriageRequired` on each instance and on the cluster (see [`crate::guardrail`]).
/// A protected or malformed verdict on the cluster refuses every instance; on an instance it
/// refuses that instance and the subject's pods on it. Instances in one case are judged
/// independently ("mixed nodes"): one protected node does not stop the others.
///
/// Isolation targets exist only when the request asks to isolate. Instances whose SSM agent is
/// offline keep their memory target (marked not capturable), their disk target and isolation.
///
/// # Caveats
/// Isolating a pod's node quarantines the node's network (its security groups), which affects
/// every pod on that node: a compromised container may have escaped to the host, and custody
/// contains the host rather than trusting the container boundary.
pub fn plan(request: &CaseRequest, inv: &Inventory, cfg: &PlanConfig) -> Plan {
    let mut plan = Plan::default();
    let cluster_refusal = inv.cluster.as_ref().and_then(|c| {
        let verdict = guardrail::evaluate(&c.tags);
        let refusal = refusal_for(&verdict, GuardrailScope::Cluster, c.name.as_str());
        plan.decisions.push(GuardrailDecision {
            resource: c.name.to_string(),
            scope: GuardrailScope::Cluster,
            verdict,
        });
        refusal
    });

    let (hosts, pod_level) = resolve(request, inv, &mut plan.refusals);

    for host in hosts.into_values() {
        let id = &host.facts.instance_id;
        let verdict = guardrail::evaluate(&host.facts.tags);
        let refusal = cluster_refusal
            .clone()
            .or_else(|| refusal_for(&verdict, GuardrailScope::Instance, id.as_str()));
        plan.decisions.push(GuardrailDecision {
            resource: id.to_string(),
            scope: GuardrailScope::Instance,
            verdict,
        });
        let gone = host
            .facts
            .state
            .as_deref()
            .filter(|s| matches!(*s, "terminated" | "shutting-down"))
            .map(|s| RefusalReason::InstanceGone {
                state: s.to_owned(),
            });
        if let Some(reason) = refusal.or(gone) {
            for pod in &host.pods {
                plan.refusals.push(Refusal {
                    resource: pod_resource(&pod.namespace, &pod.name),
                    reason: reason.clone(),
                });
            }
            plan.refusals.push(Refusal {
                resource: id.to_string(),
                reason,
            });
            continue;
        }
        let pods: Vec<PodRef> = host.pods.iter().map(|p| PodRef::from(*p)).collect();
        plan.memory.push(MemoryTarget {
            instance_id: id.clone(),
            node: host.node.clone(),
            pods: pods.clone(),
            ssm_managed: host.facts.ssm_managed,
        });
        plan.disk.push(DiskTarget {
            instance_id: id.clone(),
            volumes: host.facts.volumes.iter().map(|v| v.id.clone()).collect(),
        });
        if request.intent.isolate {
            let actions = isolation_actions(
                host.facts,
                host.node.is_some(),
                pod_level && !pods.is_empty(),
                cfg,
            );
            plan.isolation.push(IsolationTarget {
                instance_id: id.clone(),
                node: host.node.clone(),
                pods: if pod_level { pods } else { Vec::new() },
                actions,
            });
        }
    }
    plan
}

/// The containment actions for one instance, in the order they are applied: fence the pods
/// first (cheap, precise), stop new scheduling, protect the evidence, then cut the network and
/// the credentials.
fn isolation_actions(
    facts: &InstanceFacts,
    is_node: bool,
    fence_pods: bool,
    cfg: &PlanConfig,
) -> Vec<ActionKind> {
    let mut actions = Vec::new();
    if fence_pods {
        actions.push(ActionKind::LabelPod);
        actions.push(ActionKind::DenyAllNetworkPolicy);
    }
    if is_node {
        actions.push(ActionKind::CordonNode);
    }
    actions.push(ActionKind::TerminationProtection);
    if !facts.volumes.is_empty() {
        actions.push(ActionKind::PreserveVolumes);
    }
    actions.push(ActionKind::QuarantineSecurityGroup);
    if facts.instance_profile.is_some() {
        if cfg.revoke_sessions {
            actions.push(ActionKind::RevokeRoleSessions);
        }
        actions.push(ActionKind::InstanceProfile);
    }
    if cfg.isolate_nacl {
        actions.push(ActionKind::NaclIsolation);
    }
    actions
}

/// Resolves the subject to hosts (keyed by instance id, so the plan is deterministic), recording
/// refusals for what cannot be resolved. The flag says whether the subject is pod-level (its
/// pods get fenced when isolating).
fn resolve<'a>(
    request: &CaseRequest,
    inv: &'a Inventory,
    refusals: &mut Vec<Refusal>,
) -> (BTreeMap<InstanceId, Host<'a>>, bool) {
    let mut hosts: BTreeMap<InstanceId, Host<'a>> = BTreeMap::new();
    let cluster = inv.cluster.as_ref();
    let pods_in_cluster: &[PodFacts] = cluster.map_or(&[], |c| c.pods.as_slice());

    // The instance backing a node, or a refusal naming why there is none.
    let host_of = |node: &NodeName| -> Result<&'a InstanceFacts, RefusalReason> {
        let node_facts = cluster.and_then(|c| c.node(node));
        let by_provider = node_facts
            .and_then(|n| n.instance_id.as_ref())
            .and_then(|id| inv.instance(id));
        let by_record = || inv.instances.iter().find(|i| i.node.as_ref() == Some(node));
        match (node_facts, by_provider.or_else(by_record)) {
            (_, Some(facts)) => Ok(facts),
            (None, None) => Err(RefusalReason::NodeNotFound { node: node.clone() }),
            (Some(n), None) if n.instance_id.is_none() => {
                Err(RefusalReason::NodeWithoutInstance { node: node.clone() })
            }
            (Some(_), None) => Err(RefusalReason::InstanceNotFound),
        }
    };
    let mut add_pods = |pods: Vec<&'a PodFacts>, refusals: &mut Vec<Refusal>| {
        for pod in pods {
            let Some(node) = pod.node.as_ref() else {
                refusals.push(Refusal {
                    resource: pod_resource(&pod.namespace, &pod.name),
                    reason: RefusalReason::PodNotScheduled,
                });
                continue;
            };
            match host_of(node) {
                Ok(facts) => {
                    hosts
                        .entry(facts.instance_id.clone())
                        .or_insert_with(|| Host {
                            facts,
                            node: Some(node.clone()),
                            pods: Vec::new(),
                        })
                        .pods
                        .push(pod);
                }
                Err(reason) => refusals.push(Refusal {
                    resource: pod_resource(&pod.namespace, &pod.name),
                    reason,
                }),
            }
        }
    };

    match &request.target {
        Target::Cluster { cluster: name, .. } => {
            refusals.push(Refusal {
                resource: name.to_string(),
                reason: RefusalReason::NoWorkload,
            });
            (BTreeMap::new(), false)
        }
        Target::Instance { instance_id, .. } => {
            match inv.instance(instance_id) {
                Some(facts) => {
                    hosts.insert(
                        instance_id.clone(),
                        Host {
                            facts,
                            node: facts.node.clone(),
                            pods: Vec::new(),
                        },
                    );
                }
                None => refusals.push(Refusal {
                    resource: instance_id.to_string(),
                    reason: RefusalReason::InstanceNotFound,
                }),
            }
            (hosts, false)
        }
        Target::Node { node, .. } => {
            match host_of(node) {
                Ok(facts) => {
                    let pods = pods_in_cluster
                        .iter()
                        .filter(|p| p.node.as_ref() == Some(node))
                        .collect();
                    hosts.insert(
                        facts.instance_id.clone(),
                        Host {
                            facts,
                            node: Some(node.clone()),
                            pods,
                        },
                    );
                }
                Err(reason) => refusals.push(Refusal {
                    resource: node.to_string(),
                    reason,
                }),
            }
            (hosts, false)
        }
        Target::Pods {
            namespace, pods, ..
        } => {
            let mut found = Vec::new();
            for name in pods {
                match pods_in_cluster
                    .iter()
                    .find(|p| &p.namespace == namespace && &p.name == name)
                {
                    Some(p) => found.push(p),
                    None => refusals.push(Refusal {
                        resource: pod_resource(namespace, name),
                        reason: RefusalReason::PodNotFound,
                    }),
                }
            }
            add_pods(found, refusals);
            (hosts, true)
        }
        Target::Workload { namespace, .. } | Target::ServiceAccount { namespace, .. } => {
            let wanted_sa = match &request.target {
                Target::ServiceAccount { name, .. } => Some(name),
                _ => None,
            };
            let found: Vec<&PodFacts> = pods_in_cluster
                .iter()
                .filter(|p| &p.namespace == namespace)
                .filter(|p| match (wanted_sa, &p.service_account) {
                    (Some(want), Some(has)) => want == has,
                    _ => true,
                })
                .collect();
            if found.is_empty() {
                refusals.push(Refusal {
                    resource: request.target.to_string(),
                    reason: RefusalReason::NothingResolved,
                });
            }
            add_pods(found, refusals);
            (hosts, true)
        }
    }
}
