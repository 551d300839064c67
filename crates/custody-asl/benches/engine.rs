//! Engine throughput: executions/s and transitions/s for a 1,000-state Pass chain, a Map over
//! 10,000 items, a Choice-driven loop of 100,000 iterations, and custody's forensic-triage state
//! machine with canned task answers. Run with `cargo bench -p custody-asl`.
//!
//! Every scenario runs on a paused-clock runtime with a `VirtualClock`, so Waits cost nothing
//! and the figures measure the interpreter (history recording included).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use async_trait::async_trait;
use custody_asl::{
    Definition, ExecutionInfo, ExecutionStatus, Executor, TaskFailure, TaskInvoker, TaskRequest,
    VirtualClock,
};
use serde_json::{Value, json};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Answers forensic-triage's Lambda calls with the smallest payloads its ResultSelectors and
/// Choices accept, so the happy path runs end to end (two nodes, two instances).
///
/// `investigate` is false: as committed, the machine's `CountInvestigationPoll` reads
/// `$.investigationPolls.n`, which nothing initialises, so the investigation branch fails with
/// `States.Runtime` on its first poll (found by this engine; reported on the issue).
struct Canned;

#[async_trait]
impl TaskInvoker for Canned {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        let function = task
            .input
            .get("FunctionName")
            .and_then(Value::as_str)
            .unwrap_or(&task.resource)
            .to_owned();
        let target =
            |n: &str| json!({"node": n, "capture": true, "mapPods": true, "isolate": true});
        let payload = match function.trim_start_matches("${").trim_end_matches('}') {
            "TriageFunctionArn" => {
                json!({"caseId": "case-1", "eligible": true, "isolate": true, "investigate": false,
                "memoryTargets": [target("n1"), target("n2")], "diskTargets": [{"instance": "i-1"}, {"instance": "i-2"}]})
            }
            "CaptureMemoryFunctionArn" => {
                json!({"status": "started", "commandId": "c", "uploadId": "u", "deadline": "2030-01-01T00:00:00Z", "reason": null})
            }
            "MapPodsFunctionArn" => {
                json!({"status": "started", "commandId": "c", "deadline": "2030-01-01T00:00:00Z", "reason": null})
            }
            "CheckMemoryFunctionArn"
            | "CheckPodMapFunctionArn"
            | "CheckSnapshotsFunctionArn"
            | "InvestigateCheckFunctionArn" => json!({"done": true}),
            "IsolateFunctionArn" => json!({"status": "isolated"}),
            "SnapshotDisksFunctionArn" => {
                json!({"snapshotIds": ["snap-1"], "deadline": "2030-01-01T00:00:00Z"})
            }
            "InvestigateStartFunctionArn" => {
                json!({"status": "started", "instanceId": "i-f", "deadline": "2030-01-01T00:00:00Z"})
            }
            "InvestigateTeardownFunctionArn" => json!({"terminated": true}),
            "ReportFunctionArn" => {
                json!({"status": "COMPLETED", "reportLocation": "s3://evidence/case-1/report.json"})
            }
            "RecordFailureFunctionArn" => json!({"caseId": "case-1"}),
            _ => task
                .input
                .get("Payload")
                .cloned()
                .unwrap_or(task.input.clone()),
        };
        Ok(json!({"Payload": payload, "StatusCode": 200, "ExecutedVersion": "$LATEST"}))
    }
}

struct Echo;

#[async_trait]
impl TaskInvoker for Echo {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        Ok(task.input)
    }
}

fn pass_chain(n: usize) -> String {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass", "Result": i, "ResultPath": "$.last"});
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("P{}", i + 1));
        }
        states.insert(format!("P{i}"), s);
    }
    json!({"StartAt": "P0", "States": states}).to_string()
}

fn map_machine() -> String {
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}}, "End": true}}})
    .to_string()
}

fn choice_loop() -> String {
    json!({"StartAt": "Loop", "States": {
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThan": 100_000, "Next": "Inc"}], "Default": "Done"},
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Loop"},
        "Done": {"Type": "Succeed"}}})
    .to_string()
}

fn measure(name: &str, def: &str, input: &Value, invoker: Arc<dyn TaskInvoker>, budget: Duration) {
    let def = Arc::new(Definition::from_str(def).unwrap_or_else(|e| panic!("{name}: {e}")));
    let rt = custody_asl::clock::virtual_runtime().unwrap();
    let started = Instant::now();
    let mut runs = 0u64;
    let mut transitions = 0u64;
    while runs == 0 || started.elapsed() < budget {
        let out = rt.block_on(
            Executor::new(def.clone(), invoker.clone(), Arc::new(VirtualClock::new()))
                .run(input.clone(), ExecutionInfo::local(format!("bench-{runs}"))),
        );
        let out = out.unwrap();
        assert_eq!(
            out.status,
            ExecutionStatus::Succeeded,
            "{name}: {:?} {:?}",
            out.error,
            out.cause
        );
        runs += 1;
        transitions += out.transitions;
    }
    let secs = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let (eps, tps, per) = (
        runs as f64 / secs,
        transitions as f64 / secs,
        transitions / runs,
    );
    println!(
        "{name:<42} {runs:>6} runs  {eps:>10.2} executions/s  {tps:>12.0} transitions/s  ({per} transitions/execution)"
    );
}

fn main() {
    let budget = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    println!(
        "custody-asl engine benchmark ({} s per scenario, virtual clock, full history)",
        budget.as_secs()
    );
    measure(
        "pass chain, 1,000 states",
        &pass_chain(1_000),
        &json!({}),
        Arc::new(Echo),
        budget,
    );
    let items: Vec<u64> = (0..10_000).collect();
    measure(
        "map over 10,000 items",
        &map_machine(),
        &json!({"items": items}),
        Arc::new(Echo),
        budget,
    );
    measure(
        "choice loop, 100,000 iterations",
        &choice_loop(),
        &json!({"i": 0}),
        Arc::new(Echo),
        budget,
    );
    let triage = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../state-machines/forensic-triage.asl.json"
    );
    match std::fs::read_to_string(triage) {
        Ok(text) => measure(
            "forensic-triage, canned answers",
            &text,
            &json!({"detail": {}}),
            Arc::new(Canned),
            budget,
        ),
        Err(e) => println!("forensic-triage: skipped ({e})"),
    }
}
