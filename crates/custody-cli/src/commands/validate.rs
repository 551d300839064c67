//! `custody validate FILE...`: load each definition and report every problem with its JSON
//! pointer.

use anyhow::Context as _;
use custody_asl::Definition;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

/// Arguments of `custody validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// State machine definition files (ASL JSON).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Validates every file; exit code 1 when any is invalid.
///
/// # Errors
/// When a file cannot be read.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut ok = true;
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        match Definition::from_str(&text) {
            Ok(_) => println!("{}: valid", file.display()),
            Err(errors) => {
                ok = false;
                for e in &errors.0 {
                    println!("{}: {e}", file.display());
                }
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
