//! What happens in the world while custody runs: snapshots, commands, objects, uploads, cases,
//! messages. All of it is part of the saved state, so a world saved after a run can be restored
//! and acted on again (`custody release`).

use std::collections::BTreeMap;

use custody_core::case::Case;
use custody_core::id::{AccountId, CaseId, InstanceId, SnapshotId, Timestamp, VolumeId};
use custody_core::trigger::FindingRef;
use custody_steps::ports::{CommandStatus, Notification, WorkflowStatus};
use serde::{Deserialize, Serialize};

use crate::calls::CallRecord;

/// Everything created or recorded at run time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Runtime {
    /// EBS snapshots in every account.
    pub snapshots: Vec<Snapshot>,
    /// SSM commands sent.
    pub commands: Vec<CommandRecord>,
    /// S3 objects, by `s3://bucket/key`, every version oldest first.
    pub objects: BTreeMap<String, Vec<ObjectVersion>>,
    /// Multipart uploads.
    pub uploads: Vec<MultipartUpload>,
    /// Case records, by case id.
    pub cases: BTreeMap<String, Case>,
    /// SNS messages published.
    pub notifications: Vec<PublishedNotification>,
    /// Security Hub updates.
    pub annotations: Vec<Annotation>,
    /// Every port call.
    pub calls: Vec<CallRecord>,
    /// Counter behind generated ids (deterministic: the same run makes the same ids).
    pub next_id: u64,
}

/// An EBS snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    /// The snapshot id.
    pub id: SnapshotId,
    /// The owning account.
    pub owner: AccountId,
    /// The volume it was taken from (for copies: the source's volume).
    pub volume_id: Option<VolumeId>,
    /// The instance the volume was attached to, if any.
    pub instance_id: Option<InstanceId>,
    /// Size of the source volume.
    pub size_gib: u64,
    /// Encrypted.
    pub encrypted: bool,
    /// KMS key.
    pub kms_key_id: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Description.
    pub description: String,
    /// When it was started.
    pub started_at: Timestamp,
    /// When it completes; `None` for a snapshot stuck pending (failure knob).
    pub completes_at: Option<Timestamp>,
    /// Accounts allowed to create volumes from it.
    pub shared_with: Vec<AccountId>,
    /// For copies: the source snapshot.
    pub source_snapshot: Option<SnapshotId>,
    /// For copies: the client token.
    pub client_token: Option<String>,
}

/// An SSM command and its (precomputed) outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandRecord {
    /// The command id.
    pub command_id: String,
    /// The account it was sent in.
    pub account: AccountId,
    /// The instance.
    pub instance_id: InstanceId,
    /// Document name.
    pub document: String,
    /// Parameters.
    pub parameters: BTreeMap<String, String>,
    /// Comment.
    pub comment: String,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// When the agent starts it (`Pending` before).
    pub starts_at: Timestamp,
    /// When it finishes (`InProgress` before).
    pub finishes_at: Timestamp,
    /// The final status.
    pub status: CommandStatus,
    /// Exit code.
    pub exit_code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// What the command does to the world when it finishes (uploads).
    pub effects: Vec<Effect>,
    /// Whether the effects have been applied.
    pub effects_applied: bool,
}

/// A change a command makes to the world when it finishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", deny_unknown_fields)]
pub enum Effect {
    /// A part PUT to a presigned multipart URL.
    #[serde(rename_all = "camelCase")]
    UploadPart {
        /// The upload.
        upload_id: String,
        /// 1-based part number.
        part_number: u32,
        /// Size in bytes.
        size_bytes: u64,
        /// Hex SHA-256 of the part.
        sha256: String,
        /// The part's bytes, for real outputs (reports, pod maps); `None` for synthetic images.
        #[serde(default, with = "crate::model::b64_opt")]
        bytes: Option<Vec<u8>>,
    },
    /// A whole object PUT to a presigned URL.
    #[serde(rename_all = "camelCase")]
    PutObject {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Content.
        #[serde(with = "crate::model::b64")]
        bytes: Vec<u8>,
        /// Content type.
        content_type: String,
    },
}

/// One version of an S3 object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectVersion {
    /// Version id.
    pub version_id: String,
    /// Content, for real objects; `None` for synthetic ones (memory images) that have a size and
    /// hashes but no bytes.
    #[serde(default, with = "crate::model::b64_opt")]
    pub bytes: Option<Vec<u8>>,
    /// Size.
    pub size_bytes: u64,
    /// Content type.
    pub content_type: String,
    /// S3's checksum (`base64` or composite `base64-N`).
    pub checksum_sha256: Option<String>,
    /// Hex SHA-256 of the whole object when known.
    pub sha256: Option<String>,
    /// When it was written.
    pub written_at: Timestamp,
}

/// Where a multipart upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UploadState {
    /// Parts may be uploaded.
    Open,
    /// Completed into an object.
    Completed,
    /// Aborted; its parts are gone.
    Aborted,
}

/// A multipart upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MultipartUpload {
    /// Upload id.
    pub upload_id: String,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Part size.
    pub part_size_bytes: u64,
    /// Number of part URLs presigned.
    pub part_count: u32,
    /// Parts received, by number.
    pub parts: BTreeMap<u32, UploadedPartRecord>,
    /// State.
    pub state: UploadState,
    /// When it started.
    pub created_at: Timestamp,
}

/// A part S3 received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadedPartRecord {
    /// Size.
    pub size_bytes: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// ETag S3 returned.
    pub etag: String,
    /// The bytes, when the part has real content.
    #[serde(default, with = "crate::model::b64_opt")]
    pub bytes: Option<Vec<u8>>,
}

/// An SNS message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishedNotification {
    /// Message id.
    pub message_id: String,
    /// When.
    pub at: Timestamp,
    /// The message.
    pub notification: Notification,
}

/// A Security Hub `BatchUpdateFindings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Annotation {
    /// When.
    pub at: Timestamp,
    /// The findings.
    pub findings: Vec<FindingRef>,
    /// The note.
    pub note: String,
    /// The workflow status.
    pub status: WorkflowStatus,
}

/// Key of a case in [`Runtime::cases`].
pub fn case_key(id: &CaseId) -> String {
    id.as_str().to_string()
}
