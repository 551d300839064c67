//! S3's checksums and ETags as custody reads and writes them: the base64 form of a SHA-256, which
//! checksum S3 reports is the object's own digest (and which is only a hash of hashes), and ETag
//! quoting.

use aws_sdk_s3::types::ChecksumType;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use custody_core::error::StepError;
use custody_core::id::Sha256Digest;
use custody_steps::ports::etag_unquoted;

use crate::error::invalid;

/// S3's spelling of a SHA-256 checksum: base64 of the 32 bytes.
pub fn checksum_of(digest: &Sha256Digest) -> Result<String, StepError> {
    let bytes = hex::decode(digest.as_str())
        .map_err(|e| invalid(format!("digest {:?} is not hex: {e}", digest.as_str())))?;
    Ok(BASE64.encode(bytes))
}

/// The object's own SHA-256, when S3's checksum is one: a full-object checksum (single PUTs, and
/// multipart uploads made with the FULL_OBJECT type), never the composite checksum of a multipart
/// upload's parts (`base64-N`), which is a hash of hashes. Where S3 does not say the checksum
/// type (older objects, emulators), a multipart object is recognised by its `md5-N` ETag, so a
/// composite value without its `-N` suffix is not mistaken for the object's digest either.
///
/// The steps rely on this for the capture tools in the artifacts bucket: the host is told the
/// SHA-256 to verify each tool against, and only S3's own checksum of the whole object is good
/// enough for that.
pub(super) fn whole_object_sha256(
    checksum: Option<&str>,
    kind: Option<&ChecksumType>,
    etag: Option<&str>,
) -> Option<Sha256Digest> {
    let checksum = checksum?;
    let full_object = match kind {
        Some(ChecksumType::FullObject) => true,
        Some(_) => false,
        None => !checksum.contains('-') && !etag.is_some_and(|e| e.contains('-')),
    };
    if !full_object {
        return None;
    }
    let bytes = BASE64.decode(checksum).ok()?;
    if bytes.len() != 32 {
        return None;
    }
    Sha256Digest::parse(&hex::encode(bytes)).ok()
}

/// ETags as S3 spells them, quoted, whatever form the host reported.
pub(super) fn quoted_etag(etag: &str) -> String {
    format!("\"{}\"", etag_unquoted(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_object_checksum_is_the_objects_digest() {
        let digest = Sha256Digest::of(b"abc");
        let b64 = checksum_of(&digest).unwrap();
        let single_etag = Some("\"900150983cd24fb0d6963f7d28e17f72\"");
        let multipart_etag = Some("\"c0ffee0000000000000000000000beef-3\"");
        // Single PUT, with or without S3 saying the type.
        assert_eq!(
            whole_object_sha256(Some(&b64), Some(&ChecksumType::FullObject), single_etag),
            Some(digest.clone())
        );
        assert_eq!(
            whole_object_sha256(Some(&b64), None, single_etag),
            Some(digest.clone())
        );
        // Composite checksums of multipart uploads are hashes of hashes.
        assert_eq!(
            whole_object_sha256(Some(&format!("{b64}-3")), None, multipart_etag),
            None
        );
        assert_eq!(
            whole_object_sha256(Some(&b64), Some(&ChecksumType::Composite), multipart_etag),
            None
        );
        // An emulator that drops the -N suffix is caught by the multipart ETag.
        assert_eq!(whole_object_sha256(Some(&b64), None, multipart_etag), None);
        // A full-object multipart upload is the object's digest.
        assert_eq!(
            whole_object_sha256(Some(&b64), Some(&ChecksumType::FullObject), multipart_etag),
            Some(digest)
        );
        // No checksum, or not a SHA-256.
        assert_eq!(whole_object_sha256(None, None, single_etag), None);
        assert_eq!(whole_object_sha256(Some("AAAA"), None, single_etag), None);
    }

    #[test]
    fn checksums_are_base64_of_the_digest() {
        let digest = Sha256Digest::of(b"abc");
        assert_eq!(
            checksum_of(&digest).unwrap(),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
