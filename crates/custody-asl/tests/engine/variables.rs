//! Workflow variables (`Assign`, `$name`) in JSONPath states: what a state sees, when an
//! assignment takes effect, scopes of Parallel branches and Map iterations, quotas.

use super::support::{Scripted, run, run_with, single};
use custody_asl::ExecutionStatus;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(start_paused = true)]
async fn assigned_variables_are_read_by_later_states_in_paths_intrinsics_and_choice() {
    let out = run(
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Assign": {"count.$": "$.n", "label": "fixed", "ctx.$": "$$.Execution.Name"}, "Next": "B"},
            "B": {"Type": "Choice", "Choices": [{"Variable": "$count", "NumericGreaterThan": 1, "Next": "C"}], "Default": "D"},
            "C": {"Type": "Pass", "Parameters": {"c.$": "$count", "msg.$": "States.Format('{} {} {}', $label, $count, $ctx)", "l.$": "$label"}, "End": true},
            "D": {"Type": "Fail", "Error": "Wrong"}}}).to_string(),
        json!({"n": 3}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    assert_eq!(
        out.output.unwrap(),
        json!({"c": 3, "msg": "fixed 3 test-exec", "l": "fixed"})
    );
}

#[tokio::test(start_paused = true)]
async fn a_state_reads_values_from_its_entry_and_assign_sees_the_selected_result() {
    let invoker = Arc::new(Scripted::default());
    let out = run_with(
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "T"},
            // Assign sees the result after ResultSelector; `$x` inside it is still the old value.
            "T": {"Type": "Task", "Resource": "echo", "Parameters": {"v.$": "$x"}, "ResultSelector": {"got.$": "$.v"},
                  "Assign": {"x.$": "States.MathAdd($.got, 10)", "old.$": "$x"}, "ResultPath": "$.r", "Next": "E"},
            "E": {"Type": "Pass", "Parameters": {"x.$": "$x", "old.$": "$old", "r.$": "$.r"}, "End": true}}}).to_string(),
        json!({}),
        invoker.clone(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    assert_eq!(
        out.output.unwrap(),
        json!({"x": 11, "old": 1, "r": {"got": 1}})
    );
    // The invoker never sees the engine's variables inside the context object.
    let ctx = &invoker.calls()[0].context;
    assert_eq!(
        ctx.as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with('\0'))
            .count(),
        0
    );
}

#[tokio::test(start_paused = true)]
async fn inner_scopes_read_outer_variables_and_their_assignments_stay_inside() {
    let out = run(
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"base": 100, "kept": "outer"}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {
                "I": {"Type": "Pass", "Assign": {"kept": "inner", "mine.$": "$.v"}, "Next": "J"},
                "J": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($base, $mine)", "kept.$": "$kept"}, "End": true}}},
              "ResultPath": "$.m", "Next": "P"},
            "P": {"Type": "Parallel", "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Parameters": {"b.$": "$base"}, "Assign": {"branch": 1}, "End": true}}}],
              "ResultPath": "$.par", "Next": "E"},
            "E": {"Type": "Pass", "Parameters": {"kept.$": "$kept", "m.$": "$.m", "par.$": "$.par"}, "End": true}}}).to_string(),
        json!({"items": [{"v": 1}, {"v": 2}]}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    let o = out.output.unwrap();
    assert_eq!(o["kept"], json!("outer"));
    assert_eq!(o["par"], json!([{"b": 100}]));
    // Inside each iteration: the outer `$base`, the iteration's own `$mine`, its own `$kept`.
    assert_eq!(
        o["m"],
        json!([{"sum": 101, "kept": "inner"}, {"sum": 102, "kept": "inner"}])
    );
    let out = run(
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"base": 100}, "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {
                "I": {"Type": "Pass", "Assign": {"mine.$": "$.v"}, "Next": "J"},
                "J": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($base, $mine)"}, "End": true}}},
              "Next": "E"},
            "E": {"Type": "Pass", "Parameters": {"out.$": "$", "mine.$": "$mine"}, "End": true}}}).to_string(),
        json!([{"v": 1}, {"v": 2}]),
    )
    .await;
    // `$mine` was assigned only inside the iterations: reading it outside fails.
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert!(out.cause.unwrap().contains("$mine"));
}

#[tokio::test(start_paused = true)]
async fn a_catcher_assigns_from_the_error_output() {
    let out = run(
        &json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "fail:Oops", "Assign": {"never": 1}, "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"err.$": "$.Error"}, "ResultPath": "$.e", "Next": "E"}]},
            "E": {"Type": "Pass", "Parameters": {"err.$": "$err"}, "End": true}}}).to_string(),
        json!({}),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!({"err": "Oops"}));
}

#[tokio::test(start_paused = true)]
async fn an_oversized_variable_is_data_limit_exceeded_and_not_caught() {
    let out = run(
        &single(
            json!({"Type": "Task", "Resource": "echo", "Assign": {"big.$": "$.big"}, "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}]}),
        ),
        json!({"big": "x".repeat(200 * 1024)}),
    )
    .await;
    assert_eq!(
        out.status,
        ExecutionStatus::Succeeded,
        "under the quota: {out:?}"
    );
    let out = run(
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"a.$": "$.half", "b.$": "$.half"}, "End": true}}})
        .to_string(),
        json!({"half": "x".repeat(130 * 1024)}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[tokio::test(start_paused = true)]
async fn payloads_over_256_kib_fail_with_data_limit_exceeded_past_any_catcher() {
    let out = run(
        &json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "echo", "Parameters": {"a.$": "$.a", "b.$": "$.a"}, "Next": "E",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "E"}]},
            "E": {"Type": "Succeed"}}}).to_string(),
        json!({"a": "x".repeat(150 * 1024)}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed, "{out:?}");
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    assert!(out.cause.unwrap().contains("'T'"));
    // A state output over the quota, too.
    let out = run(
        &single(json!({"Type": "Pass", "Parameters": {"a.$": "$.a", "b.$": "$.a"}, "End": true})),
        json!({"a": "x".repeat(150 * 1024)}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[tokio::test(start_paused = true)]
async fn variables_in_numeric_paths_and_items_path_and_not_in_result_path() {
    let invoker = Arc::new(Scripted::default());
    let out = run_with(
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"t": 30, "xs": [1, 2]}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$xs", "MaxConcurrencyPath": "$t", "ItemProcessor": {"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": "echo", "TimeoutSecondsPath": "$t", "End": true}}}, "End": true}}}).to_string(),
        json!({}),
        invoker.clone(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    assert_eq!(out.output.unwrap(), json!([1, 2]));
    assert!(
        invoker
            .calls()
            .iter()
            .all(|c| c.timeout_seconds == Some(30))
    );
    let err = custody_asl::Definition::from_value(&json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "ResultPath": "$x", "End": true}}}))
    .unwrap_err();
    assert_eq!(err.0[0].pointer, "/States/P/ResultPath");
}

#[tokio::test(start_paused = true)]
async fn a_matching_jsonpath_choice_rule_assigns_and_default_takes_the_states_assign() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Assign": {"path": "default"}, "Default": "E",
              "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Assign": {"path": "rule", "n.$": "$.n"}, "Next": "E"}]},
        "E": {"Type": "Pass", "Parameters": {"path.$": "$path"}, "End": true}}})
    .to_string();
    assert_eq!(
        run(&def, json!({"n": 2})).await.output.unwrap(),
        json!({"path": "rule"})
    );
    assert_eq!(
        run(&def, json!({"n": 0})).await.output.unwrap(),
        json!({"path": "default"})
    );
}
