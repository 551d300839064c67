//! The forensic workstation: an analysis instance in the forensic account, one per case.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{
    CaseId, ImageId, InstanceId, SecurityGroupId, SnapshotId, SubnetId, VolumeId,
};
use serde::{Deserialize, Serialize};

use super::Tags;

/// What to launch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkstationSpec {
    /// The case it serves (tagged on it, so teardown can find it after any failure).
    pub case: CaseId,
    /// The analysis AMI (from configuration).
    pub image: ImageId,
    /// Instance type.
    pub instance_type: String,
    /// Subnet in the forensic VPC.
    pub subnet: SubnetId,
    /// The workstation security group deployed with custody.
    pub security_group: SecurityGroupId,
    /// Name of the workstation's instance profile.
    pub instance_profile: String,
    /// RunInstances client token: a retry returns the same instance.
    pub client_token: String,
    /// Tags.
    pub tags: Tags,
}

/// A running (or stopping) workstation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkstationInfo {
    /// The instance.
    pub instance_id: InstanceId,
    /// EC2 state name (`pending`, `running`, `terminated`, …).
    pub state: String,
    /// Availability zone: evidence volumes must be created there.
    pub availability_zone: String,
}

/// An evidence volume made from a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeInfo {
    /// The volume.
    pub volume_id: VolumeId,
    /// EC2 state (`creating`, `available`, `in-use`, `deleting`).
    pub state: String,
    /// The snapshot it was made from.
    pub snapshot_id: Option<SnapshotId>,
    /// The instance it is attached to, if any.
    pub attached_to: Option<InstanceId>,
    /// The device name of the attachment.
    pub device: Option<String>,
}

/// Lifecycle of the workstation and its evidence volumes.
///
/// EBS has no read-only attachment: evidence volumes are attached normally and mounted read-only
/// without journal replay by the analysis document; they are copies made from snapshots, so the
/// snapshot (the evidence of record) is never written.
#[async_trait]
pub trait Workstation: Send + Sync {
    /// The case's workstation, if one exists and is not terminated (found by case tag).
    async fn find_workstation(&self, case: &CaseId) -> Result<Option<WorkstationInfo>, StepError>;

    /// Launches the workstation; idempotent through the spec's client token.
    async fn launch_workstation(
        &self,
        spec: &WorkstationSpec,
    ) -> Result<WorkstationInfo, StepError>;

    /// Volumes tagged with this case.
    async fn find_case_volumes(&self, case: &CaseId) -> Result<Vec<VolumeInfo>, StepError>;

    /// Creates a volume from a snapshot; idempotent through the client token.
    async fn create_evidence_volume(
        &self,
        snapshot: &SnapshotId,
        availability_zone: &str,
        client_token: &str,
        tags: &Tags,
    ) -> Result<VolumeId, StepError>;

    /// Attaches a volume at a device name.
    async fn attach_volume(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        device: &str,
    ) -> Result<(), StepError>;

    /// Terminates the workstation (idempotent: terminating a terminated instance is fine).
    async fn terminate_workstation(&self, instance: &InstanceId) -> Result<(), StepError>;

    /// Deletes an evidence volume (a copy; the snapshot stays). Idempotent: a missing volume is ok.
    async fn delete_volume(&self, volume: &VolumeId) -> Result<(), StepError>;
}

/// Capabilities of [`Workstation`].
pub mod ops {
    use crate::capability::{Capability, PortName::Workstation as P};

    /// [`super::Workstation::find_workstation`]
    pub const FIND_WORKSTATION: Capability =
        Capability::read(P, "find_workstation", &["ec2:DescribeInstances"]);
    /// [`super::Workstation::launch_workstation`]
    pub const LAUNCH_WORKSTATION: Capability = Capability::mutate(
        P,
        "launch_workstation",
        &["ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"],
    );
    /// [`super::Workstation::find_case_volumes`]
    pub const FIND_CASE_VOLUMES: Capability =
        Capability::read(P, "find_case_volumes", &["ec2:DescribeVolumes"]);
    /// [`super::Workstation::create_evidence_volume`]
    pub const CREATE_EVIDENCE_VOLUME: Capability = Capability::mutate(
        P,
        "create_evidence_volume",
        &["ec2:CreateVolume", "ec2:CreateTags"],
    );
    /// [`super::Workstation::attach_volume`]
    pub const ATTACH_VOLUME: Capability =
        // DescribeVolumes: an attach retried after success finds the attachment already there.
        Capability::mutate(
            P,
            "attach_volume",
            &["ec2:AttachVolume", "ec2:DescribeVolumes"],
        );
    /// [`super::Workstation::terminate_workstation`]
    pub const TERMINATE_WORKSTATION: Capability =
        Capability::mutate(P, "terminate_workstation", &["ec2:TerminateInstances"]);
    /// [`super::Workstation::delete_volume`]
    pub const DELETE_VOLUME: Capability =
        Capability::mutate(P, "delete_volume", &["ec2:DeleteVolume"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[
        &FIND_WORKSTATION,
        &LAUNCH_WORKSTATION,
        &FIND_CASE_VOLUMES,
        &CREATE_EVIDENCE_VOLUME,
        &ATTACH_VOLUME,
        &TERMINATE_WORKSTATION,
        &DELETE_VOLUME,
    ];
}
