//! `custody case list` and `custody case show ID`: the cases in the local store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use custody_core::id::CaseId;
use custody_steps::ports::CaseStore as _;

use crate::local::{open_store, state_dir, summary};

/// `custody case …`
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Cases, newest first.
    List(ListArgs),
    /// One case: status, evidence with hashes, actions with prior state, timeline.
    Show(ShowArgs),
}

/// Arguments of `custody case list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Where cases live (default: $CUSTODY_HOME, else ./.custody).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

/// Arguments of `custody case show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The case id (`case-…`).
    case: String,
    /// Where cases live (default: $CUSTODY_HOME, else ./.custody).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Machine-readable output (the whole case record).
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
///
/// # Errors
/// An unusable store, an invalid or unknown case id.
pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List(a) => {
            let store = open_store(&state_dir(a.state_dir.as_deref()))?;
            let cases = store.list(None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if a.json {
                println!("{}", serde_json::to_string(&cases)?);
            } else {
                for c in cases {
                    println!(
                        "{}  {:<13} {}  {:?}",
                        c.case_id, c.status, c.opened_at, c.subject
                    );
                }
            }
        }
        Command::Show(a) => {
            let id =
                CaseId::parse(&a.case).map_err(|e| anyhow::anyhow!("case id {:?}: {e}", a.case))?;
            let store = open_store(&state_dir(a.state_dir.as_deref()))?;
            let case = store
                .load(&id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .with_context(|| format!("no case {id} in the store"))?;
            if a.json {
                println!("{}", serde_json::to_string(&case)?);
            } else {
                print!("{}", summary::render_case(&case, true));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
