//! Outputs a host "shipped" into presigned multipart part URLs, and how the step completes and
//! verifies them.
//!
//! Every custody document uploads its outputs the same way (ssm-documents/scripts/common.sh): the
//! stream is cut into parts, each part is PUT to its presigned URL with `Content-MD5` (which S3
//! checks: a body that does not match is refused with `BadDigest`), and the document reports, per
//! output, `{"bytes", "sha256", "parts": [{"part", "bytes", "etag", "sha256"}]}`.
//!
//! The upload has no checksum algorithm (part URLs are presigned before the bytes exist, so no
//! checksum header can be signed; see ports/evidence.rs), so S3 never computes a SHA-256 of these
//! objects. What the step proves instead:
//! 1. before completing, S3's own part list (ListParts) is exactly the host's report: the same
//!    part numbers, none missing, none extra, each with the reported size and ETag (ETags compared
//!    without their quotes, [`etag_unquoted`]);
//! 2. after completing, HeadObject: the size is the sum of the parts and the host's total, and the
//!    object carries an Object Lock retention.
//!
//! The whole-stream and per-part SHA-256 are the host's; the evidence record says so
//! ([`DigestSource::SourceHost`](custody_core::case::DigestSource)) and keeps the part list.

use custody_core::error::{ErrorName, StepError};
use custody_core::id::Sha256Digest;
use serde::{Deserialize, Serialize};

use crate::ports::{Bucket, EvidenceStore, ListedPart, StoredObject, UploadedPart, etag_unquoted};

/// Part lists up to this long are kept inline in the evidence record's details; longer ones (a
/// large memory image has thousands of parts, and a DynamoDB item holds 400 KB) are referenced
/// through the object that lists them.
pub(crate) const INLINE_PARTS: usize = 200;

/// One part as a document reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedPart {
    /// 1-based part number.
    pub part: u32,
    /// Bytes in the part.
    pub bytes: u64,
    /// The ETag S3 returned.
    pub etag: String,
    /// SHA-256 of the part, computed by the host. Required: it is the host's per-part record
    /// kept with the evidence; a document that omits it makes the step fail loudly.
    #[serde(default)]
    pub sha256: Option<Sha256Digest>,
}

/// One output as a document reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipped {
    /// Bytes streamed.
    pub bytes: u64,
    /// SHA-256 of the whole stream.
    pub sha256: Sha256Digest,
    /// The parts, in any order.
    pub parts: Vec<ShippedPart>,
}

impl Shipped {
    /// The parts in the port's shape, in part order.
    ///
    /// # Errors
    /// `Custody.InvalidInput` when a part has no SHA-256: the evidence record would lack the
    /// host's per-part digests.
    pub fn uploaded_parts(&self, what: &str) -> Result<Vec<UploadedPart>, StepError> {
        let mut parts = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            let sha256 = p.sha256.clone().ok_or_else(|| {
                StepError::invalid_input(format!(
                    "{what}: the document reported part {} without its SHA-256 (parts[].sha256); the evidence record needs the host's per-part digests",
                    p.part
                ))
            })?;
            parts.push(UploadedPart {
                part_number: p.part,
                etag: p.etag.clone(),
                sha256,
                size_bytes: p.bytes,
            });
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(parts)
    }

    /// The parts as the evidence record keeps them: inline when short, else a count (the list is
    /// in the object named by the caller).
    pub fn parts_record(&self) -> serde_json::Value {
        let mut parts: Vec<&ShippedPart> = self.parts.iter().collect();
        parts.sort_by_key(|p| p.part);
        if parts.len() > INLINE_PARTS {
            return serde_json::json!({"count": parts.len()});
        }
        serde_json::json!({
            "count": parts.len(),
            "list": parts
                .iter()
                .map(|p| serde_json::json!({
                    "number": p.part,
                    "size": p.bytes,
                    "etag": etag_unquoted(&p.etag),
                    "sha256": p.sha256,
                }))
                .collect::<Vec<_>>(),
        })
    }
}

