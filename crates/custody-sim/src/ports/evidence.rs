//! [`EvidenceStore`] over the world's S3: the evidence bucket (keys under `cases/<case-id>/`
//! only) and the artifacts bucket.
//!
//! Like custody-aws against real S3: host uploads have no checksum algorithm, so a completed
//! multipart object has no SHA-256 checksum and no known full-object hash; completion checks part
//! numbers, order and ETags (quotes ignored), as S3 does; every evidence object is retained under
//! the simulated bucket's default Object Lock ([`s3::evidence_retention`]).

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::Sha256Digest;
use custody_steps::ports::ops::evidence as ops;
use custody_steps::ports::{
    Bucket, EvidenceStore, ListedPart, StoredObject, UploadTicket, UploadedPart, etag_unquoted,
};

use super::SimAccount;
use crate::errs;
use crate::model::{MultipartUpload, ObjectVersion, UploadState};
use crate::s3;
use crate::time::{millis, plus};
use crate::world::Ctx;

/// S3's minimum size of every part but the last.
pub(crate) const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// S3's maximum number of parts.
const MAX_PARTS: u32 = 10_000;
/// S3's maximum presign lifetime (SigV4: seven days).
const MAX_PRESIGN_SECONDS: u64 = 7 * 24 * 3600;

fn stored(bucket: &str, key: &str, v: &ObjectVersion, evidence: bool) -> StoredObject {
    let (lock_mode, retain_until) = if evidence {
        let (mode, until) = s3::evidence_retention(&v.written_at);
        (Some(mode.to_owned()), Some(until))
    } else {
        (None, None)
    };
    StoredObject {
        lock_mode,
        retain_until,
        location: s3::location(bucket, key),
        version_id: Some(v.version_id.clone()),
        size_bytes: v.size_bytes,
        checksum_sha256: v.checksum_sha256.clone(),
        sha256: v
            .sha256
            .as_deref()
            .and_then(|h| Sha256Digest::parse(h).ok()),
    }
}

fn bucket_name(cx: &Ctx<'_>, bucket: Bucket) -> String {
    match bucket {
        Bucket::Evidence => cx.st.settings.evidence_bucket.clone(),
        Bucket::Artifacts => cx.st.settings.artifacts_bucket.clone(),
    }
}

fn check_key(key: &str) -> Result<(), StepError> {
    match s3::evidence_key_problem(key) {
        Some(problem) => Err(errs::invalid("InvalidKey", problem)),
        None => Ok(()),
    }
}

fn check_expiry(seconds: u64) -> Result<(), StepError> {
    if seconds == 0 || seconds > MAX_PRESIGN_SECONDS {
        return Err(errs::invalid(
            "AuthorizationQueryParametersError",
            format!("presigned URL lifetime {seconds}s is not within 1s..7 days"),
        ));
    }
    Ok(())
}

fn expires_ms(cx: &Ctx<'_>, seconds: u64) -> i64 {
    millis(&plus(&cx.now, seconds as f64))
}

