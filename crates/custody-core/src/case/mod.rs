//! The case record: the chain of custody.
//!
//! One record per case holds what was asked, what triage found and decided, every item of
//! evidence with its digest, every containment action with the state it replaced, and a
//! timeline of who did what when. Its methods are pure and idempotent by id, because every step
//! that changes it may be retried: recording the same thing twice is a no-op, recording a
//! different thing under the same id is an error (something changed behind custody's back).

mod action;
mod evidence;
mod timeline;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use action::{Action, ActionKind, ActionStatus, Actor, PriorState};
pub use evidence::{DigestSource, Evidence, EvidenceKind};
pub use timeline::{Failure, TimelineEvent};

use crate::error::StepError;
use crate::id::{CaseId, Timestamp};
use crate::inventory::Inventory;
use crate::plan::Plan;
use crate::trigger::CaseRequest;

/// Where a case is in its lifecycle.
///
/// `Triaged → Acquiring → Investigating → Reporting → Completed`; `Acquiring → Reporting` when
/// there is nothing to investigate; `Triaged → Skipped` when nothing is eligible; any → `Failed`;
/// any but `Skipped` → `Released` once a person has undone its containment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CaseStatus {
    /// Opened and planned.
    Triaged,
    /// Evidence being acquired (and the subject isolated, if asked).
    Acquiring,
    /// Evidence being analysed on the workstation.
    Investigating,
    /// The report being written and sent.
    Reporting,
    /// Done.
    Completed,
    /// A step failed; the failure is recorded.
    Failed,
    /// Nothing was eligible (everything refused); the refusals say why.
    Skipped,
    /// Containment undone by a person.
    Released,
}

impl CaseStatus {
    /// Every status.
    pub const ALL: [CaseStatus; 8] = [
        CaseStatus::Triaged,
        CaseStatus::Acquiring,
        CaseStatus::Investigating,
        CaseStatus::Reporting,
        CaseStatus::Completed,
        CaseStatus::Failed,
        CaseStatus::Skipped,
        CaseStatus::Released,
    ];

