//! The evidence bucket (S3 with Object Lock) and the artifacts bucket.
//!
//! Every object carries an Object Lock retention set on the request itself (not only the bucket
//! default), so evidence cannot be deleted or overwritten for the configured period whatever the
//! bucket's settings. Hosts never get credentials: they get presigned URLs for one key (one part)
//! that expire soon.
//!
//! # What S3 verifies, and what it does not
//! - Objects custody writes itself ([`EvidenceStore::put_object`]: reports, manifests, the pod
//!   map) carry `x-amz-checksum-sha256`, signed by the SDK with the real value: S3 verifies the
//!   SHA-256 on arrival, so their digest is S3-verified.
//! - Host uploads ([`EvidenceStore::begin_upload`]) are multipart uploads created WITHOUT a
//!   checksum algorithm. Their part URLs are presigned before the bytes exist, so only `host` is
//!   signed. Real S3 refuses the alternatives: parts of an upload created with
//!   `ChecksumAlgorithm=SHA256` must carry a checksum header (400 "Checksum Type mismatch"), and an
//!   `x-amz-checksum-*` header that is not among a presigned URL's signed headers is refused (403
//!   `HeadersNotSigned`); the host has no credentials to sign one after hashing a part. Each part
//!   PUT carries `Content-MD5` instead, which S3 checks (`BadDigest`), so per-part transfer
//!   integrity is enforced by S3. Before completing, the step compares S3's part list
//!   ([`EvidenceStore::list_parts`]: numbers, sizes, ETags) with the host's report; after, it heads
//!   the object (size, retention). The SHA-256 of such an object is the host's: S3 never computed
//!   it, and the evidence record says so (`digestSource: source-host`).
//! - moto (the test server) checks none of S3's checksum or `Content-MD5` rules; the tests prove
//!   the bytes, the part lists and the reported hashes, not S3's request validation.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, ObjectLockMode,
    ObjectLockRetention, ObjectLockRetentionMode,
};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::Sha256Digest;
use custody_steps::ports::{
    Bucket, EvidenceStore, ListedPart, StoredObject, UploadTicket, UploadedPart,
};

mod checksum;

pub use checksum::checksum_of;
use checksum::{quoted_etag, whole_object_sha256};

use crate::config::LockMode;
use crate::error::{invalid, sdk_error, step_error};

/// The largest object [`EvidenceStore::get_object`] reads into memory.
pub const MAX_GET_BYTES: u64 = 64 * 1024 * 1024;
/// The longest lifetime of a presigned URL custody hands out.
pub const MAX_PRESIGN_SECONDS: u64 = 12 * 3600;
/// S3's smallest part (all but the last).
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// S3's largest part.
const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// S3's most parts per upload.
const MAX_PARTS: u32 = 10_000;

/// The evidence and artifacts buckets of the forensic account.
#[derive(Debug, Clone)]
pub struct S3Evidence {
    client: aws_sdk_s3::Client,
    evidence_bucket: String,
    artifacts_bucket: String,
    lock_mode: LockMode,
    lock_days: u32,
}

impl S3Evidence {
    /// Writes to `evidence_bucket` with `lock_mode` retention for `lock_days`; reads modules
    /// and tools from `artifacts_bucket`.
    pub fn new(
        client: aws_sdk_s3::Client,
        evidence_bucket: impl Into<String>,
        artifacts_bucket: impl Into<String>,
        lock_mode: LockMode,
        lock_days: u32,
    ) -> Self {
        Self {
            client,
            evidence_bucket: evidence_bucket.into(),
            artifacts_bucket: artifacts_bucket.into(),
            lock_mode,
            lock_days,
        }
    }

