//! [`FindingsHub`]: updates are recorded; findings Security Hub does not know are an error.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::trigger::FindingRef;
use custody_steps::ports::ops::findings as ops;
use custody_steps::ports::{FindingsHub, WorkflowStatus};

use super::SimAccount;
use crate::errs;
use crate::model::Annotation;

/// Security Hub's note length limit.
const MAX_NOTE_CHARS: usize = 512;

#[async_trait]
impl FindingsHub for SimAccount {
    async fn annotate(
        &self,
        findings: &[FindingRef],
        note: &str,
        status: WorkflowStatus,
    ) -> Result<(), StepError> {
        // Security Hub names a finding by its ASFF id; GuardDuty's own id when that is all there is.
        let ids: Vec<String> = findings
            .iter()
            .map(|f| f.asff_id.clone().unwrap_or_else(|| f.id.clone()))
            .collect();
        self.call(&ops::ANNOTATE, ids.clone(), |cx| {
            if note.chars().count() > MAX_NOTE_CHARS {
                return Err(errs::invalid(
                    "InvalidInputException",
                    "a note is at most 512 characters",
                ));
            }
            if let Some(known) = &cx.st.security_hub_findings {
                let unknown: Vec<&String> = ids.iter().filter(|id| !known.contains(id)).collect();
                if !unknown.is_empty() {
                    return Err(errs::not_found(
                        "UnprocessedFindings",
                        format!("Security Hub does not know findings {unknown:?}"),
                    ));
                }
            }
            cx.st.runtime.annotations.push(Annotation {
                at: cx.now,
                findings: findings.to_vec(),
                note: note.to_string(),
                status,
            });
            Ok(())
        })
    }
}
