//! The evidence bucket (S3, Object Lock): where every artefact of a case is kept.
//!
//! Keys are relative to the bucket and always under `cases/<case-id>/`; the adapter refuses others.
//! Hosts never get credentials: they get presigned, single-object, short-lived URLs.
//!
//! # Integrity of what hosts upload
//! A host's multipart upload is created WITHOUT a checksum algorithm: its part URLs are presigned
//! before the bytes exist, so no `x-amz-checksum-*` header can be among their signed headers, and
//! S3 refuses parts of a SHA-256 upload that carry none. Each part PUT carries `Content-MD5`, which
//! S3 checks (`BadDigest`). Before completing, the step lists the parts S3 holds
//! ([`EvidenceStore::list_parts`]) and requires them to be exactly the parts the host reported
//! (numbers, sizes, ETags); after completing, it heads the object (size, Object Lock retention).
//! The whole-object and per-part SHA-256 of such an upload are the host's, and are recorded as
//! such: S3 never computed them.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::Sha256Digest;
use serde::{Deserialize, Serialize};

/// An object as stored, with what S3 itself says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredObject {
    /// `s3://bucket/key`.
    pub location: String,
    /// The object version (the bucket is versioned; evidence is cited by version).
    pub version_id: Option<String>,
    /// Size in bytes.
    pub size_bytes: u64,
    /// S3's SHA-256 checksum as S3 reports it: base64 of the digest for single-part objects, or the
    /// composite `base64-N` form for multipart uploads (checksum of the parts' checksums).
    pub checksum_sha256: Option<String>,
    /// The full-object SHA-256 when custody knows it (computed while writing it, or verified).
    pub sha256: Option<Sha256Digest>,
    /// The Object Lock mode on this version (`GOVERNANCE` or `COMPLIANCE`), as S3 reports it;
    /// `None` when S3 reports none (the object is not locked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_mode: Option<String>,
    /// Until when this version is retained (RFC 3339), as S3 reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_until: Option<String>,
}

/// A multipart upload prepared for a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    /// The S3 upload id.
    pub upload_id: String,
    /// Presigned PUT URL of each part, part 1 first.
    pub part_urls: Vec<String>,
    /// Part size in bytes (the last part may be shorter).
    pub part_size_bytes: u64,
}

/// A part the host uploaded, as it reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedPart {
    /// 1-based part number.
    pub part_number: u32,
    /// The ETag S3 returned for it, quoted or not (see [`etag_unquoted`]).
    pub etag: String,
    /// SHA-256 of the part's bytes, computed by the host. S3 never sees it (the upload has no
    /// checksum algorithm): it is the host's record, kept with the evidence.
    pub sha256: Sha256Digest,
    /// Size of the part.
    pub size_bytes: u64,
}

/// A part as S3 itself lists it for an open multipart upload (ListParts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedPart {
    /// 1-based part number.
    pub part_number: u32,
    /// The ETag S3 holds for it, as S3 spells it (normally quoted).
    pub etag: String,
    /// Size of the part S3 holds.
    pub size_bytes: u64,
}

/// An ETag without its surrounding double quotes (and surrounding whitespace).
///
/// S3 returns ETags quoted (`"9b2c…"`), the host scripts report them unquoted and the simulated
/// hosts quoted; every comparison of ETags goes through this one function so the spelling never
/// decides whether evidence verifies.
pub fn etag_unquoted(etag: &str) -> &str {
    let t = etag.trim();
    t.strip_prefix('"')
        .and_then(|u| u.strip_suffix('"'))
        .unwrap_or(t)
}

/// Which bucket a presigned GET is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// The evidence bucket.
    Evidence,
    /// The artifacts bucket (LiME modules, AVML).
    Artifacts,
}