    fn bucket(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Evidence => &self.evidence_bucket,
            Bucket::Artifacts => &self.artifacts_bucket,
        }
    }

    fn location(&self, bucket: Bucket, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket(bucket))
    }

    fn lock_mode(&self) -> ObjectLockMode {
        match self.lock_mode {
            LockMode::Governance => ObjectLockMode::Governance,
            LockMode::Compliance => ObjectLockMode::Compliance,
        }
    }

    /// A written object's location, with the retention its request set (S3 accepted it, or the
    /// request would have failed).
    fn written(
        &self,
        context: &str,
        key: &str,
        version_id: Option<&str>,
        size_bytes: u64,
        until: &DateTime,
    ) -> StoredObject {
        StoredObject {
            location: self.location(Bucket::Evidence, key),
            version_id: version_id.map(str::to_owned),
            size_bytes,
            checksum_sha256: None,
            sha256: None,
            lock_mode: Some(self.lock_mode().as_str().to_owned()),
            retain_until: rfc3339(context, until),
        }
    }

    /// When the retention of an object written now ends.
    fn retain_until(&self) -> DateTime {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        DateTime::from_secs(now.saturating_add(i64::from(self.lock_days) * 86_400))
    }
}

/// Refuses keys that are not safe, plain S3 keys; evidence keys must be under `cases/`.
pub fn check_key(bucket: Bucket, key: &str) -> Result<(), StepError> {
    let bad = |why: &str| Err(invalid(format!("S3 key {key:?} refused: {why}")));
    if key.is_empty() || key.len() > 1024 {
        return bad("keys are 1-1024 bytes");
    }
    if bucket == Bucket::Evidence && !key.starts_with("cases/") {
        return bad("evidence keys must start with \"cases/\"");
    }
    if key.starts_with('/') || key.contains("//") || key.split('/').any(|s| s == "." || s == "..") {
        return bad("empty, \".\" and \"..\" segments are not allowed");
    }
    if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!-_.*'()/+=@,:".contains(c))
    {
        return bad("only letters, digits and !-_.*'()/+=@,: are allowed");
    }
    Ok(())
}

fn check_expiry(expires_in_seconds: u64) -> Result<PresigningConfig, StepError> {
    if !(1..=MAX_PRESIGN_SECONDS).contains(&expires_in_seconds) {
        return Err(invalid(format!(
            "presigned URLs live 1-{MAX_PRESIGN_SECONDS} s, {expires_in_seconds} s asked"
        )));
    }
    PresigningConfig::expires_in(Duration::from_secs(expires_in_seconds))
        .map_err(|e| invalid(format!("presigning for {expires_in_seconds} s: {e}")))
}

fn rfc3339(context: &str, at: &DateTime) -> Option<String> {
    at.fmt(aws_smithy_types::date_time::Format::DateTime)
        .map_err(|e| tracing::warn!(%context, error = %e, "unprintable retain-until date"))
        .ok()
}

fn size(context: &str, length: Option<i64>) -> u64 {
    length
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or_else(|| {
            tracing::warn!(%context, "S3 reported no content length");
            0
        })
}

#[async_trait]
impl EvidenceStore for S3Evidence {
    async fn put_object(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<StoredObject, StepError> {
        check_key(Bucket::Evidence, key)?;
        let context = format!("s3:PutObject {}", self.location(Bucket::Evidence, key));
        let digest = Sha256Digest::of(bytes);
        let checksum = checksum_of(&digest)?;
        let until = self.retain_until();
        let out = self
            .client
            .put_object()
            .bucket(&self.evidence_bucket)
            .key(key)
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(&checksum)
            .object_lock_mode(self.lock_mode())
            .object_lock_retain_until_date(until)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(StoredObject {
            checksum_sha256: Some(out.checksum_sha256().unwrap_or(&checksum).to_owned()),
            sha256: Some(digest),
            ..self.written(&context, key, out.version_id(), bytes.len() as u64, &until)
        })
    }

    async fn get_object(&self, key: &str) -> Result<Vec<u8>, StepError> {
        check_key(Bucket::Evidence, key)?;
        let context = format!("s3:GetObject {}", self.location(Bucket::Evidence, key));
        let out = self
            .client
            .get_object()
            .bucket(&self.evidence_bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        let length = size(&context, out.content_length());
        if length > MAX_GET_BYTES {
            return Err(invalid(format!(
                "{context}: the object is {length} bytes, more than the {MAX_GET_BYTES} read into memory"
            )));
        }
        let body = out.body.collect().await.map_err(|e| {
            step_error(
                ErrorName::ServiceUnavailable,
                format!("{context}: reading the body: {e}"),
                None,
                None,
            )
        })?;
        Ok(body.into_bytes().to_vec())
    }

    async fn head_object(
        &self,
        bucket: Bucket,
        key: &str,
    ) -> Result<Option<StoredObject>, StepError> {
        check_key(bucket, key)?;
        let context = format!("s3:HeadObject {}", self.location(bucket, key));
        let out = match self
            .client
            .head_object()
            .bucket(self.bucket(bucket))
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return match sdk_error(&context, e) {
                    absent if absent.name == ErrorName::NotFound => Ok(None),
                    other => Err(other),
                };
            }
        };
        Ok(Some(StoredObject {
            location: self.location(bucket, key),
            version_id: out.version_id().map(str::to_owned),
            size_bytes: size(&context, out.content_length()),
            checksum_sha256: out.checksum_sha256().map(str::to_owned),
            sha256: whole_object_sha256(out.checksum_sha256(), out.checksum_type(), out.e_tag()),
            lock_mode: out.object_lock_mode().map(|m| m.as_str().to_owned()),
            retain_until: out
                .object_lock_retain_until_date()
                .and_then(|d| rfc3339(&context, d)),
        }))
    }

