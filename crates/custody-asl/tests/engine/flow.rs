//! Pass, Wait, Succeed, Fail; the input/output pipeline; the context object; JSONPath failures.

use super::support::{run, single};
use custody_asl::ExecutionStatus;
use serde_json::json;

#[tokio::test(start_paused = true)]
async fn pass_pipeline_input_parameters_result_output() {
    let out = run(
        &single(json!({"Type": "Pass", "InputPath": "$.in", "Parameters": {"v.$": "$.v", "k": "lit", "ids.$": "$.items[*].id"},
            "ResultPath": "$.in.res", "OutputPath": "$.in", "End": true})),
        json!({"in": {"v": 1, "items": [{"id": "a"}, {"id": "b"}]}, "other": true}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        out.output.unwrap(),
        json!({"v": 1, "items": [{"id": "a"}, {"id": "b"}], "res": {"v": 1, "k": "lit", "ids": ["a", "b"]}})
    );
}

#[tokio::test(start_paused = true)]
async fn pass_result_result_path_null_and_input_path_null() {
    let out = run(
        &single(json!({"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": true})),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!({"a": 1, "r": {"x": 1}}));
    let out = run(
        &single(json!({"Type": "Pass", "Result": 5, "ResultPath": null, "End": true})),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!({"a": 1}));
    let out = run(
        &single(json!({"Type": "Pass", "InputPath": null, "End": true})),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!({}));
    let out = run(
        &single(json!({"Type": "Pass", "OutputPath": null, "End": true})),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!({}));
}

#[tokio::test(start_paused = true)]
async fn context_object_is_available_in_parameters() {
    let out = run(
        &single(json!({"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "sm.$": "$$.StateMachine.Name",
            "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime", "start.$": "$$.Execution.StartTime", "in.$": "$$.Execution.Input"}, "End": true})),
        json!({"q": 1}),
    )
    .await;
    let o = out.output.unwrap();
    assert_eq!(
        o["id"],
        "arn:aws:states:us-east-1:123456789012:execution:test-machine:test-exec"
    );
    assert_eq!(o["name"], "test-exec");
    assert_eq!(o["sm"], "test-machine");
    assert_eq!(o["state"], "S");
    assert_eq!(o["entered"], "2024-05-01T12:00:00.000Z");
    assert_eq!(o["start"], "2024-05-01T12:00:00.000Z");
    assert_eq!(o["in"], json!({"q": 1}));
}

#[tokio::test(start_paused = true)]
async fn intrinsics_run_inside_parameters() {
    let out = run(
        &single(json!({"Type": "Pass", "Parameters": {
            "msg.$": "States.Format('case {} has {} items', $.id, States.ArrayLength($.items))",
            "parts.$": "States.StringSplit($.csv, ',')",
            "sum.$": "States.MathAdd($.n, 1)"}, "End": true})),
        json!({"id": "c-1", "items": [1, 2, 3], "csv": "a,b", "n": 41}),
    )
    .await;
    assert_eq!(
        out.output.unwrap(),
        json!({"msg": "case c-1 has 3 items", "parts": ["a", "b"], "sum": 42})
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_parameters_path_fails_the_execution_as_aws_words_it() {
    let out = run(&single(json!({"Type": "Pass", "Parameters": {"address.$": "$.application.address"}, "End": true})), json!({"flagged": false})).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        out.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'S' (entered at the event id #2). The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{\"flagged\":false}'"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_input_path_is_a_runtime_error_and_cannot_be_caught() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "echo", "InputPath": "$.nope", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Succeed"}}});
    let out = run(&def.to_string(), json!({"a": 1})).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        out.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'T' (entered at the event id #2). Invalid path '$.nope' : No results for path: $['nope']"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn result_path_onto_a_non_object_is_a_result_path_match_failure() {
    let out = run(
        &single(json!({"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": true})),
        json!({"a": "text"}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.ResultPathMatchFailure"));
    assert_eq!(
        out.cause.as_deref(),
        Some("Unable to apply ReferencePath $.a.b to input {\"a\":\"text\"}")
    );
}

#[tokio::test(start_paused = true)]
async fn wait_seconds_and_timestamps_use_the_clock() {
    let def = json!({"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Seconds": 90, "Next": "W2"},
        "W2": {"Type": "Wait", "SecondsPath": "$.s", "Next": "W3"},
        "W3": {"Type": "Wait", "TimestampPath": "$.until", "Next": "W4"},
        "W4": {"Type": "Wait", "Timestamp": "2024-05-01T11:00:00Z", "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"now.$": "$$.State.EnteredTime"}, "End": true}}});
    let out = run(
        &def.to_string(),
        json!({"s": 30, "until": "2024-05-01T13:00:00Z"}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(out.output.unwrap()["now"], "2024-05-01T13:00:00.000Z");
}

#[tokio::test(start_paused = true)]
async fn wait_seconds_path_must_be_an_integer() {
    let out = run(
        &single(json!({"Type": "Wait", "SecondsPath": "$.s", "End": true})),
        json!({"s": "soon"}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    let out = run(
        &single(json!({"Type": "Wait", "SecondsPath": "$.s", "End": true})),
        json!({}),
    )
    .await;
    assert!(
        out.cause
            .unwrap()
            .ends_with("Invalid path '$.s' : No results for path: $['s']")
    );
}

#[tokio::test(start_paused = true)]
async fn succeed_applies_paths_and_ends() {
    let out = run(
        &single(json!({"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"})),
        json!({"a": {"b": 2}}),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!(2));
}

#[tokio::test(start_paused = true)]
async fn fail_with_literal_paths_and_intrinsics() {
    let out = run(
        &single(json!({"Type": "Fail", "Error": "Custom.Err", "Cause": "because"})),
        json!({}),
    )
    .await;
    assert_eq!(
        (out.status, out.error.as_deref(), out.cause.as_deref()),
        (ExecutionStatus::Failed, Some("Custom.Err"), Some("because"))
    );
    let out = run(
        &single(
            json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('x={}', $.x)"}),
        ),
        json!({"e": "E", "x": 3}),
    )
    .await;
    assert_eq!(
        (out.error.as_deref(), out.cause.as_deref()),
        (Some("E"), Some("x=3"))
    );
    let out = run(&single(json!({"Type": "Fail"})), json!({})).await;
    assert_eq!(
        (out.status, out.error, out.cause),
        (ExecutionStatus::Failed, None, None)
    );
}

#[tokio::test(start_paused = true)]
async fn machine_timeout_ends_with_timed_out() {
    let def = json!({"TimeoutSeconds": 60, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let out = run(&def.to_string(), json!({})).await;
    assert_eq!(out.status, ExecutionStatus::TimedOut);
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
}