    /// The status's name as stored (`triaged`, `completed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Triaged => "triaged",
            CaseStatus::Acquiring => "acquiring",
            CaseStatus::Investigating => "investigating",
            CaseStatus::Reporting => "reporting",
            CaseStatus::Completed => "completed",
            CaseStatus::Failed => "failed",
            CaseStatus::Skipped => "skipped",
            CaseStatus::Released => "released",
        }
    }

    /// Whether the case is still being worked by the state machine.
    pub fn in_progress(self) -> bool {
        matches!(
            self,
            CaseStatus::Triaged
                | CaseStatus::Acquiring
                | CaseStatus::Investigating
                | CaseStatus::Reporting
        )
    }

    /// Whether `self → to` is a legal lifecycle step (a status to itself is not a step).
    pub fn can_transition(self, to: CaseStatus) -> bool {
        use CaseStatus as S;
        match (self, to) {
            (_, S::Failed) => true,
            (S::Skipped, S::Released) => false,
            (_, S::Released) => true,
            (S::Triaged, S::Acquiring | S::Skipped)
            | (S::Acquiring, S::Investigating | S::Reporting)
            | (S::Investigating, S::Reporting)
            | (S::Reporting, S::Completed) => true,
            _ => false,
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A case: the complete record of one incident response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    /// The case id (deterministic per execution).
    pub id: CaseId,
    /// The optimistic-lock version the case store last saved (0 before the first save). The
    /// store, not these methods, advances it.
    pub version: u64,
    /// Where the case is.
    pub status: CaseStatus,
    /// When triage opened it.
    pub opened_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// The Step Functions execution working it.
    pub execution_id: String,
    /// What was asked.
    pub request: CaseRequest,
    /// What triage resolved.
    #[serde(default)]
    pub inventory: Inventory,
    /// What triage decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Evidence taken, in order.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Containment actions, in order.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Everything that happened, in order.
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
    /// The failure, if a step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// A stored case record could not be read.
#[derive(Debug, thiserror::Error)]
#[error("case record is invalid at {path}")]
pub struct CaseDecodeError {
    /// The JSON path of the bad field.
    pub path: String,
    /// What serde reported.
    #[source]
    pub source: serde_json::Error,
}

impl From<CaseDecodeError> for StepError {
    fn from(err: CaseDecodeError) -> Self {
        StepError::internal(format!("{err}: {}", err.source))
    }
}

const TRIAGE: &str = "triage";

impl Case {
    /// Opens a case from triage's result. Status `Triaged`, version 0, one timeline event
    /// naming the subject and who asked.
    pub fn open(
        id: CaseId,
        execution_id: String,
        request: CaseRequest,
        inventory: Inventory,
        plan: Plan,
        at: Timestamp,
    ) -> Self {
        let message = format!(
            "case opened for {} at the request of {}{}; {} memory, {} disk, {} isolation target(s), {} refusal(s)",
            request.target,
            request.requested_by,
            request
                .reason
                .as_ref()
                .map(|r| format!(" ({r:?})"))
                .unwrap_or_default(),
            plan.memory.len(),
            plan.disk.len(),
            plan.isolation.len(),
            plan.refusals.len(),
        );
        Self {
            id,
            version: 0,
            status: CaseStatus::Triaged,
            opened_at: at,
            updated_at: at,
            execution_id,
            request,
            inventory,
            plan: Some(plan),
            evidence: Vec::new(),
            actions: Vec::new(),
            timeline: vec![TimelineEvent {
                at,
                actor: Actor::Automation {
                    step: TRIAGE.to_owned(),
                },
                kind: "opened".to_owned(),
                message,
            }],
            failure: None,
        }
    }

    /// Reads a stored record, naming the JSON path of the first bad field.
    ///
    /// # Errors
    /// [`CaseDecodeError`] if the bytes are not a valid case (including any identifier that no
    /// longer validates: a tampered record is refused, not trusted).
    pub fn from_json(bytes: &[u8]) -> Result<Self, CaseDecodeError> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de).map_err(|e| CaseDecodeError {
            path: format!("$.{}", e.path()),
            source: e.into_inner(),
        })
    }

    fn touch(&mut self, at: Timestamp) {
        if at > self.updated_at {
            self.updated_at = at;
        }
    }

    fn push(&mut self, at: Timestamp, actor: Actor, kind: &str, message: String) {
        self.timeline.push(TimelineEvent {
            at,
            actor,
            kind: kind.to_owned(),
            message,
        });
        self.touch(at);
    }

    /// Adds a timeline note from a step.
    pub fn note(&mut self, step: &str, kind: &str, message: &str, at: Timestamp) {
        self.push(
            at,
            Actor::Automation {
                step: step.to_owned(),
            },
            kind,
            message.to_owned(),
        );
    }

    /// Adds a timeline event from any actor (e.g. a person's release request).
    pub fn record_event(&mut self, actor: Actor, kind: &str, message: &str, at: Timestamp) {
        self.push(at, actor, kind, message.to_owned());
    }

    /// Records an item of evidence.
    ///
    /// # Idempotency
    /// Same id and same content: no-op. Same id, different content: error.
    ///
    /// # Errors
    /// `Custody.EvidenceMismatch` if an item with this id is already recorded with different
    /// content (a re-acquisition that does not match must never silently replace the record).
    pub fn add_evidence(&mut self, evidence: Evidence) -> Result<(), StepError> {
        if let Some(existing) = self.evidence.iter().find(|e| e.id == evidence.id) {
            if existing == &evidence {
                return Ok(());
            }
            return Err(StepError::evidence_mismatch(format!(
                "case {}: evidence {:?} is already recorded with different content (recorded sha256 {}, new {}; recorded at {:?}, new at {:?})",
                self.id,
                evidence.id,
                existing.sha256.as_ref().map_or("none", |s| s.as_str()),
                evidence.sha256.as_ref().map_or("none", |s| s.as_str()),
                existing.location,
                evidence.location,
            )));
        }
        let message = format!(
            "{:?} evidence {:?} of {:?} stored at {:?}{}",
            evidence.kind,
            evidence.id,
            evidence.resource,
            evidence.location,
            evidence
                .sha256
                .as_ref()
                .map(|s| match evidence.digest_source {
                    Some(source) => format!(" (sha256 {s}, {})", source.describe()),
                    None => format!(" (sha256 {s})"),
                })
                .unwrap_or_default(),
        );
        let at = evidence.taken_at;
        let actor = Actor::Automation {
            step: evidence.taken_by.clone(),
        };
        self.evidence.push(evidence);
        self.push(at, actor, "evidence", message);
        Ok(())
    }

    /// Records a containment action (normally `Applied`, before it is applied, with the state
    /// it will replace).
    ///
    /// # Idempotency
    /// Same id and same content: no-op.
    ///
    /// # Errors
    /// `Custody.Conflict` if an action with this id is recorded with different content (its
    /// prior state must never be overwritten: release depends on it); `Custody.Internal` if the
    /// prior state belongs to a different kind of action.
    pub fn record_action(&mut self, action: Action) -> Result<(), StepError> {
        if action.prior.action_kind() != action.kind {
            return Err(StepError::internal(format!(
                "case {}: action {:?} of kind {:?} carries the prior state of {:?}",
                self.id,
                action.id,
                action.kind,
                action.prior.action_kind()
            )));
        }
        if let Some(existing) = self.actions.iter().find(|a| a.id == action.id) {
            if existing == &action {
                return Ok(());
            }
            return Err(StepError::conflict(format!(
                "case {}: action {:?} is already recorded with different content; its prior state is kept",
                self.id, action.id
            )));
        }
        let message = format!(
            "{:?} on {:?} {:?}{}",
            action.kind,
            action.target,
            action.status,
            action
                .detail
                .as_ref()
                .map(|d| format!(": {d:?}"))
                .unwrap_or_default()
        );
        let (at, actor) = (action.applied_at, action.by.clone());
        self.actions.push(action);
        self.push(at, actor, "action", message);
        Ok(())
    }

    /// Changes an action's status (e.g. to `Failed` with the reason).
    ///
    /// # Idempotency
    /// Same status and detail: no-op.
    ///
    /// # Errors
    /// `Custody.NotFound` if no action has this id; `Custody.Conflict` if the action was
    /// released (a released action is final).
    pub fn set_action_status(
        &mut self,
        id: &str,
        status: ActionStatus,
        detail: Option<String>,
        at: Timestamp,
    ) -> Result<(), StepError> {
        let case = self.id.clone();
        let Some(action) = self.actions.iter_mut().find(|a| a.id == id) else {
            return Err(StepError::not_found(format!(
                "case {case}: no action {id:?} is recorded"
            )));
        };
        if action.status == status && action.detail == detail {
            return Ok(());
        }
        if action.status == ActionStatus::Released {
            return Err(StepError::conflict(format!(
                "case {case}: action {id:?} is released; its status cannot become {status:?}"
            )));
        }
        action.status = status;
        action.detail = detail.clone();
        let message = format!(
            "action {id:?} is now {status:?}{}",
            detail.map(|d| format!(": {d:?}")).unwrap_or_default()
        );
        let actor = action.by.clone();
        self.push(at, actor, "action", message);
        Ok(())
    }

    /// Marks an action released (undone) by `actor`.
    ///
    /// # Idempotency
    /// Already released: no-op.
    ///
    /// # Errors
    /// `Custody.NotFound` if no action has this id.
    pub fn release_action(
        &mut self,
        id: &str,
        actor: Actor,
        detail: String,
        at: Timestamp,
    ) -> Result<(), StepError> {
        let case = self.id.clone();
        let Some(action) = self.actions.iter_mut().find(|a| a.id == id) else {
            return Err(StepError::not_found(format!(
                "case {case}: no action {id:?} is recorded"
            )));
        };
        if action.status == ActionStatus::Released {
            return Ok(());
        }
        action.status = ActionStatus::Released;
        let message = format!(
            "action {id:?} ({:?} on {:?}) released: {detail:?}",
            action.kind, action.target
        );
        action.detail = Some(detail);
        self.push(at, actor, "release", message);
        Ok(())
    }

    /// Moves the case along its lifecycle (see [`CaseStatus`]).
    ///
    /// # Idempotency
    /// Moving to the current status is a no-op.
    ///
    /// # Errors
    /// `Custody.Conflict` for an illegal transition (e.g. `Completed → Acquiring`).
    pub fn transition(&mut self, to: CaseStatus, at: Timestamp) -> Result<(), StepError> {
        if self.status == to {
            return Ok(());
        }
        if !self.status.can_transition(to) {
            return Err(StepError::conflict(format!(
                "case {} cannot go from {} to {}",
                self.id, self.status, to
            )));
        }
        self.set_status(to, at);
        Ok(())
    }

    fn set_status(&mut self, to: CaseStatus, at: Timestamp) {
        let message = format!("status {} -> {}", self.status, to);
        self.status = to;
        self.push(
            at,
            Actor::Automation {
                step: "lifecycle".to_owned(),
            },
            "status",
            message,
        );
    }

    /// Ends the case's run: `Completed` from any in-progress status (the state machine need not
    /// report every phase), or `Skipped` from `Triaged`.
    ///
    /// # Idempotency
    /// Closing to the current status is a no-op.
    ///
    /// # Errors
    /// `Custody.Conflict` if `to` is not `Completed` or `Skipped`, or the case is not in a
    /// status it can close from.
    pub fn close(&mut self, to: CaseStatus, at: Timestamp) -> Result<(), StepError> {
        if self.status == to {
            return Ok(());
        }
        let legal = match to {
            CaseStatus::Completed => self.status.in_progress(),
            CaseStatus::Skipped => self.status == CaseStatus::Triaged,
            _ => false,
        };
        if !legal {
            return Err(StepError::conflict(format!(
                "case {} cannot close as {} from {}",
                self.id, to, self.status
            )));
        }
        self.set_status(to, at);
        Ok(())
    }

    /// Records a step's failure (the latest one wins) and adds it to the timeline. Does not
    /// change the status: the caller decides whether the case fails.
    pub fn record_failure(&mut self, step: &str, err: &StepError, at: Timestamp) {
        let message = format!("{step} failed: {err}");
        self.failure = Some(Failure {
            step: step.to_owned(),
            error: err.clone(),
            at,
        });
        self.push(
            at,
            Actor::Automation {
                step: step.to_owned(),
            },
            "failure",
            message,
        );
    }
}

#[cfg(test)]
mod tests;
