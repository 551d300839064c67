//! The simulated S3: versioned objects, multipart uploads, and `sim://` presigned URLs.
//!
//! A presigned URL in the world is `sim://<bucket>/<key>?method=PUT&expires=<unix-ms>` (plus
//! `&uploadId=…&partNumber=N` for a multipart part). Only the sim's simulated hosts use them:
//! they are recognised by [`parse_presigned`] and refused once expired, like S3's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custody_core::id::{CaseId, Timestamp};
use sha2::{Digest, Sha256};

use crate::model::{ObjectVersion, WorldState};
use crate::world::fresh_hex;

/// `s3://bucket/key`.
pub fn location(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// S3's single-part SHA-256 checksum: base64 of the digest.
pub fn checksum_of_digest(digest: &[u8]) -> String {
    STANDARD.encode(digest)
}

/// The simulated evidence bucket's default Object Lock: every version is retained in GOVERNANCE
/// mode for this many days from when it was written (the CDK stack's bucket has the same kind of
/// default; custody-aws also sets it on each request).
pub const EVIDENCE_LOCK_DAYS: u32 = 30;

/// The Object Lock mode and retain-until date (RFC 3339) of an evidence object written at `at`.
pub fn evidence_retention(at: &Timestamp) -> (&'static str, String) {
    let until = crate::time::plus(at, f64::from(EVIDENCE_LOCK_DAYS) * 86_400.0);
    ("GOVERNANCE", until.to_string())
}

/// Writes a new version of an object with real bytes.
pub(crate) fn write_object(
    st: &mut WorldState,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
    content_type: &str,
    at: &Timestamp,
) -> ObjectVersion {
    let digest = Sha256::digest(&bytes);
    let version = ObjectVersion {
        version_id: fresh_hex(st, "s3-version", 32),
        size_bytes: bytes.len() as u64,
        bytes: Some(bytes),
        content_type: content_type.to_string(),
        checksum_sha256: Some(checksum_of_digest(&digest)),
        sha256: Some(hex::encode(digest)),
        written_at: *at,
    };
    st.runtime
        .objects
        .entry(location(bucket, key))
        .or_default()
        .push(version.clone());
    version
}

/// Writes a synthetic object: a size and hashes, no bytes (a memory image).
pub(crate) fn write_synthetic(
    st: &mut WorldState,
    bucket: &str,
    key: &str,
    size_bytes: u64,
    checksum_sha256: Option<String>,
    sha256: Option<String>,
    at: &Timestamp,
) -> ObjectVersion {
    let version = ObjectVersion {
        version_id: fresh_hex(st, "s3-version", 32),
        bytes: None,
        size_bytes,
        content_type: "application/octet-stream".into(),
        checksum_sha256,
        sha256,
        written_at: *at,
    };
    st.runtime
        .objects
        .entry(location(bucket, key))
        .or_default()
        .push(version.clone());
    version
}

/// The latest version of an object.
pub(crate) fn head<'a>(st: &'a WorldState, bucket: &str, key: &str) -> Option<&'a ObjectVersion> {
    st.runtime
        .objects
        .get(&location(bucket, key))
        .and_then(|v| v.last())
}

/// Why a key is refused for the evidence bucket, if it is.
pub(crate) fn evidence_key_problem(key: &str) -> Option<String> {
    if key.len() > 1024
        || key.chars().any(char::is_control)
        || key.split('/').any(|s| s == ".." || s == ".")
    {
        return Some(format!("key {key:?} is not a plain S3 key"));
    }
    let Some(rest) = key.strip_prefix("cases/") else {
        return Some(format!("key {key:?} is not under cases/<case-id>/"));
    };
    let Some((case, tail)) = rest.split_once('/') else {
        return Some(format!("key {key:?} is not under cases/<case-id>/"));
    };
    if CaseId::parse(case).is_err() || tail.is_empty() {
        return Some(format!("key {key:?} is not under cases/<case-id>/"));
    }
    None
}

/// A parsed `sim://` presigned URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// `GET` or `PUT`.
    pub method: String,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Expiry, unix milliseconds.
    pub expires_ms: i64,
    /// Multipart upload id, for a part URL.
    pub upload_id: Option<String>,
    /// Part number, for a part URL.
    pub part_number: Option<u32>,
}

/// Makes a presigned URL.
pub fn presign(
    method: &str,
    bucket: &str,
    key: &str,
    expires_ms: i64,
    part: Option<(&str, u32)>,
) -> String {
    let mut url = format!(
        "sim://{bucket}/{}?method={method}&expires={expires_ms}",
        escape(key)
    );
    if let Some((upload_id, n)) = part {
        url.push_str(&format!("&uploadId={upload_id}&partNumber={n}"));
    }
    url
}

/// Parses a `sim://` URL; `None` for anything else.
pub fn parse_presigned(url: &str) -> Option<Presigned> {
    let rest = url.strip_prefix("sim://")?;
    let (path, query) = rest.split_once('?')?;
    let (bucket, key) = path.split_once('/')?;
    let mut p = Presigned {
        method: String::new(),
        bucket: bucket.to_string(),
        key: unescape(key)?,
        expires_ms: 0,
        upload_id: None,
        part_number: None,
    };
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=')?;
        match k {
            "method" => p.method = v.to_string(),
            "expires" => p.expires_ms = v.parse().ok()?,
            "uploadId" => p.upload_id = Some(v.to_string()),
            "partNumber" => p.part_number = Some(v.parse().ok()?),
            _ => return None,
        }
    }
    if p.method.is_empty() || bucket.is_empty() || p.key.is_empty() {
        return None;
    }
    Some(p)
}

fn escape(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'%') {
            let hexpair = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hexpair, 16).ok()?);
            i += 3;
        } else {
            out.push(*bytes.get(i)?);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_urls_round_trip() {
        let url = presign(
            "PUT",
            "evidence",
            "cases/x/memory/i-1.lime",
            99,
            Some(("up1", 3)),
        );
        let p = parse_presigned(&url).unwrap();
        assert_eq!(p.method, "PUT");
        assert_eq!(p.bucket, "evidence");
        assert_eq!(p.key, "cases/x/memory/i-1.lime");
        assert_eq!(p.expires_ms, 99);
        assert_eq!(p.upload_id.as_deref(), Some("up1"));
        assert_eq!(p.part_number, Some(3));
        assert!(parse_presigned("https://example.com/x").is_none());
        let odd = presign("GET", "b", "a b/ü", 1, None);
        assert_eq!(parse_presigned(&odd).unwrap().key, "a b/ü");
    }

    #[test]
    fn evidence_keys_must_be_under_a_case() {
        assert!(evidence_key_problem("cases/case-01J9Z8Y7X6W5V4T3S2R1Q0P9N8/report.md").is_none());
        assert!(evidence_key_problem("report.md").is_some());
        assert!(evidence_key_problem("cases/not-a-case/x").is_some());
        assert!(evidence_key_problem("cases/case-01J9Z8Y7X6W5V4T3S2R1Q0P9N8/../x").is_some());
    }
}
