//! `investigate-check`: move the investigation along, one stage per poll, and record its outputs.
//!
//! Stages, each found-or-created from the world's state so any poll may be retried: the
//! workstation is running → an evidence volume exists for every recorded snapshot, in the
//! workstation's AZ, attached → the workstation's agent is online → one analyse-memory command per
//! memory image and one analyse-disk command for all volumes have been sent → every command
//! succeeded and its output is verified and recorded as evidence.

use std::collections::BTreeMap;

use custody_core::case::{Case, DigestSource, Evidence, EvidenceKind};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, InstanceId, Sha256Digest, SnapshotId, VolumeId};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, commands, evidence, workstation};
use crate::ports::{Bucket, CommandStatus, Environment, VolumeInfo, WorkstationInfo};
use crate::steps::check_memory::CheckMemoryOutput;
use crate::steps::host_command::{self, HostDocument};
use crate::steps::investigate_start::CaseInput;
use crate::steps::manifest::{Get, Manifest};
use crate::steps::shipped::{self, Shipped};
use crate::support::tags::case_tags;
use crate::support::{case_update, failure, keys};

const STEP: StepName = StepName::InvestigateCheck;
/// Seconds an analysis command may run.
const ANALYSIS_TIMEOUT_SECONDS: u32 = 4 * 3600;
/// Parts presigned for one analysis output.
const OUTPUT_PARTS: u32 = 200;
/// Device names evidence volumes are attached at, in order.
const DEVICES: &[&str] = &[
    "/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi", "/dev/sdj", "/dev/sdk", "/dev/sdl", "/dev/sdm",
    "/dev/sdn", "/dev/sdo", "/dev/sdp",
];

/// Every port operation investigate-check may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &workstation::FIND_WORKSTATION,
    &workstation::FIND_CASE_VOLUMES,
    &workstation::CREATE_EVIDENCE_VOLUME,
    &workstation::ATTACH_VOLUME,
    &commands::AGENT_STATUS,
    &commands::FIND_COMMAND,
    &commands::SEND_COMMAND,
    &commands::INVOCATION,
    &evidence::GET_OBJECT,
    &evidence::HEAD_OBJECT,
    &evidence::PUT_OBJECT,
    &evidence::BEGIN_UPLOAD,
    &evidence::LIST_PARTS,
    &evidence::COMPLETE_UPLOAD,
    &evidence::PRESIGN_GET,
];

/// Output: `done` once every analysis output is recorded.
pub type InvestigateCheckOutput = CheckMemoryOutput;

/// One analysis to run.
struct Analysis {
    /// `memory-<instance>` or `disk`.
    name: String,
    /// `analyse-memory` or `analyse-disk`.
    document_kind: &'static str,
    /// The SSM document.
    document: String,
    /// Objects to download (the memory image).
    gets: Vec<Get>,
    /// Extra document parameters (`VolumeIds`).
    parameters: BTreeMap<String, String>,
    /// The outputs it ships and how many parts to presign for each.
    outputs: &'static [(&'static str, u32)],
    /// The memory image evidence it reads (id and recorded SHA-256): the document re-hashes the
    /// image it downloads and reports the digest it computed (`image_sha256`).
    image: Option<(String, Sha256Digest)>,
}

/// analyse-memory's outputs (ssm-documents/README.md).
const MEMORY_OUTPUTS: &[(&str, u32)] = &[("results", OUTPUT_PARTS), ("report", 1)];
/// analyse-disk's outputs.
const DISK_OUTPUTS: &[(&str, u32)] = &[("bundle", OUTPUT_PARTS), ("report", 1)];

