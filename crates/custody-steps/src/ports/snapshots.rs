//! EBS snapshots: the disk evidence.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{AccountId, CaseId, InstanceId, SnapshotId, VolumeId};
use serde::{Deserialize, Serialize};

use super::Tags;

/// Where a snapshot is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotState {
    /// Still being taken or copied.
    Pending,
    /// Complete and usable.
    Completed,
    /// Failed; EC2 says why in the state message.
    Error,
}

/// A snapshot as the evidence record needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// The snapshot.
    pub snapshot_id: SnapshotId,
    /// The volume it was taken from (for copies: the source snapshot's volume).
    pub volume_id: Option<VolumeId>,
    /// Pending, completed or error.
    pub state: SnapshotState,
    /// EC2's progress, `0`–`100`.
    pub progress_percent: u8,
    /// Size of the source volume.
    pub volume_size_gib: u64,
    /// Whether it is encrypted.
    pub encrypted: bool,
    /// The KMS key, when encrypted.
    pub kms_key_id: Option<String>,
    /// Its tags (custody's case tags among them).
    pub tags: Tags,
    /// EC2's state message (why it failed).
    pub state_message: Option<String>,
}

/// A copy of a snapshot, re-encrypted with a key the forensic account can use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopySnapshotRequest {
    /// The snapshot to copy.
    pub source: SnapshotId,
    /// The region it lives in.
    pub source_region: String,
    /// The KMS key to encrypt the copy with.
    pub kms_key_id: String,
    /// Client token: the same token returns the same copy, so a retried step makes no second copy.
    pub client_token: String,
    /// Description shown in the console.
    pub description: String,
    /// Tags for the copy.
    pub tags: Tags,
}

/// EBS snapshots of a subject's volumes, and copies into the forensic account.
#[async_trait]
pub trait Snapshots: Send + Sync {
    /// Snapshots custody already made for this case and instance (found by the case tags), so a
    /// retry reuses them instead of taking a second set.
    async fn find_case_snapshots(
        &self,
        case: &CaseId,
        instance: &InstanceId,
    ) -> Result<Vec<SnapshotInfo>, StepError>;

    /// A crash-consistent snapshot of every volume attached to the instance, tagged at creation.
    async fn create_snapshots(
        &self,
        instance: &InstanceId,
        description: &str,
        tags: &Tags,
    ) -> Result<Vec<SnapshotInfo>, StepError>;

    /// Current state of these snapshots.
    async fn describe_snapshots(&self, ids: &[SnapshotId]) -> Result<Vec<SnapshotInfo>, StepError>;

    /// Copies a snapshot (re-encrypting it); idempotent through the client token.
    async fn copy_snapshot(&self, request: &CopySnapshotRequest) -> Result<SnapshotId, StepError>;

    /// Lets another account create volumes from the snapshot; idempotent.
    async fn share_snapshot(
        &self,
        snapshot: &SnapshotId,
        account: &AccountId,
    ) -> Result<(), StepError>;
}

/// Capabilities of [`Snapshots`].
pub mod ops {
    use crate::capability::{Capability, PortName::Snapshots as P};

    /// [`super::Snapshots::find_case_snapshots`]
    pub const FIND_CASE_SNAPSHOTS: Capability =
        Capability::read(P, "find_case_snapshots", &["ec2:DescribeSnapshots"]);
    /// [`super::Snapshots::create_snapshots`]
    pub const CREATE_SNAPSHOTS: Capability = Capability::mutate(
        P,
        "create_snapshots",
        &["ec2:CreateSnapshots", "ec2:CreateTags"],
    );
    /// [`super::Snapshots::describe_snapshots`]
    pub const DESCRIBE_SNAPSHOTS: Capability =
        Capability::read(P, "describe_snapshots", &["ec2:DescribeSnapshots"]);
    /// [`super::Snapshots::copy_snapshot`]
    pub const COPY_SNAPSHOT: Capability =
        // DescribeSnapshots: CopySnapshot has no client token; the token is a tag, looked up first.
        Capability::mutate(
            P,
            "copy_snapshot",
            &[
                "ec2:CopySnapshot",
                "ec2:CreateTags",
                "ec2:DescribeSnapshots",
            ],
        );
    /// [`super::Snapshots::share_snapshot`]
    pub const SHARE_SNAPSHOT: Capability =
        Capability::mutate(P, "share_snapshot", &["ec2:ModifySnapshotAttribute"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[
        &FIND_CASE_SNAPSHOTS,
        &CREATE_SNAPSHOTS,
        &DESCRIBE_SNAPSHOTS,
        &COPY_SNAPSHOT,
        &SHARE_SNAPSHOT,
    ];
}
