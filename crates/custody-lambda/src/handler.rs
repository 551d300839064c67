//! One invocation: the event is the step input, the step's output is the function's result, and
//! a step error is the function error Step Functions' Retry and Catch match on.

use custody_core::error::StepError;
use custody_steps::ports::Environment;
use custody_steps::{StepName, run_step};
use lambda_runtime::Diagnostic;
use serde_json::Value;
use tracing::Instrument;

/// The Lambda function error for a step error: `errorType` is the `Custody.<Reason>` name (what
/// Step Functions reports as the `Error` its Retry/Catch `ErrorEquals` match) and `errorMessage`
/// the cause with the service code and request id (the `Cause`), exactly as
/// [`StepError::to_lambda_json`] writes them.
pub fn diagnostic(err: &StepError) -> Diagnostic {
    Diagnostic {
        error_type: err.name.as_str().to_owned(),
        error_message: err.message(),
    }
}

/// Runs `step` on one event.
///
/// The span carries the Lambda request id, the step and, when the input names one, the case id
/// (`caseId`, as every step but triage takes it; triage's output names the case it opened).
///
/// # Errors
/// The step's [`StepError`] as a [`Diagnostic`] (see [`diagnostic`]).
pub async fn handle(
    step: StepName,
    env: &dyn Environment,
    request_id: &str,
    event: Value,
) -> Result<Value, Diagnostic> {
    let case_id = case_id_of(&event);
    let span = tracing::info_span!(
        "invocation",
        request_id = %request_id,
        step = %step,
        case_id = tracing::field::Empty,
    );
    if let Some(id) = &case_id {
        span.record("case_id", tracing::field::display(id));
    }
    async move {
        match run_step(step, event, env).await {
            Ok(output) => {
                if case_id.is_none()
                    && let Some(id) = case_id_of(&output)
                {
                    tracing::Span::current().record("case_id", tracing::field::display(&id));
                }
                tracing::info!("step succeeded");
                Ok(output)
            }
            Err(err) => {
                tracing::warn!(
                    error = err.name.as_str(),
                    cause = %err.message(),
                    "step failed"
                );
                Err(diagnostic(&err))
            }
        }
    }
    .instrument(span)
    .await
}

/// The case id an input or output names, if it is a well-formed one (the event comes from the
/// state machine, but a malformed id must not reach the logs as if it were one).
fn case_id_of(value: &Value) -> Option<custody_core::id::CaseId> {
    value
        .get("caseId")
        .and_then(Value::as_str)
        .and_then(|s| custody_core::id::CaseId::parse(s).ok())
}
