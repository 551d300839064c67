//! The timeline: every event in a case, in order, with who did it.

use serde::{Deserialize, Serialize};

use super::Actor;
use crate::error::StepError;
use crate::id::Timestamp;

/// One event in a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEvent {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// A short machine-readable kind (`opened`, `status`, `evidence`, `action`, `failure`, or
    /// the note kind a step gives).
    pub kind: String,
    /// What happened, for people. Untrusted names in it are quoted with `{:?}`.
    pub message: String,
}

/// The failure that ended (or interrupted) a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The step or state that failed.
    pub step: String,
    /// The error it reported.
    pub error: StepError,
    /// When it was recorded.
    pub at: Timestamp,
}