/// Polls and advances the investigation.
///
/// # Idempotency
/// Volumes carry client tokens from the case and snapshot; commands are found by their comment
/// (`custody <case> analyse-…`); outputs are recorded under `analysis/<name>` and skipped once
/// recorded. Every poll may be retried.
///
/// # Guardrail
/// Acts only in the forensic account, on copies: the snapshots (the evidence of record) are never
/// written; volumes made from them are mounted read-only by the analysis document.
///
/// # Errors
/// `Custody.NotFound` (no workstation: investigate-start did not run), `Custody.CommandFailed`
/// (an analysis failed, escaped stderr tail; analyse-memory fails this way when the image it
/// downloads does not hash to the record), `Custody.EvidenceMismatch` (an output's part list,
/// size or retention disagree with the report, or analyse-memory reports another image digest),
/// port errors.
///
/// # Caveats
/// The state machine bounds the polling; this step has no deadline of its own.
pub async fn investigate_check(
    input: CaseInput,
    env: &dyn Environment,
) -> Result<InvestigateCheckOutput, StepError> {
    let span = tracing::info_span!("investigate_check", case = %input.case_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

const NOT_DONE: InvestigateCheckOutput = CheckMemoryOutput::NOT_DONE;

async fn body(
    input: &CaseInput,
    env: &dyn Environment,
) -> Result<InvestigateCheckOutput, StepError> {
    let case_id = &input.case_id;
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    let ws = env.forensic().workstation.clone();
    let Some(station) = ws.find_workstation(case_id).await? else {
        return Err(StepError::new(
            ErrorName::NotFound,
            format!("case {case_id} has no workstation; investigate-start must run first"),
        ));
    };
    if station.state != "running" {
        return Ok(NOT_DONE);
    }
    let Some(volumes) = attach_volumes(env, &case, &station).await? else {
        return Ok(NOT_DONE);
    };
    let agents = env
        .forensic()
        .commands
        .agent_status(std::slice::from_ref(&station.instance_id))
        .await?;
    if !agents.iter().any(|a| a.online) {
        return Ok(NOT_DONE);
    }
    let mut all_done = true;
    for analysis in analyses(env, &case, &volumes).await? {
        if !advance(env, &case, &station.instance_id, &analysis).await? {
            all_done = false;
        }
    }
    Ok(CheckMemoryOutput {
        done: all_done,
        evidence_id: None,
    })
}

/// The forensic snapshots recorded as evidence (the last path segment of their ARNs).
fn case_snapshots(case: &Case) -> Vec<SnapshotId> {
    case.evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::EbsSnapshot)
        .filter_map(|e| {
            e.location
                .rsplit('/')
                .next()
                .and_then(|s| SnapshotId::parse(s).ok())
        })
        .collect()
}

/// Ensures a volume per snapshot exists and is attached; `None` while any is not ready yet.
async fn attach_volumes(
    env: &dyn Environment,
    case: &Case,
    station: &WorkstationInfo,
) -> Result<Option<Vec<VolumeId>>, StepError> {
    let ws = env.forensic().workstation.clone();
    let snapshots = case_snapshots(case);
    if snapshots.len() > DEVICES.len() {
        return Err(StepError::new(
            ErrorName::Unsupported,
            format!(
                "{} evidence snapshots, but the workstation attaches at most {}",
                snapshots.len(),
                DEVICES.len()
            ),
        ));
    }
    let volumes = ws.find_case_volumes(&case.id).await?;
    let mut attached = Vec::new();
    let mut ready = true;
    for (snapshot, device) in snapshots.iter().zip(DEVICES) {
        let found: Option<&VolumeInfo> = volumes
            .iter()
            .find(|v| v.snapshot_id.as_ref() == Some(snapshot) && v.state != "deleting");
        match found {
            None => {
                let tags = case_tags(
                    &case.id,
                    &[
                        ("custody:snapshot", snapshot.as_str()),
                        ("custody:purpose", "evidence-volume"),
                    ],
                );
                ws.create_evidence_volume(
                    snapshot,
                    &station.availability_zone,
                    &format!("{}-{snapshot}", case.id),
                    &tags,
                )
                .await?;
                ready = false;
            }
            Some(v) if v.attached_to.as_ref() == Some(&station.instance_id) => {
                if v.state != "in-use" {
                    ready = false;
                }
                attached.push(v.volume_id.clone());
            }
            Some(v) if v.state == "available" => {
                ws.attach_volume(&v.volume_id, &station.instance_id, device)
                    .await?;
                ready = false;
            }
            Some(_) => ready = false,
        }
    }
    Ok(ready.then_some(attached))
}

/// The analyses this case needs.
async fn analyses(
    env: &dyn Environment,
    case: &Case,
    volumes: &[VolumeId],
) -> Result<Vec<Analysis>, StepError> {
    let settings = env.settings();
    let store = env.forensic().evidence.clone();
    let mut out = Vec::new();
    for image in case
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::MemoryImage)
    {
        let (Some(sha256), Some(key)) = (
            image.sha256.clone(),
            image
                .location
                .strip_prefix(&format!("s3://{}/", settings.evidence_bucket)),
        ) else {
            continue;
        };
        let url = store
            .presign_get(Bucket::Evidence, key, settings.presigned_url_seconds)
            .await?;
        out.push(Analysis {
            name: format!("memory-{}", image.resource),
            document_kind: "analyse-memory",
            document: settings.documents.analyse_memory.clone(),
            gets: vec![Get {
                name: "image".to_owned(),
                sha256: sha256.clone(),
                url,
            }],
            parameters: BTreeMap::new(),
            outputs: MEMORY_OUTPUTS,
            image: Some((image.id.clone(), sha256)),
        });
    }
    if !volumes.is_empty() {
        let mut parameters = BTreeMap::new();
        parameters.insert(
            "VolumeIds".to_owned(),
            volumes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push(Analysis {
            name: "disk".to_owned(),
            document_kind: "analyse-disk",
            document: settings.documents.analyse_disk.clone(),
            gets: Vec::new(),
            parameters,
            outputs: DISK_OUTPUTS,
            image: None,
        });
    }
    Ok(out)
}

fn output_key(case: &CaseId, analysis: &Analysis, output: &str) -> String {
    format!("{}{}/{output}", keys::analysis_prefix(case), analysis.name)
}

fn upload_value(output: &str) -> String {
    format!("{output}_upload_id")
}

/// Sends the analysis if needed, then polls it; `true` once all its outputs are recorded.
async fn advance(
    env: &dyn Environment,
    case: &Case,
    station: &InstanceId,
    analysis: &Analysis,
) -> Result<bool, StepError> {
    let case_id = &case.id;
    let evidence_id = |output: &str| format!("analysis/{}/{output}", analysis.name);
    if analysis
        .outputs
        .iter()
        .all(|(o, _)| case.evidence.iter().any(|e| e.id == evidence_id(o)))
    {
        return Ok(true);
    }
    let commands = env.forensic().commands.clone();
    let store = env.forensic().evidence.clone();
    let manifest_key = format!(
        "{}{}.manifest",
        keys::analysis_prefix(case_id),
        analysis.name
    );
    let comment = format!(
        "custody {case_id} {} {}",
        analysis.document_kind, analysis.name
    );
    let mut host = HostDocument::new(&*commands, &*store, station, comment, manifest_key);
    host.parameters = analysis.parameters.clone();
    let Some(command_id) = host.find_command().await? else {
        send(env, case_id, station, analysis, &host).await?;
        return Ok(false);
    };
    let invocation = commands.invocation(&command_id, station).await?;
    match invocation.status {
        CommandStatus::Pending | CommandStatus::InProgress => Ok(false),
        CommandStatus::Success => {
            let stdout: serde_json::Value = serde_json::from_str(invocation.stdout.trim())
                .map_err(|e| {
                    StepError::invalid_input(format!(
                        "{} succeeded but its stdout is not JSON: {e}",
                        analysis.document_kind
                    ))
                })?;
            let rehash = image_rehash(analysis, &stdout, station)?;
            let manifest = host.manifest().await?;
            let now = env.clock().now();
            let mut recorded = Vec::new();
            for (output, _) in analysis.outputs {
                let what = format!(
                    "{} output {output:?} of {:?}",
                    analysis.document_kind, analysis.name
                );
                let shipped: Shipped =
                    serde_json::from_value(stdout.get(*output).cloned().unwrap_or_default())
                        .map_err(|e| {
                            StepError::invalid_input(format!(
                                "{what}: not in the documented stdout JSON: {e}"
                            ))
                        })?;
                let stored = shipped::complete_and_verify(
                    store.as_ref(),
                    &output_key(case_id, analysis, output),
                    manifest.value(&upload_value(output))?,
                    &shipped,
                    &what,
                )
                .await?;
                recorded.push(Evidence {
                    id: evidence_id(output),
                    kind: EvidenceKind::InvestigationOutput,
                    resource: analysis.name.clone(),
                    location: stored.location.clone(),
                    sha256: Some(shipped.sha256.clone()),
                    digest_source: Some(DigestSource::SourceHost),
                    size_bytes: Some(stored.size_bytes),
                    taken_at: now,
                    taken_by: STEP.as_str().to_owned(),
                    method: Some(analysis.document_kind.to_owned()),
                    details: serde_json::json!({
                        "commandId": command_id,
                        "workstation": station,
                        "output": output,
                        "versionId": stored.version_id,
                        "retainUntil": stored.retain_until,
                        "lockMode": stored.lock_mode,
                        "parts": shipped.parts_record(),
                        "integrity": crate::steps::check_memory::INTEGRITY,
                    }),
                });
            }
            case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
                if let Some(message) = &rehash {
                    c.note(STEP.as_str(), "evidence-reverified", message, now);
                }
                for evidence in &recorded {
                    c.add_evidence(evidence.clone())?;
                }
                Ok(())
            })
            .await?;
            Ok(true)
        }
        _ => Err(host_command::failed(
            &format!(
                "{} {:?} on the workstation",
                analysis.document_kind, analysis.name
            ),
            &command_id,
            &invocation,
        )),
    }
}

