//! `check-memory`: poll a capture; on success complete the upload, verify it, record the image.

use custody_core::case::{DigestSource, Evidence, EvidenceKind};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, Sha256Digest, Timestamp};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, commands, evidence};
use crate::ports::{CommandStatus, Environment};
use crate::steps::capture_memory::REPORT_UPLOAD;
use crate::steps::shipped::{self, Shipped};
use crate::steps::{host_command, manifest};
use crate::support::{case_update, failure, keys};
use crate::target::InstanceRef;

const STEP: StepName = StepName::CheckMemory;

/// What the record says was checked, so nobody reads more into the digest than there is.
pub(crate) const INTEGRITY: &str = "each part's Content-MD5 checked by S3 on upload; S3's part list (numbers, sizes, ETags) equal to the host's report before completion; size and Object Lock retention checked with HeadObject after; SHA-256 computed by the source host, not by S3";

/// Every port operation check-memory may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &commands::INVOCATION,
    &evidence::GET_OBJECT,
    &evidence::HEAD_OBJECT,
    &evidence::LIST_PARTS,
    &evidence::COMPLETE_UPLOAD,
    &evidence::ABORT_UPLOAD,
];

/// Input: what capture-memory returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckMemoryInput {
    /// The case.
    pub case_id: CaseId,
    /// The instance.
    pub target: InstanceRef,
    /// The capture command.
    pub command_id: String,
    /// The multipart upload.
    pub upload_id: String,
    /// When to stop waiting.
    pub deadline: Timestamp,
}

/// Output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckMemoryOutput {
    /// Whether the image is verified and recorded.
    pub done: bool,
    /// The evidence id once done.
    pub evidence_id: Option<String>,
}

impl CheckMemoryOutput {
    /// Still running: poll again.
    pub(crate) const NOT_DONE: Self = Self {
        done: false,
        evidence_id: None,
    };

    /// Recorded on the case as `evidence_id` (now, or by an earlier attempt).
    pub(crate) fn done(evidence_id: String) -> Self {
        Self {
            done: true,
            evidence_id: Some(evidence_id),
        }
    }
}

/// The capture document's stdout (ssm-documents/README.md): a summary, the image's size and
/// hash, and the report object it shipped (which lists every image part).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureSummary {
    /// `lime` or `avml`.
    pub method: String,
    /// The host's kernel release.
    #[serde(default)]
    pub kernel_release: Option<String>,
    /// SHA-256 of the tool the host ran.
    #[serde(default)]
    pub tool_sha256: Option<Sha256Digest>,
    /// When streaming started, as the host saw it.
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it finished.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// The image.
    pub image: ImageSummary,
    /// The report object, shipped like any output.
    pub report: Shipped,
}

/// The image as summarised on stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// Bytes streamed.
    pub bytes: u64,
    /// SHA-256 of the whole stream, computed on the host while streaming.
    pub sha256: Sha256Digest,
    /// Parts uploaded.
    pub part_count: u32,
}

/// The report object: the image with every part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureReportObject {
    /// The image, shipped.
    pub image: Shipped,
}

