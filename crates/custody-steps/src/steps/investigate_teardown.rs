//! `investigate-teardown`: terminate the workstation and delete the case's evidence volumes.

use custody_core::error::StepError;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::Environment;
use crate::ports::ops::{cases, workstation};
use crate::steps::investigate_start::CaseInput;
use crate::support::case_update;

const STEP: StepName = StepName::InvestigateTeardown;

/// Every port operation investigate-teardown may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &workstation::FIND_WORKSTATION,
    &workstation::TERMINATE_WORKSTATION,
    &workstation::FIND_CASE_VOLUMES,
    &workstation::DELETE_VOLUME,
];

/// Output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeardownOutput {
    /// Whether everything is gone: no workstation left running and every evidence volume
    /// deleted. `false` while a volume is still attached to the terminating workstation; the
    /// state machine waits and calls teardown again.
    pub done: bool,
    /// Whether a workstation was terminated by this run (false: there was none left).
    pub terminated: bool,
    /// Evidence volumes deleted by this run.
    pub volumes_deleted: usize,
}

/// Terminates the workstation and deletes every evidence volume of the case. The snapshots,
/// which are the evidence of record, stay.
///
/// # Idempotency
/// Both the workstation and the volumes are found by case tag; terminating a terminated instance
/// and deleting a missing volume are no-ops, so teardown can run any number of times (it runs on
/// the failure path too, possibly after a partial start).
///
/// # Guardrail
/// Acts only on resources tagged with this case in the forensic account.
///
/// # Errors
/// Port errors. A volume still attached to the terminating workstation is not an error: the
/// output says `done: false` and the state machine polls (a terminating instance releases its
/// volumes after tens of seconds, longer than a jittered retry budget reliably covers).
///
/// # Caveats
/// Does not record its failure on the case itself when it runs on the failure path: the state
/// machine's record-failure does, with the original error.
pub async fn investigate_teardown(
    input: CaseInput,
    env: &dyn Environment,
) -> Result<TeardownOutput, StepError> {
    let span = tracing::info_span!("investigate_teardown", case = %input.case_id);
    let case_id = input.case_id.clone();
    crate::support::failure::recorded(env, &case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

async fn body(input: &CaseInput, env: &dyn Environment) -> Result<TeardownOutput, StepError> {
    let case_id = &input.case_id;
    let ws = env.forensic().workstation.clone();
    let mut terminated = false;
    if let Some(found) = ws.find_workstation(case_id).await?
        && found.state != "shutting-down"
    {
        ws.terminate_workstation(&found.instance_id).await?;
        terminated = true;
    }
    let mut deleted = 0usize;
    let mut stuck = Vec::new();
    for volume in ws.find_case_volumes(case_id).await? {
        if volume.state == "deleting" || volume.state == "deleted" {
            continue;
        }
        match ws.delete_volume(&volume.volume_id).await {
            Ok(()) => deleted += 1,
            Err(err) if volume.attached_to.is_some() => {
                stuck.push(format!("{} ({})", volume.volume_id, err.cause))
            }
            Err(err) => return Err(err),
        }
    }
    if terminated || deleted > 0 {
        let now = env.clock().now();
        let message = format!(
            "investigation teardown: workstation {}, {deleted} evidence volume(s) deleted, {} still attached",
            if terminated {
                "terminated"
            } else {
                "already gone"
            },
            stuck.len()
        );
        case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
            c.note(STEP.as_str(), "investigation-teardown", &message, now);
            Ok(())
        })
        .await?;
    }
    if !stuck.is_empty() {
        tracing::info!(volumes = %stuck.join(", "), "evidence volumes still attached; teardown will be polled again");
    }
    Ok(TeardownOutput {
        done: stuck.is_empty(),
        terminated,
        volumes_deleted: deleted,
    })
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CaseInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&investigate_teardown(input, env).await?)
}
