//! The simulated SSM documents: what each custody document (ssm-documents/) "does" on a host,
//! computed when the command is sent and applied to the world when it finishes (see
//! `COMMANDS.md`).
//!
//! The contract is the real documents': parameters `CaseId`, `InstanceId`, `ManifestUrl` (and
//! `VolumeIds` for disk analysis); a plain-text manifest (`custody-manifest 1`, `key=value`,
//! `get NAME SHA256 URL`, `part NAME N URL`); each output shipped as multipart parts to the
//! manifest's part URLs; one JSON object on stdout. Nothing here allocates an image: a memory
//! capture is modelled as the parts a host would PUT, each with a size and a deterministic
//! SHA-256.

use std::collections::BTreeMap;

use custody_core::id::Timestamp;
use custody_steps::ports::{CommandStatus, DocumentSettings};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::{
    AVML_KEY, Effect, Instance, LooseVolume, UploadState, WorldState, lime_module_key,
};
use crate::s3::{self, Presigned, parse_presigned};
use crate::time::{millis, plus};

const GIB: u64 = 1024 * 1024 * 1024;

/// Which custody document a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocumentKind {
    /// Memory capture on a node.
    CaptureMemory,
    /// Pod-to-PID map on a node.
    MapPods,
    /// Volatile host state on a node.
    CollectHost,
    /// Memory analysis on the workstation.
    AnalyseMemory,
    /// Disk analysis on the workstation.
    AnalyseDisk,
}

impl DocumentKind {
    /// The manifest's `document=` value and the stdout `document` name.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::CaptureMemory => ("capture-memory", "custody-capture-memory"),
            Self::MapPods => ("map-pods", "custody-map-pods"),
            Self::CollectHost => ("collect-host", "custody-collect-host"),
            Self::AnalyseMemory => ("analyse-memory", "custody-analyse-memory"),
            Self::AnalyseDisk => ("analyse-disk", "custody-analyse-disk"),
        }
    }
}

/// Recognises a document by name or by an ARN ending in `document/<name>`.
pub(crate) fn kind_of(docs: &DocumentSettings, requested: &str) -> Option<DocumentKind> {
    let short = |s: &str| s.rsplit_once("document/").map_or(s, |(_, n)| n).to_string();
    [
        (&docs.capture_memory, DocumentKind::CaptureMemory),
        (&docs.map_pods, DocumentKind::MapPods),
        (&docs.collect_host, DocumentKind::CollectHost),
        (&docs.analyse_memory, DocumentKind::AnalyseMemory),
        (&docs.analyse_disk, DocumentKind::AnalyseDisk),
    ]
    .into_iter()
    .find(|(configured, _)| short(configured) == short(requested))
    .map(|(_, k)| k)
}

/// What running a document produces.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// How long it runs after dispatch, in seconds.
    pub seconds: f64,
    /// Final status.
    pub status: CommandStatus,
    /// Exit code.
    pub exit_code: i32,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
    /// Effects applied when it finishes.
    pub effects: Vec<Effect>,
}

/// A failed run: `custody: <reason>` on stderr, like the real scripts.
fn failed(seconds: f64, exit_code: i32, reason: impl Into<String>) -> Outcome {
    Outcome {
        seconds,
        status: CommandStatus::Failed,
        exit_code,
        stdout: String::new(),
        stderr: format!("custody: {}\n", reason.into()),
        effects: Vec::new(),
    }
}

/// The failure a `commandFails` knob imposes.
pub(crate) fn knob_failure(exit_code: i32, stderr: String, seconds: f64) -> Outcome {
    Outcome {
        seconds,
        status: CommandStatus::Failed,
        exit_code,
        stdout: String::new(),
        stderr,
        effects: Vec::new(),
    }
}

/// What a run sees.
pub(crate) struct RunContext<'a> {
    /// The world.
    pub st: &'a WorldState,
    /// The instance the document runs on.
    pub instance: &'a Instance,
    /// Evidence volumes attached to it (workstation).
    pub attached: Vec<&'a LooseVolume>,
    /// Parameters.
    pub parameters: &'a BTreeMap<String, String>,
    /// The command id (seeds the synthetic image).
    pub command_id: &'a str,
    /// When the document starts running on the host.
    pub starts_at: Timestamp,
}

/// A parsed capture manifest (format of ssm-documents' `load_manifest`).
#[derive(Debug, Default)]
struct Manifest {
    values: BTreeMap<String, String>,
    gets: BTreeMap<String, (String, String)>,
    parts: BTreeMap<(String, u32), String>,
    part_size: u64,
}

