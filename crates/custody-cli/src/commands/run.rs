//! `custody run DEFINITION --input FILE|- [--task RESOURCE=BINDING]... [--history]`: run a state
//! machine locally with the engine and print one JSON object with the outcome. With `--world`
//! the steps run in-process over a simulated world (`local::run`); with `--aws` they run
//! in-process against AWS or an emulator (`aws`).

use crate::bindings::{BindingTable, Registry};
use anyhow::{Context as _, bail};
use custody_asl::{
    Clock, Definition, EventType, ExecutionInfo, ExecutionOutcome, ExecutionStatus, Executor,
    FileCheckpointStore, HistoryEvent, Observer, RealClock, VirtualClock,
};
use serde_json::{Map, Value, json};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

/// Which clock the execution uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockKind {
    /// Wall-clock time: a `Wait` of 60 s takes 60 s.
    Real,
    /// Virtual time: waits and back-off cost nothing; tasks run by `exec:` hold the clock while
    /// they run.
    Virtual,
}

/// Arguments of `custody run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state machine definition (ASL JSON).
    definition: PathBuf,
    /// Execution input: a JSON file, or `-` for stdin (default `{}`).
    #[arg(long, visible_alias = "event", value_name = "FILE|-")]
    input: Option<String>,
    /// Answer Tasks whose resource (or Lambda function) is RESOURCE with BINDING: `echo`,
    /// `fixture:FILE`, `fail:ERROR:CAUSE` or `exec:COMMAND`. Repeatable.
    #[arg(long = "task", value_name = "RESOURCE=BINDING")]
    tasks: Vec<String>,
    /// Include the execution history in the output.
    #[arg(long)]
    history: bool,
    /// Execution name (`$$.Execution.Name`; default: a fresh UUID).
    #[arg(long)]
    name: Option<String>,
    /// Clock: `real` or `virtual`. With --aws, `virtual` means `Wait` states and retry back-offs
    /// take no time while the SDK keeps real time (for emulators that finish work at once).
    #[arg(long, value_enum, default_value_t = ClockKind::Real)]
    clock: ClockKind,
    /// Checkpoint file, appended after every transition; if it already holds an execution of
    /// this definition, that execution is resumed without re-running completed tasks.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Print each state as it is entered, and each failure, on stderr.
    #[arg(long)]
    progress: bool,
    /// Run the custody steps in-process against this simulated world (a fixture or a saved
    /// world), keeping the case in the local store; prints a case summary.
    #[arg(long, value_name = "FILE")]
    world: Option<PathBuf>,
    /// With --world or --aws: where cases, reports, saved worlds and execution records live
    /// (default: $CUSTODY_HOME, else ./.custody).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// With --world or --aws: no progress lines on stderr.
    #[arg(long)]
    quiet: bool,
    /// With --world or --aws: print the machine-readable result instead of the summary.
    #[arg(long)]
    json: bool,
    /// Run the custody steps in-process against AWS (the production environment): settings from
    /// --settings or CUSTODY_SETTINGS, AWS options from the CUSTODY_* variables, credentials from
    /// the SDK's default chain. Prints a case summary; `--name` re-drives a named execution.
    #[arg(long, conflicts_with_all = ["world", "tasks", "checkpoint"])]
    aws: bool,
    /// With --aws: one endpoint for every service (an emulator such as moto); overrides
    /// CUSTODY_ENDPOINT_URL.
    #[arg(long, value_name = "URL", requires = "aws")]
    endpoint_url: Option<String>,
    /// With --aws: the forensic region (overrides the settings').
    #[arg(long, value_name = "REGION", requires = "aws")]
    region: Option<String>,
    /// With --aws: the steps' Settings JSON (default: the CUSTODY_SETTINGS variable).
    #[arg(long, value_name = "FILE", requires = "aws")]
    settings: Option<PathBuf>,
    /// With --aws: write the IAM actions each step's requests exercised, as
    /// `{"steps": {step: [action…]}}` (steps then run one at a time).
    #[arg(long, value_name = "FILE", requires = "aws")]
    record_actions: Option<PathBuf>,
}

