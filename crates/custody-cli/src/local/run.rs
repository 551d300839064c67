//! `custody run DEFINITION --event EVENT --world WORLD`: a whole case over a simulated world,
//! kept in the local store, summarised for a person (or as JSON).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use custody_asl::{ExecutionOutcome, ExecutionStatus};
use custody_core::case::Case;
use custody_core::id::CaseId;
use custody_sim::World;
use custody_steps::ports::CaseStore as _;
use serde_json::{Value, json};

use super::{
    LocalEnvironment, SqliteCaseStore, case_dir, load_world, machine, open_store, save_world,
    summary,
};

/// How the run reports.
#[derive(Debug, Clone)]
pub struct Options {
    /// The state directory.
    pub state_dir: PathBuf,
    /// No progress lines.
    pub quiet: bool,
    /// Machine-readable output.
    pub json: bool,
}

/// An execution over a world, finished.
pub struct Finished {
    /// The engine's outcome.
    pub outcome: ExecutionOutcome,
    /// The world after it.
    pub world: World,
    /// The store it used.
    pub store: Arc<SqliteCaseStore>,
}

/// Runs `definition` over the world in `world_path`, with cases in the state directory's store.
/// Pauses tokio's clock (the engine's virtual time): call it on a current-thread runtime.
///
/// # Errors
/// Unreadable world or definition, unusable state directory, an engine that cannot start.
pub async fn execute_over(
    definition: &Path,
    input: Value,
    world_path: &Path,
    options: &Options,
) -> anyhow::Result<Finished> {
    tokio::time::pause();
    let (world, clock) = load_world(world_path)?;
    let store = open_store(&options.state_dir)?;
    let env = Arc::new(LocalEnvironment::new(&world, store.clone())?);
    let def = machine::load_definition(definition, env.as_ref())?;
    let name = machine_name(definition);
    let outcome = machine::execute(def, input, env, clock, &name, options.quiet).await?;
    Ok(Finished {
        outcome,
        world,
        store,
    })
}

/// Runs the triage machine, saves the world and the report beside the case, prints the summary.
///
/// # Errors
/// As [`execute_over`], and files that cannot be written.
pub async fn run_case(
    definition: &Path,
    input: Value,
    world_path: &Path,
    options: &Options,
) -> anyhow::Result<ExitCode> {
    let store = open_store(&options.state_dir)?;
    let before: BTreeSet<CaseId> = list_ids(&store).await?;
    drop(store);
    let done = execute_over(definition, input, world_path, options).await?;
    let after = list_ids(&done.store).await?;
    let new_id = after.difference(&before).next().cloned().or_else(|| {
        done.outcome
            .output
            .as_ref()
            .and_then(|o| serde_json::from_value(o["caseId"].clone()).ok())
    });
    let case = match &new_id {
        Some(id) => done
            .store
            .load(id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        None => None,
    };
    let mut report_path = None;
    if let Some(case) = &case {
        let dir = case_dir(&options.state_dir, &case.id);
        save_world(&done.world, &dir.join("world.json"))?;
        let path = dir.join("report.md");
        let text = stored_report(&done.world, &done.outcome, case)
            .unwrap_or_else(|| summary::fallback_report(case));
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        report_path = Some(path);
    }
    print_outcome(
        &done.outcome,
        case.as_ref(),
        report_path.as_deref(),
        options.json,
    )?;
    Ok(exit_code(&done.outcome))
}

/// 0 when the execution succeeded, 1 otherwise.
pub fn exit_code(outcome: &ExecutionOutcome) -> ExitCode {
    if outcome.status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `SUCCEEDED`, `FAILED`, …
pub fn status_name(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
        ExecutionStatus::Aborted => "ABORTED",
    }
}

/// Prints the summary (or JSON) of an execution and its case.
///
/// # Errors
/// JSON encoding.
pub fn print_outcome(
    outcome: &ExecutionOutcome,
    case: Option<&Case>,
    report: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let status = status_name(outcome.status);
    if json {
        let v = json!({
            "status": status,
            "output": outcome.output,
            "error": outcome.error,
            "cause": outcome.cause,
            "caseId": case.map(|c| c.id.to_string()),
            "case": case,
            "report": report.map(|p| p.display().to_string()),
        });
        println!("{}", serde_json::to_string(&v)?);
        return Ok(());
    }
    println!("execution {status}");
    if let Some(e) = &outcome.error {
        println!("error     {e} {:?}", outcome.cause.as_deref().unwrap_or(""));
    }
    match case {
        Some(c) => print!("{}", summary::render_case(c, false)),
        None => println!("no case was opened"),
    }
    if let Some(p) = report {
        println!("\nreport    {}", p.display());
    }
    Ok(())
}

async fn list_ids(store: &SqliteCaseStore) -> anyhow::Result<BTreeSet<CaseId>> {
    Ok(store
        .list(None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|c| c.case_id)
        .collect())
}

/// The report the report step stored in the world's evidence bucket.
fn stored_report(world: &World, outcome: &ExecutionOutcome, case: &Case) -> Option<String> {
    let from_output = outcome
        .output
        .as_ref()
        .and_then(|o| o["report"]["reportLocation"].as_str().map(str::to_owned));
    world.inspect(|st| {
        let objects = &st.runtime.objects;
        let key = from_output.or_else(|| {
            objects
                .keys()
                .find(|k| k.contains(case.id.as_str()) && k.ends_with("/report.md"))
                .cloned()
        })?;
        let bytes = objects.get(&key)?.last()?.bytes.clone()?;
        String::from_utf8(bytes).ok()
    })
}

/// `forensic-triage` from `state-machines/forensic-triage.asl.json`.
pub fn machine_name(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("local");
    format!(
        "custody-{}",
        file.trim_end_matches(".json").trim_end_matches(".asl")
    )
}
