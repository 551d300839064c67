//! Validation at load: each problem named by its JSON pointer.

use custody_asl::Definition;
use serde_json::json;
use std::str::FromStr;

fn problems(v: serde_json::Value) -> Vec<(String, String)> {
    match Definition::from_value(&v) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.into_iter().map(|e| (e.pointer, e.reason)).collect(),
    }
}

fn pointers(v: serde_json::Value) -> Vec<String> {
    problems(v).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn a_valid_definition_loads() {
    let d = Definition::from_str(
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Succeed"}}}"#,
    );
    assert!(d.is_ok());
}

#[test]
fn the_forensic_triage_machine_validates() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../state-machines/forensic-triage.asl.json"
    );
    if let Ok(text) = std::fs::read_to_string(path) {
        let d = Definition::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!d.task_resources().is_empty());
    }
}

#[test]
fn bad_json_is_reported_at_the_root() {
    let e = Definition::from_str("{nope").unwrap_err();
    assert_eq!(e.0[0].pointer, "");
    assert!(e.0[0].reason.starts_with("not valid JSON"));
}

#[test]
fn retry_fields_are_checked_with_pointers() {
    let p = problems(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "x", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": "x"}, {"ErrorEquals": []}]}}}),
    );
    let ptrs: Vec<&str> = p.iter().map(|(p, _)| p.as_str()).collect();
    assert!(ptrs.contains(&"/States/T/Retry/0/BackoffRate"), "{p:?}");
    assert!(ptrs.contains(&"/States/T/Retry/1/ErrorEquals"), "{p:?}");
    assert!(
        ptrs.contains(&"/States/T/Retry/0"),
        "States.ALL not last: {p:?}"
    );
}

#[test]
fn unknown_targets_unreachable_states_and_missing_transitions() {
    let ptrs = pointers(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "Nowhere"},
        "B": {"Type": "Pass", "End": true},
        "C": {"Type": "Pass"},
        "D": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Gone"}], "Default": "Also"}
    }}));
    for expected in [
        "/States/A/Next",
        "/States/B",
        "/States/C",
        "/States/D/Choices/0/Next",
        "/States/D/Default",
    ] {
        assert!(
            ptrs.contains(&expected.to_owned()),
            "{expected} missing from {ptrs:?}"
        );
    }
}

#[test]
fn start_at_must_exist_and_something_must_end() {
    let ptrs = pointers(json!({"StartAt": "X", "States": {"A": {"Type": "Pass", "Next": "A"}}}));
    assert!(ptrs.contains(&"/StartAt".to_owned()), "{ptrs:?}");
    assert!(ptrs.contains(&"/States".to_owned()), "{ptrs:?}");
}

#[test]
fn fields_not_allowed_on_a_type_are_named() {
    let p = problems(
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "Next": "S", "Result": 1, "Resource": "r"}}}),
    );
    let ptrs: Vec<&str> = p.iter().map(|(p, _)| p.as_str()).collect();
    assert!(ptrs.contains(&"/States/S/Next"));
    assert!(ptrs.contains(&"/States/S/Result"));
    assert!(ptrs.contains(&"/States/S/Resource"));
    assert!(p[0].1.contains("not supported on a Succeed state"), "{p:?}");
}

#[test]
fn bad_paths_reference_paths_and_intrinsics() {
    let ptrs = pointers(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true,
        "InputPath": "nope", "ResultPath": "$.a[*]", "OutputPath": "$.a[",
        "Parameters": {"x.$": "States.Format('{}'", "y.$": "$..ok", "z.$": 1}}}}),
    );
    for expected in [
        "/States/P/InputPath",
        "/States/P/ResultPath",
        "/States/P/OutputPath",
        "/States/P/Parameters/x.$",
        "/States/P/Parameters/z.$",
    ] {
        assert!(
            ptrs.contains(&expected.to_owned()),
            "{expected} missing from {ptrs:?}"
        );
    }
    assert!(
        !ptrs.contains(&"/States/P/Parameters/y.$".to_owned()),
        "indefinite paths are allowed in Parameters"
    );
}

#[test]
fn choice_rules_are_checked() {
    let ptrs = pointers(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.a", "NumericEquals": "1", "Next": "E"},
            {"Variable": "$.a", "Next": "E"},
            {"And": [{"Variable": "$.a", "IsNull": true, "Next": "E"}], "Next": "E"},
            {"Variable": "$.t", "TimestampEquals": "2020-01-01", "Next": "E"},
            {"Variable": "$.a", "StringEquals": "x"}
        ]},
        "E": {"Type": "Succeed"}}}));
    for expected in [
        "/States/C/Choices/0/NumericEquals",
        "/States/C/Choices/1",
        "/States/C/Choices/2/And/0/Next",
        "/States/C/Choices/3/TimestampEquals",
        "/States/C/Choices/4/Next",
    ] {
        assert!(
            ptrs.contains(&expected.to_owned()),
            "{expected} missing from {ptrs:?}"
        );
    }
}