/// Completes the upload of `key` and verifies it against the host's report, or, when an earlier
/// attempt already completed it (S3 then holds the object and no longer knows the upload), only
/// verifies the object.
///
/// # Errors
/// `Custody.EvidenceMismatch` when S3's part list differs from the report, or the object's size or
/// retention is wrong; `Custody.InvalidInput` when the report lacks part hashes; port errors.
pub async fn complete_and_verify(
    store: &dyn EvidenceStore,
    key: &str,
    upload_id: &str,
    shipped: &Shipped,
    what: &str,
) -> Result<StoredObject, StepError> {
    let parts = shipped.uploaded_parts(what)?;
    let stored = match store.head_object(Bucket::Evidence, key).await? {
        Some(object) => object,
        None => {
            let listed = store.list_parts(key, upload_id).await?;
            check_parts(&parts, &listed, what)?;
            store.complete_upload(key, upload_id, &parts).await?;
            store
                .head_object(Bucket::Evidence, key)
                .await?
                .ok_or_else(|| {
                    mismatch(format!(
                        "{what}: S3 completed the upload but HeadObject finds no object at {key:?}"
                    ))
                })?
        }
    };
    verify(shipped, &stored, what)?;
    Ok(stored)
}

/// [`complete_and_verify`], then reads the object back and re-hashes it: for a small output custody
/// parses itself (a capture report, a container listing), where what it parses must be the bytes
/// the host hashed. `noun` names the output in the error (`report`, `listing`).
///
/// # Errors
/// Those of [`complete_and_verify`]; `Custody.EvidenceMismatch` when the stored bytes do not hash
/// to the host's SHA-256.
pub(crate) async fn complete_and_read(
    store: &dyn EvidenceStore,
    key: &str,
    upload_id: &str,
    shipped: &Shipped,
    what: &str,
    noun: &str,
) -> Result<(StoredObject, Vec<u8>), StepError> {
    let stored = complete_and_verify(store, key, upload_id, shipped, what).await?;
    let bytes = store.get_object(key).await?;
    if Sha256Digest::of(&bytes) != shipped.sha256 {
        return Err(mismatch(format!(
            "{what}: the stored {noun} does not hash to what the host reported"
        )));
    }
    Ok((stored, bytes))
}

fn mismatch(cause: String) -> StepError {
    StepError::new(ErrorName::EvidenceMismatch, cause)
}

/// S3's part list must be exactly the reported parts: same numbers (none missing, none extra, no
/// duplicates), and for each the same size and ETag (quotes ignored).
pub fn check_parts(
    reported: &[UploadedPart],
    listed: &[ListedPart],
    what: &str,
) -> Result<(), StepError> {
    let mut listed: Vec<&ListedPart> = listed.iter().collect();
    listed.sort_by_key(|p| p.part_number);
    for pair in reported.windows(2) {
        if let [a, b] = pair
            && a.part_number == b.part_number
        {
            return Err(mismatch(format!(
                "{what}: the host reported part {} twice",
                a.part_number
            )));
        }
    }
    let numbers = |ps: &mut dyn Iterator<Item = u32>| ps.collect::<Vec<u32>>();
    let want = numbers(&mut reported.iter().map(|p| p.part_number));
    let have = numbers(&mut listed.iter().map(|p| p.part_number));
    let missing: Vec<u32> = want.iter().filter(|n| !have.contains(n)).copied().collect();
    let extra: Vec<u32> = have.iter().filter(|n| !want.contains(n)).copied().collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(mismatch(format!(
            "{what}: S3's part list differs from the host's report: missing from S3 {missing:?}, not reported by the host {extra:?}"
        )));
    }
    if want.iter().enumerate().any(|(i, n)| *n as usize != i + 1) {
        return Err(mismatch(format!(
            "{what}: the parts are not numbered 1..={} without gaps: {want:?}",
            want.len()
        )));
    }
    for (host, s3) in reported.iter().zip(&listed) {
        if host.size_bytes != s3.size_bytes {
            return Err(mismatch(format!(
                "{what}: part {} is {} bytes in S3, the host reported {}",
                host.part_number, s3.size_bytes, host.size_bytes
            )));
        }
        if etag_unquoted(&host.etag) != etag_unquoted(&s3.etag) {
            return Err(mismatch(format!(
                "{what}: part {} has ETag {:?} in S3, the host reported {:?} (the part was replaced after the host uploaded it, or the report is not the host's)",
                host.part_number, s3.etag, host.etag
            )));
        }
    }
    Ok(())
}

