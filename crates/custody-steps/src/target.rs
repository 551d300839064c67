//! The compact target references that travel through the state machine.
//!
//! Step Functions limits a state's data to 256 KiB, and a Map iterates over whatever triage
//! returns, so targets carry identifiers only: account, region, instance and node. Everything else
//! (pods, volumes, ENIs, the plan) is loaded from the case record by the step that needs it, which
//! also makes the case, not the state machine's data, the source of truth for the guardrail.

use custody_core::id::{AccountId, InstanceId, NodeName, Region};
use serde::{Deserialize, Serialize};

/// One instance (and the Kubernetes node it backs, if any).
///
/// Steps accept extra keys (the memory flags below) so the Map item can be passed as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceRef {
    /// The account the instance lives in.
    pub account: AccountId,
    /// Its region.
    pub region: Region,
    /// The instance.
    pub instance_id: InstanceId,
    /// The node it backs, for EKS subjects.
    #[serde(default)]
    pub node: Option<NodeName>,
}

/// One item of triage's `memoryTargets`: an instance plus what the memory branch does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryTargetRef {
    /// The account the instance lives in.
    pub account: AccountId,
    /// Its region.
    pub region: Region,
    /// The instance.
    pub instance_id: InstanceId,
    /// The node it backs, for EKS subjects.
    pub node: Option<NodeName>,
    /// Whether memory is to be captured (false when the plan has no memory target here; an
    /// offline agent is found out by capture-memory itself, which then skips).
    pub capture: bool,
    /// Whether the node runs case pods whose PIDs should be mapped.
    pub map_pods: bool,
    /// Whether the node/instance is to be isolated once its memory is captured or skipped.
    pub isolate: bool,
}

impl MemoryTargetRef {
    /// The instance reference part.
    pub fn instance(&self) -> InstanceRef {
        InstanceRef {
            account: self.account.clone(),
            region: self.region.clone(),
            instance_id: self.instance_id.clone(),
            node: self.node.clone(),
        }
    }
}
