//! Step names: the contract between the handlers, the state machines, the CLI and the CDK app.
//!
//! A step's kebab-case name is what `custody step NAME` takes, what the Lambda bootstrap reads to
//! pick a handler, and (in PascalCase + `FunctionArn`) the placeholder the state machines use for
//! its function. Renaming one breaks all four, so the names are listed once, here.

use std::fmt;
use std::str::FromStr;

use crate::capability::Capability;
use crate::steps;

/// One step handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepName {
    /// Parse the start input, resolve the subject, plan, open the case.
    Triage,
    /// Start a memory capture on one node/instance.
    CaptureMemory,
    /// Poll a memory capture; verify and record the image.
    CheckMemory,
    /// Start the host-side container listing for the pod-to-PID map.
    MapPods,
    /// Poll the container listing; match pods to PIDs and record the map.
    CheckPodMap,
    /// Contain one node/instance and the case's pods on it.
    Isolate,
    /// Snapshot every volume of one instance.
    SnapshotDisks,
    /// Poll snapshots; copy, share and record them.
    CheckSnapshots,
    /// Launch the workstation, attach evidence volumes, start the analyses.
    InvestigateStart,
    /// Poll the analyses; record their outputs.
    InvestigateCheck,
    /// Terminate the workstation and delete the evidence volumes.
    InvestigateTeardown,
    /// Notify, annotate findings, write the report, close the case.
    Report,
    /// The Catch target: record the failure on the case and notify.
    RecordFailure,
    /// Undo a case's isolation from the recorded prior state.
    Release,
}

/// A step name that is not one of [`StepName::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown step {given:?}; known steps: {known}")]
pub struct UnknownStep {
    /// What was asked for (untrusted, printed escaped).
    pub given: String,
    /// The known names, comma-separated.
    pub known: String,
}

impl StepName {
    /// Every step, in the order a case meets them.
    pub const ALL: &'static [StepName] = &[
        StepName::Triage,
        StepName::CaptureMemory,
        StepName::CheckMemory,
        StepName::MapPods,
        StepName::CheckPodMap,
        StepName::Isolate,
        StepName::SnapshotDisks,
        StepName::CheckSnapshots,
        StepName::InvestigateStart,
        StepName::InvestigateCheck,
        StepName::InvestigateTeardown,
        StepName::Report,
        StepName::RecordFailure,
        StepName::Release,
    ];

    /// The kebab-case name (`capture-memory`).
    pub const fn as_str(self) -> &'static str {
        match self {
            StepName::Triage => "triage",
            StepName::CaptureMemory => "capture-memory",
            StepName::CheckMemory => "check-memory",
            StepName::MapPods => "map-pods",
            StepName::CheckPodMap => "check-pod-map",
            StepName::Isolate => "isolate",
            StepName::SnapshotDisks => "snapshot-disks",
            StepName::CheckSnapshots => "check-snapshots",
            StepName::InvestigateStart => "investigate-start",
            StepName::InvestigateCheck => "investigate-check",
            StepName::InvestigateTeardown => "investigate-teardown",
            StepName::Report => "report",
            StepName::RecordFailure => "record-failure",
            StepName::Release => "release",
        }
    }

    /// The state machines' placeholder for this step's function (`${CaptureMemoryFunctionArn}`
    /// without the `${}`): PascalCase of the name + `FunctionArn`.
    pub fn function_placeholder(self) -> String {
        let mut out = String::new();
        for part in self.as_str().split('-') {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
        out.push_str("FunctionArn");
        out
    }

    /// Every port operation the step may call: its function's IAM policy and RBAC role are built
    /// from this list.
    pub fn capabilities(self) -> &'static [&'static Capability] {
        match self {
            StepName::Triage => steps::triage::CAPABILITIES,
            StepName::CaptureMemory => steps::capture_memory::CAPABILITIES,
            StepName::CheckMemory => steps::check_memory::CAPABILITIES,
            StepName::MapPods => steps::map_pods::CAPABILITIES,
            StepName::CheckPodMap => steps::check_pod_map::CAPABILITIES,
            StepName::Isolate => steps::isolate::CAPABILITIES,
            StepName::SnapshotDisks => steps::snapshot_disks::CAPABILITIES,
            StepName::CheckSnapshots => steps::check_snapshots::CAPABILITIES,
            StepName::InvestigateStart => steps::investigate_start::CAPABILITIES,
            StepName::InvestigateCheck => steps::investigate_check::CAPABILITIES,
            StepName::InvestigateTeardown => steps::investigate_teardown::CAPABILITIES,
            StepName::Report => steps::report::CAPABILITIES,
            StepName::RecordFailure => steps::record_failure::CAPABILITIES,
            StepName::Release => steps::release::CAPABILITIES,
        }
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepName {
    type Err = UnknownStep;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepName::ALL
            .iter()
            .copied()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| UnknownStep {
                given: s.chars().take(80).collect(),
                known: StepName::ALL
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for name in StepName::ALL {
            assert_eq!(name.as_str().parse::<StepName>().unwrap(), *name);
        }
        let mut names: Vec<_> = StepName::ALL.iter().map(|n| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), StepName::ALL.len());
    }

    #[test]
    fn placeholders_are_pascal_case() {
        assert_eq!(
            StepName::CaptureMemory.function_placeholder(),
            "CaptureMemoryFunctionArn"
        );
        assert_eq!(StepName::Triage.function_placeholder(), "TriageFunctionArn");
        assert_eq!(
            StepName::InvestigateTeardown.function_placeholder(),
            "InvestigateTeardownFunctionArn"
        );
    }

    #[test]
    fn unknown_names_are_refused_with_the_list() {
        let err = "capture-memory; rm -rf /".parse::<StepName>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"capture-memory; rm -rf /\""), "{text}");
        assert!(text.contains("release"), "{text}");
    }

    #[test]
    fn every_step_declares_capabilities() {
        for name in StepName::ALL {
            assert!(!name.capabilities().is_empty(), "{name} declares nothing");
        }
    }
}
