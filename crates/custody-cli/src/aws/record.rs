//! `--record-actions`: which IAM actions each step's requests exercised, for the per-step drift
//! test (recorded ⊆ declared by the step's capabilities).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use async_trait::async_trait;
use custody_asl::{TaskFailure, TaskInvoker, TaskRequest};
use custody_aws::OperationLog;
use serde_json::{Value, json};

use crate::local::machine::step_of;

/// Step name → the IAM actions its requests exercised.
pub type ActionsByStep = BTreeMap<String, BTreeSet<String>>;

/// Wraps the step invoker: runs one step at a time and files what the environment's
/// [`OperationLog`] recorded meanwhile under that step.
///
/// One at a time because the log is shared by every client of the environment: with the
/// Parallel and Map branches of the triage machine running concurrently, a request could not be
/// told apart from another branch's. Serialising the steps changes the order branches interleave
/// in, never what each step does (steps never wait inside a handler: waiting is the machine's
/// `Wait` state, which is not held here).
pub struct RecordingInvoker {
    inner: Arc<dyn TaskInvoker>,
    log: OperationLog,
    turn: tokio::sync::Mutex<()>,
    recorded: Mutex<ActionsByStep>,
}

impl RecordingInvoker {
    /// Records into `log` (the environment's) around `inner`.
    pub fn new(inner: Arc<dyn TaskInvoker>, log: OperationLog) -> Self {
        Self {
            inner,
            log,
            turn: tokio::sync::Mutex::new(()),
            recorded: Mutex::new(BTreeMap::new()),
        }
    }

    /// What each step exercised so far.
    pub fn recorded(&self) -> ActionsByStep {
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Writes `{"steps": {step: [actions…]}}` to `path`.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(&json!({ "steps": self.recorded() }))?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

#[async_trait]
impl TaskInvoker for RecordingInvoker {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        let step =
            step_of(&task).map_or_else(|| "(not a step)".to_owned(), |s| s.as_str().to_owned());
        let _turn = self.turn.lock().await;
        // Nothing else runs while this step holds the turn: whatever is in the log now was not
        // made by a step (there is nothing), so start clean.
        let _ = self.log.take();
        let result = self.inner.invoke(task).await;
        let actions = self.log.take();
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(step)
            .or_default()
            .extend(actions);
        result
    }
}
