//! Outputs a host "shipped" into presigned multipart part URLs, and how the step completes and
//! verifies them.
//!
//! Every custody document uploads its outputs the same way (ssm-documents/scripts/common.sh): the
//! stream is cut into parts, each part is PUT to its presigned URL, and the document reports, per
//! output, `{"bytes", "sha256", "parts": [{"part", "bytes", "etag", "sha256"}]}`. The step then
//! completes the upload with those parts and proves the stored object is what the host hashed:
//! size equal, and S3's composite SHA-256 equal to the composite of the reported part hashes.

use custody_core::error::{ErrorName, StepError};
use custody_core::id::Sha256Digest;
use serde::{Deserialize, Serialize};

use crate::ports::{Bucket, EvidenceStore, StoredObject, UploadedPart};
use crate::support::checksum;

/// One part as a document reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippedPart {
    /// 1-based part number.
    pub part: u32,
    /// Bytes in the part.
    pub bytes: u64,
    /// The ETag S3 returned.
    pub etag: String,
    /// SHA-256 of the part, computed by the host. Required to complete a checksummed upload
    /// and verify it; a document that omits it makes the step fail loudly.
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
    /// `Custody.InvalidInput` when a part has no SHA-256: without it the upload can be neither
    /// completed with checksums nor verified.
    pub fn uploaded_parts(&self, what: &str) -> Result<Vec<UploadedPart>, StepError> {
        let mut parts = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            let sha256 = p.sha256.clone().ok_or_else(|| {
                StepError::invalid_input(format!(
                    "{what}: the document reported part {} without its SHA-256 (parts[].sha256); the upload cannot be completed and verified without it",
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
}

/// Completes the upload of `key` (unless an earlier attempt did: then S3 already holds the
/// object) and verifies it against the report.
pub(crate) async fn complete_and_verify(
    store: &dyn EvidenceStore,
    key: &str,
    upload_id: &str,
    shipped: &Shipped,
    what: &str,
) -> Result<StoredObject, StepError> {
    let stored = match store.head_object(Bucket::Evidence, key).await? {
        Some(object) => object,
        None => {
            store
                .complete_upload(key, upload_id, &shipped.uploaded_parts(what)?)
                .await?
        }
    };
    verify(shipped, &stored, what)?;
    Ok(stored)
}

/// Size and composite-checksum verification.
pub(crate) fn verify(
    shipped: &Shipped,
    stored: &StoredObject,
    what: &str,
) -> Result<(), StepError> {
    let parts_total: u64 = shipped.parts.iter().map(|p| p.bytes).sum();
    if stored.size_bytes != shipped.bytes || parts_total != shipped.bytes {
        return Err(StepError::new(
            ErrorName::EvidenceMismatch,
            format!(
                "{what}: S3 holds {} bytes, the host streamed {} bytes in parts totalling {parts_total}",
                stored.size_bytes, shipped.bytes
            ),
        ));
    }
    let parts = shipped.uploaded_parts(what)?;
    let digests: Vec<&Sha256Digest> = parts.iter().map(|p| &p.sha256).collect();
    let expected = checksum::composite_sha256(&digests)
        .map_err(|e| StepError::internal(format!("{what}: a validated digest is not hex ({e})")))?;
    match &stored.checksum_sha256 {
        Some(held) if checksum::matches_composite(held, &expected) => Ok(()),
        Some(held) => Err(StepError::new(
            ErrorName::EvidenceMismatch,
            format!(
                "{what}: S3's checksum {held:?} differs from the composite of the host's part hashes {expected:?}"
            ),
        )),
        None => Err(StepError::new(
            ErrorName::EvidenceMismatch,
            format!("{what}: S3 reports no SHA-256 checksum, so the upload cannot be verified"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest::of(bytes)
    }

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

    fn stored(size: u64, checksum: Option<String>) -> StoredObject {
        StoredObject {
            location: "s3://b/k".into(),
            version_id: None,
            size_bytes: size,
            checksum_sha256: checksum,
            sha256: None,
        }
    }

    #[test]
    fn verifies_size_and_composite_in_part_order() {
        let s = shipped();
        let good = checksum::composite_sha256(&[&digest(b"abcd"), &digest(b"efg")]).unwrap();
        verify(&s, &stored(7, Some(good.clone())), "image").unwrap();
        let err = verify(&s, &stored(6, Some(good.clone())), "image").unwrap_err();
        assert_eq!(err.name, ErrorName::EvidenceMismatch);
        let swapped = checksum::composite_sha256(&[&digest(b"efg"), &digest(b"abcd")]).unwrap();
        assert_eq!(
            verify(&s, &stored(7, Some(swapped)), "image")
                .unwrap_err()
                .name,
            ErrorName::EvidenceMismatch
        );
        assert_eq!(
            verify(&s, &stored(7, None), "image").unwrap_err().name,
            ErrorName::EvidenceMismatch
        );
        let mut no_hash = s.clone();
        no_hash.parts[0].sha256 = None;
        let err = verify(&no_hash, &stored(7, None), "image").unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidInput);
        assert!(err.cause.contains("parts[].sha256"), "{}", err.cause);
    }
}
