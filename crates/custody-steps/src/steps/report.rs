//! `report`: Markdown report, SNS, Security Hub; the case is closed (Completed or Skipped).

use custody_core::case::{Case, CaseStatus};
use custody_core::error::StepError;
use custody_core::id::Sha256Digest;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, evidence, findings, notifier};
use crate::ports::{Environment, WorkflowStatus};
use crate::steps::investigate_start::CaseInput;
use crate::steps::{notify, report_markdown};
use crate::support::{case_update, failure, keys};

const STEP: StepName = StepName::Report;

/// Every port operation report may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &evidence::PUT_OBJECT,
    &notifier::PUBLISH,
    &findings::ANNOTATE,
];

/// Output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportOutput {
    /// `completed` or `skipped`.
    pub status: String,
    /// `s3://…/cases/<case>/report.md`.
    pub report_location: String,
    /// SHA-256 of the report.
    pub report_sha256: Sha256Digest,
}

/// Writes the report, annotates the findings, notifies, and closes the case.
///
/// # Idempotency
/// A case already Completed or Skipped is not notified or annotated again; the report is rewritten
/// from the record (same content, a new object version) and its location returned.
///
/// # Guardrail
/// Touches no subject resource. Also handles the "nothing eligible" path: the case becomes
/// Skipped and the notification says why (every refusal with its reason).
///
/// # Errors
/// Port errors (the evidence bucket, the topic, Security Hub: a finding it does not know is an
/// error, not ignored).
///
/// # Caveats
/// The Security Hub workflow status is set to NOTIFIED, not RESOLVED: closing the finding is a
/// human decision after reading the report.
pub async fn report(input: CaseInput, env: &dyn Environment) -> Result<ReportOutput, StepError> {
    let span = tracing::info_span!("report", case = %input.case_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

fn eligible(case: &Case) -> bool {
    case.plan.as_ref().is_some_and(|p| p.eligible())
}

async fn body(input: &CaseInput, env: &dyn Environment) -> Result<ReportOutput, StepError> {
    let case_id = &input.case_id;
    let cases = env.forensic().cases.clone();
    let mut case = case_update::load(cases.as_ref(), case_id).await?;
    let target_status = if eligible(&case) {
        CaseStatus::Completed
    } else {
        CaseStatus::Skipped
    };
    let already_closed = case.status == target_status;
    if !already_closed {
        let now = env.clock().now();
        let refusals = refusals_text(&case);
        let (saved, ()) = case_update::update(cases.as_ref(), case_id, |c| {
            if target_status == CaseStatus::Skipped {
                c.note(
                    STEP.as_str(),
                    "skipped",
                    &format!("nothing eligible: {refusals}"),
                    now,
                );
            }
            c.close(target_status, now)
        })
        .await?;
        case = saved;
    }
    let markdown = report_markdown::render(&case);
    let stored = env
        .forensic()
        .evidence
        .put_object(&keys::report(case_id), markdown.as_bytes(), "text/markdown")
        .await?;
    let sha = stored
        .sha256
        .clone()
        .unwrap_or_else(|| Sha256Digest::of(markdown.as_bytes()));
    let status = if target_status == CaseStatus::Completed {
        "completed"
    } else {
        "skipped"
    };
    let out = ReportOutput {
        status: status.to_owned(),
        report_location: stored.location.clone(),
        report_sha256: sha,
    };
    if already_closed {
        return Ok(out);
    }
    if !case.request.findings.is_empty() {
        let note = format!(
            "custody case {case_id} {status}: {} evidence item(s), {} action(s); report {}",
            case.evidence.len(),
            case.actions.len(),
            stored.location
        );
        env.forensic()
            .findings
            .annotate(&case.request.findings, &note, WorkflowStatus::Notified)
            .await?;
    }
    let subject = format!("custody {case_id}: {status}");
    let text = summary_text(&case, &out);
    let json = serde_json::json!({
        "caseId": case_id,
        "status": status,
        "report": {"location": out.report_location, "sha256": out.report_sha256},
        "case": case,
    });
    notify::publish(env, case_id, &subject, &text, json).await?;
    let now = env.clock().now();
    let message = format!(
        "report written to {} (sha256 {})",
        out.report_location, out.report_sha256
    );
    case_update::update(cases.as_ref(), case_id, |c| {
        c.note(STEP.as_str(), "report", &message, now);
        Ok(())
    })
    .await?;
    Ok(out)
}

fn refusals_text(case: &Case) -> String {
    match &case.plan {
        Some(plan) if !plan.refusals.is_empty() => plan
            .refusals
            .iter()
            .map(|r| format!("{:?}: {}", r.resource, r.reason))
            .collect::<Vec<_>>()
            .join("; "),
        _ => "the plan has no target".to_owned(),
    }
}

fn summary_text(case: &Case, out: &ReportOutput) -> String {
    let mut text = format!("Case {} is {}.\n", case.id, out.status);
    if out.status == "skipped" {
        text.push_str(&format!("Nothing was eligible: {}\n", refusals_text(case)));
    }
    text.push_str(&format!("Evidence ({}):\n", case.evidence.len()));
    for e in &case.evidence {
        text.push_str(&format!(
            "- {} {:?} at {} sha256 {}\n",
            e.id,
            e.kind,
            e.location,
            e.sha256
                .as_ref()
                .map_or_else(|| "n/a".to_owned(), ToString::to_string)
        ));
    }
    text.push_str(&format!("Actions ({}):\n", case.actions.len()));
    for a in &case.actions {
        text.push_str(&format!(
            "- {} {:?} on {:?}: {:?}\n",
            a.id, a.kind, a.target, a.status
        ));
    }
    text.push_str(&format!(
        "Report: {} (sha256 {})\n",
        out.report_location, out.report_sha256
    ));
    text
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CaseInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&report(input, env).await?)
}
