//! The step handlers, one file per step, and the dispatcher that runs one by name from JSON.

pub mod capture_memory;
pub mod check_memory;
pub mod check_pod_map;
pub mod check_snapshots;
pub mod investigate_check;
pub mod investigate_start;
pub mod investigate_teardown;
pub mod isolate;
pub mod map_pods;
pub mod pod_map;
pub mod record_failure;
pub mod release;
pub mod report;
pub mod shipped;
pub mod snapshot_disks;
pub mod triage;

pub(crate) mod guard;
pub(crate) mod host_command;
pub(crate) mod isolate_ec2;
pub(crate) mod isolate_kube;
pub(crate) mod manifest;
pub(crate) mod notify;
pub(crate) mod report_markdown;

use custody_core::error::StepError;
use serde::Serialize;

use crate::name::StepName;
use crate::ports::Environment;

/// Runs one step on a JSON input and returns its JSON output.
///
/// Input errors are `Custody.InvalidInput` naming the JSON path. Every other failure has been
/// written to the case record (when there is one) before it is returned.
pub async fn run_step(
    step: StepName,
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    match step {
        StepName::Triage => triage::run(input, env).await,
        StepName::CaptureMemory => capture_memory::run(input, env).await,
        StepName::CheckMemory => check_memory::run(input, env).await,
        StepName::MapPods => map_pods::run(input, env).await,
        StepName::CheckPodMap => check_pod_map::run(input, env).await,
        StepName::Isolate => isolate::run(input, env).await,
        StepName::SnapshotDisks => snapshot_disks::run(input, env).await,
        StepName::CheckSnapshots => check_snapshots::run(input, env).await,
        StepName::InvestigateStart => investigate_start::run(input, env).await,
        StepName::InvestigateCheck => investigate_check::run(input, env).await,
        StepName::InvestigateTeardown => investigate_teardown::run(input, env).await,
        StepName::Report => report::run(input, env).await,
        StepName::RecordFailure => record_failure::run(input, env).await,
        StepName::Release => release::run(input, env).await,
    }
}

/// Serialises a step's output.
pub(crate) fn to_json<T: Serialize>(out: &T) -> Result<serde_json::Value, StepError> {
    serde_json::to_value(out)
        .map_err(|e| StepError::internal(format!("could not serialise the step's output: {e}")))
}

/// The last 500 characters of a command's stderr, escaped: it comes from a compromised host and
/// ends up in logs, notifications and Step Functions' error cause.
pub(crate) fn stderr_tail(stderr: &str) -> String {
    let chars: Vec<char> = stderr.trim_end().chars().collect();
    let start = chars.len().saturating_sub(500);
    let tail: String = chars
        .get(start..)
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    format!("{tail:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_tail_is_escaped_and_bounded() {
        let tail = stderr_tail("line1\nevil\x1b[2J\n");
        assert!(
            tail.starts_with('"') && tail.contains("\\n") && tail.contains("\\u{1b}"),
            "{tail}"
        );
        assert!(stderr_tail(&"x".repeat(10_000)).len() <= 504);
    }
}
