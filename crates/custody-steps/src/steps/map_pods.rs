//! `map-pods`: have the host list every container it runs, for the pod-to-PID map.
//!
//! The pod-to-PID map is two steps of its own rather than part of the memory capture: the
//! listing is seconds of work, its document is different, and failing it must not waste a
//! captured image. It runs after the capture (memory is the more volatile evidence) and before
//! isolation (isolation does not stop processes, but a responder wants the map taken before any
//! change). The host lists ALL containers; no pod name from the (attacker-controlled) cluster ever
//! reaches a command. Matching the case's pods to containers and PIDs happens in Rust, in
//! `check-pod-map`.

use custody_core::error::StepError;
use custody_core::id::CaseId;
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::Environment;
use crate::ports::ops::{cases, commands, evidence};
use crate::steps::capture_memory::{CaptureMemoryInput, CaptureMemoryOutput};
use crate::steps::guard;
use crate::steps::host_command::{self, HostDocument};
use crate::steps::manifest::Manifest;
use crate::support::{case_update, failure, keys};

const STEP: StepName = StepName::MapPods;

/// Seconds the listing document may run.
pub(crate) const MAP_TIMEOUT_SECONDS: u32 = 600;
/// Parts presigned for the `podmap` output (ssm-documents/README.md: 1–2).
const PODMAP_PARTS: u32 = 2;
/// Manifest key of the `podmap` upload id.
pub(crate) const PODMAP_UPLOAD: &str = "podmap_upload_id";

/// Every port operation map-pods may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &commands::AGENT_STATUS,
    &commands::FIND_COMMAND,
    &commands::SEND_COMMAND,
    &evidence::GET_OBJECT,
    &evidence::BEGIN_UPLOAD,
    &evidence::PUT_OBJECT,
    &evidence::PRESIGN_GET,
];

/// Input: the case and the node (same shape as capture-memory's).
pub type MapPodsInput = CaptureMemoryInput;
/// Output (same shape as capture-memory's; `uploadId` is the `podmap` upload).
pub type MapPodsOutput = CaptureMemoryOutput;

/// Sends the container-listing document with a presigned PUT for its JSON.
///
/// # Idempotency
/// The command's comment is `custody <case> map-pods`; a retry finds it and reads the upload id
/// and deadline back from the manifest it was given.
///
/// # Guardrail
/// The node must be a memory target of the plan with case pods on it; otherwise
/// `Custody.Protected` (refused) or `Custody.InvalidInput`.
///
/// # Errors
/// `Custody.Protected`, `Custody.InvalidInput`, port errors.
///
/// # Caveats
/// An agent that is not online skips the map (recorded on the case), like capture-memory.
pub async fn map_pods(
    input: MapPodsInput,
    env: &dyn Environment,
) -> Result<MapPodsOutput, StepError> {
    let span = tracing::info_span!("map_pods", case = %input.case_id, instance = %input.target.instance_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

pub(crate) fn comment(case: &CaseId) -> String {
    format!("custody {case} map-pods")
}

async fn body(input: &MapPodsInput, env: &dyn Environment) -> Result<MapPodsOutput, StepError> {
    let case_id = &input.case_id;
    let instance = &input.target.instance_id;
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    guard::memory_target(&case, instance)?;
    let ports = env
        .target(&input.target.account, &input.target.region, case_id)
        .await?;
    let evidence = env.forensic().evidence.clone();
    let manifest_key = keys::pod_map_manifest(case_id, instance);
    let comment = comment(case_id);
    let commands = &*ports.commands;
    let host = HostDocument::new(commands, &*evidence, instance, comment, manifest_key);
    if let Some(sent) = host.find_sent().await? {
        return sent.started(PODMAP_UPLOAD);
    }
    let now = env.clock().now();
    if host.agent_offline().await?.is_some() {
        let message =
            format!("pod-to-PID map of {instance} not possible: the SSM agent is not online");
        case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
            c.note(STEP.as_str(), "pod-map-not-possible", &message, now);
            Ok(())
        })
        .await?;
        return Ok(MapPodsOutput::skipped(message));
    }
    let settings = env.settings();
    let expiry = settings.presigned_url_seconds;
    let upload = evidence
        .begin_upload(
            &keys::container_listing(case_id, instance),
            host_command::part_size(settings),
            PODMAP_PARTS,
            expiry,
        )
        .await?;
    let mut manifest = Manifest::new("map-pods", case_id, instance, upload.part_size_bytes);
    manifest.add_upload("podmap", PODMAP_UPLOAD, &upload);
    let deadline = host_command::record_deadline(&mut manifest, now, MAP_TIMEOUT_SECONDS);
    let document = &settings.documents.map_pods;
    let command_id = host
        .send(&manifest, document, MAP_TIMEOUT_SECONDS, expiry)
        .await?;
    Ok(MapPodsOutput::started(
        command_id,
        upload.upload_id,
        deadline,
    ))
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: MapPodsInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&map_pods(input, env).await?)
}