fn parse_manifest(text: &str) -> Result<Manifest, String> {
    let mut lines = text.lines();
    if lines.next() != Some("custody-manifest 1") {
        return Err("manifest does not start with 'custody-manifest 1'".into());
    }
    let mut m = Manifest::default();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let fields: Vec<&str> = line.split(' ').collect();
        match fields.as_slice() {
            [""] => {}
            [first, ..] if first.starts_with('#') => {}
            ["get", name, sha, url] => {
                m.gets.insert(
                    (*name).to_string(),
                    ((*sha).to_string(), (*url).to_string()),
                );
            }
            ["part", name, num, url] => {
                let num: u32 = num
                    .parse()
                    .map_err(|_| format!("manifest line {n}: malformed part line"))?;
                if num == 0 || num > 10_000 {
                    return Err(format!("manifest line {n}: S3 allows parts 1..=10000"));
                }
                m.parts
                    .insert(((*name).to_string(), num), (*url).to_string());
            }
            [kv] if kv.contains('=') => {
                let (k, v) = kv.split_once('=').unwrap_or_default();
                m.values.insert(k.to_string(), v.to_string());
            }
            _ => return Err(format!("manifest line {n}: unknown line kind")),
        }
    }
    m.part_size = m
        .values
        .get("part_size")
        .and_then(|v| v.parse().ok())
        .ok_or("manifest has no valid part_size")?;
    if !(5 * 1024 * 1024..=GIB).contains(&m.part_size) {
        return Err(
            "part_size must be between 5 MiB (the S3 minimum) and 1 GiB (one part is held in RAM)"
                .into(),
        );
    }
    Ok(m)
}

fn hex_sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A host running one document: the manifest loaded, outputs shipped part by part.
struct Host<'r, 'a> {
    rc: &'r RunContext<'a>,
    kind: DocumentKind,
    manifest: Manifest,
    case_id: String,
    effects: Vec<Effect>,
}

impl<'r, 'a> Host<'r, 'a> {
    /// Checks the parameters and loads the manifest, as `load_manifest` does.
    fn start(rc: &'r RunContext<'a>, kind: DocumentKind) -> Result<Self, Outcome> {
        let param = |name: &str| rc.parameters.get(name).cloned();
        let case_id =
            param("CaseId").ok_or_else(|| failed(0.5, 2, "parameter CaseId is missing"))?;
        let instance_id =
            param("InstanceId").ok_or_else(|| failed(0.5, 2, "parameter InstanceId is missing"))?;
        let url = param("ManifestUrl")
            .ok_or_else(|| failed(0.5, 2, "parameter ManifestUrl is missing"))?;
        let p = parse_presigned(&url)
            .filter(|p| p.method == "GET")
            .ok_or_else(|| failed(0.5, 2, "parameter ManifestUrl is malformed"))?;
        let text = fetch(rc, &p, &rc.starts_at)
            .map_err(|e| failed(1.0, 1, format!("manifest download failed ({e})")))?;
        let manifest =
            parse_manifest(&String::from_utf8_lossy(&text)).map_err(|e| failed(1.0, 1, e))?;
        let (doc, _) = kind.names();
        if manifest.values.get("document").map(String::as_str) != Some(doc) {
            return Err(failed(1.0, 1, "manifest was made for another document"));
        }
        if manifest.values.get("case_id") != Some(&case_id) {
            return Err(failed(1.0, 1, "manifest was made for another case"));
        }
        if manifest.values.get("instance_id") != Some(&instance_id)
            || instance_id != rc.instance.id.as_str()
        {
            return Err(failed(1.0, 1, "manifest was made for another instance"));
        }
        Ok(Host {
            rc,
            kind,
            manifest,
            case_id,
            effects: Vec::new(),
        })
    }

    fn require_outputs(&self, names: &[&str]) -> Result<(), Outcome> {
        match names
            .iter()
            .find(|n| !self.manifest.parts.contains_key(&((**n).to_string(), 1)))
        {
            Some(n) => Err(failed(
                1.0,
                1,
                format!("the manifest has no part for output {n}"),
            )),
            None => Ok(()),
        }
    }

    /// Fetches a named object of the manifest and checks its SHA-256.
    /// The SHA-256 the manifest gives for object `name` (what [`Self::get`] checks against).
    fn get_sha256(&self, name: &str) -> Option<String> {
        self.manifest.gets.get(name).map(|(sha, _)| sha.clone())
    }

    fn get(&self, name: &str) -> Result<(Presigned, u64), Outcome> {
        let (sha, url) =
            self.manifest.gets.get(name).ok_or_else(|| {
                failed(1.0, 1, format!("the manifest has no object named {name:?}"))
            })?;
        let p = parse_presigned(url)
            .ok_or_else(|| failed(1.0, 1, "a URL in the manifest is malformed"))?;
        if millis(&self.rc.starts_at) > p.expires_ms {
            return Err(failed(
                1.0,
                1,
                format!("download of {name:?} failed (HTTP 403: URL expired)"),
            ));
        }
        let v = s3::head(self.rc.st, &p.bucket, &p.key)
            .ok_or_else(|| failed(1.0, 1, format!("download of {name:?} failed (HTTP 404)")))?;
        if v.sha256.as_deref().is_some_and(|got| got != sha) {
            return Err(failed(
                1.0,
                1,
                format!(
                    "{name:?} has SHA-256 {}, the manifest says {sha}",
                    v.sha256.as_deref().unwrap_or("?")
                ),
            ));
        }
        Ok((p, v.size_bytes))
    }

