//! `record-failure`: the state machines' Catch target.

use custody_core::case::CaseStatus;
use custody_core::error::{ErrorName, StepError};
use custody_core::id::CaseId;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::Environment;
use crate::ports::ops::{cases, notifier};
use crate::steps::notify;
use crate::steps::triage::ExecutionContext;
use crate::support::case_update;

const STEP: StepName = StepName::RecordFailure;

/// Every port operation record-failure may call.
pub const CAPABILITIES: &[&Capability] = &[&cases::LOAD, &cases::SAVE, &notifier::PUBLISH];

/// Input: what the Catch caught.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordFailureInput {
    /// The case, when triage got far enough to open one.
    #[serde(default)]
    pub case_id: Option<CaseId>,
    /// `$$.Execution`: without a case id, the case id is derived from it (as triage does).
    #[serde(default)]
    pub execution: Option<ExecutionContext>,
    /// The error name (`Custody.Timeout`, `States.TaskFailed`, …).
    pub error: String,
    /// The cause.
    #[serde(default)]
    pub cause: Option<String>,
    /// The state (phase) that failed.
    pub state: String,
}

/// Output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordFailureOutput {
    /// The case, if one exists.
    pub case_id: Option<CaseId>,
    /// Whether the failure was written on a case (false: no case exists; only notified).
    pub recorded: bool,
}

/// Writes the failure on the case (status Failed) and notifies the responders.
///
/// # Idempotency
/// A case already Failed is not changed and the responders are not notified a second time.
///
/// # Guardrail
/// Touches only the case store and the topic.
///
/// # Errors
/// Port errors from the case store or the topic (the state machine still goes to Fail).
///
/// # Caveats
/// When triage failed before opening a case (invalid input), there is no case to write: the
/// notification carries the error instead. The error and cause come from Step Functions and
/// may quote untrusted text; they are stored and printed escaped.
pub async fn record_failure(
    input: RecordFailureInput,
    env: &dyn Environment,
) -> Result<RecordFailureOutput, StepError> {
    let case_id = input.case_id.clone().or_else(|| {
        input
            .execution
            .as_ref()
            .map(|e| CaseId::for_execution(e.start_time, &e.id))
    });
    let span =
        tracing::info_span!("record_failure", case = ?case_id.as_ref().map(ToString::to_string));
    async move {
        let cause = input.cause.clone().unwrap_or_default();
        let name = ErrorName::parse(&input.error).unwrap_or(ErrorName::Internal);
        let error = StepError::new(name, format!("{} failed with {:?}: {cause}", input.state, input.error));
        let Some(case_id) = case_id else {
            return Err(StepError::invalid_input(
                "record-failure input at $: neither caseId nor execution is given, so no case can be named",
            ));
        };
        let Some(case) = env.forensic().cases.load(&case_id).await? else {
            let subject = "custody: a case could not be opened".to_owned();
            let text = format!("{} failed before a case was opened: {:?} {cause:?}", input.state, input.error);
            notify::publish(
                env,
                &case_id,
                &subject,
                &text,
                serde_json::json!({"caseId": case_id, "state": input.state, "error": input.error, "cause": cause}),
            )
            .await?;
            return Ok(RecordFailureOutput { case_id: Some(case_id), recorded: false });
        };
        if case.status == CaseStatus::Failed {
            return Ok(RecordFailureOutput { case_id: Some(case.id), recorded: true });
        }
        let now = env.clock().now();
        let state = input.state.clone();
        case_update::update(env.forensic().cases.as_ref(), &case.id, |c| {
            c.record_failure(&state, &error, now);
            c.transition(CaseStatus::Failed, now)?;
            Ok(())
        })
        .await?;
        notify::publish(
            env,
            &case.id,
            &format!("custody {}: FAILED in {}", case.id, input.state),
            &format!("Case {} failed in {}: {} — {:?}", case.id, input.state, input.error, cause),
            serde_json::json!({"caseId": case.id, "state": input.state, "error": input.error, "cause": cause}),
        )
        .await?;
        Ok(RecordFailureOutput { case_id: Some(case.id), recorded: true })
    }
    .instrument(span)
    .await
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: RecordFailureInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&record_failure(input, env).await?)
}
