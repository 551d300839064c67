//! Task states, Retry (ordering, back-off on the virtual clock), Catch, timeouts.

use super::support::{Scripted, origin, run, run_with, single};
use custody_asl::{EventType, ExecutionOutcome, ExecutionStatus};
use serde_json::json;
use std::sync::Arc;

/// Seconds after the start at which each attempt of a task was scheduled.
fn attempt_offsets(out: &ExecutionOutcome) -> Vec<i64> {
    out.history
        .iter()
        .filter(|e| e.event_type == EventType::TaskScheduled)
        .map(|e| (e.timestamp - origin()).whole_seconds())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn task_gets_parameters_context_and_timeouts() {
    let inv = Arc::new(Scripted::default());
    let out = run_with(
        &single(json!({"Type": "Task", "Resource": "echo", "Parameters": {"x.$": "$.a", "retry.$": "$$.State.RetryCount"},
            "TimeoutSeconds": 30, "HeartbeatSeconds": 10, "ResultSelector": {"got.$": "$.x"}, "ResultPath": "$.r", "End": true})),
        json!({"a": 7}),
        inv.clone(),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!({"a": 7, "r": {"got": 7}}));
    let call = &inv.calls()[0];
    assert_eq!(call.input, json!({"x": 7, "retry": 0}));
    assert_eq!(call.state_name, "S");
    assert_eq!(
        (call.timeout_seconds, call.heartbeat_seconds),
        (Some(30), Some(10))
    );
    assert_eq!(call.context["Execution"]["Name"], "test-exec");
}

#[tokio::test(start_paused = true)]
async fn retry_backs_off_exponentially_on_the_virtual_clock() {
    let inv = Arc::new(Scripted::default());
    let out = run_with(
        &single(json!({"Type": "Task", "Resource": "flaky:3:Custom.Flaky", "Parameters": {"retry.$": "$$.State.RetryCount"},
            "Retry": [{"ErrorEquals": ["Custom.Flaky"], "IntervalSeconds": 2, "BackoffRate": 2.0, "MaxAttempts": 3}], "End": true})),
        json!({}),
        inv.clone(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(attempt_offsets(&out), [0, 2, 6, 14]);
    let retries: Vec<_> = inv
        .calls()
        .iter()
        .map(|c| c.input["retry"].clone())
        .collect();
    assert_eq!(retries, [json!(0), json!(1), json!(2), json!(3)]);
}

#[tokio::test(start_paused = true)]
async fn max_delay_caps_and_full_jitter_stays_below_the_cap() {
    let out = run(
        &single(json!({"Type": "Task", "Resource": "flaky:3:E", "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 3.0,
            "MaxAttempts": 3, "MaxDelaySeconds": 20}], "End": true})),
        json!({}),
    )
    .await;
    assert_eq!(attempt_offsets(&out), [0, 10, 30, 50]);
    let out = run(
        &single(json!({"Type": "Task", "Resource": "flaky:3:E", "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 3.0,
            "MaxAttempts": 3, "MaxDelaySeconds": 20, "JitterStrategy": "FULL"}], "End": true})),
        json!({}),
    )
    .await;
    let o = attempt_offsets(&out);
    assert_eq!(o.len(), 4);
    assert!(o.windows(2).all(|w| w[1] - w[0] <= 20), "{o:?}");
    assert!(o[3] <= 50);
}

#[tokio::test(start_paused = true)]
async fn retries_exhausted_then_caught_with_result_path() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fail:Custom.Bad", "Retry": [{"ErrorEquals": ["Custom.Bad"], "MaxAttempts": 2, "IntervalSeconds": 1}],
              "Catch": [{"ErrorEquals": ["Other"], "Next": "Wrong"}, {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Handled"}], "End": true},
        "Wrong": {"Type": "Fail", "Error": "Wrong"},
        "Handled": {"Type": "Succeed"}}});
    let inv = Arc::new(Scripted::default());
    let out = run_with(&def.to_string(), json!({"keep": 1}), inv.clone()).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(inv.count("T"), 3);
    assert_eq!(
        out.output.unwrap(),
        json!({"keep": 1, "err": {"Error": "Custom.Bad", "Cause": "boom"}})
    );
}

