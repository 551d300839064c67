//! `investigate-start`: launch (or find) the case's forensic workstation.
//!
//! The investigation proceeds in `investigate-check`, which moves it along on every poll (evidence
//! volumes once the workstation is up, analyses once the volumes are attached and the agent is
//! online, outputs once the analyses end). Each stage is found-or-created from the world's state,
//! so any poll may be retried, and the state machine carries only the case id.

use custody_core::case::CaseStatus;
use custody_core::error::StepError;
use custody_core::id::{CaseId, InstanceId, Timestamp};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, workstation};
use crate::ports::{Environment, WorkstationSpec};
use crate::support::tags::case_tags;
use crate::support::{case_update, failure};

const STEP: StepName = StepName::InvestigateStart;

/// Every port operation investigate-start may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &workstation::FIND_WORKSTATION,
    &workstation::LAUNCH_WORKSTATION,
];

/// Input: the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseInput {
    /// The case.
    pub case_id: CaseId,
}

/// Output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvestigateStartOutput {
    /// Always `started`.
    pub status: String,
    /// The workstation.
    pub instance_id: InstanceId,
    /// When it was launched or found.
    pub deadline: Timestamp,
}

/// Seconds the investigation may take, from launch to the last analysis output.
pub(crate) const INVESTIGATION_SECONDS: i64 = 6 * 3600;

/// Launches the case's workstation (one per case).
///
/// # Idempotency
/// The workstation is found by its case tag first; the launch carries the case id as client
/// token, so even a lost response returns the same instance.
///
/// # Guardrail
/// Acts only in the forensic account; the subject is not touched.
///
/// # Errors
/// `Custody.InvalidInput` naming the missing setting (`workstation.image`, `workstation.subnet`,
/// `workstation.securityGroup`), port errors.
///
/// # Caveats
/// The workstation is always torn down by `investigate-teardown`, on the failure path too.
pub async fn investigate_start(
    input: CaseInput,
    env: &dyn Environment,
) -> Result<InvestigateStartOutput, StepError> {
    let span = tracing::info_span!("investigate_start", case = %input.case_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

async fn body(
    input: &CaseInput,
    env: &dyn Environment,
) -> Result<InvestigateStartOutput, StepError> {
    let case_id = &input.case_id;
    case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    let ws = env.forensic().workstation.clone();
    let now = env.clock().now();
    let deadline = now.plus_seconds(INVESTIGATION_SECONDS);
    if let Some(found) = ws.find_workstation(case_id).await? {
        return Ok(InvestigateStartOutput {
            status: "started".to_owned(),
            instance_id: found.instance_id,
            deadline,
        });
    }
    let settings = &env.settings().workstation;
    let missing = |name: &str| {
        StepError::invalid_input(format!(
            "setting workstation.{name} is not configured; the investigation cannot launch a workstation without it"
        ))
    };
    let spec = WorkstationSpec {
        case: case_id.clone(),
        image: settings.image.clone().ok_or_else(|| missing("image"))?,
        instance_type: settings.instance_type.clone(),
        subnet: settings.subnet.clone().ok_or_else(|| missing("subnet"))?,
        security_group: settings
            .security_group
            .clone()
            .ok_or_else(|| missing("securityGroup"))?,
        instance_profile: settings.instance_profile.clone(),
        client_token: case_id.to_string(),
        tags: case_tags(case_id, &[("custody:purpose", "workstation")]),
    };
    let launched = ws.launch_workstation(&spec).await?;
    let message = format!(
        "workstation {} launched in {}",
        launched.instance_id, launched.availability_zone
    );
    case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
        case_update::enter_phase(c, CaseStatus::Investigating, now)?;
        c.note(STEP.as_str(), "workstation-launched", &message, now);
        Ok(())
    })
    .await?;
    Ok(InvestigateStartOutput {
        status: "started".to_owned(),
        instance_id: launched.instance_id,
        deadline,
    })
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CaseInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&investigate_start(input, env).await?)
}
