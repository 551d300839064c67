//! The custody command: validate and run state machines, run steps, show and release cases.
//!
//! `main` stays small: one [`Commands`] variant per subcommand, each in its own module under
//! `commands/` with an `Args` struct and `async fn run(args) -> anyhow::Result<ExitCode>`.

mod aws;
mod bindings;
mod commands;
mod local;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Incident response for Amazon EKS and EC2: rehearse and run custody's state machines locally.
#[derive(Debug, Parser)]
#[command(name = "custody", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Validate state machine definitions (exit 1 on the first invalid file, listing every problem).
    Validate(commands::validate::Args),
    /// Run a state machine locally and print one JSON object with its outcome.
    Run(commands::run::Args),
    /// Print the IAM actions each step's code declares (what the CDK app grants).
    IamPolicy(commands::iam_policy::Args),
    /// Run one custody step against a simulated world and print its JSON output.
    Step(commands::step::Args),
    /// List and show the cases in the local store.
    #[command(subcommand)]
    Case(commands::case::Command),
    /// Undo a case's containment (forensic-release) over the case's saved world.
    Release(commands::release::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CUSTODY_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    // Current-thread: the engine is I/O-bound, and `--clock virtual` needs tokio's paused clock,
    // which only a current-thread runtime offers.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("custody: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Commands::Validate(args) => commands::validate::run(args).await,
            Commands::Run(args) => commands::run::run(args).await,
            Commands::IamPolicy(args) => commands::iam_policy::run(args).await,
            Commands::Step(args) => commands::step::run(args).await,
            Commands::Case(cmd) => commands::case::run(cmd).await,
            Commands::Release(args) => commands::release::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("custody: {e:#}");
            ExitCode::from(2)
        }
    }
}
