//! Errors: validation errors (with JSON pointers), runtime failures, and the predefined
//! `States.*` error names.

use std::fmt;

/// The predefined error names of the States language.
pub mod names {
    /// Wildcard matching every error except `States.Runtime` and `States.DataLimitExceeded`.
    pub const ALL: &str = "States.ALL";
    /// Wildcard matching every error except `States.Timeout` (and the terminal ones).
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// A Task ran longer than `TimeoutSeconds` (or the execution exceeded its own timeout).
    pub const TIMEOUT: &str = "States.Timeout";
    /// A Task missed its heartbeat.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// Terminal: bad paths, bad input types. Never retried or caught.
    pub const RUNTIME: &str = "States.Runtime";
    /// Terminal: a payload exceeded the service quota.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// A Parallel branch failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// A Choice state matched no rule and has no `Default`.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// An intrinsic function failed to evaluate.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// `ResultPath` could not be applied to the state input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A `.$` field of `Parameters` could not be resolved.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A Map state's failed iterations exceeded its tolerated failure threshold.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// A JSONata expression failed to evaluate, or yielded nothing where a value is needed.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    /// Insufficient privileges (never raised locally; listed so `ErrorEquals` may name it).
    pub const PERMISSIONS: &str = "States.Permissions";
}

/// A failure raised while executing a state, carried up until a `Retry`/`Catch` handles it or
/// the execution fails with it. `error`/`cause` are exactly what Step Functions would report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error name (`States.Runtime`, `Custody.Throttled`, ...). May be empty for a Fail state
    /// without `Error`.
    pub error: String,
    /// Human-readable cause. May be empty.
    pub cause: String,
}

impl Failure {
    /// A failure with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// Terminal failures cannot be retried or caught (Step Functions: `States.Runtime` and
    /// `States.DataLimitExceeded` always fail the execution).
    pub fn is_terminal(&self) -> bool {
        self.error == names::RUNTIME || self.error == names::DATA_LIMIT_EXCEEDED
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

/// A failure detected while evaluating a path, template or intrinsic, before the executor adds
/// the "An error occurred while executing the state ..." prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EvalError {
    pub error: &'static str,
    pub message: String,
}

impl EvalError {
    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Self {
            error: names::RUNTIME,
            message: message.into(),
        }
    }

    pub(crate) fn intrinsic(message: impl Into<String>) -> Self {
        Self {
            error: names::INTRINSIC_FAILURE,
            message: message.into(),
        }
    }
}

/// One problem in a definition: where (a JSON pointer into the definition) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON pointer, e.g. `/States/Foo/Retry/0/BackoffRate`.
    pub pointer: String,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.reason)
    }
}

/// Every problem found in a definition (validation does not stop at the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid state machine definition ({} problem{})",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub(crate) fn ptr(base: &str, token: impl fmt::Display) -> String {
    let t = token.to_string().replace('~', "~0").replace('/', "~1");
    format!("{base}/{t}")
}
