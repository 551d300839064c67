//! A scripted task invoker and run helpers. Resources name behaviours:
//! `echo` (returns its input), `fail:ERROR` (fails with ERROR, cause "boom"), `sleep:N` (sleeps
//! N s of virtual time, then echoes), `flaky:N:ERROR` (fails N times per state, then echoes),
//! `pending` (never completes), `beat:N:K` (heartbeats K times, N s apart, then echoes); a
//! `.waitForTaskToken` suffix is ignored. Every request is recorded.

use async_trait::async_trait;
use custody_asl::{
    Definition, ExecutionInfo, ExecutionOutcome, Executor, TaskFailure, TaskInvoker, TaskRequest,
    VirtualClock,
};
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct Scripted {
    pub calls: Mutex<Vec<TaskRequest>>,
    flaky: Mutex<HashMap<String, u64>>,
}

impl Scripted {
    pub fn calls(&self) -> Vec<TaskRequest> {
        self.calls.lock().unwrap().clone()
    }

    pub fn count(&self, state: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.state_name == state)
            .count()
    }
}

#[async_trait]
impl TaskInvoker for Scripted {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        self.calls.lock().unwrap().push(task.clone());
        let r = task.resource.as_str();
        let r = r.strip_suffix(".waitForTaskToken").unwrap_or(r);
        if let Some(rest) = r.strip_prefix("beat:") {
            let (every, times) = rest.split_once(':').unwrap();
            for _ in 0..times.parse::<u32>().unwrap() {
                tokio::time::sleep(Duration::from_secs(every.parse().unwrap())).await;
                task.heartbeat.beat();
            }
            return Ok(task.input);
        }
        if r == "echo" || r.starts_with("arn:") {
            return Ok(task.input);
        }
        if let Some(e) = r.strip_prefix("fail:") {
            return Err(TaskFailure::new(e, "boom"));
        }
        if let Some(s) = r.strip_prefix("sleep:") {
            tokio::time::sleep(Duration::from_secs(s.parse().unwrap())).await;
            return Ok(task.input);
        }
        if let Some(rest) = r.strip_prefix("flaky:") {
            let (n, err) = rest.split_once(':').unwrap();
            let mut f = self.flaky.lock().unwrap();
            let seen = f.entry(task.state_name.clone()).or_insert(0);
            *seen += 1;
            if *seen <= n.parse::<u64>().unwrap() {
                return Err(TaskFailure::new(err, format!("attempt {seen}")));
            }
            return Ok(task.input);
        }
        if r == "pending" {
            futures::future::pending::<()>().await;
        }
        Err(TaskFailure::new("Test.UnknownResource", r))
    }
}

pub fn def(text: &str) -> Arc<Definition> {
    Arc::new(Definition::from_str(text).unwrap_or_else(|e| panic!("{e}")))
}

pub fn origin() -> time::OffsetDateTime {
    time::macros::datetime!(2024-05-01 12:00 UTC)
}

pub async fn run_with(text: &str, input: Value, invoker: Arc<Scripted>) -> ExecutionOutcome {
    Executor::new(
        def(text),
        invoker,
        Arc::new(VirtualClock::starting_at(origin())),
    )
    .seed(7)
    .run(
        input,
        ExecutionInfo::for_machine("test-machine", "test-exec"),
    )
    .await
    .unwrap()
}

pub async fn run(text: &str, input: Value) -> ExecutionOutcome {
    run_with(text, input, Arc::new(Scripted::default())).await
}

/// A one-state machine around `state` (named "S").
pub fn single(state: Value) -> String {
    serde_json::json!({"StartAt": "S", "States": {"S": state}}).to_string()
}