/// Polls the capture and, once it succeeded, completes, verifies and records the image.
///
/// # Idempotency
/// The evidence id is `memory/<instance>`: once recorded, a re-run answers `done` at once. An
/// upload already completed by an earlier attempt (S3 then no longer knows the upload id) is found
/// with a HEAD of the image and verified the same way.
///
/// # Guardrail
/// Touches only the evidence bucket and reads the command; nothing on the subject.
///
/// # Errors
/// `Custody.Timeout` (past the deadline; the upload is aborted), `Custody.CommandFailed` (the
/// document failed; the cause is the escaped tail of its stderr; the upload is aborted),
/// `Custody.EvidenceMismatch` (S3's part list, the object's size or its retention disagree with
/// what the host reported: the upload or object is kept for examination), `Custody.InvalidInput`
/// (unparseable stdout).
///
/// # Caveats
/// S3 checked each part's `Content-MD5` and the step checked S3's part list (numbers, sizes,
/// ETags) against the host's report; the whole-stream and per-part SHA-256 are the host's and are
/// recorded as such (`digestSource: source-host`): S3 never computed them, and re-hashing
/// gigabytes in a Lambda is not possible. The investigation re-hashes the image when it reads it
/// and records that it did.
pub async fn check_memory(
    input: CheckMemoryInput,
    env: &dyn Environment,
) -> Result<CheckMemoryOutput, StepError> {
    let span = tracing::info_span!("check_memory", case = %input.case_id, instance = %input.target.instance_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

pub(crate) fn evidence_id(input: &InstanceRef) -> String {
    format!("memory/{}", input.instance_id)
}

async fn body(
    input: &CheckMemoryInput,
    env: &dyn Environment,
) -> Result<CheckMemoryOutput, StepError> {
    let case_id = &input.case_id;
    let instance = &input.target.instance_id;
    let id = evidence_id(&input.target);
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    if case.evidence.iter().any(|e| e.id == id) {
        return Ok(CheckMemoryOutput::done(id));
    }
    let store = env.forensic().evidence.clone();
    let key = keys::memory_image(case_id, instance);
    let invocation =
        host_command::invocation(env, case_id, &input.target, &input.command_id).await?;
    let now = env.clock().now();
    let subject = format!("memory capture of {instance}");
    match invocation.status {
        CommandStatus::Pending | CommandStatus::InProgress => {
            if now > input.deadline {
                abort(env, &key, &input.upload_id).await;
                return Err(StepError::new(
                    ErrorName::Timeout,
                    format!(
                        "{subject} (command {:?}) still {:?} at its deadline {}",
                        input.command_id, invocation.status, input.deadline
                    ),
                ));
            }
            Ok(CheckMemoryOutput::NOT_DONE)
        }
        CommandStatus::Success => {
            let summary: CaptureSummary = host_command::summary(&invocation, &subject)?;
            let manifest =
                manifest::load(store.as_ref(), &keys::memory_manifest(case_id, instance)).await?;
            let report_key = keys::memory_report(case_id, instance);
            let what = format!("capture report of {instance}");
            let (_, report_bytes) = shipped::complete_and_read(
                store.as_ref(),
                &report_key,
                manifest.value(REPORT_UPLOAD)?,
                &summary.report,
                &what,
                "report",
            )
            .await?;
            let report: CaptureReportObject =
                serde_json::from_slice(&report_bytes).map_err(|e| {
                    StepError::invalid_input(format!("{what} is not the documented JSON: {e}"))
                })?;
            if report.image.sha256 != summary.image.sha256
                || report.image.bytes != summary.image.bytes
                || report.image.parts.len() != summary.image.part_count as usize
            {
                return Err(StepError::new(
                    ErrorName::EvidenceMismatch,
                    format!(
                        "memory image of {instance}: the report object and stdout disagree on the image"
                    ),
                ));
            }
            let what = format!("memory image of {instance}");
            let stored = shipped::complete_and_verify(
                store.as_ref(),
                &key,
                &input.upload_id,
                &report.image,
                &what,
            )
            .await?;
            let evidence = Evidence {
                id: id.clone(),
                kind: EvidenceKind::MemoryImage,
                resource: instance.to_string(),
                location: stored.location.clone(),
                sha256: Some(summary.image.sha256.clone()),
                digest_source: Some(DigestSource::SourceHost),
                size_bytes: Some(stored.size_bytes),
                taken_at: now,
                taken_by: STEP.as_str().to_owned(),
                method: Some(summary.method.clone()),
                details: serde_json::json!({
                    "commandId": input.command_id,
                    "uploadId": input.upload_id,
                    "versionId": stored.version_id,
                    "retainUntil": stored.retain_until,
                    "lockMode": stored.lock_mode,
                    "parts": report.image.parts_record(),
                    "integrity": INTEGRITY,
                    "kernelRelease": summary.kernel_release,
                    "toolSha256": summary.tool_sha256,
                    "startedAt": summary.started_at,
                    "finishedAt": summary.finished_at,
                    // The full part list ({part, bytes, etag, sha256}) is in this object too.
                    "report": {"location": format!("s3://{}/{report_key}", env.settings().evidence_bucket), "sha256": summary.report.sha256},
                }),
            };
            case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
                c.add_evidence(evidence.clone())
            })
            .await?;
            tracing::info!(evidence = %id, size = stored.size_bytes, "memory image verified and recorded");
            Ok(CheckMemoryOutput::done(id))
        }
        _ => {
            abort(env, &key, &input.upload_id).await;
            Err(host_command::failed(
                &subject,
                &input.command_id,
                &invocation,
            ))
        }
    }
}

async fn abort(env: &dyn Environment, key: &str, upload_id: &str) {
    if let Err(err) = env.forensic().evidence.abort_upload(key, upload_id).await {
        tracing::warn!(upload = %upload_id, cause = %err.cause, "could not abort the memory upload");
    }
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CheckMemoryInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&check_memory(input, env).await?)
}
