//! `custody release ID --requested-by PRINCIPAL --reason TEXT`: runs forensic-release over the
//! case's saved world with the local store, saves the world again, prints what was undone.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use custody_core::id::CaseId;
use custody_steps::ports::CaseStore as _;
use serde_json::json;

use crate::local::run::{Options, execute_over, exit_code, print_outcome};
use crate::local::{case_dir, save_world, state_dir};

/// Arguments of `custody release`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The case id (`case-…`).
    case: String,
    /// Who asks for the release (recorded on the case as a human action).
    #[arg(long)]
    requested_by: String,
    /// Why.
    #[arg(long)]
    reason: String,
    /// The release state machine.
    #[arg(long, default_value = "state-machines/forensic-release.asl.json")]
    definition: PathBuf,
    /// Where cases live (default: $CUSTODY_HOME, else ./.custody).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

/// Releases the case; exit 0 when the execution succeeded.
///
/// # Errors
/// An invalid case id, a case without a saved world, or the errors of a run.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let id =
        CaseId::parse(&args.case).map_err(|e| anyhow::anyhow!("case id {:?}: {e}", args.case))?;
    let options = Options {
        state_dir: state_dir(args.state_dir.as_deref()),
        quiet: args.quiet,
        json: args.json,
    };
    let world_path = case_dir(&options.state_dir, &id).join("world.json");
    if !world_path.is_file() {
        bail!(
            "no saved world for {id} at {} (was it run with `custody run … --world` and this state directory?)",
            world_path.display()
        );
    }
    let input = json!({"caseId": id, "requestedBy": args.requested_by, "reason": args.reason});
    let done = execute_over(&args.definition, input, &world_path, &options).await?;
    save_world(&done.world, &world_path)?;
    let case = done
        .store
        .load(&id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("case {id} is not in the store"))?;
    if !args.json {
        let release = done.outcome.output.as_ref().map(|o| o["release"].clone());
        if let Some(r) = release {
            for (label, key) in [("undone", "released"), ("not undone", "failed")] {
                for item in r[key].as_array().into_iter().flatten() {
                    println!("{label:<10} {item}");
                }
            }
        }
    }
    print_outcome(&done.outcome, Some(&case), None, args.json)?;
    Ok(exit_code(&done.outcome))
}
