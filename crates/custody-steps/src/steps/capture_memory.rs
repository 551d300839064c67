//! `capture-memory`: start the memory capture of one node/instance, streamed to a multipart upload.

use custody_core::case::CaseStatus;
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, Timestamp};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, commands, evidence, notifier};
use crate::ports::{Bucket, Environment, EvidenceStore};
use crate::steps::host_command::{self, HostDocument};
use crate::steps::manifest::{Get, Manifest};
use crate::steps::{guard, notify};
use crate::support::{case_update, failure, keys};
use crate::target::InstanceRef;

const STEP: StepName = StepName::CaptureMemory;

/// Seconds the capture document may run (it streams the whole RAM at network speed).
pub(crate) const CAPTURE_TIMEOUT_SECONDS: u32 = 3 * 3600;
/// Memory assumed when the inventory does not know an instance's RAM size: the largest common
/// instance sizes; the host stops at its real end, unused part URLs simply expire.
const DEFAULT_MEMORY_BYTES: u64 = 256 * 1024 * 1024 * 1024;
/// S3's part-count limit.
const MAX_PARTS: u64 = 10_000;
/// Manifest keys custody keeps for its own retries.
pub(crate) const IMAGE_UPLOAD: &str = "image_upload_id";
/// The report upload id.
pub(crate) const REPORT_UPLOAD: &str = "report_upload_id";

/// Every port operation capture-memory may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &commands::AGENT_STATUS,
    &commands::FIND_COMMAND,
    &commands::SEND_COMMAND,
    &evidence::GET_OBJECT,
    &evidence::HEAD_OBJECT,
    &evidence::BEGIN_UPLOAD,
    &evidence::ABORT_UPLOAD,
    &evidence::PUT_OBJECT,
    &evidence::PRESIGN_GET,
    &notifier::PUBLISH,
];

/// Input: the case and the node/instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureMemoryInput {
    /// The case.
    pub case_id: CaseId,
    /// The instance whose memory is captured.
    pub target: InstanceRef,
}

/// Whether the capture started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartStatus {
    /// The command runs; poll it.
    Started,
    /// Not possible here (agent offline, nothing to do); recorded on the case.
    Skipped,
}

/// Output. Every key is always present (null when not applicable) so the state machine's
/// `ResultSelector` never meets a missing path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureMemoryOutput {
    /// Started or skipped.
    pub status: StartStatus,
    /// The SSM command.
    pub command_id: Option<String>,
    /// The multipart upload the host writes into.
    pub upload_id: Option<String>,
    /// When check-memory stops waiting.
    pub deadline: Option<Timestamp>,
    /// Why it was skipped.
    pub reason: Option<String>,
}

impl CaptureMemoryOutput {
    /// The command runs (or already ran, for a retry): the state machine polls it until
    /// `deadline`.
    pub(crate) fn started(command_id: String, upload_id: String, deadline: Timestamp) -> Self {
        Self {
            status: StartStatus::Started,
            command_id: Some(command_id),
            upload_id: Some(upload_id),
            deadline: Some(deadline),
            reason: None,
        }
    }

    /// The host cannot take the command; `reason` is what the case records.
    pub(crate) fn skipped(reason: String) -> Self {
        Self {
            status: StartStatus::Skipped,
            command_id: None,
            upload_id: None,
            deadline: None,
            reason: Some(reason),
        }
    }
}

