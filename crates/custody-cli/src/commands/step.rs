//! `custody step NAME --input FILE --world WORLD`: one step, in-process, over a simulated world,
//! with cases in the local store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use custody_steps::StepName;

use crate::local::{LocalEnvironment, load_world, open_store, save_world, state_dir};

/// Arguments of `custody step`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The step (`triage`, `capture-memory`, … `release`).
    step: String,
    /// The step's input (JSON file).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// The simulated world (fixture or saved world).
    #[arg(long, value_name = "FILE")]
    world: PathBuf,
    /// Save the world after the step here (so a next step sees its effects).
    #[arg(long, value_name = "FILE")]
    save_world: Option<PathBuf>,
    /// Where cases live (default: $CUSTODY_HOME, else ./.custody).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

/// Prints the step's JSON output (exit 0) or its named error on stderr (exit 1).
///
/// # Errors
/// Unknown step, unreadable input or world, unusable state directory.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let step: StepName = args.step.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let input = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.input.display()))?;
    tokio::time::pause();
    let (world, _clock) = load_world(&args.world)?;
    let store = open_store(&state_dir(args.state_dir.as_deref()))?;
    let env = Arc::new(LocalEnvironment::new(&world, store)?);
    let result = custody_steps::run_step(step, input, env.as_ref()).await;
    if let Some(path) = &args.save_world {
        save_world(&world, path)?;
    }
    match result {
        Ok(out) => {
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {}", e.name.as_str(), e.message());
            Ok(ExitCode::FAILURE)
        }
    }
}
