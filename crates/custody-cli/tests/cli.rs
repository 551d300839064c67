//! `custody validate` and `custody run`, driven through the built binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn custody(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

#[test]
fn validate_reports_pointer_and_reason_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.json",
        &json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
    );
    let bad = write(
        dir.path(),
        "bad.json",
        &json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "r", "End": true, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": "x"}]}}}),
    );
    let ok = custody(&["validate", good.to_str().unwrap()], None);
    assert!(ok.status.success());
    let out = custody(
        &["validate", good.to_str().unwrap(), bad.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("/States/A/Retry/0/BackoffRate: must be a number"),
        "{text}"
    );
}

#[test]
fn validate_accepts_the_project_state_machines() {
    for f in [
        "state-machines/forensic-triage.asl.json",
        "state-machines/forensic-release.asl.json",
    ] {
        let p = repo_file(f);
        if p.exists() {
            let out = custody(&["validate", p.to_str().unwrap()], None);
            assert!(
                out.status.success(),
                "{f}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

#[test]
fn run_prints_one_json_object_for_success_and_failure() {
    let dir = tempfile::tempdir().unwrap();
    let def = write(
        dir.path(),
        "m.asl.json",
        &json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "my-resource", "ResultPath": "$.r", "Next": "N"},
        "N": {"Type": "Pass", "Parameters": {"r.$": "$.r", "sm.$": "$$.StateMachine.Name"}, "End": true}}}),
    );
    let input = write(dir.path(), "in.json", &json!({"a": 1}));
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--task",
            "my-resource=echo",
        ],
        None,
    );
    assert!(out.status.success());
    assert_eq!(
        json_out(&out),
        json!({"status": "SUCCEEDED", "output": {"r": {"a": 1}, "sm": "m"}})
    );

    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--event",
            "-",
            "--task",
            "my-resource=fail:Custom.Bad:it broke",
        ],
        Some("{}"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json_out(&out),
        json!({"status": "FAILED", "error": "Custom.Bad", "cause": "it broke"})
    );
}

#[test]
fn fixture_and_exec_bindings() {
    let dir = tempfile::tempdir().unwrap();
    let def = write(
        dir.path(),
        "m.json",
        &json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "fx", "ResultPath": "$.fx", "Next": "B"},
        "B": {"Type": "Task", "Resource": "cmd", "ResultPath": "$.cmd", "End": true}}}),
    );
    let fx = write(dir.path(), "fx.json", &json!({"fixed": true}));
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--task",
            &format!("fx=fixture:{}", fx.display()),
            "--task",
            "cmd=exec:cat; echo >/dev/null",
        ],
        None,
    );
    assert_eq!(
        json_out(&out),
        json!({"status": "SUCCEEDED", "output": {"fx": {"fixed": true}, "cmd": {"fx": {"fixed": true}}}})
    );

    let failing =
        r#"cmd=exec:echo '{"errorType":"Custody.Throttled","errorMessage":"slow down"}'; exit 3"#;
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--task",
            &format!("fx=fixture:{}", fx.display()),
            "--task",
            failing,
        ],
        None,
    );
    assert_eq!(
        json_out(&out),
        json!({"status": "FAILED", "error": "Custody.Throttled", "cause": "slow down"})
    );
}

#[test]
fn lambda_invoke_gets_the_aws_envelope_and_function_arns_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let def = write(
        dir.path(),
        "m.json",
        &json!({"StartAt": "Invoke", "States": {
        "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:triage:live", "Payload": {"x.$": "$.x"}},
                   "ResultSelector": {"p.$": "$.Payload", "code.$": "$.StatusCode", "v.$": "$.ExecutedVersion"}, "ResultPath": "$.inv", "Next": "Bare"},
        "Bare": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:report", "ResultPath": "$.bare", "Next": "Placeholder"},
        "Placeholder": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "${ReportFunctionArn}", "Payload": {}},
                   "OutputPath": "$.Payload", "End": true}}}),
    );
    let fx = write(dir.path(), "report.json", &json!({"done": true}));
    let input = write(dir.path(), "in.json", &json!({"x": 5}));
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--task",
            "triage=echo",
            "--task",
            "report=echo",
            "--task",
            &format!("ReportFunctionArn=fixture:{}", fx.display()),
        ],
        None,
    );
    assert_eq!(
        json_out(&out),
        json!({"status": "SUCCEEDED", "output": {"done": true}})
    );

    let def2 = write(
        dir.path(),
        "m2.json",
        &json!({"StartAt": "Invoke", "States": {
        "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "triage", "Payload": {"x.$": "$.x"}},
                   "ResultSelector": {"p.$": "$.Payload", "code.$": "$.StatusCode", "v.$": "$.ExecutedVersion"}, "ResultPath": "$.inv", "Next": "Bare"},
        "Bare": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:report", "Parameters": {"only.$": "$.x"}, "ResultPath": "$.bare", "End": true}}}),
    );
    let out = custody(
        &[
            "run",
            def2.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--task",
            "triage=echo",
            "--task",
            "report=echo",
        ],
        None,
    );
    assert_eq!(
        json_out(&out),
        json!({"status": "SUCCEEDED", "output": {"x": 5, "inv": {"p": {"x": 5}, "code": 200, "v": "$LATEST"}, "bare": {"only": 5}}})
    );

    let out = custody(
        &[
            "run",
            def2.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--task",
            "triage=fail:Custody.Denied:no",
            "--task",
            "report=echo",
        ],
        None,
    );
    let v = json_out(&out);
    assert_eq!(v["error"], "Custody.Denied");
    assert_eq!(
        serde_json::from_str::<Value>(v["cause"].as_str().unwrap()).unwrap(),
        json!({"errorMessage": "no", "errorType": "Custody.Denied"})
    );
}

#[test]
fn history_timeouts_and_virtual_clock() {
    let dir = tempfile::tempdir().unwrap();
    let def = write(
        dir.path(),
        "m.json",
        &json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}),
    );
    let started = std::time::Instant::now();
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--clock",
            "virtual",
            "--history",
        ],
        None,
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let v = json_out(&out);
    assert_eq!(v["status"], "TIMED_OUT");
    assert_eq!(v["error"], "States.Timeout");
    let types: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]
    );
}

#[test]
fn unbound_resources_and_bad_bindings_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let def = write(
        dir.path(),
        "m.json",
        &json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "needs-binding", "End": true}}}),
    );
    let out = custody(&["run", def.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no --task binding for resource(s): needs-binding")
    );
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--task",
            "needs-binding=teleport",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown binding \"teleport\""));
}

#[test]
fn a_checkpoint_file_resumes_without_rerunning_completed_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("count");
    let def = write(
        dir.path(),
        "m.json",
        &json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "a", "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Task", "Resource": "b", "End": true}}}),
    );
    let ckpt = dir.path().join("run.ckpt");
    let count_a = format!(
        "a=exec:echo x >> {}; echo '{{\"ran\":true}}'",
        marker.display()
    );
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--task",
            &count_a,
            "--task",
            "b=fail:Transient:later",
        ],
        None,
    );
    assert_eq!(json_out(&out)["status"], "FAILED");
    let out = custody(
        &[
            "run",
            def.to_str().unwrap(),
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--task",
            &count_a,
            "--task",
            "b=echo",
        ],
        None,
    );
    assert_eq!(
        json_out(&out),
        json!({"status": "SUCCEEDED", "output": {"a": {"ran": true}}})
    );
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().lines().count(),
        1,
        "task A ran once across both runs"
    );
}
