//! `snapshot-disks`: a crash-consistent snapshot of every volume of one instance.

use custody_core::case::CaseStatus;
use custody_core::error::StepError;
use custody_core::id::{CaseId, SnapshotId, Timestamp};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::Environment;
use crate::ports::ops::{cases, snapshots};
use crate::steps::guard;
use crate::support::tags::case_tags;
use crate::support::{case_update, failure};
use crate::target::InstanceRef;

const STEP: StepName = StepName::SnapshotDisks;

/// How long check-snapshots waits for snapshots and copies before giving up.
pub(crate) const SNAPSHOT_DEADLINE_SECONDS: i64 = 8 * 3600;

/// Every port operation snapshot-disks may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &snapshots::FIND_CASE_SNAPSHOTS,
    &snapshots::CREATE_SNAPSHOTS,
];

/// Input: the case and the instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDisksInput {
    /// The case.
    pub case_id: CaseId,
    /// The instance.
    pub target: InstanceRef,
}

/// Output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDisksOutput {
    /// The snapshots of the instance's volumes.
    pub snapshot_ids: Vec<SnapshotId>,
    /// When check-snapshots gives up.
    pub deadline: Timestamp,
}

/// Finds the case's snapshots of this instance or creates them (tagged at creation).
///
/// # Idempotency
/// Snapshots are tagged `CaseId`, `custody:case` and `custody:instance` when created; a retry
/// finds them by those tags and creates no second set.
///
/// # Guardrail
/// The instance must be a disk target of the case's plan (`Custody.Protected` if the plan refused
/// it). Creating a snapshot does not change the instance.
///
/// # Errors
/// `Custody.Protected`, `Custody.InvalidInput`, port errors.
///
/// # Caveats
/// The deadline of a found set is recomputed from now, so a retried step waits a little longer.
pub async fn snapshot_disks(
    input: SnapshotDisksInput,
    env: &dyn Environment,
) -> Result<SnapshotDisksOutput, StepError> {
    let span = tracing::info_span!("snapshot_disks", case = %input.case_id, instance = %input.target.instance_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

async fn body(
    input: &SnapshotDisksInput,
    env: &dyn Environment,
) -> Result<SnapshotDisksOutput, StepError> {
    let case_id = &input.case_id;
    let instance = &input.target.instance_id;
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    guard::disk_target(&case, instance)?;
    let ports = env
        .target(&input.target.account, &input.target.region, case_id)
        .await?;
    let deadline = env.clock().now().plus_seconds(SNAPSHOT_DEADLINE_SECONDS);
    let existing = ports
        .snapshots
        .find_case_snapshots(case_id, instance)
        .await?;
    let snapshots = if existing.is_empty() {
        let tags = case_tags(case_id, &[("custody:instance", instance.as_str())]);
        let created = ports
            .snapshots
            .create_snapshots(
                instance,
                &format!("custody {case_id}: evidence of {instance}"),
                &tags,
            )
            .await?;
        let message = format!(
            "snapshots of {instance} started: {}",
            created
                .iter()
                .map(|s| s.snapshot_id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let now = env.clock().now();
        case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
            case_update::enter_phase(c, CaseStatus::Acquiring, now)?;
            c.note(STEP.as_str(), "snapshots-started", &message, now);
            Ok(())
        })
        .await?;
        created
    } else {
        existing
    };
    Ok(SnapshotDisksOutput {
        snapshot_ids: snapshots.into_iter().map(|s| s.snapshot_id).collect(),
        deadline,
    })
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: SnapshotDisksInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&snapshot_disks(input, env).await?)
}
