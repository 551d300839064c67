//! `check-pod-map`: poll the container listing; match the case's pods to PIDs; record the map.

use custody_core::case::{DigestSource, Evidence, EvidenceKind};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, Sha256Digest, Timestamp};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, commands, evidence};
use crate::ports::{CommandStatus, Environment};
use crate::steps::check_memory::CheckMemoryOutput;
use crate::steps::manifest;
use crate::steps::map_pods::PODMAP_UPLOAD;
use crate::steps::pod_map::{self, ContainerListing};
use crate::steps::shipped::{self, Shipped};
use crate::steps::{guard, host_command};
use crate::support::{case_update, failure, keys};
use crate::target::InstanceRef;

const STEP: StepName = StepName::CheckPodMap;

/// Every port operation check-pod-map may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &commands::INVOCATION,
    &evidence::GET_OBJECT,
    &evidence::HEAD_OBJECT,
    &evidence::LIST_PARTS,
    &evidence::COMPLETE_UPLOAD,
    &evidence::PUT_OBJECT,
];

/// Input: what map-pods returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckPodMapInput {
    /// The case.
    pub case_id: CaseId,
    /// The node.
    pub target: InstanceRef,
    /// The listing command.
    pub command_id: String,
    /// When to stop waiting.
    pub deadline: Timestamp,
}

/// The map-pods document's stdout (ssm-documents/README.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapPodsSummary {
    /// Containers the runtime listed.
    #[serde(default)]
    pub containers: u64,
    /// Containers whose PID or UTS hostname could not be resolved.
    #[serde(default)]
    pub unresolved: u64,
    /// The `podmap` output, shipped.
    pub podmap: Shipped,
}

/// Output: `done` and the evidence id.
pub type CheckPodMapOutput = CheckMemoryOutput;

/// Polls the listing; on success matches pods ↔ containers ↔ PIDs and records the map.
///
/// # Idempotency
/// Evidence id `pod-pid-map/<instance>`: once recorded, a re-run answers `done`. The map object is
/// deterministic for a given listing, so rewriting it on a retry stores the same bytes.
///
/// # Guardrail
/// Reads the command and the evidence bucket only.
///
/// # Errors
/// `Custody.Timeout`, `Custody.CommandFailed` (escaped stderr tail), `Custody.InvalidInput` (the
/// listing is not the documented JSON), `Custody.EvidenceMismatch` (S3's part list or the object
/// disagree with the host's report, or the listing does not hash to what the host reported),
/// port errors.
///
/// # Caveats
/// The listing comes from the compromised host; disagreements with the Kubernetes API are kept in
/// the map as conflicts, not resolved.
pub async fn check_pod_map(
    input: CheckPodMapInput,
    env: &dyn Environment,
) -> Result<CheckPodMapOutput, StepError> {
    let span = tracing::info_span!("check_pod_map", case = %input.case_id, instance = %input.target.instance_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

async fn body(
    input: &CheckPodMapInput,
    env: &dyn Environment,
) -> Result<CheckPodMapOutput, StepError> {
    let case_id = &input.case_id;
    let instance = &input.target.instance_id;
    let id = format!("pod-pid-map/{instance}");
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    if case.evidence.iter().any(|e| e.id == id) {
        return Ok(CheckPodMapOutput::done(id));
    }
    let invocation =
        host_command::invocation(env, case_id, &input.target, &input.command_id).await?;
    let now = env.clock().now();
    let subject = format!("container listing on {instance}");
    match invocation.status {
        CommandStatus::Pending | CommandStatus::InProgress if now > input.deadline => {
            Err(StepError::new(
                ErrorName::Timeout,
                format!(
                    "{subject} (command {:?}) unfinished at its deadline {}",
                    input.command_id, input.deadline
                ),
            ))
        }
        CommandStatus::Pending | CommandStatus::InProgress => Ok(CheckPodMapOutput::NOT_DONE),
        CommandStatus::Success => {
            let summary: MapPodsSummary = host_command::summary(&invocation, &subject)?;
            let store = env.forensic().evidence.clone();
            let listing_key = keys::container_listing(case_id, instance);
            let manifest =
                manifest::load(store.as_ref(), &keys::pod_map_manifest(case_id, instance)).await?;
            let what = format!("container listing of {instance}");
            let (listing_object, raw) = shipped::complete_and_read(
                store.as_ref(),
                &listing_key,
                manifest.value(PODMAP_UPLOAD)?,
                &summary.podmap,
                &what,
                "listing",
            )
            .await?;
            let listing = ContainerListing::from_podmap(&raw).map_err(|e| {
                StepError::invalid_input(format!("{what} is not the documented JSON: {e}"))
            })?;
            let pods = guard::pods_on(&case, instance);
            let map = pod_map::match_pods(&pods, &listing);
            let document = serde_json::json!({
                "caseId": case_id,
                "instanceId": instance,
                "node": input.target.node,
                "hostname": listing.hostname,
                "collectedAt": listing.collected_at,
                "listing": {"location": listing_object.location, "sha256": summary.podmap.sha256},
                "map": map,
            });
            let bytes = serde_json::to_vec_pretty(&document).map_err(|e| {
                StepError::internal(format!("could not serialise the pod-to-PID map: {e}"))
            })?;
            let stored = store
                .put_object(
                    &keys::pod_pid_map(case_id, instance),
                    &bytes,
                    "application/json",
                )
                .await?;
            let evidence = Evidence {
                id: id.clone(),
                kind: EvidenceKind::PodPidMap,
                resource: input
                    .target
                    .node
                    .as_ref()
                    .map_or_else(|| instance.to_string(), |n| n.to_string()),
                location: stored.location.clone(),
                // custody wrote the map itself, with a SHA-256 checksum S3 verified on arrival.
                sha256: Some(
                    stored
                        .sha256
                        .clone()
                        .unwrap_or_else(|| Sha256Digest::of(&bytes)),
                ),
                digest_source: Some(DigestSource::S3),
                size_bytes: Some(stored.size_bytes),
                taken_at: now,
                taken_by: STEP.as_str().to_owned(),
                method: Some("crictl".to_owned()),
                details: serde_json::json!({
                    "commandId": input.command_id,
                    "pods": map.pods.len(),
                    "containers": map.pods.iter().map(|p| p.containers.len()).sum::<usize>(),
                    "conflicts": map.pods.iter().map(|p| p.conflicts.len()).sum::<usize>(),
                    "hostContainers": summary.containers,
                    "unresolved": summary.unresolved,
                    // The host's listing: its SHA-256 is the host's, re-checked here by custody
                    // reading the object back and hashing it.
                    "listing": {
                        "location": listing_object.location,
                        "sha256": summary.podmap.sha256,
                        "digestSource": DigestSource::SourceHost,
                        "rehashedByCustody": true,
                        "parts": summary.podmap.parts_record(),
                    },
                }),
            };
            case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
                c.add_evidence(evidence.clone())
            })
            .await?;
            Ok(CheckPodMapOutput::done(id))
        }
        _ => Err(host_command::failed(
            &subject,
            &input.command_id,
            &invocation,
        )),
    }
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CheckPodMapInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&check_pod_map(input, env).await?)
}
