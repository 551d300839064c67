//! Security Hub: the findings that started a case get a note and a workflow status.

use async_trait::async_trait;
use aws_sdk_securityhub::types::{
    AwsSecurityFindingIdentifier, NoteUpdate, WorkflowStatus as HubStatus, WorkflowUpdate,
};
use custody_core::error::{ErrorName, StepError};
use custody_core::trigger::FindingRef;
use custody_steps::ports::{FindingsHub, WorkflowStatus};

use crate::error::{sdk_error, step_error};

/// BatchUpdateFindings' most findings per call.
const FINDINGS_PER_CALL: usize = 100;
/// Security Hub's longest note.
const MAX_NOTE_CHARS: usize = 512;

/// Security Hub in the forensic account's region.
#[derive(Debug, Clone)]
pub struct SecurityHub {
    client: aws_sdk_securityhub::Client,
}

impl SecurityHub {
    /// Wraps a client built by this crate (with the recording interceptor).
    pub fn new(client: aws_sdk_securityhub::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl FindingsHub for SecurityHub {
    /// Findings that did not come through Security Hub (a GuardDuty finding posted straight
    /// from a SIEM carries no ASFF id or product ARN) cannot be addressed in Security Hub and are
    /// left alone, with a log line; every finding Security Hub refuses is reported in the error.
    ///
    /// # Caveats
    /// The call goes to this client's region: the Security Hub administrator account's
    /// aggregation region is where custom actions fire, so that is where custody runs.
    async fn annotate(
        &self,
        findings: &[FindingRef],
        note: &str,
        status: WorkflowStatus,
    ) -> Result<(), StepError> {
        let identifiers: Vec<AwsSecurityFindingIdentifier> = findings
            .iter()
            .filter_map(|f| match (&f.asff_id, &f.product_arn) {
                (Some(id), Some(product)) => {
                    Some(AwsSecurityFindingIdentifier::builder().id(id).product_arn(product).build())
                }
                _ => {
                    tracing::info!(finding = ?f.id, product = ?f.product, "not a Security Hub finding; not annotated");
                    None
                }
            })
            .collect();
        let text: String = note.chars().take(MAX_NOTE_CHARS).collect();
        let text = if text.trim().is_empty() {
            "custody".to_owned()
        } else {
            text
        };
        let workflow = match status {
            WorkflowStatus::Notified => HubStatus::Notified,
            WorkflowStatus::Resolved => HubStatus::Resolved,
        };
        let mut refused = Vec::new();
        for chunk in identifiers.chunks(FINDINGS_PER_CALL) {
            let context = format!(
                "securityhub:BatchUpdateFindings on {} finding(s)",
                chunk.len()
            );
            let note = NoteUpdate::builder()
                .text(&text)
                .updated_by("custody")
                .build();
            let out = self
                .client
                .batch_update_findings()
                .set_finding_identifiers(Some(chunk.to_vec()))
                .note(note)
                .workflow(WorkflowUpdate::builder().status(workflow.clone()).build())
                .send()
                .await
                .map_err(|e| sdk_error(&context, e))?;
            for unprocessed in out.unprocessed_findings() {
                refused.push(format!(
                    "{:?}: {} ({:?})",
                    unprocessed
                        .finding_identifier()
                        .and_then(|i| i.id())
                        .unwrap_or_default(),
                    unprocessed.error_code().unwrap_or("no code"),
                    unprocessed.error_message().unwrap_or_default(),
                ));
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        let not_found = refused.iter().any(|r| r.contains("NotFound"));
        Err(step_error(
            if not_found {
                ErrorName::NotFound
            } else {
                ErrorName::InvalidInput
            },
            format!(
                "Security Hub did not update {} finding(s): {}",
                refused.len(),
                refused.join("; ")
            ),
            None,
            None,
        ))
    }
}
