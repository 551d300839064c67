//! Parallel and Map: outputs, failure, tolerance, concurrency, selectors, batching.

use super::support::{Scripted, origin, run, run_with, single};
use custody_asl::{EventType, ExecutionStatus};
use serde_json::{Value, json};
use std::sync::Arc;

fn map_state(extra: Value, processor: Value) -> String {
    let mut m = json!({"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I", "States": {"I": processor}}, "End": true});
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    single(m)
}

#[tokio::test(start_paused = true)]
async fn parallel_runs_branches_on_the_same_input_and_collects_outputs() {
    let out = run(
        &single(json!({"Type": "Parallel", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 10, "Next": "B2"}, "B2": {"Type": "Pass", "Result": "b", "End": true}}}
        ], "ResultPath": "$.results", "End": true})),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(out.output.unwrap(), json!({"a": 1, "results": [1, "b"]}));
    let types: Vec<EventType> = out.history.iter().map(|e| e.event_type).collect();
    assert!(
        types.contains(&EventType::ParallelStateStarted)
            && types.contains(&EventType::ParallelStateSucceeded)
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_branch_fails_the_parallel_with_its_error_and_stops_the_others() {
    let inv = Arc::new(Scripted::default());
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 100, "Next": "After"}, "After": {"Type": "Task", "Resource": "echo", "End": true}}},
            {"StartAt": "Bad", "States": {"Bad": {"Type": "Task", "Resource": "fail:Branch.Err", "End": true}}}
        ], "Catch": [{"ErrorEquals": ["Branch.Err"], "ResultPath": "$.e", "Next": "H"}], "End": true},
        "H": {"Type": "Pass", "End": true}}});
    let out = run_with(&def.to_string(), json!({}), inv.clone()).await;
    assert_eq!(
        out.output.unwrap(),
        json!({"e": {"Error": "Branch.Err", "Cause": "boom"}})
    );
    assert_eq!(inv.count("After"), 0, "the slow branch was cancelled");
    assert!(
        out.history
            .iter()
            .any(|e| e.event_type == EventType::ParallelStateFailed)
    );
}

#[tokio::test(start_paused = true)]
async fn map_with_items_path_item_selector_and_context() {
    let out = run(
        &map_state(
            json!({"ItemsPath": "$.nodes", "ItemSelector": {"case.$": "$.case", "node.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"}, "ResultPath": "$.done"}),
            json!({"Type": "Pass", "End": true}),
        ),
        json!({"case": "c1", "nodes": ["n1", "n2"]}),
    )
    .await;
    assert_eq!(
        out.output.unwrap(),
        json!({"case": "c1", "nodes": ["n1", "n2"], "done": [{"case": "c1", "node": "n1", "i": 0}, {"case": "c1", "node": "n2", "i": 1}]})
    );
    let iterations = out
        .history
        .iter()
        .filter(|e| e.event_type == EventType::MapIterationStarted)
        .count();
    assert_eq!(iterations, 2);
}

#[tokio::test(start_paused = true)]
async fn map_with_iterator_and_parameters_legacy_fields() {
    let def = single(
        json!({"Type": "Map", "Parameters": {"v.$": "$$.Map.Item.Value"}, "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}),
    );
    let out = run(&def, json!([1, 2])).await;
    assert_eq!(out.output.unwrap(), json!([{"v": 1}, {"v": 2}]));
}

#[tokio::test(start_paused = true)]
async fn map_max_concurrency_limits_parallel_iterations() {
    let out = run(
        &map_state(
            json!({"MaxConcurrency": 2}),
            json!({"Type": "Wait", "Seconds": 10, "End": true}),
        ),
        json!([1, 2, 3, 4, 5]),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let end = out.history.last().unwrap().timestamp;
    assert_eq!(
        (end - origin()).whole_seconds(),
        30,
        "5 items, 2 at a time, 10 s each"
    );
    let out = run(
        &map_state(
            json!({"MaxConcurrencyPath": "$.c"}),
            json!({"Type": "Pass", "InputPath": "$.v", "End": true}),
        ),
        json!({"c": 0}),
    )
    .await;
    assert_eq!(
        out.error.as_deref(),
        Some("States.Runtime"),
        "input must be an array at ItemsPath: {:?}",
        out.cause
    );
}

#[tokio::test(start_paused = true)]
async fn map_fails_on_the_first_failed_iteration_without_tolerance() {
    let out = run(
        &map_state(json!({}), json!({"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Boom"}], "Default": "Ok"})).replace(
            "\"States\":{\"I\"",
            "\"States\":{\"Boom\":{\"Type\":\"Fail\",\"Error\":\"Item.Bad\",\"Cause\":\"two\"},\"Ok\":{\"Type\":\"Succeed\"},\"I\"",
        ),
        json!([1, 2, 3]),
    )
    .await;
    assert_eq!(
        (out.error.as_deref(), out.cause.as_deref()),
        (Some("Item.Bad"), Some("two"))
    );
}

fn failing_items_map(tolerance: Value) -> String {
    let mut m = json!({"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I", "States": {
        "I": {"Type": "Choice", "Choices": [{"Variable": "$.bad", "BooleanEquals": true, "Next": "Boom"}], "Default": "Ok"},
        "Boom": {"Type": "Fail", "Error": "Item.Bad", "Cause": "bad item"},
        "Ok": {"Type": "Succeed"}}}});
    for (k, v) in tolerance.as_object().unwrap() {
        m[k] = v.clone();
    }
    single(m)
}

#[tokio::test(start_paused = true)]
async fn map_tolerates_failures_up_to_the_threshold() {
    let items = json!([{"bad": false}, {"bad": true}, {"bad": false}, {"bad": true}]);
    let out = run(
        &failing_items_map(json!({"ToleratedFailureCount": 2})),
        items.clone(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        out.output.unwrap()[1],
        json!({"Error": "Item.Bad", "Cause": "bad item"})
    );
    let out = run(
        &failing_items_map(json!({"ToleratedFailureCount": 1})),
        items.clone(),
    )
    .await;
    assert_eq!(
        out.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert_eq!(
        out.cause.as_deref(),
        Some("The specified tolerated failure threshold was exceeded")
    );
    let out = run(
        &failing_items_map(json!({"ToleratedFailurePercentage": 50})),
        items.clone(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let out = run(
        &failing_items_map(json!({"ToleratedFailurePercentagePath": "$[0].pct"})),
        json!([{"bad": true, "pct": 10}, {"bad": false}]),
    )
    .await;
    assert_eq!(
        out.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
}

#[tokio::test(start_paused = true)]
async fn map_item_batcher_groups_items() {
    let out = run(
        &map_state(
            json!({"ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"case": "c"}}}),
            json!({"Type": "Pass", "End": true}),
        ),
        json!([1, 2, 3]),
    )
    .await;
    assert_eq!(
        out.output.unwrap(),
        json!([{"BatchInput": {"case": "c"}, "Items": [1, 2]}, {"BatchInput": {"case": "c"}, "Items": [3]}])
    );
}

#[tokio::test(start_paused = true)]
async fn map_over_a_non_array_is_a_runtime_error() {
    let out = run(
        &map_state(
            json!({"ItemsPath": "$.x"}),
            json!({"Type": "Pass", "End": true}),
        ),
        json!({"x": {"not": "array"}}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
}
