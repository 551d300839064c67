//! JSONata mode: `Arguments`, `Output`, `Assign`, `$states`, Choice `Condition`, Map `Items`,
//! numeric fields as expressions, Catch `Output`, Fail `Error`/`Cause`, the error names.

use super::support::{Scripted, run, run_with};
use custody_asl::ExecutionStatus;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(start_paused = true)]
async fn task_arguments_output_and_assign_see_states_and_variables() {
    let invoker = Arc::new(Scripted::default());
    let out = run_with(
        &json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"who": "{% $states.input.name %}"}, "Output": {"n": "{% $states.input.n %}"}, "Next": "T"},
            "T": {"Type": "Task", "Resource": "echo", "TimeoutSeconds": "{% 10 * 6 %}",
                  "Arguments": {"greeting": "{% 'hello ' & $who %}", "twice": "{% $states.input.n * 2 %}", "static": "$who", "exec": "{% $states.context.Execution.Name %}"},
                  "Assign": {"doubled": "{% $states.result.twice %}"},
                  "Output": {"res": "{% $states.result %}", "in": "{% $states.input %}", "oldDoubled": "{% $exists($doubled) %}"},
                  "Next": "E"},
            "E": {"Type": "Succeed", "Output": "{% $merge([$states.input, {'doubled': $doubled, 'partition': $partition()}]) %}"}}}).to_string(),
        json!({"name": "Ada", "n": 21}),
        invoker.clone(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    assert_eq!(
        out.output.unwrap(),
        json!({
            "res": {"greeting": "hello Ada", "twice": 42, "static": "$who", "exec": "test-exec"},
            "in": {"n": 21},
            "oldDoubled": false,
            "doubled": 42,
            "partition": "aws"
        })
    );
    let call = &invoker.calls()[0];
    assert_eq!(call.timeout_seconds, Some(60));
}

#[tokio::test(start_paused = true)]
async fn choice_conditions_with_their_own_assign_and_output() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
                {"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Assign": {"size": "big"}, "Output": {"v": "{% $states.input.n %}"}}],
              "Default": "Small", "Assign": {"size": "small"}},
        "Big": {"Type": "Pass", "Output": "{% {'size': $size, 'in': $states.input} %}", "End": true},
        "Small": {"Type": "Pass", "Output": "{% {'size': $size, 'in': $states.input} %}", "End": true}}})
    .to_string();
    let out = run(&def, json!({"n": 11})).await;
    assert_eq!(out.output.unwrap(), json!({"size": "big", "in": {"v": 11}}));
    let out = run(&def, json!({"n": 1})).await;
    assert_eq!(
        out.output.unwrap(),
        json!({"size": "small", "in": {"n": 1}})
    );
    // A Condition that is not a boolean is a query evaluation error.
    let out = run(
        &def.replace("$states.input.n > 10", "$states.input.n"),
        json!({"n": 1}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
}

#[tokio::test(start_paused = true)]
async fn map_items_item_selector_and_inner_scope() {
    let out = run(
        &json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"factor": 3}, "Next": "M"},
            "M": {"Type": "Map", "Items": "{% $states.input.xs %}", "MaxConcurrency": "{% 1 + 1 %}",
                  "ItemSelector": {"x": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
                  "ItemProcessor": {"StartAt": "I", "States": {
                      "I": {"Type": "Pass", "Output": "{% $states.input.x * $factor + $states.input.i %}", "End": true}}},
                  "Output": "{% $sum($states.result) %}", "End": true}}}).to_string(),
        json!({"xs": [1, 2, 3]}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    // 3+0 + 6+1 + 9+2
    assert_eq!(out.output.unwrap(), json!(21));
    let out = run(
        &json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
            "M": {"Type": "Map", "Items": "{% $states.input %}", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "End": true}}}).to_string(),
        json!({"not": "an array"}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
}

#[tokio::test(start_paused = true)]
async fn catch_output_and_assign_see_the_error_output_and_the_retried_input() {
    let out = run(
        &json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "fail:Custom.Bad", "End": true,
                  "Catch": [{"ErrorEquals": ["Custom.Bad"], "Next": "E",
                             "Assign": {"why": "{% $states.errorOutput.Cause %}"},
                             "Output": {"err": "{% $states.errorOutput.Error %}", "in": "{% $states.input.k %}"}}]},
            "E": {"Type": "Pass", "Output": "{% $merge([$states.input, {'why': $why}]) %}", "End": true}}}).to_string(),
        json!({"k": "v"}),
    )
    .await;
    assert_eq!(
        out.output.unwrap(),
        json!({"err": "Custom.Bad", "in": "v", "why": "boom"})
    );
}

#[tokio::test(start_paused = true)]
async fn fail_error_and_cause_wait_seconds_and_a_jsonata_state_in_a_jsonpath_machine() {
    let out = run(
        &json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"code.$": "$.code"}, "Assign": {"code.$": "$.code"}, "Next": "W"},
            "W": {"Type": "Wait", "QueryLanguage": "JSONata", "Seconds": "{% $states.input.code %}", "Next": "F"},
            "F": {"Type": "Fail", "QueryLanguage": "JSONata", "Error": "{% 'Custom.' & $code %}", "Cause": "{% 'waited ' & $string($code) & 's' %}"}}}).to_string(),
        json!({"code": 5}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("Custom.5"));
    assert_eq!(out.cause.as_deref(), Some("waited 5s"));
    let waited = out
        .history
        .iter()
        .find(|e| format!("{:?}", e.event_type) == "WaitStateExited")
        .map(|e| e.timestamp)
        .unwrap();
    assert_eq!(
        waited - super::support::origin(),
        time::Duration::seconds(5)
    );
}

#[tokio::test(start_paused = true)]
async fn query_evaluation_errors_are_caught_by_states_all_and_worded_with_the_state() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $states.input.a + 'x' %}", "End": true}}});
    let out = run(&def.to_string(), json!({"a": 1})).await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
    let cause = out.cause.unwrap();
    assert!(
        cause.starts_with("An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$states.input.a + 'x'' specified for the field 'Output' threw an error during evaluation."),
        "{cause}"
    );
    let out = run(
        &json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "echo", "Arguments": "{% $states.input.missing %}", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "E"}]},
            "E": {"Type": "Pass", "End": true}}}).to_string(),
        json!({}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        out.output.unwrap()["Error"],
        json!("States.QueryEvaluationError")
    );
}
