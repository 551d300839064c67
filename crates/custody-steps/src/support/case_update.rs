//! Load → mutate → save with optimistic concurrency, re-applied on a lost race.
//!
//! Memory and disk branches of one case run in parallel, so two steps may save the same case at
//! once. The store refuses a save whose expected version is stale (`Custody.StaleCase`); the
//! helper then reloads and re-applies the same pure mutation, a bounded number of times. Only when
//! every attempt lost does the step fail with `Custody.StaleCase`, which the state machine retries.

use custody_core::case::{Case, CaseStatus};
use custody_core::error::ErrorName;
use custody_core::error::StepError;
use custody_core::id::{CaseId, Timestamp};

use crate::ports::CaseStore;

/// How many times a lost race is re-applied before giving up.
const ATTEMPTS: usize = 5;

/// Loads a case, failing with `Custody.NotFound` when it does not exist.
pub(crate) async fn load(cases: &dyn CaseStore, id: &CaseId) -> Result<Case, StepError> {
    cases.load(id).await?.ok_or_else(|| {
        StepError::new(
            ErrorName::NotFound,
            format!("case {id} does not exist in the case store"),
        )
    })
}

/// Applies `mutate` to the stored case and saves it, re-applying on `Custody.StaleCase`.
///
/// `mutate` must be a pure function of the case (it may run several times). When it leaves the
/// case unchanged, nothing is saved, so a step re-run with the same input writes nothing. Returns
/// the saved case and what `mutate` returned on the attempt that won.
pub(crate) async fn update<T>(
    cases: &dyn CaseStore,
    id: &CaseId,
    mut mutate: impl FnMut(&mut Case) -> Result<T, StepError>,
) -> Result<(Case, T), StepError> {
    let mut last_conflict = None;
    for _ in 0..ATTEMPTS {
        let original = load(cases, id).await?;
        let mut case = original.clone();
        let out = mutate(&mut case)?;
        if case == original {
            return Ok((case, out));
        }
        match cases.save(&case, original.version).await {
            Ok(version) => {
                case.version = version;
                return Ok((case, out));
            }
            Err(err) if err.name == ErrorName::StaleCase => {
                tracing::debug!(case = %id, "case changed underneath; re-applying");
                last_conflict = Some(err);
            }
            Err(err) => return Err(err),
        }
    }
    Err(last_conflict.unwrap_or_else(|| {
        StepError::new(
            ErrorName::StaleCase,
            format!("case {id} kept changing while saving"),
        )
    }))
}

/// Moves an in-progress case into a later phase (`Acquiring`, `Investigating`) when it is not
/// there yet; any other status is left alone (phases are informative, `close` ends the run).
pub(crate) fn enter_phase(
    case: &mut Case,
    phase: CaseStatus,
    at: Timestamp,
) -> Result<(), StepError> {
    if case.status != phase && case.status.in_progress() && case.status.can_transition(phase) {
        case.transition(phase, at)?;
    }
    Ok(())
}
