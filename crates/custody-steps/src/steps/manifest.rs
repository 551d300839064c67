//! The plain-text manifest handed to a host with a custody document.
//!
//! Hosts have no `jq`, so the manifest is line-based (format in ssm-documents/README.md, parsed by
//! `load_manifest` in ssm-documents/scripts/common.sh):
//!
//! ```text
//! custody-manifest 1
//! document=capture-memory
//! case_id=case-01J…
//! instance_id=i-0…
//! part_size=67108864
//! get lime:6.1.0-1-amd64 <sha256> <presigned GET URL>
//! part image 1 <presigned PUT URL>
//! ```
//!
//! The host receives only a presigned GET URL to this object: every URL stays out of command
//! lines and SSM history. The manifest is kept in the evidence bucket as the record of exactly
//! what the host was given, and retried steps read their upload ids back from it (extra
//! `key=value` lines the host ignores).

use std::collections::BTreeMap;

use custody_core::error::StepError;
use custody_core::id::{CaseId, InstanceId, Sha256Digest};

use crate::ports::{EvidenceStore, UploadTicket};

/// First line of every manifest.
const HEADER: &str = "custody-manifest 1";

/// An object the host downloads and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Get {
    /// Name the document looks it up by (`avml`, `lime:<kernel release>`, `image`).
    pub name: String,
    /// Its SHA-256; the host refuses a download that does not match.
    pub sha256: Sha256Digest,
    /// Presigned GET URL.
    pub url: String,
}

/// A manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// The document it is for (`capture-memory`); the host refuses another.
    pub document: String,
    /// The case.
    pub case_id: CaseId,
    /// The instance it runs on.
    pub instance_id: InstanceId,
    /// Bytes per uploaded part.
    pub part_size_bytes: u64,
    /// Extra `key=value` lines (upload ids, deadline) for custody's own retries.
    pub values: BTreeMap<String, String>,
    /// Objects to download.
    pub gets: Vec<Get>,
    /// Presigned part URLs per output name, part 1 first.
    pub parts: BTreeMap<String, Vec<String>>,
}

impl Manifest {
    /// A manifest for `document` on `instance_id` with nothing to download or upload yet.
    pub(crate) fn new(
        document: &str,
        case_id: &CaseId,
        instance_id: &InstanceId,
        part_size_bytes: u64,
    ) -> Self {
        Self {
            document: document.to_owned(),
            case_id: case_id.clone(),
            instance_id: instance_id.clone(),
            part_size_bytes,
            values: BTreeMap::new(),
            gets: Vec::new(),
            parts: BTreeMap::new(),
        }
    }

    /// Hands the host the part URLs of `ticket` for its output `output`, and keeps the upload id
    /// under `value_key`: the step that completes the upload, or a retry that abandons it, reads
    /// the id back from here.
    pub(crate) fn add_upload(&mut self, output: &str, value_key: &str, ticket: &UploadTicket) {
        self.values
            .insert(value_key.to_owned(), ticket.upload_id.clone());
        self.parts
            .insert(output.to_owned(), ticket.part_urls.clone());
    }

    /// A value custody stored, or an error naming it.
    pub(crate) fn value(&self, key: &str) -> Result<&str, StepError> {
        self.values
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| bad(format!("missing {key}")))
    }
}