#[test]
fn nested_scopes_are_validated_with_full_pointers() {
    let ptrs = pointers(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}
    ]}, "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Wait", "End": true}}}}}}),
    );
    assert!(
        ptrs.contains(&"/States/P/Branches/0/States/X/Next".to_owned()),
        "{ptrs:?}"
    );
    assert!(
        ptrs.contains(&"/States/M/ItemProcessor/States/I".to_owned()),
        "{ptrs:?}"
    );
    assert!(
        ptrs.contains(&"/States/M".to_owned()),
        "M is unreachable: {ptrs:?}"
    );
}

#[test]
fn query_language_fields_belong_to_their_language_and_distributed_map_is_refused() {
    // A JSONata machine: JSONPath-only fields are refused, naming their pointer.
    let p = problems(
        json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "InputPath": "$.a", "Parameters": {"x": 1}, "ResultPath": "$.r", "Next": "T"},
        "T": {"Type": "Task", "Resource": "echo", "TimeoutSecondsPath": "$.t", "ResultSelector": {}, "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "P"}]}}}),
    );
    for ptr in [
        "/States/P/InputPath",
        "/States/P/Parameters",
        "/States/P/ResultPath",
        "/States/T/TimeoutSecondsPath",
        "/States/T/ResultSelector",
        "/States/T/Catch/0/ResultPath",
    ] {
        assert!(
            p.iter()
                .any(|(at, r)| at == ptr && r.contains("JSONPath query language")),
            "{ptr}: {p:?}"
        );
    }
    // A JSONPath state: JSONata-only fields are refused.
    let p = problems(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% 1 %}", "End": true}}}));
    assert!(
        p.iter()
            .any(|(at, r)| at == "/States/P/Output" && r.contains("QueryLanguage JSONata")),
        "{p:?}"
    );
    // A JSONata machine cannot have JSONPath states; a JSONPath machine can have JSONata ones.
    let p = problems(
        json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}),
    );
    assert!(
        p.iter().any(|(at, _)| at == "/States/P/QueryLanguage"),
        "{p:?}"
    );
    assert!(
        problems(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "End": true}}}))
        .is_empty()
    );
    // Bad expressions, bad variable names, reserved `states`.
    let p = problems(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input. %}", "Next": "P"}, {"Next": "P"}], "Default": "P"},
        "P": {"Type": "Pass", "Assign": {"states": 1, "1x": 2, "ok": "{% ( %}"}, "End": true}}}),
    );
    let ptrs: Vec<&str> = p.iter().map(|(p, _)| p.as_str()).collect();
    for ptr in [
        "/States/C/Choices/0/Condition",
        "/States/C/Choices/1/Condition",
        "/States/P/Assign/states",
        "/States/P/Assign/1x",
        "/States/P/Assign/ok",
    ] {
        assert!(ptrs.contains(&ptr), "{ptr}: {p:?}");
    }
    let p = problems(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemReader": {},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}}}),
    );
    let ptrs: Vec<&str> = p.iter().map(|(p, _)| p.as_str()).collect();
    assert!(ptrs.contains(&"/States/M/ItemReader"), "{p:?}");
    assert!(
        ptrs.contains(&"/States/M/ItemProcessor/ProcessorConfig/Mode"),
        "{p:?}"
    );
}

#[test]
fn state_names_with_slashes_are_escaped_in_pointers() {
    let ptrs =
        pointers(json!({"StartAt": "a/b", "States": {"a/b": {"Type": "Pass", "Next": "zz"}}}));
    assert!(ptrs.contains(&"/States/a~1b/Next".to_owned()), "{ptrs:?}");
}

#[test]
fn wait_fail_task_and_map_specific_checks() {
    let ptrs = pointers(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "Next": "T"},
        "T": {"Type": "Task", "Resource": "r", "TimeoutSeconds": 10, "HeartbeatSeconds": 10, "Next": "M"},
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "ToleratedFailurePercentage": 150, "Next": "F"},
        "F": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}
    }}));
    for expected in [
        "/States/W",
        "/States/T/HeartbeatSeconds",
        "/States/M/ToleratedFailurePercentage",
        "/States/F/ErrorPath",
    ] {
        assert!(
            ptrs.contains(&expected.to_owned()),
            "{expected} missing from {ptrs:?}"
        );
    }
}
