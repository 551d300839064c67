//! The state machines run locally: `${XFunctionArn}` placeholders become the forensic account's
//! function ARNs, and those functions are the step handlers, called in-process.

use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use custody_asl::{
    Clock, Definition, EventType, ExecutionInfo, ExecutionOutcome, Executor, HistoryEvent,
    Observer, TaskFailure, TaskInvoker, TaskRequest, VirtualClock,
};
use custody_steps::StepName;
use custody_steps::ports::Environment;
use serde_json::Value;
use time::OffsetDateTime;

use crate::bindings::lambda::{Target, function_name};

/// The function name a step is deployed as.
pub fn function_of(step: StepName) -> String {
    format!("custody-{}", step.as_str())
}

/// Reads a definition and replaces every step's `${XFunctionArn}` with
/// `arn:aws:lambda:<region>:<account>:function:custody-<step>`.
///
/// # Errors
/// Unreadable or invalid definition, or a `${…}` placeholder that names no step.
pub fn load_definition(path: &Path, env: &dyn Environment) -> anyhow::Result<Definition> {
    let mut text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let s = env.settings();
    for step in StepName::ALL {
        let arn = format!(
            "arn:aws:lambda:{}:{}:function:{}",
            s.forensic_region,
            s.forensic_account,
            function_of(*step)
        );
        text = text.replace(&format!("${{{}}}", step.function_placeholder()), &arn);
    }
    if let Some(i) = text.find("\"${") {
        let rest = &text[i + 1..];
        let end = rest.find('"').unwrap_or(rest.len());
        bail!(
            "{}: placeholder {:?} names no custody step",
            path.display(),
            &rest[..end]
        );
    }
    Definition::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Answers Lambda tasks with the step handlers, in-process, shaped as `lambda:invoke` results.
pub struct StepInvoker {
    env: Arc<dyn Environment>,
}

impl StepInvoker {
    /// Steps run against `env`.
    pub fn new(env: Arc<dyn Environment>) -> Self {
        Self { env }
    }
}

/// The custody step a Lambda task invokes, if any (by function name or ARN).
pub fn step_of(task: &TaskRequest) -> Option<StepName> {
    Target::of(task)
        .keys()
        .into_iter()
        .filter_map(|k| function_name(k).or(Some(k)))
        .find_map(|name| {
            StepName::ALL
                .iter()
                .copied()
                .find(|s| function_of(*s) == name)
        })
}

#[async_trait]
impl TaskInvoker for StepInvoker {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        let target = Target::of(&task);
        let Some(step) = step_of(&task) else {
            return Err(TaskFailure::new(
                "Lambda.ResourceNotFoundException",
                format!("no custody step answers {:?}", target.keys()),
            ));
        };
        let payload = target.payload(&task);
        match custody_steps::run_step(step, payload, self.env.as_ref()).await {
            Ok(out) => Ok(target.wrap_result(out)),
            Err(e) => Err(target.wrap_failure(TaskFailure::new(e.name.as_str(), e.message()))),
        }
    }
}

/// Runs a definition over `env` on the virtual clock, with live progress unless `quiet`.
///
/// # Errors
/// The engine refuses to start (invalid input, checkpoint problems).
pub async fn execute(
    definition: Definition,
    input: Value,
    env: Arc<dyn Environment>,
    clock: Arc<VirtualClock>,
    machine: &str,
    quiet: bool,
) -> anyhow::Result<ExecutionOutcome> {
    let name = uuid::Uuid::new_v4().to_string();
    // Retry jitter comes from a seeded generator: the world and its clock are deterministic, so a
    // rehearsal of the same event on the same world replays the same back-offs.
    execute_with(
        definition,
        input,
        Arc::new(StepInvoker::new(env)),
        clock,
        ExecutionInfo::for_machine(machine, name),
        Some(JITTER_SEED),
        quiet,
    )
    .await
}

/// Runs a definition with any invoker, clock and execution identity, with live progress unless
/// `quiet`; `seed` fixes the retry jitter (`None`: random).
///
/// # Errors
/// The engine refuses to start (invalid input, checkpoint problems).
pub async fn execute_with(
    definition: Definition,
    input: Value,
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    info: ExecutionInfo,
    seed: Option<u64>,
    quiet: bool,
) -> anyhow::Result<ExecutionOutcome> {
    let start = clock.now();
    let mut executor = Executor::new(Arc::new(definition), invoker, clock);
    if !quiet {
        executor = executor.observer(Arc::new(Progress { start }));
    }
    if let Some(seed) = seed {
        executor = executor.seed(seed);
    }
    Ok(executor.run(input, info).await?)
}

/// Seed of the engine's retry jitter in local runs (any fixed value: reproducibility is the point).
const JITTER_SEED: u64 = 0x6375_7374_6f64_7921;

/// One stderr line per state entered and finished, with virtual elapsed time.
struct Progress {
    start: OffsetDateTime,
}

impl Observer for Progress {
    fn on_event(&self, e: &HistoryEvent) {
        let elapsed = e.timestamp - self.start;
        let t = format!(
            "[+{:>4}:{:02}]",
            elapsed.whole_minutes(),
            elapsed.whole_seconds().rem_euclid(60)
        );
        let name = e.state_name().unwrap_or_default();
        let label = format!("{:?}", e.event_type);
        if label.ends_with("StateEntered") {
            eprintln!("{t} → {name}");
        } else if label.ends_with("StateExited") {
            eprintln!("{t} ✓ {name}");
        } else if matches!(
            e.event_type,
            EventType::TaskFailed
                | EventType::LambdaFunctionFailed
                | EventType::TaskTimedOut
                | EventType::ExecutionFailed
        ) {
            let error = e.details.get("error").and_then(Value::as_str).unwrap_or("");
            eprintln!("{t} ✗ {name} {:?}: {error}", e.event_type);
        }
    }
}
