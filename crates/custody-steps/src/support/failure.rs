//! Writing a step's failure on the case before the error propagates.
//!
//! The case record is the chain of custody: a failed step that leaves no trace on it is a gap an
//! investigator cannot explain. So every handler records its error first, best effort: when the
//! case store itself fails, the store's error is logged and the ORIGINAL error is returned (the
//! store's trouble must not mask why the step failed).

use custody_core::error::{ErrorName, StepError};
use custody_core::id::CaseId;

use crate::name::StepName;
use crate::ports::Environment;
use crate::support::case_update;

/// Records `err` from `step` on the case, then hands `err` back for propagation.
pub(crate) async fn record(
    env: &dyn Environment,
    case: &CaseId,
    step: StepName,
    err: StepError,
) -> StepError {
    let at = env.clock().now();
    // Errors the state machine retries are noted, not recorded as the case's failure: the
    // retry may well succeed, and a completed case must not carry a stale failure.
    let retried = matches!(
        err.name,
        ErrorName::Throttled | ErrorName::ServiceUnavailable | ErrorName::StaleCase
    );
    let outcome = case_update::update(env.forensic().cases.as_ref(), case, |c| {
        if retried {
            c.note(
                step.as_str(),
                "retryable-error",
                &format!("{err} (the state machine retries)"),
                at,
            );
        } else {
            c.record_failure(step.as_str(), &err, at);
        }
        Ok(())
    })
    .await;
    if let Err(store_err) = outcome {
        tracing::error!(
            case = %case,
            step = step.as_str(),
            error = %err.name.as_str(),
            store_error = %store_err.name.as_str(),
            store_cause = %store_err.cause,
            "could not record the step's failure on the case"
        );
    }
    err
}

/// Runs a step body and records its failure, if any, on the case.
pub(crate) async fn recorded<T>(
    env: &dyn Environment,
    case: &CaseId,
    step: StepName,
    body: impl std::future::Future<Output = Result<T, StepError>>,
) -> Result<T, StepError> {
    match body.await {
        Ok(out) => Ok(out),
        Err(err) => Err(record(env, case, step, err).await),
    }
}
