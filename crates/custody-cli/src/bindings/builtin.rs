//! The built-in bindings: `echo`, `fixture:FILE`, `fail:ERROR:CAUSE`, `exec:COMMAND`.

use super::{Binding, Registry};
use anyhow::{Context as _, bail};
use async_trait::async_trait;
use custody_asl::{TaskFailure, TaskRequest};
use serde_json::Value;
use std::io::Write as _;
use std::sync::Arc;

pub(super) fn register(r: &mut Registry) {
    r.register(
        "echo",
        Box::new(|arg| {
            if !arg.is_empty() {
                bail!("echo takes no argument");
            }
            Ok(Arc::new(Echo) as Arc<dyn Binding>)
        }),
    );
    r.register(
        "fixture",
        Box::new(|arg| {
            let text = std::fs::read_to_string(arg)
                .with_context(|| format!("cannot read fixture {arg:?}"))?;
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("fixture {arg:?} is not JSON"))?;
            Ok(Arc::new(Fixture(value)) as Arc<dyn Binding>)
        }),
    );
    r.register(
        "fail",
        Box::new(|arg| {
            let (error, cause) = arg.split_once(':').unwrap_or((arg, ""));
            if error.is_empty() {
                bail!("fail needs an error name: fail:ERROR[:CAUSE]");
            }
            Ok(Arc::new(Fail(TaskFailure::new(error, cause))) as Arc<dyn Binding>)
        }),
    );
    r.register(
        "exec",
        Box::new(|arg| {
            if arg.trim().is_empty() {
                bail!("exec needs a command: exec:COMMAND");
            }
            Ok(Arc::new(Exec(arg.to_owned())) as Arc<dyn Binding>)
        }),
    );
}

/// Returns its payload.
struct Echo;

#[async_trait]
impl Binding for Echo {
    async fn call(&self, payload: Value, _task: &TaskRequest) -> Result<Value, TaskFailure> {
        Ok(payload)
    }
}

/// Returns a fixed JSON document.
struct Fixture(Value);

#[async_trait]
impl Binding for Fixture {
    async fn call(&self, _payload: Value, _task: &TaskRequest) -> Result<Value, TaskFailure> {
        Ok(self.0.clone())
    }
}

/// Always fails.
struct Fail(TaskFailure);

#[async_trait]
impl Binding for Fail {
    async fn call(&self, _payload: Value, _task: &TaskRequest) -> Result<Value, TaskFailure> {
        Err(self.0.clone())
    }
}

/// Runs `sh -c COMMAND` with the payload on stdin. Stdout is the result (JSON; empty = null). A
/// non-zero exit is a failure read from `{"errorType","errorMessage"}` on stdout, as Lambda
/// reports it. The process runs on a blocking thread, which also holds a virtual clock still
/// while it runs.
struct Exec(String);

/// Error name when a command fails without saying why in Lambda's shape.
const EXEC_FAILED: &str = "Custody.ExecFailed";

#[async_trait]
impl Binding for Exec {
    async fn call(&self, payload: Value, task: &TaskRequest) -> Result<Value, TaskFailure> {
        let command = self.0.clone();
        let state = task.state_name.clone();
        let resource = task.resource.clone();
        let context = task.context.to_string();
        let joined = tokio::task::spawn_blocking(move || {
            run_command(&command, &payload, &state, &resource, &context)
        })
        .await;
        match joined {
            Ok(r) => r,
            Err(e) => Err(TaskFailure::new(
                EXEC_FAILED,
                format!("the command thread failed: {e}"),
            )),
        }
    }
}

fn run_command(
    command: &str,
    payload: &Value,
    state: &str,
    resource: &str,
    context: &str,
) -> Result<Value, TaskFailure> {
    let fail = |cause: String| TaskFailure::new(EXEC_FAILED, cause);
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("CUSTODY_STATE_NAME", state)
        .env("CUSTODY_RESOURCE", resource)
        .env("CUSTODY_CONTEXT", context)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start {command:?}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input closes the pipe early: not an error.
        let _ = stdin.write_all(payload.to_string().as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot wait for {command:?}: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        if stdout.trim().is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(stdout.trim()).map_err(|e| {
            fail(format!(
                "{command:?} printed output that is not JSON ({e}): {:?}",
                truncate(&stdout)
            ))
        });
    }
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(stdout.trim())
        && let Some(error) = o.get("errorType").and_then(Value::as_str)
    {
        let cause = o
            .get("errorMessage")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(TaskFailure::new(error, cause));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(fail(format!(
        "{command:?} exited with {} without an error object on stdout; stderr: {:?}",
        out.status,
        truncate(&stderr)
    )))
}

fn truncate(s: &str) -> String {
    const MAX: usize = 2_000;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