#[tokio::test(start_paused = true)]
async fn the_first_matching_retrier_applies_even_when_exhausted() {
    let inv = Arc::new(Scripted::default());
    let out = run_with(
        &single(json!({"Type": "Task", "Resource": "fail:A", "Retry": [{"ErrorEquals": ["A"], "MaxAttempts": 1}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}], "End": true})),
        json!({}),
        inv.clone(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(inv.count("S"), 2);
    assert_eq!(
        (out.error.as_deref(), out.cause.as_deref()),
        (Some("A"), Some("boom"))
    );
}

#[tokio::test(start_paused = true)]
async fn max_attempts_zero_never_retries_and_catch_replaces_the_input_by_default() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fail:X", "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 0}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}], "End": true},
        "H": {"Type": "Pass", "End": true}}});
    let inv = Arc::new(Scripted::default());
    let out = run_with(&def.to_string(), json!({"lost": true}), inv.clone()).await;
    assert_eq!(inv.count("T"), 1);
    assert_eq!(out.output.unwrap(), json!({"Error": "X", "Cause": "boom"}));
}

#[tokio::test(start_paused = true)]
async fn task_timeout_is_states_timeout_not_matched_by_task_failed() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "sleep:100", "TimeoutSeconds": 5,
              "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 3}],
              "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}], "End": true},
        "TimedOut": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime", "e.$": "$.Error"}, "End": true}}});
    let inv = Arc::new(Scripted::default());
    let out = run_with(&def.to_string(), json!({}), inv.clone()).await;
    assert_eq!(
        inv.count("T"),
        1,
        "States.TaskFailed does not match States.Timeout"
    );
    assert_eq!(
        out.output.unwrap(),
        json!({"at": "2024-05-01T12:00:05.000Z", "e": "States.Timeout"})
    );
    assert!(
        out.history
            .iter()
            .any(|e| e.event_type == EventType::TaskTimedOut)
    );
}

#[tokio::test(start_paused = true)]
async fn timeout_seconds_path_reads_the_input() {
    let out = run(&single(json!({"Type": "Task", "Resource": "sleep:100", "TimeoutSecondsPath": "$.t", "End": true})), json!({"t": 3})).await;
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    let out = run(&single(json!({"Type": "Task", "Resource": "sleep:1", "TimeoutSecondsPath": "$.t", "End": true})), json!({"t": 3})).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn lambda_function_arns_record_lambda_events() {
    let out = run(&single(json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true})), json!({"a": 1})).await;
    let types: Vec<EventType> = out.history.iter().map(|e| e.event_type).collect();
    assert!(types.contains(&EventType::LambdaFunctionScheduled));
    assert!(types.contains(&EventType::LambdaFunctionSucceeded));
}

#[tokio::test(start_paused = true)]
async fn a_callback_task_that_stops_heartbeating_fails_with_heartbeat_timeout() {
    // Beats every 4 s for 12 s: alive under a 5 s heartbeat.
    let out = run(
        &single(json!({"Type": "Task", "Resource": "beat:4:3.waitForTaskToken", "HeartbeatSeconds": 5, "TimeoutSeconds": 60, "End": true})),
        json!({"k": 1}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    // Beats every 6 s: the 5 s heartbeat expires first, and Catch sees the name.
    let out = run(
        &json!({"StartAt": "S", "States": {
            "S": {"Type": "Task", "Resource": "beat:6:3.waitForTaskToken", "HeartbeatSeconds": 5, "TimeoutSeconds": 60, "End": true,
                  "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "C"}]},
            "C": {"Type": "Pass", "End": true}}}).to_string(),
        json!({}),
    )
    .await;
    assert_eq!(
        out.output.unwrap()["Error"],
        json!("States.HeartbeatTimeout")
    );
    let timed_out = out
        .history
        .iter()
        .find(|e| format!("{:?}", e.event_type) == "TaskTimedOut")
        .unwrap();
    assert_eq!(
        timed_out.timestamp - super::support::origin(),
        time::Duration::seconds(5)
    );
    // A request-response task cannot heartbeat: only TimeoutSeconds applies.
    let out = run(
        &single(json!({"Type": "Task", "Resource": "sleep:8", "HeartbeatSeconds": 5, "TimeoutSeconds": 60, "End": true})),
        json!({}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
}
