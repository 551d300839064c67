//! Applying a containment action so that the case always knows what it replaced.
//!
//! Order per action: (1) if the case already holds the action (an earlier attempt), reuse its
//! recorded prior state, never re-read it (the world now shows custody's own change, which must
//! not become the "prior" a release restores); otherwise read the prior state; (2) record the action
//! with that prior state BEFORE touching anything; (3) apply it (every port mutation is
//! idempotent, so re-applying after a crash is safe); (4) on failure mark the action Failed with the
//! error and carry on with the next action. The step fails at the end if any action failed.

use custody_core::case::{Action, ActionKind, ActionStatus, Actor, PriorState};
use custody_core::error::StepError;
use custody_core::id::CaseId;

use crate::name::StepName;
use crate::ports::Environment;
use crate::support::case_update;

/// What happened to the actions of one step run.
#[derive(Debug, Default)]
pub(crate) struct ActionLog {
    /// Ids of actions applied (or confirmed) in this run.
    pub applied: Vec<String>,
    /// `(action id, error)` of actions that failed.
    pub failed: Vec<(String, StepError)>,
}

impl ActionLog {
    /// Records a failure that happened before an action could even be recorded (reading its prior
    /// state failed).
    pub(crate) fn failed_before_record(&mut self, id: String, err: StepError) {
        self.failed.push((id, err));
    }
}

/// One action to apply.
pub(crate) struct Planned<'a> {
    /// Deterministic id (`label/<ns>/<pod>`).
    pub id: String,
    /// Kind.
    pub kind: ActionKind,
    /// What it acts on, for people.
    pub target: String,
    /// A short description of what is done.
    pub detail: Option<String>,
    /// The step applying it.
    pub step: StepName,
    /// The case.
    pub case: &'a CaseId,
}

/// Applies one action (see the module doc for the order). `read_prior` runs only when the case
/// does not hold the action yet; `apply` always runs.
pub(crate) async fn apply(
    env: &dyn Environment,
    log: &mut ActionLog,
    planned: Planned<'_>,
    read_prior: impl AsyncFnOnce() -> Result<PriorState, StepError>,
    apply: impl AsyncFnOnce(&PriorState) -> Result<(), StepError>,
) {
    let cases = env.forensic().cases.clone();
    let existing = match case_update::load(cases.as_ref(), planned.case).await {
        Ok(case) => case.actions.iter().find(|a| a.id == planned.id).cloned(),
        Err(err) => {
            log.failed_before_record(planned.id, err);
            return;
        }
    };
    let mut previously_failed = None;
    let prior = match existing {
        Some(action) if action.status == ActionStatus::Released => {
            tracing::info!(action = %planned.id, "already released; not re-applied");
            return;
        }
        Some(action) => {
            if action.status == ActionStatus::Failed {
                previously_failed = Some(planned.detail.clone());
            }
            action.prior
        }
        None => {
            let prior = match read_prior().await {
                Ok(prior) => prior,
                Err(err) => {
                    log.failed_before_record(planned.id, err);
                    return;
                }
            };
            let action = Action {
                id: planned.id.clone(),
                kind: planned.kind,
                target: planned.target.clone(),
                prior: prior.clone(),
                status: ActionStatus::Applied,
                applied_at: env.clock().now(),
                by: Actor::Automation {
                    step: planned.step.as_str().to_owned(),
                },
                detail: planned.detail.clone(),
            };
            if let Err(err) = case_update::update(cases.as_ref(), planned.case, |c| {
                c.record_action(action.clone())
            })
            .await
            {
                // Not recorded means not applied: nothing may change without its prior state on file.
                log.failed_before_record(planned.id, err);
                return;
            }
            prior
        }
    };
    match apply(&prior).await {
        Ok(()) => {
            // A retry that succeeds where an earlier attempt failed makes the action Applied again.
            if let Some(detail) = previously_failed {
                let at = env.clock().now();
                let marked = case_update::update(cases.as_ref(), planned.case, |c| {
                    c.set_action_status(&planned.id, ActionStatus::Applied, detail.clone(), at)
                })
                .await;
                if let Err(err) = marked {
                    log.failed.push((planned.id, err));
                    return;
                }
            }
            log.applied.push(planned.id);
        }
        Err(err) => {
            let at = env.clock().now();
            let detail = format!("{}: {}", err.name.as_str(), err.cause);
            let marked = case_update::update(cases.as_ref(), planned.case, |c| {
                c.set_action_status(&planned.id, ActionStatus::Failed, Some(detail.clone()), at)
            })
            .await;
            if let Err(store_err) = marked {
                tracing::error!(action = %planned.id, cause = %store_err.cause, "could not mark the action failed");
            }
            log.failed.push((planned.id, err));
        }
    }
}

/// Turns a log with failures into the step's error: `Custody.<Reason>` of the first failure, naming
/// every failed action. Never "ok with an error inside".
pub(crate) fn finish(log: &ActionLog, what: &str) -> Result<(), StepError> {
    let Some((_, first)) = log.failed.first() else {
        return Ok(());
    };
    let list = log
        .failed
        .iter()
        .map(|(id, err)| format!("{id} ({}: {})", err.name.as_str(), err.cause))
        .collect::<Vec<_>>()
        .join("; ");
    Err(StepError::new(
        first.name,
        format!(
            "{what}: {} of {} actions failed: {list}",
            log.failed.len(),
            log.failed.len() + log.applied.len()
        ),
    ))
}
