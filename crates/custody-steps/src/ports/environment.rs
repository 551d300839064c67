//! How a step reaches its ports: the forensic account's services, and ports into a target account.

use std::sync::Arc;

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{AccountId, CaseId, ImageId, Region, SecurityGroupId, SubnetId, Timestamp};
use serde::{Deserialize, Serialize};

use super::{
    CaseStore, ClusterConnector, Compute, EvidenceStore, FindingsHub, Identity, NodeCommands,
    Notifier, Quarantine, Snapshots, Workstation,
};

/// Time as the environment sees it: wall time in AWS, virtual time in the simulated world.
/// Steps never sleep (waiting is the state machine's `Wait` state); they only read the time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// Ports into one target (application) account, acting as its responder role.
#[derive(Clone)]
pub struct TargetPorts {
    /// EC2 reads and instance protection.
    pub compute: Arc<dyn Compute>,
    /// Snapshots of the subject's volumes.
    pub snapshots: Arc<dyn Snapshots>,
    /// Network quarantine.
    pub quarantine: Arc<dyn Quarantine>,
    /// SSM Run Command on the subject's nodes.
    pub commands: Arc<dyn NodeCommands>,
    /// IAM.
    pub identity: Arc<dyn Identity>,
    /// EKS clusters.
    pub clusters: Arc<dyn ClusterConnector>,
}

/// The forensic account's own services.
#[derive(Clone)]
pub struct ForensicPorts {
    /// Case records.
    pub cases: Arc<dyn CaseStore>,
    /// Evidence and artifacts buckets.
    pub evidence: Arc<dyn EvidenceStore>,
    /// Responder notifications.
    pub notifier: Arc<dyn Notifier>,
    /// Security Hub.
    pub findings: Arc<dyn FindingsHub>,
    /// Snapshot copies into the forensic account.
    pub snapshots: Arc<dyn Snapshots>,
    /// The analysis workstation.
    pub workstation: Arc<dyn Workstation>,
    /// SSM on the workstation.
    pub commands: Arc<dyn NodeCommands>,
}

/// The workstation configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkstationSettings {
    /// Analysis AMI; without one, investigation fails with `Custody.InvalidInput` naming the setting.
    pub image: Option<ImageId>,
    /// Instance type.
    pub instance_type: String,
    /// Subnet in the forensic VPC.
    pub subnet: Option<SubnetId>,
    /// Security group deployed for it.
    pub security_group: Option<SecurityGroupId>,
    /// Instance profile name.
    pub instance_profile: String,
}

/// The SSM document names (or ARNs shared with the target accounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSettings {
    /// Memory capture.
    pub capture_memory: String,
    /// Pod-to-PID map.
    pub map_pods: String,
    /// Volatile host state.
    pub collect_host: String,
    /// Memory analysis on the workstation.
    pub analyse_memory: String,
    /// Disk analysis on the workstation.
    pub analyse_disk: String,
}

/// Everything configurable, read once at start (Lambda environment, or the CLI's world).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The forensic account.
    pub forensic_account: AccountId,
    /// The forensic region.
    pub forensic_region: Region,
    /// Evidence bucket name.
    pub evidence_bucket: String,
    /// Artifacts bucket name (LiME modules, AVML).
    pub artifacts_bucket: String,
    /// KMS key that snapshot copies are encrypted with (one the forensic account can use).
    pub snapshot_kms_key: String,
    /// The label put on quarantined pods; its value is the case id.
    pub quarantine_label: String,
    /// Whether isolation also swaps the subnet's NACL (off by default: it hits every instance in
    /// the subnet).
    pub isolate_subnet_nacl: bool,
    /// Whether isolation revokes the sessions of the instance's roles.
    pub revoke_role_sessions: bool,
    /// Memory upload part size.
    pub upload_part_size_bytes: u64,
    /// Lifetime of presigned URLs handed to hosts.
    pub presigned_url_seconds: u64,
    /// SSM documents.
    pub documents: DocumentSettings,
    /// The workstation.
    pub workstation: WorkstationSettings,
    /// Security Hub custom action ids that may start a case.
    pub trigger: custody_core::trigger::TriggerConfig,
}

/// Where steps run: AWS (custody-aws), or the simulated world (custody-sim).
#[async_trait]
pub trait Environment: Send + Sync {
    /// The forensic account's services.
    fn forensic(&self) -> &ForensicPorts;

    /// Ports into a target account, as its responder role (the session is named after the case).
    async fn target(
        &self,
        account: &AccountId,
        region: &Region,
        case: &CaseId,
    ) -> Result<TargetPorts, StepError>;

    /// The clock.
    fn clock(&self) -> &dyn Clock;

    /// Settings.
    fn settings(&self) -> &Settings;
}