/// The evidence bucket and the artifacts bucket.
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Writes a small object (a JSON document, a report), with its SHA-256 checksum (which S3
    /// verifies on arrival, so the returned `sha256` is S3-verified) and the bucket's Object Lock
    /// retention. Writing the same bytes twice is harmless (a new version, same hash).
    async fn put_object(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<StoredObject, StepError>;

    /// Reads a small object back (a host's upload, to hash and parse it).
    async fn get_object(&self, key: &str) -> Result<Vec<u8>, StepError>;

    /// Head of an object; `None` when it does not exist.
    async fn head_object(
        &self,
        bucket: Bucket,
        key: &str,
    ) -> Result<Option<StoredObject>, StepError>;

    /// Starts a multipart upload (no checksum algorithm: see the module doc) with the evidence
    /// Object Lock retention, and presigns one PUT URL per part (only `host` signed; the host
    /// adds `Content-MD5`, which S3 checks).
    async fn begin_upload(
        &self,
        key: &str,
        part_size_bytes: u64,
        part_count: u32,
        expires_in_seconds: u64,
    ) -> Result<UploadTicket, StepError>;

    /// The parts S3 holds for an open upload, in part order (every page).
    ///
    /// # Errors
    /// `Custody.NotFound` when the upload is unknown (completed, aborted or never created).
    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<ListedPart>, StepError>;

    /// Completes a multipart upload with these parts' numbers and ETags (S3 refuses an ETag it
    /// does not hold). The parts' `sha256` is not sent. The step checks the parts against
    /// [`Self::list_parts`] first and heads the object afterwards.
    async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<StoredObject, StepError>;

    /// Abandons a multipart upload (failed capture), so no partial object remains.
    async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StepError>;

    /// A presigned PUT URL for one object in the evidence bucket.
    async fn presign_put(&self, key: &str, expires_in_seconds: u64) -> Result<String, StepError>;

    /// A presigned GET URL for one object.
    async fn presign_get(
        &self,
        bucket: Bucket,
        key: &str,
        expires_in_seconds: u64,
    ) -> Result<String, StepError>;
}

/// Capabilities of [`EvidenceStore`].
pub mod ops {
    use crate::capability::{Capability, PortName::EvidenceStore as P};

    /// [`super::EvidenceStore::put_object`]
    /// (PutObjectRetention: the Object Lock retention is set on the request itself.)
    pub const PUT_OBJECT: Capability =
        Capability::mutate(P, "put_object", &["s3:PutObject", "s3:PutObjectRetention"]);
    /// [`super::EvidenceStore::get_object`]
    pub const GET_OBJECT: Capability = Capability::read(P, "get_object", &["s3:GetObject"]);
    /// [`super::EvidenceStore::head_object`] (ListBucket lets a missing key answer 404, not 403).
    pub const HEAD_OBJECT: Capability =
        Capability::read(P, "head_object", &["s3:GetObject", "s3:ListBucket"]);
    /// [`super::EvidenceStore::begin_upload`]
    /// (PutObjectRetention: the Object Lock retention is set when the upload is created.)
    pub const BEGIN_UPLOAD: Capability = Capability::mutate(
        P,
        "begin_upload",
        &["s3:PutObject", "s3:PutObjectRetention"],
    );
    /// [`super::EvidenceStore::list_parts`]
    pub const LIST_PARTS: Capability =
        Capability::read(P, "list_parts", &["s3:ListMultipartUploadParts"]);
    /// [`super::EvidenceStore::complete_upload`] (PutObjectRetention: the retention is confirmed
    /// on the completed version.)
    pub const COMPLETE_UPLOAD: Capability = Capability::mutate(
        P,
        "complete_upload",
        &["s3:PutObject", "s3:PutObjectRetention"],
    );
    /// [`super::EvidenceStore::abort_upload`]
    pub const ABORT_UPLOAD: Capability =
        Capability::mutate(P, "abort_upload", &["s3:AbortMultipartUpload"]);
    /// [`super::EvidenceStore::presign_put`] (a presigned URL carries the signer's permission).
    pub const PRESIGN_PUT: Capability = Capability::mutate(P, "presign_put", &["s3:PutObject"]);
    /// [`super::EvidenceStore::presign_get`]
    pub const PRESIGN_GET: Capability = Capability::read(P, "presign_get", &["s3:GetObject"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[
        &PUT_OBJECT,
        &GET_OBJECT,
        &HEAD_OBJECT,
        &BEGIN_UPLOAD,
        &LIST_PARTS,
        &COMPLETE_UPLOAD,
        &ABORT_UPLOAD,
        &PRESIGN_PUT,
        &PRESIGN_GET,
    ];
}
