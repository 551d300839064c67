//! History events: Step Functions' names, ids and links.

use super::support::{Scripted, run, run_with};
use custody_asl::{EventType, HistoryEvent, Observer};
use serde_json::json;
use std::sync::{Arc, Mutex};

#[tokio::test(start_paused = true)]
async fn a_task_execution_records_aws_event_names_in_order() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.Payload.a", "NumericEquals": 1, "Next": "D"}]}, "D": {"Type": "Succeed"}}});
    let out = run(&def.to_string(), json!({"a": 1})).await;
    let types: Vec<EventType> = out.history.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::ExecutionStarted,
            EventType::TaskStateEntered,
            EventType::TaskScheduled,
            EventType::TaskStarted,
            EventType::TaskSucceeded,
            EventType::TaskStateExited,
            EventType::ChoiceStateEntered,
            EventType::ChoiceStateExited,
            EventType::SucceedStateEntered,
            EventType::SucceedStateExited,
            EventType::ExecutionSucceeded,
        ]
    );
    let ids: Vec<u64> = out.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=11).collect::<Vec<_>>());
    assert!(
        out.history
            .iter()
            .skip(1)
            .all(|e| e.previous_event_id == e.id - 1)
    );
    let scheduled = serde_json::to_value(&out.history[2]).unwrap();
    assert_eq!(scheduled["type"], "TaskScheduled");
    assert_eq!(
        scheduled["taskScheduledEventDetails"]["resourceType"],
        "lambda"
    );
    assert_eq!(scheduled["taskScheduledEventDetails"]["resource"], "invoke");
    assert_eq!(out.history[1].state_name(), Some("T"));
}

struct Collect(Mutex<Vec<EventType>>);

impl Observer for Collect {
    fn on_event(&self, e: &HistoryEvent) {
        self.0.lock().unwrap().push(e.event_type);
    }
}

#[tokio::test(start_paused = true)]
async fn the_observer_sees_every_event_live() {
    let seen = Arc::new(Collect(Mutex::new(Vec::new())));
    let def = super::support::def(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let out = custody_asl::Executor::new(
        def,
        Arc::new(Scripted::default()),
        Arc::new(custody_asl::VirtualClock::new()),
    )
    .observer(seen.clone())
    .run(json!({}), custody_asl::ExecutionInfo::local("obs"))
    .await
    .unwrap();
    let types: Vec<EventType> = out.history.iter().map(|e| e.event_type).collect();
    assert_eq!(*seen.0.lock().unwrap(), types);
}

#[tokio::test(start_paused = true)]
async fn failed_task_events_carry_error_and_cause() {
    let out = run_with(
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"fail:E.x","End":true}}}"#,
        json!({}),
        Arc::new(Scripted::default()),
    )
    .await;
    let failed = out
        .history
        .iter()
        .find(|e| e.event_type == EventType::TaskFailed)
        .unwrap();
    let v = serde_json::to_value(failed).unwrap();
    assert_eq!(v["taskFailedEventDetails"]["error"], "E.x");
    assert_eq!(v["taskFailedEventDetails"]["cause"], "boom");
    assert_eq!(
        out.history.last().unwrap().event_type,
        EventType::ExecutionFailed
    );
}