/// For an analysis that read a memory image: the document must report the SHA-256 it computed
/// over the image it downloaded (`image_sha256`), equal to the recorded one. Returns the timeline
/// message saying the evidence digest was re-verified.
fn image_rehash(
    analysis: &Analysis,
    stdout: &serde_json::Value,
    station: &InstanceId,
) -> Result<Option<String>, StepError> {
    let Some((evidence_id, recorded)) = &analysis.image else {
        return Ok(None);
    };
    let computed = stdout
        .get("image_sha256")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            StepError::invalid_input(format!(
                "{} {:?} succeeded but its stdout has no image_sha256 (the digest it computed over the image)",
                analysis.document_kind, analysis.name
            ))
        })?;
    if computed != recorded.as_str() {
        return Err(StepError::new(
            ErrorName::EvidenceMismatch,
            format!(
                "evidence {evidence_id:?}: {} on workstation {station} computed SHA-256 {computed:?} over the image it read, the record says {recorded}",
                analysis.document_kind
            ),
        ));
    }
    Ok(Some(format!(
        "evidence {evidence_id:?} re-verified: {} on workstation {station} re-hashed the image it read from S3, sha256 {recorded} as recorded",
        analysis.document_kind
    )))
}

async fn send(
    env: &dyn Environment,
    case_id: &CaseId,
    station: &InstanceId,
    analysis: &Analysis,
    host: &HostDocument<'_>,
) -> Result<(), StepError> {
    let settings = env.settings();
    let store = env.forensic().evidence.clone();
    let part_size = host_command::part_size(settings);
    let mut manifest = Manifest::new(analysis.document_kind, case_id, station, part_size);
    for (output, count) in analysis.outputs {
        let upload = store
            .begin_upload(
                &output_key(case_id, analysis, output),
                part_size,
                *count,
                settings.presigned_url_seconds,
            )
            .await?;
        manifest.add_upload(output, &upload_value(output), &upload);
    }
    manifest.gets = analysis.gets.clone();
    let expiry = settings.presigned_url_seconds;
    host.send(
        &manifest,
        &analysis.document,
        ANALYSIS_TIMEOUT_SECONDS,
        expiry,
    )
    .await?;
    Ok(())
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CaseInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&investigate_check(input, env).await?)
}