    async fn begin_upload(
        &self,
        key: &str,
        part_size_bytes: u64,
        part_count: u32,
        expires_in_seconds: u64,
    ) -> Result<UploadTicket, StepError> {
        check_key(Bucket::Evidence, key)?;
        let context = format!(
            "s3:CreateMultipartUpload {}",
            self.location(Bucket::Evidence, key)
        );
        if !(1..=MAX_PARTS).contains(&part_count) {
            return Err(invalid(format!(
                "{context}: {part_count} parts asked, S3 takes 1-{MAX_PARTS}"
            )));
        }
        if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&part_size_bytes) {
            return Err(invalid(format!(
                "{context}: parts of {part_size_bytes} bytes asked, S3 takes {MIN_PART_BYTES}-{MAX_PART_BYTES}"
            )));
        }
        let presigning = check_expiry(expires_in_seconds)?;
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.evidence_bucket)
            .key(key)
            .content_type("application/octet-stream")
            // No checksum algorithm: see the module doc (the parts carry Content-MD5).
            .object_lock_mode(self.lock_mode())
            .object_lock_retain_until_date(self.retain_until())
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        let upload_id = out
            .upload_id()
            .ok_or_else(|| crate::error::missing(&context, "upload id"))?
            .to_owned();
        let mut part_urls = Vec::with_capacity(part_count as usize);
        for part in 1..=part_count {
            let presigned = self
                .client
                .upload_part()
                .bucket(&self.evidence_bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(
                    i32::try_from(part).map_err(|_| invalid(format!("{context}: part {part}")))?,
                )
                .presigned(presigning.clone())
                .await
                .map_err(|e| sdk_error(format!("presigning part {part} of {context}"), e))?;
            part_urls.push(presigned.uri().to_owned());
        }
        Ok(UploadTicket {
            upload_id,
            part_urls,
            part_size_bytes,
        })
    }

    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<ListedPart>, StepError> {
        check_key(Bucket::Evidence, key)?;
        let context = format!("s3:ListParts {}", self.location(Bucket::Evidence, key));
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_parts()
                .bucket(&self.evidence_bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await
                .map_err(|e| sdk_error(&context, e))?;
            for p in out.parts() {
                let number = p
                    .part_number()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| crate::error::missing(&context, "part number"))?;
                parts.push(ListedPart {
                    part_number: number,
                    etag: p
                        .e_tag()
                        .ok_or_else(|| crate::error::missing(&context, "part ETag"))?
                        .to_owned(),
                    size_bytes: size(&context, p.size()),
                });
            }
            match (out.is_truncated(), out.next_part_number_marker()) {
                (Some(true), Some(next)) if Some(next) != marker.as_deref() => {
                    marker = Some(next.to_owned());
                }
                (Some(true), _) => {
                    return Err(crate::error::missing(&context, "next part number marker"));
                }
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(parts)
    }

    async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<StoredObject, StepError> {
        check_key(Bucket::Evidence, key)?;
        let context = format!(
            "s3:CompleteMultipartUpload {}",
            self.location(Bucket::Evidence, key)
        );
        if parts.is_empty() {
            return Err(invalid(format!("{context}: no parts")));
        }
        for (i, part) in parts.iter().enumerate() {
            if part.part_number as usize != i + 1 {
                return Err(invalid(format!(
                    "{context}: parts must be numbered 1..={} in order, found {} at position {}",
                    parts.len(),
                    part.part_number,
                    i + 1
                )));
            }
        }
        let mut completed = Vec::with_capacity(parts.len());
        for part in parts {
            completed.push(
                CompletedPart::builder()
                    .part_number(
                        i32::try_from(part.part_number)
                            .map_err(|_| invalid(format!("{context}: part number")))?,
                    )
                    .e_tag(quoted_etag(&part.etag))
                    .build(),
            );
        }
        let out = self
            .client
            .complete_multipart_upload()
            .bucket(&self.evidence_bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        // The retention asked for at creation applies to the completed object; it is set again
        // on the exact version so that a lock is there whatever the bucket or endpoint did with
        // the creation headers (retention can be extended, never shortened, so this is safe).
        let until = self.retain_until();
        let retention = ObjectLockRetention::builder()
            .mode(match self.lock_mode {
                LockMode::Governance => ObjectLockRetentionMode::Governance,
                LockMode::Compliance => ObjectLockRetentionMode::Compliance,
            })
            .retain_until_date(until)
            .build();
        self.client
            .put_object_retention()
            .bucket(&self.evidence_bucket)
            .key(key)
            .set_version_id(out.version_id().map(str::to_owned))
            .retention(retention)
            .send()
            .await
            .map_err(|e| sdk_error(format!("s3:PutObjectRetention after {context}"), e))?;
        Ok(self.written(
            &context,
            key,
            out.version_id(),
            parts.iter().map(|p| p.size_bytes).sum(),
            &until,
        ))
    }

    async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StepError> {
        check_key(Bucket::Evidence, key)?;
        let context = format!(
            "s3:AbortMultipartUpload {}",
            self.location(Bucket::Evidence, key)
        );
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.evidence_bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match sdk_error(&context, e) {
                gone if gone.name == ErrorName::NotFound => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn presign_put(&self, key: &str, expires_in_seconds: u64) -> Result<String, StepError> {
        check_key(Bucket::Evidence, key)?;
        let context = format!(
            "presigning s3:PutObject {}",
            self.location(Bucket::Evidence, key)
        );
        let presigning = check_expiry(expires_in_seconds)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.evidence_bucket)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(presigned.uri().to_owned())
    }

    async fn presign_get(
        &self,
        bucket: Bucket,
        key: &str,
        expires_in_seconds: u64,
    ) -> Result<String, StepError> {
        check_key(bucket, key)?;
        let context = format!("presigning s3:GetObject {}", self.location(bucket, key));
        let presigning = check_expiry(expires_in_seconds)?;
        let presigned = self
            .client
            .get_object()
            .bucket(self.bucket(bucket))
            .key(key)
            .presigned(presigning)
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(presigned.uri().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_keys_must_be_under_cases() {
        assert!(check_key(Bucket::Evidence, "cases/case-01J/memory/i-0abc.lime").is_ok());
        assert!(check_key(Bucket::Artifacts, "modules/lime/6.1.0-amd64.ko").is_ok());
        for bad in [
            "memory/i-0abc.lime",
            "cases/../other",
            "cases//x",
            "/cases/x",
            "cases/x\ny",
            "cases/$(reboot)",
            "",
        ] {
            let err = check_key(Bucket::Evidence, bad).unwrap_err();
            assert_eq!(err.name, ErrorName::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn presign_lifetimes_are_short() {
        assert!(check_expiry(3600).is_ok());
        assert!(check_expiry(0).is_err());
        assert!(check_expiry(MAX_PRESIGN_SECONDS + 1).is_err());
    }
}