/// Renders the manifest.
pub(crate) fn render(m: &Manifest) -> String {
    let mut lines = vec![
        HEADER.to_owned(),
        format!("document={}", m.document),
        format!("case_id={}", m.case_id),
        format!("instance_id={}", m.instance_id),
        format!("part_size={}", m.part_size_bytes),
    ];
    lines.extend(m.values.iter().map(|(k, v)| format!("{k}={v}")));
    lines.extend(
        m.gets
            .iter()
            .map(|g| format!("get {} {} {}", g.name, g.sha256, g.url)),
    );
    for (name, urls) in &m.parts {
        lines.extend(
            urls.iter()
                .enumerate()
                .map(|(i, url)| format!("part {name} {} {url}", i + 1)),
        );
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn bad(reason: String) -> StepError {
    StepError::internal(format!(
        "manifest in the evidence bucket is malformed: {reason}"
    ))
}

/// Reads back the manifest stored at `key` in the evidence bucket: what the host was given.
///
/// # Errors
/// Port errors (there is none); `Custody.Internal` when it is malformed.
pub(crate) async fn load(store: &dyn EvidenceStore, key: &str) -> Result<Manifest, StepError> {
    parse(&store.get_object(key).await?)
}

/// Parses a manifest written by [`render`] (a retry reads the first attempt's back).
pub(crate) fn parse(bytes: &[u8]) -> Result<Manifest, StepError> {
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8 ({e})")))?;
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(bad(format!("first line is not {HEADER:?}")));
    }
    let mut values = BTreeMap::new();
    let mut gets = Vec::new();
    let mut parts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split(' ').collect();
        match fields.as_slice() {
            [""] => {}
            ["get", name, sha, url] => gets.push(Get {
                name: (*name).to_owned(),
                sha256: Sha256Digest::parse(sha).map_err(|e| bad(e.to_string()))?,
                url: (*url).to_owned(),
            }),
            ["part", name, number, url] => {
                let list = parts.entry((*name).to_owned()).or_default();
                if number.parse::<usize>().ok() != Some(list.len() + 1) {
                    return Err(bad(format!("part {number:?} of {name:?} out of order")));
                }
                list.push((*url).to_owned());
            }
            [kv] if kv.contains('=') => {
                let (k, v) = kv.split_once('=').unwrap_or_default();
                values.insert(k.to_owned(), v.to_owned());
            }
            _ => {
                return Err(bad(format!(
                    "line {:?}",
                    line.chars().take(80).collect::<String>()
                )));
            }
        }
    }
    let take = |values: &mut BTreeMap<String, String>, key: &str| {
        values
            .remove(key)
            .ok_or_else(|| bad(format!("missing {key}")))
    };
    Ok(Manifest {
        document: take(&mut values, "document")?,
        case_id: CaseId::parse(&take(&mut values, "case_id")?).map_err(|e| bad(e.to_string()))?,
        instance_id: InstanceId::parse(&take(&mut values, "instance_id")?)
            .map_err(|e| bad(e.to_string()))?,
        part_size_bytes: take(&mut values, "part_size")?
            .parse()
            .map_err(|_| bad("part_size".to_owned()))?,
        values,
        gets,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut values = BTreeMap::new();
        values.insert("image_upload_id".to_owned(), "up-1".to_owned());
        let mut parts = BTreeMap::new();
        parts.insert(
            "image".to_owned(),
            vec![
                "https://b.s3/x?partNumber=1&s=a".to_owned(),
                "https://b.s3/x?partNumber=2".to_owned(),
            ],
        );
        parts.insert(
            "report".to_owned(),
            vec!["https://b.s3/r?partNumber=1".to_owned()],
        );
        Manifest {
            document: "capture-memory".to_owned(),
            case_id: CaseId::parse("case-01JD0000000000000000000000").unwrap(),
            instance_id: InstanceId::parse("i-0123456789abcdef0").unwrap(),
            part_size_bytes: 64 * 1024 * 1024,
            values,
            gets: vec![Get {
                name: "avml".to_owned(),
                sha256: Sha256Digest::of(b"avml"),
                url: "https://a/avml?s=b".to_owned(),
            }],
            parts,
        }
    }

    #[test]
    fn round_trips_in_the_documented_format() {
        let m = sample();
        let text = render(&m);
        assert!(
            text.starts_with("custody-manifest 1\ndocument=capture-memory\n"),
            "{text}"
        );
        assert!(text.contains("\npart image 2 https://b.s3/x?partNumber=2\n"));
        assert!(text.contains(&format!(
            "\nget avml {} https://a/avml?s=b\n",
            Sha256Digest::of(b"avml")
        )));
        assert_eq!(parse(text.as_bytes()).unwrap(), m);
    }

    #[test]
    fn refuses_tampered_manifests() {
        let text = render(&sample()).replace("part image 2", "part image 3");
        assert!(parse(text.as_bytes()).is_err());
        let text = render(&sample()).replace("custody-manifest 1", "custody-manifest 9");
        assert!(parse(text.as_bytes()).is_err());
    }
}
