//! Running a definition: the [`Executor`] builder, what it needs (invoker, clock, optionally an
//! observer and a checkpoint store) and what it returns.

mod flow;
mod limits;
mod map;
mod parallel;
mod recorder;
mod run;
mod task;

use crate::checkpoint::{CheckpointError, CheckpointRecord, CheckpointStore};
use crate::clock::Clock;
use crate::definition::Definition;
use crate::history::{HistoryEvent, Observer};
use crate::invoker::TaskInvoker;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use time::OffsetDateTime;

/// Identity of one execution, as `$$.Execution` and `$$.StateMachine` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionInfo {
    /// Execution name.
    pub name: String,
    /// Execution ARN (`$$.Execution.Id`).
    pub arn: String,
    /// State machine name.
    pub state_machine_name: String,
    /// State machine ARN (`$$.StateMachine.Id`).
    pub state_machine_arn: String,
    /// Role ARN (`$$.Execution.RoleArn`).
    pub role_arn: String,
    /// Start time; `None` = the clock's now when the run starts.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start_time: Option<OffsetDateTime>,
    /// How many times this execution has been redriven.
    #[serde(default)]
    pub redrive_count: u32,
}

impl ExecutionInfo {
    /// A local execution of a state machine called `local`, with placeholder ARNs in the shape
    /// AWS uses (account 123456789012, us-east-1).
    pub fn local(name: impl Into<String>) -> Self {
        Self::for_machine("local", name)
    }

    /// A local execution `name` of the state machine `machine`.
    pub fn for_machine(machine: impl Into<String>, name: impl Into<String>) -> Self {
        let machine = machine.into();
        let name = name.into();
        let prefix = "arn:aws:states:us-east-1:123456789012";
        Self {
            arn: format!("{prefix}:execution:{machine}:{name}"),
            state_machine_arn: format!("{prefix}:stateMachine:{machine}"),
            role_arn: "arn:aws:iam::123456789012:role/custody-local".to_owned(),
            state_machine_name: machine,
            name,
            start_time: None,
            redrive_count: 0,
        }
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// It reached a Succeed state or an End.
    Succeeded,
    /// A failure was not caught.
    Failed,
    /// The machine's `TimeoutSeconds` elapsed.
    TimedOut,
    /// It was stopped through an [`AbortHandle`].
    Aborted,
}

/// The result of [`Executor::run`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionOutcome {
    /// How it ended.
    pub status: ExecutionStatus,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name, when it did not succeed (absent for a Fail state without `Error`).
    pub error: Option<String>,
    /// The cause, when it did not succeed and one is known.
    pub cause: Option<String>,
    /// Every history event, in recording order.
    pub history: Vec<HistoryEvent>,
    /// State transitions made (for throughput figures).
    pub transitions: u64,
    /// Tasks whose recorded result was reused instead of invoking them (resume).
    pub replayed_tasks: u64,
}

/// Why the engine itself (not the state machine) could not run or finish an execution.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// The checkpoint log could not be read or written.
    #[error("checkpoint failed")]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint log was written by a different definition.
    #[error(
        "the checkpoint was written by definition {recorded}, not by this one ({current}); refusing to resume"
    )]
    DefinitionChanged {
        /// SHA-256 recorded in the log.
        recorded: String,
        /// SHA-256 of the definition given.
        current: String,
    },
    /// The checkpoint log does not start with a `Started` record.
    #[error("the checkpoint log does not start with a Started record")]
    MalformedCheckpoint,
}

/// Stops a running execution from elsewhere (status [`ExecutionStatus::Aborted`]).
#[derive(Debug, Clone, Default)]
pub struct AbortHandle {
    flag: Arc<AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
}

impl AbortHandle {
    /// Requests the stop; the execution ends at its next await point.
    pub fn abort(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    async fn aborted(&self) {
        if !self.flag.load(Ordering::SeqCst) {
            self.notify.notified().await;
        }
    }
}

/// Runs a [`Definition`]. Build it, optionally attach an observer and a checkpoint store, then
/// [`Executor::run`].
pub struct Executor {
    definition: Arc<Definition>,
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    observer: Option<Arc<dyn Observer>>,
    checkpoint: Option<Arc<dyn CheckpointStore>>,
    abort: AbortHandle,
    seed: Option<u64>,
}

impl Executor {
    /// An executor for `definition` that runs tasks with `invoker` and tells time with `clock`.
    pub fn new(
        definition: Arc<Definition>,
        invoker: Arc<dyn TaskInvoker>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            definition,
            invoker,
            clock,
            observer: None,
            checkpoint: None,
            abort: AbortHandle::default(),
            seed: None,
        }
    }

    /// Receives every history event as it happens.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Checkpoints after every transition into `store`, and resumes from it if it already holds
    /// an execution (see [`crate::checkpoint`]).
    #[must_use]
    pub fn checkpoint(mut self, store: Arc<dyn CheckpointStore>) -> Self {
        self.checkpoint = Some(store);
        self
    }

    /// Seeds the random source used for retry jitter, for reproducible runs.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// A handle that stops the execution from elsewhere.
    pub fn abort_handle(&self) -> AbortHandle {
        self.abort.clone()
    }

    /// Runs the execution to its end.
    ///
    /// When a checkpoint store holding an earlier attempt is attached, the recorded input and
    /// execution identity are used (not `input`/`info`), completed tasks are not invoked again,
    /// and `$$.Execution.RedriveCount` goes up by one.
    ///
    /// # Errors
    /// [`ExecutorError`] when the checkpoint log cannot be used. A failing state machine is not
    /// an error: it is an [`ExecutionOutcome`] with status `Failed`.
    pub async fn run(
        self,
        input: Value,
        info: ExecutionInfo,
    ) -> Result<ExecutionOutcome, ExecutorError> {
        let mut input = input;
        let mut info = info;
        let mut recorded = Vec::new();
        if let Some(store) = &self.checkpoint {
            recorded = store.load().await?;
            if let Some(first) = recorded.first() {
                let CheckpointRecord::Started {
                    definition_sha256,
                    execution,
                    input: recorded_input,
                } = first
                else {
                    return Err(ExecutorError::MalformedCheckpoint);
                };
                if definition_sha256 != self.definition.sha256() {
                    return Err(ExecutorError::DefinitionChanged {
                        recorded: definition_sha256.clone(),
                        current: self.definition.sha256().to_owned(),
                    });
                }
                if *recorded_input != input {
                    tracing::warn!(execution = %execution.name, "resuming with the recorded input, not the one given");
                }
                input = recorded_input.clone();
                info = execution.clone();
                info.redrive_count += recorded
                    .iter()
                    .filter(|r| matches!(r, CheckpointRecord::Redriven { .. }))
                    .count() as u32
                    + 1;
            }
        }
        let resumed = !recorded.is_empty();
        if info.start_time.is_none() {
            info.start_time = Some(self.clock.now());
        }
        if let Some(store) = &self.checkpoint {
            let record = if resumed {
                CheckpointRecord::Redriven {
                    redrive_count: info.redrive_count,
                }
            } else {
                CheckpointRecord::Started {
                    definition_sha256: self.definition.sha256().to_owned(),
                    execution: info.clone(),
                    input: input.clone(),
                }
            };
            store.append(&record).await?;
        }
        run::execute(self, input, info, recorded).await
    }
}
