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
    /// The heartbeat interval, if any. For a callback (`.waitForTaskToken`) or activity task
    /// the engine fails the task with `States.HeartbeatTimeout` when [`TaskRequest::heartbeat`]
    /// stays silent this long.
    pub heartbeat_seconds: Option<u64>,
    /// Where the running task reports that it is alive (`SendTaskHeartbeat`).
    pub heartbeat: Heartbeat,
}

/// A running task's liveness signal: calling [`Heartbeat::beat`] is what `SendTaskHeartbeat`
/// is to Step Functions. Clones share one signal.
#[derive(Debug, Clone)]
pub struct Heartbeat(std::sync::Arc<tokio::sync::watch::Sender<u64>>);

impl Default for Heartbeat {
    fn default() -> Self {
        Self(std::sync::Arc::new(tokio::sync::watch::Sender::new(0)))
    }
}

impl Heartbeat {
    /// Reports that the task is alive: the engine's heartbeat timer starts over.
    pub fn beat(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// Heartbeats are a channel, not data: two requests are equal whatever their channels.
impl PartialEq for Heartbeat {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
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
