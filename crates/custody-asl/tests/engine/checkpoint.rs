//! Checkpoint and resume: an interrupted or failed execution resumes without re-invoking the
//! tasks that completed.

use super::support::{def, origin};
use async_trait::async_trait;
use custody_asl::{
    CheckpointStore, ExecutionInfo, ExecutionStatus, Executor, ExecutorError, FileCheckpointStore,
    MemoryCheckpointStore, TaskFailure, TaskInvoker, TaskRequest, VirtualClock,
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Echoes, except `gate` which hangs while closed and `once` which fails while closed.
struct Gate {
    open: bool,
    calls: Mutex<Vec<TaskRequest>>,
}

impl Gate {
    fn new(open: bool) -> Arc<Self> {
        Arc::new(Self {
            open,
            calls: Mutex::new(Vec::new()),
        })
    }

    fn names(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.state_name.clone())
            .collect()
    }
}

#[async_trait]
impl TaskInvoker for Gate {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        self.calls.lock().unwrap().push(task.clone());
        match (task.resource.as_str(), self.open) {
            ("gate", false) => futures::future::pending().await,
            ("once", false) => Err(TaskFailure::new("Transient", "not yet")),
            _ => Ok(
                json!({"from": task.state_name, "redrive": task.context["Execution"]["RedriveCount"]}),
            ),
        }
    }
}

const MACHINE: &str = r#"{"StartAt":"A","States":{
  "A":{"Type":"Task","Resource":"echo","ResultPath":"$.a","Next":"W"},
  "W":{"Type":"Wait","Seconds":60,"Next":"M"},
  "M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Item","States":{"Item":{"Type":"Task","Resource":"echo","End":true}}},"ResultPath":"$.m","Next":"B"},
  "B":{"Type":"Task","Resource":"gate","ResultPath":"$.b","Next":"C"},
  "C":{"Type":"Task","Resource":"once","ResultPath":"$.c","End":true}}}"#;

fn executor(invoker: Arc<Gate>, store: Arc<dyn CheckpointStore>) -> Executor {
    Executor::new(
        def(MACHINE),
        invoker,
        Arc::new(VirtualClock::starting_at(origin())),
    )
    .checkpoint(store)
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_execution_resumes_without_reinvoking_completed_tasks() {
    let store = Arc::new(MemoryCheckpointStore::new());
    let first = Gate::new(false);
    let run = executor(first.clone(), store.clone())
        .run(json!({"items": [1, 2]}), ExecutionInfo::local("resume-me"));
    assert!(
        tokio::time::timeout(Duration::from_secs(3600), run)
            .await
            .is_err(),
        "the closed gate hangs: the process 'dies'"
    );
    assert_eq!(first.names(), ["A", "Item", "Item", "B"]);

    let second = Gate::new(true);
    let start = tokio::time::Instant::now();
    let out = executor(second.clone(), store.clone())
        .run(json!({"ignored": true}), ExecutionInfo::local("other-name"))
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    assert_eq!(
        second.names(),
        ["B", "C"],
        "A, the Map items and the Wait are not repeated"
    );
    assert_eq!(out.replayed_tasks, 3);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "the completed Wait is not waited again"
    );
    let output = out.output.unwrap();
    assert_eq!(output["items"], json!([1, 2]), "the recorded input is used");
    assert_eq!(output["b"]["redrive"], json!(1));
}

#[tokio::test(start_paused = true)]
async fn a_failed_execution_is_redriven_from_the_failed_task() {
    let store = Arc::new(MemoryCheckpointStore::new());
    let first = Gate::new(false);
    // Open the gate but keep `once` failing: a first run with B answering and C failing.
    let machine = MACHINE.replace("\"gate\"", "\"echo\"");
    let d = def(&machine);
    let out = Executor::new(d.clone(), first.clone(), Arc::new(VirtualClock::new()))
        .checkpoint(store.clone())
        .run(json!({"items": []}), ExecutionInfo::local("x"))
        .await
        .unwrap();
    assert_eq!(
        (out.status, out.error.as_deref()),
        (ExecutionStatus::Failed, Some("Transient"))
    );
    let second = Gate::new(true);
    let out = Executor::new(d, second.clone(), Arc::new(VirtualClock::new()))
        .checkpoint(store)
        .run(json!({"items": []}), ExecutionInfo::local("x"))
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(second.names(), ["C"]);
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_from_another_definition_is_refused() {
    let store = Arc::new(MemoryCheckpointStore::new());
    let out = executor(Gate::new(true), store.clone())
        .run(json!({"items": []}), ExecutionInfo::local("x"))
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let other = def(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let err = Executor::new(other, Gate::new(true), Arc::new(VirtualClock::new()))
        .checkpoint(store)
        .run(json!({}), ExecutionInfo::local("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExecutorError::DefinitionChanged { .. }),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_file_store_survives_a_new_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exec.ckpt.jsonl");
    let first = Gate::new(false);
    let run = executor(first, Arc::new(FileCheckpointStore::new(&path)))
        .run(json!({"items": [1]}), ExecutionInfo::local("f"));
    assert!(
        tokio::time::timeout(Duration::from_secs(3600), run)
            .await
            .is_err()
    );
    // A torn last line (the process died mid-write) is ignored.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"record\":\"tra"))
        .unwrap();
    let second = Gate::new(true);
    let out = executor(second.clone(), Arc::new(FileCheckpointStore::new(&path)))
        .run(json!({}), ExecutionInfo::local("f"))
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(second.names(), ["B", "C"]);
}