/// Starts the capture: multipart upload, manifest with presigned part and tool URLs, SSM command.
///
/// # Idempotency
/// The command carries the comment `custody <case> capture-memory`; a retry finds it, reads the
/// manifest it was given back from the evidence bucket and returns the same command, upload and
/// deadline. A manifest without a command (a crash between the two) has its upload aborted and a
/// fresh one begun, so no orphan upload remains.
///
/// # Guardrail
/// The instance must be a memory target of the case's plan; one the plan refused is refused with
/// `Custody.Protected`. Sending a command is the only mutation of the subject.
///
/// # Errors
/// `Custody.Protected`, `Custody.InvalidInput` (instance not in the plan), `Custody.NotFound`
/// (neither a LiME module for the kernel nor AVML in the artifacts bucket), port errors.
///
/// # Caveats
/// An agent that is not online is not an error: the case records "memory not capturable: <why>",
/// the responders are notified, and the output is `skipped` (disk evidence and isolation go on).
pub async fn capture_memory(
    input: CaptureMemoryInput,
    env: &dyn Environment,
) -> Result<CaptureMemoryOutput, StepError> {
    let span = tracing::info_span!("capture_memory", case = %input.case_id, instance = %input.target.instance_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

async fn body(
    input: &CaptureMemoryInput,
    env: &dyn Environment,
) -> Result<CaptureMemoryOutput, StepError> {
    let case_id = &input.case_id;
    let instance = &input.target.instance_id;
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    let facts = guard::memory_target(&case, instance)?;
    let ports = env
        .target(&input.target.account, &input.target.region, case_id)
        .await?;
    let comment = format!("custody {case_id} capture-memory");
    let evidence = env.forensic().evidence.clone();
    let manifest_key = keys::memory_manifest(case_id, instance);
    let image_key = keys::memory_image(case_id, instance);
    let report_key = keys::memory_report(case_id, instance);

    let commands = &*ports.commands;
    let host = HostDocument::new(commands, &*evidence, instance, comment, manifest_key);
    if let Some(sent) = host.find_sent().await? {
        tracing::info!(command_id = %sent.command_id, "capture already started by an earlier attempt");
        return sent.started(IMAGE_UPLOAD);
    }

    if let Some(why) = host.agent_offline().await? {
        let message = format!("memory of {instance} not capturable: {why}");
        let now = env.clock().now();
        case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
            c.note(STEP.as_str(), "memory-not-capturable", &message, now);
            Ok(())
        })
        .await?;
        notify::send(
            env,
            case_id,
            &format!("custody {case_id}: memory not capturable"),
            &message,
        )
        .await?;
        return Ok(CaptureMemoryOutput::skipped(message));
    }

    // A manifest without a command: an earlier attempt crashed before sending. Its uploads are
    // abandoned (their URLs may be near expiry) and fresh ones begun.
    if let Ok(old) = host.manifest().await {
        for (key, name) in [(&image_key, IMAGE_UPLOAD), (&report_key, REPORT_UPLOAD)] {
            if let Ok(upload) = old.value(name)
                && let Err(err) = evidence.abort_upload(key, upload).await
            {
                tracing::warn!(%upload, cause = %err.cause, "could not abort an earlier attempt's upload");
            }
        }
    }

    let settings = env.settings();
    let expiry = settings.presigned_url_seconds;
    let mut gets = Vec::new();
    if let Some(kernel) = &facts.kernel_release {
        gets.extend(
            tool(
                evidence.as_ref(),
                &format!("lime:{kernel}"),
                &keys::lime_module(kernel),
                expiry,
            )
            .await?,
        );
    }
    gets.extend(tool(evidence.as_ref(), "avml", keys::AVML, expiry).await?);
    if gets.is_empty() {
        return Err(StepError::new(
            ErrorName::NotFound,
            format!(
                "no capture tool for {instance}: neither {:?} nor {:?} is in the artifacts bucket with a SHA-256",
                facts
                    .kernel_release
                    .as_deref()
                    .map(keys::lime_module)
                    .unwrap_or_default(),
                keys::AVML
            ),
        ));
    }

    let part_size = host_command::part_size(settings);
    let memory_bytes = facts.memory_bytes().unwrap_or(DEFAULT_MEMORY_BYTES);
    // LiME adds a 32-byte header per memory range: one spare part covers it.
    let part_count =
        u32::try_from((memory_bytes.div_ceil(part_size) + 1).min(MAX_PARTS)).unwrap_or(10_000);
    let image = evidence
        .begin_upload(&image_key, part_size, part_count, expiry)
        .await?;
    let report = evidence
        .begin_upload(&report_key, part_size, 1, expiry)
        .await?;

    let now = env.clock().now();
    let mut manifest = Manifest::new("capture-memory", case_id, instance, image.part_size_bytes);
    manifest.add_upload("image", IMAGE_UPLOAD, &image);
    manifest.add_upload("report", REPORT_UPLOAD, &report);
    manifest.gets = gets;
    let deadline = host_command::record_deadline(&mut manifest, now, CAPTURE_TIMEOUT_SECONDS);
    let document = &settings.documents.capture_memory;
    let command_id = host
        .send(&manifest, document, CAPTURE_TIMEOUT_SECONDS, expiry)
        .await?;
    let message = format!(
        "memory capture of {instance} started: command {command_id:?}, upload into {image_key:?} ({part_count} part URLs)"
    );
    case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
        case_update::enter_phase(c, CaseStatus::Acquiring, now)?;
        c.note(STEP.as_str(), "memory-capture-started", &message, now);
        Ok(())
    })
    .await?;
    Ok(CaptureMemoryOutput::started(
        command_id,
        image.upload_id,
        deadline,
    ))
}

/// A `get` line for a tool in the artifacts bucket, if it is there with a known SHA-256 (the host
/// refuses a tool whose hash it cannot check).
async fn tool(
    store: &dyn EvidenceStore,
    name: &str,
    key: &str,
    expiry: u64,
) -> Result<Option<Get>, StepError> {
    let Some(object) = store.head_object(Bucket::Artifacts, key).await? else {
        return Ok(None);
    };
    let Some(sha256) = object.sha256 else {
        tracing::warn!(%key, "artifact has no recorded SHA-256; not offered to the host");
        return Ok(None);
    };
    let url = store.presign_get(Bucket::Artifacts, key, expiry).await?;
    Ok(Some(Get {
        name: name.to_owned(),
        sha256,
        url,
    }))
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CaptureMemoryInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&capture_memory(input, env).await?)
}
