//! [`CaseStore`] in memory, with versions and the append-only timeline enforced.

use async_trait::async_trait;
use custody_core::case::{Case, CaseStatus};
use custody_core::error::StepError;
use custody_core::id::CaseId;
use custody_steps::ports::ops::cases as ops;
use custody_steps::ports::{CaseStore, CaseSummary, CreateOutcome};

use super::SimAccount;
use crate::errs;
use crate::model::runtime::case_key;

#[async_trait]
impl CaseStore for SimAccount {
    async fn create(&self, case: &Case) -> Result<CreateOutcome, StepError> {
        self.call(&ops::CREATE, vec![case.id.to_string()], |cx| {
            let key = case_key(&case.id);
            if let Some(existing) = cx.st.runtime.cases.get(&key) {
                return Ok(CreateOutcome::AlreadyExists(Box::new(existing.clone())));
            }
            cx.st.runtime.cases.insert(key, case.clone());
            Ok(CreateOutcome::Created)
        })
    }

    async fn load(&self, id: &CaseId) -> Result<Option<Case>, StepError> {
        self.call(&ops::LOAD, vec![id.to_string()], |cx| {
            Ok(cx.st.runtime.cases.get(&case_key(id)).cloned())
        })
    }

    async fn save(&self, case: &Case, expected_version: u64) -> Result<u64, StepError> {
        self.call(&ops::SAVE, vec![case.id.to_string()], |cx| {
            let key = case_key(&case.id);
            let stored = cx.st.runtime.cases.get(&key).ok_or_else(|| {
                errs::not_found(
                    "ResourceNotFoundException",
                    format!("case {} does not exist", case.id),
                )
            })?;
            if stored.version != expected_version {
                return Err(errs::stale(format!(
                    "case {} is at version {}, not {expected_version}: reload and re-apply",
                    case.id, stored.version
                )));
            }
            let kept = stored.timeline.len();
            if case.timeline.len() < kept || case.timeline.get(..kept) != Some(&stored.timeline[..])
            {
                return Err(errs::conflict(
                    "TimelineRewrite",
                    format!(
                        "saving case {} would drop or rewrite timeline entries",
                        case.id
                    ),
                ));
            }
            let mut next = case.clone();
            next.version = expected_version + 1;
            cx.st.runtime.cases.insert(key, next);
            Ok(expected_version + 1)
        })
    }

    async fn list(&self, status: Option<CaseStatus>) -> Result<Vec<CaseSummary>, StepError> {
        self.call(&ops::LIST, vec!["cases".to_string()], |cx| {
            let mut out: Vec<CaseSummary> = cx
                .st
                .runtime
                .cases
                .values()
                .filter(|c| status.is_none_or(|s| c.status == s))
                .map(|c| CaseSummary {
                    case_id: c.id.clone(),
                    status: c.status,
                    opened_at: c.opened_at,
                    subject: super::facts::case_subject(c),
                })
                .collect();
            out.sort_by(|a, b| {
                b.opened_at
                    .cmp(&a.opened_at)
                    .then_with(|| b.case_id.cmp(&a.case_id))
            });
            Ok(out)
        })
    }
}