/// Runs the execution and prints its outcome; exit code 0 if it succeeded, 1 otherwise.
///
/// # Errors
/// Unreadable or invalid definition or input, bad bindings, a Task resource without a binding,
/// or a checkpoint that cannot be used.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(world) = &args.world {
        let input = read_input(args.input.as_deref())?;
        let options = crate::local::run::Options {
            state_dir: crate::local::state_dir(args.state_dir.as_deref()),
            quiet: args.quiet,
            json: args.json,
        };
        return crate::local::run::run_case(&args.definition, input, world, &options).await;
    }
    if args.aws {
        let input = read_input(args.input.as_deref())?;
        let options = crate::aws::Options {
            settings: args.settings.clone(),
            endpoint_url: args.endpoint_url.clone(),
            region: args.region.clone(),
            name: args.name.clone(),
            skip_waits: args.clock == ClockKind::Virtual,
            record_actions: args.record_actions.clone(),
            state_dir: crate::local::state_dir(args.state_dir.as_deref()),
            quiet: args.quiet,
            json: args.json,
        };
        return crate::aws::run_case(&args.definition, input, &options).await;
    }
    let text = std::fs::read_to_string(&args.definition)
        .with_context(|| format!("cannot read {}", args.definition.display()))?;
    let definition = Definition::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.definition.display()))?;
    let input = read_input(args.input.as_deref())?;
    let table = BindingTable::from_specs(&Registry::builtin(), &args.tasks)?;
    let unbound: Vec<String> = definition
        .task_resources()
        .into_iter()
        .filter(|r| !table.covers(r))
        .collect();
    if !unbound.is_empty() {
        bail!("no --task binding for resource(s): {}", unbound.join(", "));
    }
    let clock: Arc<dyn Clock> = match args.clock {
        ClockKind::Real => Arc::new(RealClock),
        ClockKind::Virtual => {
            // main runs a current-thread runtime, the only kind whose clock can be paused.
            tokio::time::pause();
            Arc::new(VirtualClock::new())
        }
    };
    let machine = machine_name(&args.definition);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut executor = Executor::new(Arc::new(definition), Arc::new(table), clock);
    if args.progress {
        executor = executor.observer(Arc::new(Progress));
    }
    if let Some(path) = &args.checkpoint {
        executor = executor.checkpoint(Arc::new(FileCheckpointStore::new(path)));
    }
    let outcome = executor
        .run(input, ExecutionInfo::for_machine(machine, name))
        .await?;
    let code = if outcome.status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    println!("{}", render(outcome, args.history)?);
    Ok(code)
}

fn read_input(spec: Option<&str>) -> anyhow::Result<Value> {
    let text = match spec {
        None => return Ok(json!({})),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the input from stdin")?;
            s
        }
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read input {path}"))?
        }
    };
    serde_json::from_str(&text).context("the execution input is not JSON")
}

/// `forensic-triage` from `state-machines/forensic-triage.asl.json`.
fn machine_name(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("local");
    file.trim_end_matches(".json")
        .trim_end_matches(".asl")
        .to_owned()
}

/// The one JSON object `custody run` prints.
fn render(outcome: ExecutionOutcome, history: bool) -> anyhow::Result<String> {
    let status = match outcome.status {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
        ExecutionStatus::Aborted => "ABORTED",
    };
    let mut o = Map::new();
    o.insert("status".into(), json!(status));
    if let Some(output) = outcome.output {
        o.insert("output".into(), output);
    }
    if let Some(e) = outcome.error {
        o.insert("error".into(), json!(e));
    }
    if let Some(c) = outcome.cause {
        o.insert("cause".into(), json!(c));
    }
    if history {
        o.insert("history".into(), serde_json::to_value(&outcome.history)?);
    }
    Ok(serde_json::to_string(&Value::Object(o))?)
}

/// Live progress on stderr.
struct Progress;

impl Observer for Progress {
    fn on_event(&self, e: &HistoryEvent) {
        let name = e.state_name().unwrap_or_default();
        match e.event_type {
            EventType::TaskStateEntered
            | EventType::PassStateEntered
            | EventType::ChoiceStateEntered
            | EventType::WaitStateEntered
            | EventType::SucceedStateEntered
            | EventType::FailStateEntered
            | EventType::ParallelStateEntered
            | EventType::MapStateEntered => {
                eprintln!("{} → {name:?}", custody_asl::timestamp::format(e.timestamp))
            }
            EventType::TaskFailed
            | EventType::LambdaFunctionFailed
            | EventType::TaskTimedOut
            | EventType::ExecutionFailed => {
                eprintln!(
                    "{} ✗ {:?}: {}",
                    custody_asl::timestamp::format(e.timestamp),
                    e.event_type,
                    Value::Object(e.details.clone())
                );
            }
            _ => {}
        }
    }
}
