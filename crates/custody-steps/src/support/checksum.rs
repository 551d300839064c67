//! S3's composite SHA-256 checksum of a multipart upload, computed from the parts' digests.
//!
//! For a multipart upload with SHA-256 checksums, S3 stores `base64(sha256(d1 ‖ d2 ‖ … ‖ dn))-n`
//! where `di` are the raw 32-byte digests of the parts. Computing the same value from the digests
//! the host reported, and comparing it with what S3 holds, proves the stored object is exactly the
//! bytes the host hashed, without reading gigabytes back.

use base64::Engine as _;
use custody_core::id::Sha256Digest;
use sha2::{Digest as _, Sha256};

/// The composite checksum (`base64-N`) of parts with these SHA-256 digests, in part order.
pub(crate) fn composite_sha256(parts: &[&Sha256Digest]) -> Result<String, hex::FromHexError> {
    let mut hasher = Sha256::new();
    for digest in parts {
        hasher.update(hex::decode(digest.as_str())?);
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(hasher.finalize());
    Ok(format!("{encoded}-{}", parts.len()))
}

/// Whether S3's reported checksum equals the expected composite. S3 reports the composite either
/// as `base64-N` or as bare `base64` (some SDK paths drop the suffix); both are accepted, nothing
/// else is.
pub(crate) fn matches_composite(reported: &str, expected: &str) -> bool {
    if reported == expected {
        return true;
    }
    match expected.rsplit_once('-') {
        Some((bare, _)) => reported == bare,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest::parse(&hex::encode(Sha256::digest(bytes))).unwrap()
    }

    #[test]
    fn composite_is_hash_of_concatenated_raw_digests() {
        let a = digest_of(b"part one");
        let b = digest_of(b"part two");
        let mut concat = Sha256::digest(b"part one").to_vec();
        concat.extend_from_slice(&Sha256::digest(b"part two"));
        let expected = format!(
            "{}-2",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&concat))
        );
        assert_eq!(composite_sha256(&[&a, &b]).unwrap(), expected);
    }

    #[test]
    fn matching_accepts_suffix_forms_only() {
        let a = digest_of(b"x");
        let expected = composite_sha256(&[&a]).unwrap();
        let bare = expected.rsplit_once('-').unwrap().0.to_owned();
        assert!(matches_composite(&expected, &expected));
        assert!(matches_composite(&bare, &expected));
        assert!(!matches_composite("AAAA-1", &expected));
    }
}
