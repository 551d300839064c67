//! Named executions of `custody run --aws`, remembered in the state directory so that running the
//! same name again re-drives the same execution.
//!
//! Step Functions keeps an execution's identity (ARN and start time) for its whole life, and
//! custody derives the case id from exactly those two (`CaseId::for_execution`). Running
//! `--name N` a second time therefore re-uses the first run's start time: every step runs again
//! as the same execution of the same case, which is how a responder re-drives a run that stopped
//! half-way, and how the tests prove that steps are idempotent against real APIs.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What is remembered of one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRecord {
    /// `$$.Execution.Id`.
    pub arn: String,
    /// `$$.Execution.StartTime` of the first run.
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    /// How many times it was run again after the first.
    pub redrive_count: u32,
}

/// `<state>/executions/<machine>/<name>.json`.
fn path(state: &Path, machine: &str, name: &str) -> PathBuf {
    state
        .join("executions")
        .join(machine)
        .join(format!("{name}.json"))
}

/// Checks an execution name as Step Functions does (1–80 characters, no whitespace, wildcards,
/// brackets, control characters or path separators), so it can also name a file safely.
///
/// # Errors
/// The name breaks one of those rules.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    if name.is_empty()
        || name.starts_with('.')
        || name.chars().count() > 80
        || name.chars().any(bad)
    {
        anyhow::bail!(
            "execution name {name:?} must be 1-80 characters without whitespace, control characters, wildcards, brackets or separators"
        );
    }
    Ok(())
}

/// The record of `name`: the stored one with its re-drive count increased, or a new one starting
/// now. Saved before the run, so a run that dies half-way is re-driven with the same identity.
///
/// # Errors
/// An unreadable or unwritable record.
pub fn begin(
    state: &Path,
    machine: &str,
    name: &str,
    arn: String,
    now: OffsetDateTime,
) -> anyhow::Result<ExecutionRecord> {
    check_name(name)?;
    let file = path(state, machine, name);
    let record = match std::fs::read_to_string(&file) {
        Ok(text) => {
            let mut old: ExecutionRecord = serde_json::from_str(&text)
                .with_context(|| format!("{} is not an execution record", file.display()))?;
            old.redrive_count += 1;
            old
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ExecutionRecord {
            arn,
            // Step Functions start times have millisecond precision, like case ids.
            start_time: now.replace_nanosecond(u32::from(now.millisecond()) * 1_000_000)?,
            redrive_count: 0,
        },
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&file, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_of_a_name_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let first = begin(dir.path(), "m", "run-1", "arn:1".into(), t0).unwrap();
        assert_eq!(first.redrive_count, 0);
        assert_eq!(first.start_time.nanosecond(), 123_000_000);
        let later = t0 + time::Duration::hours(1);
        let again = begin(dir.path(), "m", "run-1", "arn:other".into(), later).unwrap();
        assert_eq!(again.start_time, first.start_time);
        assert_eq!(again.arn, "arn:1");
        assert_eq!(again.redrive_count, 1);
        let other = begin(dir.path(), "m", "run-2", "arn:2".into(), later).unwrap();
        assert_eq!(other.start_time.unix_timestamp(), later.unix_timestamp());
    }

    #[test]
    fn names_that_could_escape_the_directory_are_refused() {
        for bad in ["", "../x", "a/b", "a b", ".hidden", &"x".repeat(81)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        check_name("triage-2026-11-23_1").unwrap();
    }
}
