//! The seam between the engine and whatever runs a Task: a Lambda, an in-process step, a shell
//! command, a fixture.

use async_trait::async_trait;
use serde_json::Value;

/// One Task invocation, as the engine hands it to the invoker.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// The state's `Resource` string, as written.
    pub resource: String,
    /// The Task state's name.
    pub state_name: String,
    /// The effective parameters: the input after `InputPath` and `Parameters`.
    pub input: Value,
    /// The context object (`$$`) for this invocation.
    pub context: Value,
    /// The state's task timeout, if it has one (the engine enforces it too).
    pub timeout_seconds: Option<u64>,
    /// The heartbeat interval, if any. The engine cannot observe heartbeats: an invoker that
    /// runs activities or callbacks enforces it and fails with `States.HeartbeatTimeout`.
    pub heartbeat_seconds: Option<u64>,
}

/// A failed task, as a Lambda reports it (`errorType`/`errorMessage` become `error`/`cause`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskFailure {
    /// The error name `Retry`/`Catch` match on.
    pub error: String,
    /// Human-readable cause.
    pub cause: String,
}

impl TaskFailure {
    /// A failure with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// Runs Task states.
///
/// # Idempotency
/// The engine may invoke the same task again after a failure (`Retry`) or, on resume, any task
/// whose success was not checkpointed. Implementations must tolerate repeated delivery.
#[async_trait]
pub trait TaskInvoker: Send + Sync {
    /// Runs one task.
    ///
    /// # Errors
    /// A [`TaskFailure`] naming the error the state machine's `Retry`/`Catch` see.
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure>;
}