    /// Ships an output of `size` bytes (real `bytes`, or a synthetic stream when `None`) to the
    /// manifest's part URLs for `name`, finishing at `at`; returns the `shipped_json` value.
    fn ship(
        &mut self,
        name: &str,
        bytes: Option<&[u8]>,
        size: u64,
        at: &Timestamp,
    ) -> Result<Value, Outcome> {
        let part_size = self.manifest.part_size;
        let count = size.div_ceil(part_size).max(1);
        let seed = format!(
            "custody-sim {name} {} {}",
            self.rc.instance.id, self.rc.command_id
        );
        let mut whole = Sha256::new();
        let mut parts = Vec::new();
        for n in 1..=u32::try_from(count).unwrap_or(u32::MAX) {
            let offset = u64::from(n - 1) * part_size;
            let len = (size - offset).min(part_size);
            let url = self
                .manifest
                .parts
                .get(&(name.to_string(), n))
                .ok_or_else(|| {
                    failed(
                        1.0,
                        1,
                        format!("output {name} needs part {n}; the manifest has none"),
                    )
                })?;
            let p = parse_presigned(url)
                .filter(|p| p.method == "PUT")
                .ok_or_else(|| failed(1.0, 1, "a URL in the manifest is malformed"))?;
            let upload_id = p
                .upload_id
                .clone()
                .ok_or_else(|| failed(1.0, 1, "a part URL is not a multipart part URL"))?;
            if millis(at) > p.expires_ms {
                return Err(failed(
                    1.0,
                    1,
                    format!("upload of {name} part {n} failed (HTTP 403: URL expired)"),
                ));
            }
            if !self
                .rc
                .st
                .runtime
                .uploads
                .iter()
                .any(|u| u.upload_id == upload_id && u.state == UploadState::Open)
            {
                return Err(failed(
                    1.0,
                    1,
                    format!("upload of {name} part {n} failed (HTTP 404: NoSuchUpload)"),
                ));
            }
            let chunk = bytes.map(|b| {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
                let end = usize::try_from(offset + len)
                    .unwrap_or(usize::MAX)
                    .min(b.len());
                b.get(start..end).unwrap_or_default().to_vec()
            });
            let sha = match &chunk {
                Some(c) => hex_sha(c),
                None => hex_sha(format!("{seed} part {n} size {len}").as_bytes()),
            };
            match &chunk {
                Some(c) => whole.update(c),
                None => whole.update(sha.as_bytes()),
            }
            let etag = format!("\"{}\"", &sha[..32]);
            parts.push(json!({"part": n, "bytes": len, "etag": etag, "sha256": sha}));
            self.effects.push(Effect::UploadPart {
                upload_id,
                part_number: n,
                size_bytes: len,
                sha256: sha,
                bytes: chunk,
            });
        }
        Ok(json!({"bytes": size, "sha256": hex::encode(whole.finalize()), "parts": parts}))
    }

    /// The stdout/report header every document prints.
    fn header(&self) -> serde_json::Map<String, Value> {
        let (_, document) = self.kind.names();
        let mut m = serde_json::Map::new();
        m.insert("document".into(), json!(document));
        m.insert("format".into(), json!(1));
        m.insert("case_id".into(), json!(self.case_id));
        m.insert("instance_id".into(), json!(self.rc.instance.id.as_str()));
        m
    }

    fn done(self, seconds: f64, stdout: serde_json::Map<String, Value>) -> Outcome {
        Outcome {
            seconds,
            status: CommandStatus::Success,
            exit_code: 0,
            stdout: format!("{}\n", Value::Object(stdout)),
            stderr: String::new(),
            effects: self.effects,
        }
    }
}

fn fetch(rc: &RunContext<'_>, p: &Presigned, at: &Timestamp) -> Result<Vec<u8>, String> {
    if millis(at) > p.expires_ms {
        return Err("HTTP 403: URL expired".into());
    }
    match s3::head(rc.st, &p.bucket, &p.key) {
        Some(v) => Ok(v.bytes.clone().unwrap_or_default()),
        None => Err("HTTP 404".into()),
    }
}

/// Runs a document (by kind) on its host, as of dispatch.
pub(crate) fn run(kind: DocumentKind, rc: &RunContext<'_>) -> Outcome {
    let host = match Host::start(rc, kind) {
        Ok(h) => h,
        Err(o) => return o,
    };
    let result = match kind {
        DocumentKind::CaptureMemory => capture_memory(host),
        DocumentKind::MapPods => map_pods(host),
        DocumentKind::CollectHost => collect_host(host),
        DocumentKind::AnalyseMemory => analyse_memory(host),
        DocumentKind::AnalyseDisk => analyse_disk(host),
    };
    result.unwrap_or_else(|o| o)
}

mod hosts;
use hosts::{analyse_disk, analyse_memory, capture_memory, collect_host, map_pods};
