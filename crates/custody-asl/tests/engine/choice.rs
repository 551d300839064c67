//! Choice: every operator, its Path form, the type tests, StringMatches, And/Or/Not, Default,
//! no match, and a missing variable.

use super::support::run;
use custody_asl::ExecutionStatus;
use serde_json::{Value, json};

/// Runs a Choice with one rule; returns whether it matched (Default otherwise).
async fn matches(rule: Value, input: Value) -> bool {
    let mut rule = rule;
    rule["Next"] = json!("Yes");
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [rule], "Default": "No"},
        "Yes": {"Type": "Pass", "Result": true, "End": true},
        "No": {"Type": "Pass", "Result": false, "End": true}}});
    let out = run(&def.to_string(), input).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    out.output.unwrap() == json!(true)
}

#[tokio::test(start_paused = true)]
async fn string_operators_and_path_forms() {
    let i = json!({"s": "b", "a": "a", "b": "b", "c": "c"});
    for (op, operand, expected) in [
        ("StringEquals", "b", true),
        ("StringEquals", "x", false),
        ("StringLessThan", "c", true),
        ("StringGreaterThan", "a", true),
        ("StringLessThanEquals", "b", true),
        ("StringGreaterThanEquals", "c", false),
    ] {
        assert_eq!(
            matches(json!({"Variable": "$.s", op: operand}), i.clone()).await,
            expected,
            "{op} {operand}"
        );
    }
    for (op, path, expected) in [
        ("StringEqualsPath", "$.b", true),
        ("StringLessThanPath", "$.c", true),
        ("StringGreaterThanPath", "$.a", true),
        ("StringLessThanEqualsPath", "$.a", false),
        ("StringGreaterThanEqualsPath", "$.b", true),
    ] {
        assert_eq!(
            matches(json!({"Variable": "$.s", op: path}), i.clone()).await,
            expected,
            "{op} {path}"
        );
    }
    assert!(
        !matches(
            json!({"Variable": "$.n", "StringEquals": "1"}),
            json!({"n": 1})
        )
        .await,
        "type mismatch is no match"
    );
}

#[tokio::test(start_paused = true)]
async fn numeric_operators_and_path_forms() {
    let i = json!({"n": 5, "f": 5.0, "lo": 1, "hi": 10.5});
    for (op, operand, expected) in [
        ("NumericEquals", json!(5), true),
        ("NumericEquals", json!(5.0), true),
        ("NumericLessThan", json!(6), true),
        ("NumericGreaterThan", json!(5), false),
        ("NumericLessThanEquals", json!(5), true),
        ("NumericGreaterThanEquals", json!(5.5), false),
    ] {
        assert_eq!(
            matches(json!({"Variable": "$.n", op: operand}), i.clone()).await,
            expected,
            "{op}"
        );
    }
    for (op, path, expected) in [
        ("NumericEqualsPath", "$.f", true),
        ("NumericLessThanPath", "$.hi", true),
        ("NumericGreaterThanPath", "$.lo", true),
        ("NumericLessThanEqualsPath", "$.lo", false),
        ("NumericGreaterThanEqualsPath", "$.f", true),
    ] {
        assert_eq!(
            matches(json!({"Variable": "$.n", op: path}), i.clone()).await,
            expected,
            "{op}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn boolean_and_timestamp_operators() {
    let i = json!({"b": true, "t": true, "ts": "2024-01-01T00:00:00Z", "later": "2024-06-01T00:00:00+02:00"});
    assert!(matches(json!({"Variable": "$.b", "BooleanEquals": true}), i.clone()).await);
    assert!(
        matches(
            json!({"Variable": "$.b", "BooleanEqualsPath": "$.t"}),
            i.clone()
        )
        .await
    );
    for (op, operand, expected) in [
        ("TimestampEquals", "2024-01-01T00:00:00Z", true),
        ("TimestampLessThan", "2024-01-02T00:00:00Z", true),
        ("TimestampGreaterThan", "2023-12-31T23:59:59Z", true),
        ("TimestampLessThanEquals", "2023-01-01T00:00:00Z", false),
        ("TimestampGreaterThanEquals", "2024-01-01T00:00:00Z", true),
    ] {
        assert_eq!(
            matches(json!({"Variable": "$.ts", op: operand}), i.clone()).await,
            expected,
            "{op}"
        );
    }
    for (op, expected) in [
        ("TimestampEqualsPath", false),
        ("TimestampLessThanPath", true),
        ("TimestampGreaterThanPath", false),
        ("TimestampLessThanEqualsPath", true),
        ("TimestampGreaterThanEqualsPath", false),
    ] {
        assert_eq!(
            matches(json!({"Variable": "$.ts", op: "$.later"}), i.clone()).await,
            expected,
            "{op}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn type_tests() {
    let i = json!({"nul": null, "n": 1.5, "s": "x", "b": false, "ts": "2024-01-01T00:00:00Z"});
    assert!(matches(json!({"Variable": "$.nul", "IsNull": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.s", "IsNull": false}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.n", "IsNumeric": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.s", "IsString": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.b", "IsBoolean": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.ts", "IsTimestamp": true}), i.clone()).await);
    assert!(!matches(json!({"Variable": "$.s", "IsTimestamp": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.s", "IsPresent": true}), i.clone()).await);
    assert!(
        matches(
            json!({"Variable": "$.missing", "IsPresent": false}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.missing.deeper", "IsPresent": true}),
            i.clone()
        )
        .await
    );
}

#[tokio::test(start_paused = true)]
async fn string_matches_with_escapes() {
    let i = json!({"f": "log-*.txt", "g": "log-2024.txt"});
    assert!(
        matches(
            json!({"Variable": "$.g", "StringMatches": "log-*.txt"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.f", "StringMatches": "log-\\*.txt"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.g", "StringMatches": "log-\\*.txt"}),
            i.clone()
        )
        .await
    );
}

#[tokio::test(start_paused = true)]
async fn and_or_not() {
    let i = json!({"a": 1, "b": "x"});
    let a = json!({"Variable": "$.a", "NumericEquals": 1});
    let b = json!({"Variable": "$.b", "StringEquals": "y"});
    assert!(!matches(json!({"And": [a, b]}), i.clone()).await);
    assert!(matches(json!({"Or": [a, b]}), i.clone()).await);
    assert!(matches(json!({"Not": b}), i.clone()).await);
    assert!(matches(json!({"And": [a, {"Not": b}, {"Or": [b, a]}]}), i.clone()).await);
}

#[tokio::test(start_paused = true)]
async fn no_match_without_default_and_a_missing_variable() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "E"}]},
        "E": {"Type": "Succeed"}}});
    let out = run(&def.to_string(), json!({"a": 2})).await;
    assert_eq!(
        (out.error.as_deref(), out.cause.as_deref()),
        (Some("States.NoChoiceMatched"), Some("No Matches!"))
    );
    let out = run(&def.to_string(), json!({})).await;
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        out.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'C' (entered at the event id #2). Invalid path '$.a': The choice state's condition path references an invalid value."
        )
    );
}
