//! The simulated SSM documents: what each custody document "does" on a host, computed when the
//! command is sent and applied to the world when it finishes (see `COMMANDS.md`).
//!
//! Nothing here allocates an image: a memory capture is modelled as the parts a host would PUT,
//! each with a size and a deterministic SHA-256, and a whole-image digest derived from them.

use std::collections::BTreeMap;

use custody_core::id::Timestamp;
use custody_steps::ports::{CommandStatus, DocumentSettings};
use serde_json::json;
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

/// Recognises a document by name or by an ARN ending in `document/<name>`.
pub(crate) fn kind_of(docs: &DocumentSettings, requested: &str) -> Option<DocumentKind> {
    let name = |configured: &str| {
        let short = |s: &str| s.rsplit_once("document/").map_or(s, |(_, n)| n).to_string();
        short(configured) == short(requested)
    };
    [
        (&docs.capture_memory, DocumentKind::CaptureMemory),
        (&docs.map_pods, DocumentKind::MapPods),
        (&docs.collect_host, DocumentKind::CollectHost),
        (&docs.analyse_memory, DocumentKind::AnalyseMemory),
        (&docs.analyse_disk, DocumentKind::AnalyseDisk),
    ]
    .into_iter()
    .find(|(configured, _)| name(configured))
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

fn failed(seconds: f64, exit_code: i32, stderr: impl Into<String>) -> Outcome {
    Outcome {
        seconds,
        status: CommandStatus::Failed,
        exit_code,
        stdout: String::new(),
        stderr: stderr.into(),
        effects: Vec::new(),
    }
}

fn succeeded(seconds: f64, stdout: serde_json::Value, effects: Vec<Effect>) -> Outcome {
    Outcome {
        seconds,
        status: CommandStatus::Success,
        exit_code: 0,
        stdout: stdout.to_string(),
        stderr: String::new(),
        effects,
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

impl RunContext<'_> {
    /// Every `sim://` URL among the parameters, by parameter name.
    fn urls(&self, method: &str) -> Vec<(String, Presigned)> {
        self.parameters
            .iter()
            .filter_map(|(k, v)| parse_presigned(v).map(|p| (k.clone(), p)))
            .filter(|(_, p)| p.method == method)
            .collect()
    }

    /// Fetches a presigned GET at `at` like curl would: the bytes, or curl's error line.
    fn fetch(&self, p: &Presigned, at: &Timestamp) -> Result<Vec<u8>, String> {
        if millis(at) > p.expires_ms {
            return Err(format!(
                "curl: (22) The requested URL returned error: 403 (expired URL for {:?})",
                p.key
            ));
        }
        match s3::head(self.st, &p.bucket, &p.key) {
            Some(v) => Ok(v.bytes.clone().unwrap_or_default()),
            None => Err(format!(
                "curl: (22) The requested URL returned error: 404 ({:?})",
                p.key
            )),
        }
    }

    fn exists(&self, p: &Presigned, at: &Timestamp) -> bool {
        millis(at) <= p.expires_ms && s3::head(self.st, &p.bucket, &p.key).is_some()
    }
}

/// Runs a document (by kind) on its host, as of dispatch.
pub(crate) fn run(kind: DocumentKind, rc: &RunContext<'_>) -> Outcome {
    match kind {
        DocumentKind::CaptureMemory => capture_memory(rc),
        DocumentKind::MapPods => map_pods(rc),
        DocumentKind::CollectHost => collect_host(rc),
        DocumentKind::AnalyseMemory => analyse(rc, true),
        DocumentKind::AnalyseDisk => analyse(rc, false),
    }
}

/// The manifest a capture reads: `key=value` lines and `part N URL` lines.
#[derive(Debug, Default)]
struct Manifest {
    values: BTreeMap<String, String>,
    parts: BTreeMap<u32, String>,
}

fn parse_manifest(text: &str) -> Result<Manifest, String> {
    let mut m = Manifest::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("part ") {
            let (n, url) = rest
                .split_once(' ')
                .ok_or_else(|| format!("manifest line {}: expected `part N URL`", i + 1))?;
            let n: u32 = n
                .parse()
                .map_err(|_| format!("manifest line {}: bad part number", i + 1))?;
            m.parts.insert(n, url.trim().to_string());
        } else if let Some((k, v)) = line.split_once('=') {
            m.values.insert(k.trim().to_string(), v.trim().to_string());
        } else {
            return Err(format!(
                "manifest line {}: not `key=value` or `part N URL`",
                i + 1
            ));
        }
    }
    Ok(m)
}

fn hex_sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn capture_memory(rc: &RunContext<'_>) -> Outcome {
    let inst = rc.instance;
    let lat = &rc.st.latency;
    let Some((_, manifest_url)) = rc.urls("GET").into_iter().next() else {
        return failed(1.0, 2, "custody-capture-memory: no manifest URL parameter");
    };
    let text = match rc.fetch(&manifest_url, &rc.starts_at) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return failed(1.0, 22, e),
    };
    let manifest = match parse_manifest(&text) {
        Ok(m) => m,
        Err(e) => return failed(1.0, 2, format!("custody-capture-memory: {e}")),
    };
    let tool = |needle: &str| {
        manifest
            .values
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().contains(needle))
            .find_map(|(_, v)| parse_presigned(v))
    };
    let lime_ok = tool("lime").is_some_and(|p| {
        p.key == lime_module_key(&inst.kernel_release) && rc.exists(&p, &rc.starts_at)
    });
    let avml_ok = tool("avml").is_some_and(|p| p.key == AVML_KEY && rc.exists(&p, &rc.starts_at));
    let method = if lime_ok {
        "lime"
    } else if avml_ok {
        "avml"
    } else {
        return failed(
            3.0,
            3,
            format!(
                "custody-capture-memory: no LiME module for kernel {:?} and no AVML binary could be fetched",
                inst.kernel_release
            ),
        );
    };
    let image_bytes = inst.memory_gib * GIB;
    let seconds = lat.memory_capture(inst.memory_gib).as_secs_f64() - lat.command_dispatch_seconds;
    let finishes = plus(&rc.starts_at, seconds);
    let part_size = manifest
        .values
        .iter()
        .find(|(k, _)| {
            k.to_ascii_lowercase()
                .replace(['_', '-'], "")
                .contains("partsize")
        })
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .or_else(|| {
            rc.parameters
                .iter()
                .find(|(k, _)| k.to_ascii_lowercase().contains("partsize"))
                .and_then(|(_, v)| v.parse().ok())
        });
    let Some(part_size) = part_size.filter(|s| *s > 0) else {
        return failed(
            1.0,
            2,
            "custody-capture-memory: no part size in the manifest or parameters",
        );
    };
    let needed = image_bytes.div_ceil(part_size);
    if needed > manifest.parts.len() as u64 {
        return failed(
            seconds,
            4,
            format!(
                "custody-capture-memory: the image needs {needed} parts of {part_size} bytes; the manifest has {}",
                manifest.parts.len()
            ),
        );
    }
    let seed = format!("custody-sim memory image {} {}", inst.id, rc.command_id);
    let mut effects = Vec::new();
    let mut parts = Vec::new();
    let mut whole = Sha256::new();
    whole.update(seed.as_bytes());
    let mut remaining = image_bytes;
    for n in 1..=u32::try_from(needed).unwrap_or(u32::MAX) {
        let size = remaining.min(part_size);
        remaining -= size;
        let Some(url) = manifest.parts.get(&n).and_then(|u| parse_presigned(u)) else {
            return failed(
                seconds,
                4,
                format!("custody-capture-memory: part {n} has no usable URL"),
            );
        };
        let Some(upload_id) = url.upload_id.clone().filter(|_| url.method == "PUT") else {
            return failed(
                seconds,
                4,
                format!("custody-capture-memory: part {n} URL is not a multipart PUT"),
            );
        };
        if millis(&finishes) > url.expires_ms {
            return failed(
                seconds,
                22,
                format!("curl: (22) The requested URL returned error: 403 (part {n}: URL expired)"),
            );
        }
        if !rc
            .st
            .runtime
            .uploads
            .iter()
            .any(|u| u.upload_id == upload_id && u.state == UploadState::Open)
        {
            return failed(
                seconds,
                22,
                format!(
                    "curl: (22) The requested URL returned error: 404 (part {n}: NoSuchUpload)"
                ),
            );
        }
        let sha = hex_sha(&format!("{seed} part {n} size {size}"));
        whole.update(sha.as_bytes());
        parts.push(json!({
            "partNumber": n,
            "etag": format!("\"{}\"", &sha[..32]),
            "sha256": sha,
            "sizeBytes": size,
        }));
        effects.push(Effect::UploadPart {
            upload_id,
            part_number: n,
            size_bytes: size,
            sha256: sha,
        });
    }
    let summary = json!({
        "method": method,
        "kernelRelease": inst.kernel_release,
        "imageBytes": image_bytes,
        "sha256": hex::encode(whole.finalize()),
        "startedAt": rc.starts_at.to_string(),
        "finishedAt": finishes.to_string(),
    });
    // SSM keeps 24,000 characters of stdout: a large image's part list does not fit. When the
    // manifest gives a PUT URL for it, the host uploads the part list there and prints a summary.
    let parts_url = manifest
        .values
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().contains("parts"))
        .filter_map(|(_, v)| parse_presigned(v))
        .find(|p| p.method == "PUT" && p.upload_id.is_none());
    let mut stdout = summary;
    match parts_url {
        Some(p) => {
            let mut listing = stdout.clone();
            listing["parts"] = serde_json::Value::Array(parts);
            effects.push(put(
                &p,
                listing.to_string().into_bytes(),
                "application/json",
            ));
            stdout["partsKey"] = json!(p.key);
        }
        None => stdout["parts"] = serde_json::Value::Array(parts),
    }
    succeeded(seconds, stdout, effects)
}