/// The completed object: its size is the host's total and the sum of the parts, and it carries an
/// Object Lock retention.
pub fn verify(shipped: &Shipped, stored: &StoredObject, what: &str) -> Result<(), StepError> {
    let parts_total: u64 = shipped.parts.iter().map(|p| p.bytes).sum();
    if stored.size_bytes != shipped.bytes || parts_total != shipped.bytes {
        return Err(mismatch(format!(
            "{what}: S3 holds {} bytes, the host streamed {} bytes in parts totalling {parts_total}",
            stored.size_bytes, shipped.bytes
        )));
    }
    if stored.lock_mode.is_none() || stored.retain_until.is_none() {
        return Err(mismatch(format!(
            "{what}: {} has no Object Lock retention (mode {:?}, retain until {:?}); evidence must be locked",
            stored.location, stored.lock_mode, stored.retain_until
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::ports::UploadTicket;

    fn digest(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest::of(bytes)
    }

    /// The real scripts report ETags unquoted; S3 lists them quoted.
    fn shipped() -> Shipped {
        Shipped {
            bytes: 7,
            sha256: digest(b"abcdefg"),
            parts: vec![
                ShippedPart {
                    part: 2,
                    bytes: 3,
                    etag: "e2".into(),
                    sha256: Some(digest(b"efg")),
                },
                ShippedPart {
                    part: 1,
                    bytes: 4,
                    etag: "e1".into(),
                    sha256: Some(digest(b"abcd")),
                },
            ],
        }
    }

    fn listed() -> Vec<ListedPart> {
        vec![
            ListedPart {
                part_number: 1,
                etag: "\"e1\"".into(),
                size_bytes: 4,
            },
            ListedPart {
                part_number: 2,
                etag: "\"e2\"".into(),
                size_bytes: 3,
            },
        ]
    }

    fn stored(size: u64, locked: bool) -> StoredObject {
        StoredObject {
            location: "s3://b/k".into(),
            version_id: None,
            size_bytes: size,
            checksum_sha256: None,
            sha256: None,
            lock_mode: locked.then(|| "GOVERNANCE".to_owned()),
            retain_until: locked.then(|| "2026-12-23T00:00:00Z".to_owned()),
        }
    }

    fn check(listed: &[ListedPart]) -> Result<(), StepError> {
        check_parts(&shipped().uploaded_parts("image")?, listed, "image")
    }

    #[test]
    fn parts_listed_by_s3_match_the_report_whatever_the_etag_quoting() {
        check(&listed()).unwrap();
        let mut unquoted = listed();
        for p in &mut unquoted {
            p.etag = etag_unquoted(&p.etag).to_owned();
        }
        check(&unquoted).unwrap();
        // The sim's hosts report quoted ETags.
        let mut quoted = shipped();
        for p in &mut quoted.parts {
            p.etag = format!("\"{}\"", p.etag);
        }
        check_parts(&quoted.uploaded_parts("x").unwrap(), &listed(), "x").unwrap();
        check_parts(&quoted.uploaded_parts("x").unwrap(), &unquoted, "x").unwrap();
    }

    #[test]
    fn a_part_replaced_after_the_host_uploaded_it_is_refused() {
        let mut replaced = listed();
        replaced[1].etag = "\"other\"".into();
        let err = check(&replaced).unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        assert!(err.cause.contains("part 2 has ETag"), "{}", err.cause);
        let mut resized = listed();
        resized[0].size_bytes = 5;
        let err = check(&resized).unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        assert!(err.cause.contains("part 1 is 5 bytes"), "{}", err.cause);
    }

    #[test]
    fn missing_and_extra_parts_are_refused() {
        let err = check(&listed()[..1]).unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        assert!(err.cause.contains("missing from S3 [2]"), "{}", err.cause);
        let mut extra = listed();
        extra.push(ListedPart {
            part_number: 3,
            etag: "\"e3\"".into(),
            size_bytes: 1,
        });
        let err = check(&extra).unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        assert!(
            err.cause.contains("not reported by the host [3]"),
            "{}",
            err.cause
        );
        let mut twice = shipped();
        twice.parts[0].part = 1;
        let err = check_parts(&twice.uploaded_parts("x").unwrap(), &listed(), "x").unwrap_err();
        assert!(err.cause.contains("part 1 twice"), "{}", err.cause);
        let mut gap = shipped();
        gap.parts[0].part = 3;
        let mut gap_listed = listed();
        gap_listed[1].part_number = 3;
        let err = check_parts(&gap.uploaded_parts("x").unwrap(), &gap_listed, "x").unwrap_err();
        assert!(err.cause.contains("without gaps"), "{}", err.cause);
    }

    #[test]
    fn the_completed_object_must_have_the_size_and_a_retention() {
        let s = shipped();
        verify(&s, &stored(7, true), "image").unwrap();
        let err = verify(&s, &stored(6, true), "image").unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        let err = verify(&s, &stored(7, false), "image").unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        assert!(err.cause.contains("Object Lock"), "{}", err.cause);
        let mut no_hash = s.clone();
        no_hash.parts[0].sha256 = None;
        let err = no_hash.uploaded_parts("image").unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidInput);
        assert!(err.cause.contains("parts[].sha256"), "{}", err.cause);
    }

    #[test]
    fn the_record_keeps_short_part_lists_inline() {
        let record = shipped().parts_record();
        assert_eq!(record["count"], 2);
        assert_eq!(record["list"][0]["number"], 1);
        assert_eq!(record["list"][0]["etag"], "e1");
        assert_eq!(record["list"][1]["sha256"], digest(b"efg").to_string());
        let mut long = shipped();
        long.parts = (1..=INLINE_PARTS as u32 + 1)
            .map(|n| ShippedPart {
                part: n,
                bytes: 1,
                etag: format!("e{n}"),
                sha256: Some(digest(b"x")),
            })
            .collect();
        let record = long.parts_record();
        assert_eq!(record["count"], INLINE_PARTS + 1);
        assert!(record.get("list").is_none());
    }

    /// A bucket holding one open upload whose parts are `listed`; completing it makes an object.
    struct OneUpload {
        listed: Vec<ListedPart>,
        object: Mutex<Option<StoredObject>>,
        completed_with: Mutex<Vec<UploadedPart>>,
    }

    #[async_trait]
    impl EvidenceStore for OneUpload {
        async fn put_object(&self, _: &str, _: &[u8], _: &str) -> Result<StoredObject, StepError> {
            Err(StepError::internal("not used"))
        }
        async fn get_object(&self, _: &str) -> Result<Vec<u8>, StepError> {
            Err(StepError::internal("not used"))
        }
        async fn head_object(&self, _: Bucket, _: &str) -> Result<Option<StoredObject>, StepError> {
            Ok(self.object.lock().unwrap().clone())
        }
        async fn begin_upload(
            &self,
            _: &str,
            _: u64,
            _: u32,
            _: u64,
        ) -> Result<UploadTicket, StepError> {
            Err(StepError::internal("not used"))
        }
        async fn list_parts(&self, _: &str, _: &str) -> Result<Vec<ListedPart>, StepError> {
            if self.object.lock().unwrap().is_some() {
                return Err(StepError::new(ErrorName::NotFound, "NoSuchUpload"));
            }
            Ok(self.listed.clone())
        }
        async fn complete_upload(
            &self,
            _: &str,
            _: &str,
            parts: &[UploadedPart],
        ) -> Result<StoredObject, StepError> {
            *self.completed_with.lock().unwrap() = parts.to_vec();
            let size = self.listed.iter().map(|p| p.size_bytes).sum();
            *self.object.lock().unwrap() = Some(stored(size, true));
            Ok(stored(size, true))
        }
        async fn abort_upload(&self, _: &str, _: &str) -> Result<(), StepError> {
            Err(StepError::internal("not used"))
        }
        async fn presign_put(&self, _: &str, _: u64) -> Result<String, StepError> {
            Err(StepError::internal("not used"))
        }
        async fn presign_get(&self, _: Bucket, _: &str, _: u64) -> Result<String, StepError> {
            Err(StepError::internal("not used"))
        }
    }

    fn bucket(listed: Vec<ListedPart>) -> OneUpload {
        OneUpload {
            listed,
            object: Mutex::new(None),
            completed_with: Mutex::new(Vec::new()),
        }
    }

    #[tokio::test]
    async fn completes_only_what_s3_lists_and_a_rerun_verifies_the_object() {
        let store = bucket(listed());
        let object = complete_and_verify(&store, "k", "up", &shipped(), "image")
            .await
            .unwrap();
        assert_eq!(object.size_bytes, 7);
        let sent = store.completed_with.lock().unwrap().clone();
        assert_eq!(
            sent.iter().map(|p| p.part_number).collect::<Vec<_>>(),
            [1, 2]
        );
        // Rerun after the upload is gone: the object is verified, nothing is completed again.
        store.completed_with.lock().unwrap().clear();
        complete_and_verify(&store, "k", "up", &shipped(), "image")
            .await
            .unwrap();
        assert!(store.completed_with.lock().unwrap().is_empty());

        let mut missing = listed();
        missing.pop();
        let store = bucket(missing);
        let err = complete_and_verify(&store, "k", "up", &shipped(), "image")
            .await
            .unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        assert!(
            store.object.lock().unwrap().is_none(),
            "nothing was completed"
        );
    }
}