#[async_trait]
impl EvidenceStore for SimAccount {
    async fn put_object(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<StoredObject, StepError> {
        self.call(&ops::PUT_OBJECT, vec![key.to_string()], |cx| {
            check_key(key)?;
            let bucket = bucket_name(cx, Bucket::Evidence);
            let now = cx.now;
            let v = s3::write_object(cx.st, &bucket, key, bytes.to_vec(), content_type, &now);
            Ok(stored(&bucket, key, &v, true))
        })
    }

    async fn get_object(&self, key: &str) -> Result<Vec<u8>, StepError> {
        self.call(&ops::GET_OBJECT, vec![key.to_string()], |cx| {
            let bucket = bucket_name(cx, Bucket::Evidence);
            let v = s3::head(cx.st, &bucket, key)
                .ok_or_else(|| errs::not_found("NoSuchKey", format!("no object {key:?} in the evidence bucket")))?;
            v.bytes.clone().ok_or_else(|| {
                errs::unsupported(
                    "InvalidRequest",
                    format!(
                        "object {key:?} is a synthetic {}-byte image: the simulated world keeps its size and hashes, not its bytes",
                        v.size_bytes
                    ),
                )
            })
        })
    }

    async fn head_object(
        &self,
        bucket: Bucket,
        key: &str,
    ) -> Result<Option<StoredObject>, StepError> {
        self.call(&ops::HEAD_OBJECT, vec![key.to_string()], |cx| {
            let name = bucket_name(cx, bucket);
            Ok(s3::head(cx.st, &name, key)
                .map(|v| stored(&name, key, v, bucket == Bucket::Evidence)))
        })
    }

    async fn begin_upload(
        &self,
        key: &str,
        part_size_bytes: u64,
        part_count: u32,
        expires_in_seconds: u64,
    ) -> Result<UploadTicket, StepError> {
        self.call(&ops::BEGIN_UPLOAD, vec![key.to_string()], |cx| {
            check_key(key)?;
            check_expiry(expires_in_seconds)?;
            if part_count == 0 || part_count > MAX_PARTS {
                return Err(errs::invalid(
                    "InvalidArgument",
                    format!("{part_count} parts is not within 1..=10000"),
                ));
            }
            if part_size_bytes < MIN_PART_BYTES && part_count > 1 {
                return Err(errs::invalid(
                    "EntityTooSmall",
                    format!("part size {part_size_bytes} is below S3's 5 MiB minimum"),
                ));
            }
            let bucket = bucket_name(cx, Bucket::Evidence);
            let upload_id = cx.fresh_hex("upload", 40);
            let expires = expires_ms(cx, expires_in_seconds);
            let part_urls = (1..=part_count)
                .map(|n| s3::presign("PUT", &bucket, key, expires, Some((&upload_id, n))))
                .collect();
            cx.st.runtime.uploads.push(MultipartUpload {
                upload_id: upload_id.clone(),
                bucket,
                key: key.to_string(),
                part_size_bytes,
                part_count,
                parts: Default::default(),
                state: UploadState::Open,
                created_at: cx.now,
            });
            Ok(UploadTicket {
                upload_id,
                part_urls,
                part_size_bytes,
            })
        })
    }

    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<ListedPart>, StepError> {
        self.call(&ops::LIST_PARTS, vec![key.to_string()], |cx| {
            let up = cx
                .st
                .runtime
                .uploads
                .iter()
                .find(|u| u.upload_id == upload_id && u.key == key && u.state == UploadState::Open)
                .ok_or_else(|| {
                    errs::not_found(
                        "NoSuchUpload",
                        format!("no open upload {upload_id:?} for {key:?}"),
                    )
                })?;
            Ok(up
                .parts
                .iter()
                .map(|(n, p)| ListedPart {
                    part_number: *n,
                    etag: p.etag.clone(),
                    size_bytes: p.size_bytes,
                })
                .collect())
        })
    }

    async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<StoredObject, StepError> {
        self.call(&ops::COMPLETE_UPLOAD, vec![key.to_string()], |cx| {
            let up = cx
                .st
                .runtime
                .uploads
                .iter()
                .find(|u| u.upload_id == upload_id && u.key == key && u.state == UploadState::Open)
                .cloned()
                .ok_or_else(|| {
                    errs::not_found(
                        "NoSuchUpload",
                        format!("no open upload {upload_id:?} for {key:?}"),
                    )
                })?;
            if parts.is_empty() {
                return Err(errs::invalid(
                    "MalformedXML",
                    "a multipart upload completes with at least one part",
                ));
            }
            let mut size = 0u64;
            for (i, p) in parts.iter().enumerate() {
                if i > 0
                    && parts
                        .get(i - 1)
                        .is_some_and(|prev| prev.part_number >= p.part_number)
                {
                    return Err(errs::invalid(
                        "InvalidPartOrder",
                        "parts must be listed in ascending order",
                    ));
                }
                let got = up.parts.get(&p.part_number).ok_or_else(|| {
                    errs::invalid(
                        "InvalidPart",
                        format!("part {} was never uploaded", p.part_number),
                    )
                })?;
                // S3 compares the ETag (quoted or not); with no checksum algorithm on the
                // upload, the part's SHA-256 is not sent, so it cannot be compared here.
                if etag_unquoted(&got.etag) != etag_unquoted(&p.etag) {
                    return Err(errs::invalid(
                        "InvalidPart",
                        format!(
                            "part {}: the ETag given does not match the part S3 holds",
                            p.part_number
                        ),
                    ));
                }
                if got.size_bytes != p.size_bytes {
                    return Err(errs::invalid(
                        "InvalidPart",
                        format!(
                            "part {}: size {} given, {} received",
                            p.part_number, p.size_bytes, got.size_bytes
                        ),
                    ));
                }
                if i + 1 < parts.len() && got.size_bytes < MIN_PART_BYTES {
                    return Err(errs::invalid(
                        "EntityTooSmall",
                        format!("part {} is below 5 MiB", p.part_number),
                    ));
                }
                size += got.size_bytes;
            }
            let now = cx.now;
            let content: Option<Vec<u8>> = parts
                .iter()
                .map(|p| up.parts.get(&p.part_number).and_then(|r| r.bytes.clone()))
                .collect::<Option<Vec<Vec<u8>>>>()
                .map(|chunks| chunks.concat());
            let v = match content {
                Some(bytes) => {
                    let mut v = s3::write_object(
                        cx.st,
                        &up.bucket,
                        key,
                        bytes,
                        "application/octet-stream",
                        &now,
                    );
                    // An upload without a checksum algorithm: S3 knows no checksum of the object,
                    // and no full-object hash.
                    v.checksum_sha256 = None;
                    v.sha256 = None;
                    if let Some(slot) = cx
                        .st
                        .runtime
                        .objects
                        .get_mut(&s3::location(&up.bucket, key))
                        .and_then(|vs| vs.last_mut())
                    {
                        slot.checksum_sha256 = None;
                        slot.sha256 = None;
                    }
                    v
                }
                None => s3::write_synthetic(cx.st, &up.bucket, key, size, None, None, &now),
            };
            for u in cx
                .st
                .runtime
                .uploads
                .iter_mut()
                .filter(|u| u.upload_id == upload_id)
            {
                u.state = UploadState::Completed;
            }
            Ok(stored(&up.bucket, key, &v, true))
        })
    }

    async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), StepError> {
        self.call(&ops::ABORT_UPLOAD, vec![key.to_string()], |cx| {
            let up = cx
                .st
                .runtime
                .uploads
                .iter_mut()
                .find(|u| u.upload_id == upload_id && u.key == key)
                .ok_or_else(|| {
                    errs::not_found(
                        "NoSuchUpload",
                        format!("no upload {upload_id:?} for {key:?}"),
                    )
                })?;
            match up.state {
                UploadState::Completed => Err(errs::invalid(
                    "NoSuchUpload",
                    format!("upload {upload_id:?} was already completed"),
                )),
                UploadState::Open | UploadState::Aborted => {
                    up.state = UploadState::Aborted;
                    up.parts.clear();
                    Ok(())
                }
            }
        })
    }

    async fn presign_put(&self, key: &str, expires_in_seconds: u64) -> Result<String, StepError> {
        self.call(&ops::PRESIGN_PUT, vec![key.to_string()], |cx| {
            check_key(key)?;
            check_expiry(expires_in_seconds)?;
            let bucket = bucket_name(cx, Bucket::Evidence);
            Ok(s3::presign(
                "PUT",
                &bucket,
                key,
                expires_ms(cx, expires_in_seconds),
                None,
            ))
        })
    }

    async fn presign_get(
        &self,
        bucket: Bucket,
        key: &str,
        expires_in_seconds: u64,
    ) -> Result<String, StepError> {
        self.call(&ops::PRESIGN_GET, vec![key.to_string()], |cx| {
            check_expiry(expires_in_seconds)?;
            let name = bucket_name(cx, bucket);
            Ok(s3::presign(
                "GET",
                &name,
                key,
                expires_ms(cx, expires_in_seconds),
                None,
            ))
        })
    }
}
