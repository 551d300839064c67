//! Containment actions and the exact state each replaced, so release can undo precisely.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{
    Arn, InstanceId, Namespace, NetworkAclId, NetworkInterfaceId, NodeName, PodName, RoleArn,
    SecurityGroupId, SubnetId, Timestamp,
};

/// A kind of containment action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionKind {
    /// Label a pod so a NetworkPolicy can select it.
    LabelPod,
    /// A deny-all ingress+egress NetworkPolicy selecting the labelled pods.
    DenyAllNetworkPolicy,
    /// Cordon the node (`spec.unschedulable=true`): nothing new lands on it.
    CordonNode,
    /// Turn on EC2 termination protection (`DisableApiTermination`).
    TerminationProtection,
    /// Turn off `DeleteOnTermination` on the instance's volumes.
    PreserveVolumes,
    /// Replace the security groups of each network interface by a no-rules quarantine group.
    QuarantineSecurityGroup,
    /// Disassociate the instance profile (no more role credentials from the metadata service).
    InstanceProfile,
    /// Deny the role's sessions issued before now (inline policy on `aws:TokenIssueTime`).
    RevokeRoleSessions,
    /// Associate the subnet with a deny-all network ACL (affects the whole subnet).
    NaclIsolation,
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionStatus {
    /// Done; its prior state is on record.
    Applied,
    /// Tried and failed (the detail says why); the prior state is on record in case it partly
    /// took effect.
    Failed,
    /// Undone by a release.
    Released,
    /// Not applied (e.g. nothing to do); recorded so the report is complete.
    Skipped,
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Actor {
    /// A custody step.
    Automation {
        /// The step's name.
        step: String,
    },
    /// A person (who triggered a release, or asked for the case).
    Human {
        /// The principal as given.
        principal: String,
    },
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Automation { step } => write!(f, "step {step}"),
            Actor::Human { principal } => write!(f, "{principal:?}"),
        }
    }
}

/// The state an action replaced: exactly what release must restore, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum PriorState {
    /// [`ActionKind::LabelPod`]: the label's previous value (`None`: it was absent).
    PodLabel {
        /// The pod's namespace.
        namespace: Namespace,
        /// The pod.
        pod: PodName,
        /// The label key custody set.
        key: String,
        /// Its previous value.
        prior: Option<String>,
    },
    /// [`ActionKind::DenyAllNetworkPolicy`]: the policy did not exist (custody created it).
    NetworkPolicyAbsent {
        /// Its namespace.
        namespace: Namespace,
        /// Its name.
        name: String,
    },
    /// [`ActionKind::CordonNode`]: the node's previous `spec.unschedulable`.
    Unschedulable {
        /// The node.
        node: NodeName,
        /// Whether it was already cordoned.
        prior: bool,
    },
    /// [`ActionKind::TerminationProtection`]: the previous `DisableApiTermination`.
    TerminationProtection {
        /// The instance.
        instance: InstanceId,
        /// The previous value.
        prior: bool,
    },
    /// [`ActionKind::PreserveVolumes`]: the previous `DeleteOnTermination` per device.
    DeleteOnTermination {
        /// The instance.
        instance: InstanceId,
        /// Device name → previous value.
        volumes: BTreeMap<String, bool>,
    },
    /// [`ActionKind::QuarantineSecurityGroup`]: the interface's previous security groups.
    SecurityGroups {
        /// The network interface.
        eni: NetworkInterfaceId,
        /// Its previous groups.
        groups: Vec<SecurityGroupId>,
    },
    /// [`ActionKind::InstanceProfile`]: the previously associated profile (`None`: none).
    InstanceProfile {
        /// The instance.
        instance: InstanceId,
        /// The previous profile.
        profile: Option<Arn>,
    },
    /// [`ActionKind::RevokeRoleSessions`]: the role, the inline policy custody wrote, the
    /// policy's previous document (`None`: it did not exist), and the other instances that
    /// share the role (their sessions are revoked too).
    RoleSessions {
        /// The role.
        role: RoleArn,
        /// The inline policy's name.
        policy_name: String,
        /// Its previous document.
        prior_document: Option<String>,
        /// Other instances using the same role.
        shared_with: Vec<InstanceId>,
    },
    /// [`ActionKind::NaclIsolation`]: the subnet's previous network ACL.
    NetworkAcl {
        /// The subnet.
        subnet: SubnetId,
        /// Its previous ACL.
        acl: NetworkAclId,
    },
}

impl PriorState {
    /// The action kind this prior state belongs to.
    pub fn action_kind(&self) -> ActionKind {
        match self {
            PriorState::PodLabel { .. } => ActionKind::LabelPod,
            PriorState::NetworkPolicyAbsent { .. } => ActionKind::DenyAllNetworkPolicy,
            PriorState::Unschedulable { .. } => ActionKind::CordonNode,
            PriorState::TerminationProtection { .. } => ActionKind::TerminationProtection,
            PriorState::DeleteOnTermination { .. } => ActionKind::PreserveVolumes,
            PriorState::SecurityGroups { .. } => ActionKind::QuarantineSecurityGroup,
            PriorState::InstanceProfile { .. } => ActionKind::InstanceProfile,
            PriorState::RoleSessions { .. } => ActionKind::RevokeRoleSessions,
            PriorState::NetworkAcl { .. } => ActionKind::NaclIsolation,
        }
    }
}

/// One containment action in the chain of custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Deterministic id, e.g. `sg/eni-…`, `cordon/<node>`: a retried step finds its own record.
    pub id: String,
    /// What kind of action.
    pub kind: ActionKind,
    /// What it acts on, for people (`instance i-…`, `pod payments/api-…`).
    pub target: String,
    /// What it replaced.
    pub prior: PriorState,
    /// Where it stands.
    pub status: ActionStatus,
    /// When it was recorded as applied.
    pub applied_at: Timestamp,
    /// Who applied it.
    pub by: Actor,
    /// What was done, or why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
