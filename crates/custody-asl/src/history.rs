//! Execution history, named and shaped as Step Functions' `GetExecutionHistory` returns it, so a
//! local run and a cloud run read alike.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// History event types (Step Functions' names).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionAborted,
    PassStateEntered,
    PassStateExited,
    TaskStateEntered,
    TaskStateExited,
    ChoiceStateEntered,
    ChoiceStateExited,
    WaitStateEntered,
    WaitStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    FailStateEntered,
    ParallelStateEntered,
    ParallelStateExited,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    MapStateEntered,
    MapStateExited,
    MapStateStarted,
    MapStateSucceeded,
    MapStateFailed,
    MapIterationStarted,
    MapIterationSucceeded,
    MapIterationFailed,
    TaskScheduled,
    TaskStarted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    LambdaFunctionScheduled,
    LambdaFunctionStarted,
    LambdaFunctionSucceeded,
    LambdaFunctionFailed,
    LambdaFunctionTimedOut,
}

impl EventType {
    /// `<Type>StateEntered` for a state type name.
    pub(crate) fn entered(ty: &str) -> Self {
        match ty {
            "Pass" => Self::PassStateEntered,
            "Task" => Self::TaskStateEntered,
            "Choice" => Self::ChoiceStateEntered,
            "Wait" => Self::WaitStateEntered,
            "Succeed" => Self::SucceedStateEntered,
            "Fail" => Self::FailStateEntered,
            "Parallel" => Self::ParallelStateEntered,
            _ => Self::MapStateEntered,
        }
    }

    /// `<Type>StateExited` for a state type name (Fail states never exit).
    pub(crate) fn exited(ty: &str) -> Self {
        match ty {
            "Pass" => Self::PassStateExited,
            "Task" => Self::TaskStateExited,
            "Choice" => Self::ChoiceStateExited,
            "Wait" => Self::WaitStateExited,
            "Succeed" => Self::SucceedStateExited,
            "Parallel" => Self::ParallelStateExited,
            _ => Self::MapStateExited,
        }
    }
}

/// One history event. `details` holds the single `...EventDetails` member Step Functions puts
/// on each event (for example `stateEnteredEventDetails: {name, input}`), with inputs and
/// outputs as JSON text, as the service returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    /// 1-based, in order of recording.
    pub id: u64,
    /// The event this one follows in its own thread (branch, iteration); 0 for the first.
    pub previous_event_id: u64,
    /// When it happened, on the execution's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The type's details member, if it has one.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl HistoryEvent {
    /// The state name in entered/exited details, if any.
    pub fn state_name(&self) -> Option<&str> {
        self.details
            .values()
            .find_map(|d| d.get("name"))
            .and_then(Value::as_str)
    }
}

/// Receives every history event as it is recorded: live progress for a CLI, metrics, logs.
pub trait Observer: Send + Sync {
    /// Called once per event, in recording order per thread of execution.
    fn on_event(&self, e: &HistoryEvent);
}

/// Builds a details map with one member.
pub(crate) fn details(key: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::with_capacity(1);
    m.insert(key.to_owned(), value);
    m
}

/// `stateEnteredEventDetails`.
pub(crate) fn entered(name: &str, input: &Value) -> Map<String, Value> {
    details(
        "stateEnteredEventDetails",
        json!({"name": name, "input": input.to_string()}),
    )
}

/// `stateExitedEventDetails`.
pub(crate) fn exited(name: &str, output: &Value) -> Map<String, Value> {
    details(
        "stateExitedEventDetails",
        json!({"name": name, "output": output.to_string()}),
    )
}

/// Splits a Step Functions service-integration ARN into `(resourceType, resource)` as history
/// events show them (`arn:aws:states:::lambda:invoke` → `("lambda", "invoke")`).
pub(crate) fn resource_parts(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::")
        && let Some((ty, res)) = rest.split_once(':')
    {
        return (ty.to_owned(), res.to_owned());
    }
    (String::new(), resource.to_owned())
}
