//! Evidence items: what was taken, where it is, and how to prove it is unchanged.

use serde::{Deserialize, Serialize};

use crate::id::{Sha256Digest, Timestamp};

/// What kind of evidence an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EvidenceKind {
    /// A memory image of an instance (LiME or AVML format).
    MemoryImage,
    /// Which host process ids belong to which pod's containers, taken from the node.
    PodPidMap,
    /// Volatile host state (processes, connections, mounts) captured alongside memory.
    HostState,
    /// The instance's EC2 metadata at acquisition time.
    InstanceMetadata,
    /// An EBS snapshot of a volume (shared to or copied into the forensic account).
    EbsSnapshot,
    /// Output of the investigation (memory analysis, disk timeline).
    InvestigationOutput,
}

impl EvidenceKind {
    /// The prefix of deterministic evidence ids of this kind.
    pub fn id_prefix(self) -> &'static str {
        match self {
            EvidenceKind::MemoryImage => "memory",
            EvidenceKind::PodPidMap => "pod-pid-map",
            EvidenceKind::HostState => "host-state",
            EvidenceKind::InstanceMetadata => "instance-metadata",
            EvidenceKind::EbsSnapshot => "snapshot",
            EvidenceKind::InvestigationOutput => "investigation",
        }
    }

    /// The deterministic id of this kind of evidence of `resource`, e.g. `memory/i-0abc…`,
    /// `snapshot/snap-…`, `pod-pid-map/<node>`. Deterministic so that a retried step records
    /// the same item rather than a second one.
    pub fn evidence_id(self, resource: &str) -> String {
        format!("{}/{resource}", self.id_prefix())
    }
}

/// Who computed an evidence item's [`Evidence::sha256`], so that no record or report claims S3
/// verified a digest it never computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestSource {
    /// The host that produced the bytes hashed them while streaming them (a suspect node's
    /// memory capture, the forensic workstation's analysis output). S3 checked each part's
    /// `Content-MD5` on arrival and custody checked S3's part list against the host's report,
    /// but S3 never computed this SHA-256: it is as trustworthy as that host, and the
    /// investigation re-hashes what it reads.
    SourceHost,
    /// Custody itself wrote the object with an `x-amz-checksum-sha256` that S3 verified on
    /// arrival.
    S3,
}

impl DigestSource {
    /// How the timeline and reports say where the digest comes from.
    pub fn describe(self) -> &'static str {
        match self {
            DigestSource::SourceHost => "computed by the source host, not by S3",
            DigestSource::S3 => "verified by S3 on upload",
        }
    }
}

/// One item of evidence in the chain of custody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Deterministic id (see [`EvidenceKind::evidence_id`]).
    pub id: String,
    /// What it is.
    pub kind: EvidenceKind,
    /// What it was taken from (instance id, volume id, node name).
    pub resource: String,
    /// Where it is: `s3://bucket/key` or an ARN (snapshots).
    pub location: String,
    /// SHA-256 of the content, when it is a byte stream custody can hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
    /// Who computed [`Self::sha256`]; `None` when there is no digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_source: Option<DigestSource>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// When it was taken.
    pub taken_at: Timestamp,
    /// The step that took it.
    pub taken_by: String,
    /// The tool or method (`lime`, `avml`, `ebs-snapshot`, `crictl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Anything else worth keeping (command ids, upload ids, object versions).
    #[serde(default)]
    pub details: serde_json::Value,
}