/// A PUT target for a document's single output (the first presigned PUT among the parameters).
fn output_url(rc: &RunContext<'_>, document: &str) -> Result<Presigned, Outcome> {
    rc.urls("PUT")
        .into_iter()
        .map(|(_, p)| p)
        .find(|p| p.upload_id.is_none())
        .ok_or_else(|| failed(1.0, 2, format!("{document}: no output URL parameter")))
}

fn put(p: &Presigned, bytes: Vec<u8>, content_type: &str) -> Effect {
    Effect::PutObject {
        bucket: p.bucket.clone(),
        key: p.key.clone(),
        bytes,
        content_type: content_type.into(),
    }
}

fn pods_on<'a>(rc: &RunContext<'a>) -> Vec<(&'a crate::model::EksCluster, &'a crate::model::Pod)> {
    rc.st
        .accounts
        .iter()
        .flat_map(|a| &a.clusters)
        .flat_map(|c| {
            let node = c.nodes.iter().find(|n| {
                crate::validate::provider_instance(&n.provider_id)
                    .is_some_and(|i| i == rc.instance.id)
            });
            c.pods
                .iter()
                .filter(move |p| node.is_some_and(|n| n.name == p.node))
                .map(move |p| (c, p))
        })
        .collect()
}

fn map_pods(rc: &RunContext<'_>) -> Outcome {
    let url = match output_url(rc, "custody-map-pods") {
        Ok(u) => u,
        Err(o) => return o,
    };
    let seconds = rc.st.latency.map_pods_seconds;
    if millis(&plus(&rc.starts_at, seconds)) > url.expires_ms {
        return failed(
            seconds,
            22,
            "curl: (22) The requested URL returned error: 403 (expired output URL)",
        );
    }
    let hostname = pods_on(rc)
        .first()
        .and_then(|(c, p)| c.nodes.iter().find(|n| n.name == p.node))
        .map(|n| n.name.to_string())
        .unwrap_or_else(|| rc.instance.id.to_string());
    let containers: Vec<serde_json::Value> = pods_on(rc)
        .into_iter()
        .flat_map(|(_, pod)| {
            pod.containers.iter().map(move |c| {
                json!({
                    "id": c.id.as_str(),
                    "podSandboxId": hex_sha(&format!("sandbox {}", pod.uid)),
                    "metadata": { "name": c.name, "attempt": 0 },
                    "image": { "image": c.image },
                    "state": "CONTAINER_RUNNING",
                    "labels": {
                        "io.kubernetes.container.name": c.name,
                        "io.kubernetes.pod.name": pod.name.as_str(),
                        "io.kubernetes.pod.namespace": pod.namespace.as_str(),
                        "io.kubernetes.pod.uid": pod.uid,
                    },
                    "info": { "pid": c.host_pid },
                })
            })
        })
        .collect();
    let count = containers.len();
    let doc = json!({
        "schema": "custody.map-pods/v1",
        "instanceId": rc.instance.id.as_str(),
        "hostname": hostname,
        "collectedAt": rc.starts_at.to_string(),
        "containers": containers,
    });
    let bytes = doc.to_string().into_bytes();
    let stdout = json!({
        "containers": count,
        "key": url.key,
        "sizeBytes": bytes.len(),
        "sha256": hex::encode(Sha256::digest(&bytes)),
    });
    succeeded(seconds, stdout, vec![put(&url, bytes, "application/json")])
}

