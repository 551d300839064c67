//! The AWS-shaped errors the world answers with, as custody's [`StepError`]s: each carries the
//! service error code AWS would send, so adapters and the sim fail alike.

use custody_core::error::{ErrorName, StepError};

fn build(name: ErrorName, code: &str, cause: String) -> StepError {
    StepError {
        name,
        cause,
        service_code: Some(code.to_string()),
        request_id: Some("sim".to_string()),
    }
}

/// A resource that does not exist (`InvalidInstanceID.NotFound` and friends).
pub(crate) fn not_found(code: &str, cause: impl Into<String>) -> StepError {
    build(ErrorName::NotFound, code, cause.into())
}

/// An operation refused by IAM, an SCP or RBAC.
pub(crate) fn denied(code: &str, cause: impl Into<String>) -> StepError {
    build(ErrorName::AccessDenied, code, cause.into())
}

/// Throttling.
pub(crate) fn throttled(code: &str, cause: impl Into<String>) -> StepError {
    build(ErrorName::Throttled, code, cause.into())
}

/// A name or token already in use with different content (`InvalidGroup.Duplicate`).
pub(crate) fn conflict(code: &str, cause: impl Into<String>) -> StepError {
    build(ErrorName::Conflict, code, cause.into())
}

/// A request the service rejects as malformed.
pub(crate) fn invalid(code: &str, cause: impl Into<String>) -> StepError {
    build(ErrorName::InvalidInput, code, cause.into())
}

/// A request the service cannot do for this resource.
pub(crate) fn unsupported(code: &str, cause: impl Into<String>) -> StepError {
    build(ErrorName::Unsupported, code, cause.into())
}

/// An optimistic-lock conflict in the case store.
pub(crate) fn stale(cause: impl Into<String>) -> StepError {
    build(
        ErrorName::StaleCase,
        "ConditionalCheckFailedException",
        cause.into(),
    )
}

/// A command that cannot reach its instance's agent.
pub(crate) fn agent_offline(cause: impl Into<String>) -> StepError {
    build(ErrorName::AgentOffline, "InvalidInstanceId", cause.into())
}