fn collect_host(rc: &RunContext<'_>) -> Outcome {
    let url = match output_url(rc, "custody-collect-host") {
        Ok(u) => u,
        Err(o) => return o,
    };
    let seconds = rc.st.latency.collect_host_seconds;
    let processes: Vec<serde_json::Value> = pods_on(rc)
        .into_iter()
        .flat_map(|(_, p)| {
            p.containers
                .iter()
                .map(|c| json!({"pid": c.host_pid, "comm": c.name, "containerId": c.id.as_str()}))
        })
        .collect();
    let doc = json!({
        "schema": "custody.collect-host/v1",
        "instanceId": rc.instance.id.as_str(),
        "kernelRelease": rc.instance.kernel_release,
        "collectedAt": rc.starts_at.to_string(),
        "processes": processes,
        "connections": [],
        "users": [],
    });
    let bytes = doc.to_string().into_bytes();
    let stdout = json!({"key": url.key, "sizeBytes": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))});
    succeeded(seconds, stdout, vec![put(&url, bytes, "application/json")])
}

fn analyse(rc: &RunContext<'_>, memory: bool) -> Outcome {
    let name = if memory {
        "custody-analyse-memory"
    } else {
        "custody-analyse-disk"
    };
    let lat = &rc.st.latency;
    // Inputs: every presigned GET must resolve (curl would fail otherwise).
    let mut input_gib = 0u64;
    for (_, p) in rc.urls("GET") {
        if !rc.exists(&p, &rc.starts_at) {
            return failed(
                1.0,
                22,
                format!(
                    "curl: (22) The requested URL returned error: 404 ({:?})",
                    p.key
                ),
            );
        }
        if let Some(v) = s3::head(rc.st, &p.bucket, &p.key) {
            input_gib += v.size_bytes.div_ceil(GIB);
        }
    }
    let seconds = if memory {
        if input_gib == 0 {
            return failed(1.0, 2, format!("{name}: no memory image URL parameter"));
        }
        lat.analyse_memory_seconds_per_gib * input_gib as f64
    } else {
        if rc.attached.is_empty() {
            return failed(1.0, 2, format!("{name}: no evidence volume is attached"));
        }
        lat.analyse_disk_seconds_per_gib
            * rc.attached.iter().map(|v| v.size_gib).sum::<u64>() as f64
    };
    let puts: Vec<Presigned> = rc
        .urls("PUT")
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| p.upload_id.is_none())
        .collect();
    if puts.is_empty() {
        return failed(1.0, 2, format!("{name}: no output URL parameter"));
    }
    let finishes = plus(&rc.starts_at, seconds);
    if let Some(p) = puts.iter().find(|p| millis(&finishes) > p.expires_ms) {
        return failed(
            seconds,
            22,
            format!(
                "curl: (22) The requested URL returned error: 403 (expired URL for {:?})",
                p.key
            ),
        );
    }
    let (manifest_url, outputs): (Vec<&Presigned>, Vec<&Presigned>) =
        puts.iter().partition(|p| p.key.ends_with("manifest.json"));
    let mut effects = Vec::new();
    let mut listed = Vec::new();
    for p in outputs {
        let body = if memory {
            json!({"tool": "volatility3", "output": p.key, "findings": [], "instanceId": rc.instance.id.as_str()})
        } else {
            let volumes: Vec<_> = rc
                .attached
                .iter()
                .map(|v| json!({"volumeId": v.id.as_str(), "mount": "ro,noload"}))
                .collect();
            json!({"tool": "custody-disk-triage", "output": p.key, "volumes": volumes, "files": []})
        };
        let bytes = body.to_string().into_bytes();
        listed.push(json!({"key": p.key, "sizeBytes": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))}));
        effects.push(put(p, bytes, "application/json"));
    }
    let manifest = json!({"document": name, "outputs": listed});
    if let Some(m) = manifest_url.first() {
        effects.push(put(
            m,
            manifest.to_string().into_bytes(),
            "application/json",
        ));
    }
    succeeded(
        seconds,
        json!({"outputs": listed, "manifestKey": manifest_url.first().map(|m| m.key.clone())}),
        effects,
    )
}

/// The failure a host-side problem (a knob) gives, in the same shape.
pub(crate) fn knob_failure(exit_code: i32, stderr: String, seconds: f64) -> Outcome {
    failed(seconds, exit_code, stderr)
}
