//! Responder notifications.

use custody_core::error::StepError;
use custody_core::id::CaseId;

use crate::ports::{Environment, Notification};

/// Publishes a short notification about a case.
pub(crate) async fn send(
    env: &dyn Environment,
    case: &CaseId,
    subject: &str,
    text: &str,
) -> Result<String, StepError> {
    publish(
        env,
        case,
        subject,
        text,
        serde_json::json!({"caseId": case, "subject": subject, "message": text}),
    )
    .await
}

/// Publishes a notification with a structured payload.
pub(crate) async fn publish(
    env: &dyn Environment,
    case: &CaseId,
    subject: &str,
    text: &str,
    json: serde_json::Value,
) -> Result<String, StepError> {
    env.forensic()
        .notifier
        .publish(&Notification {
            case_id: case.clone(),
            subject: subject.to_owned(),
            text: text.to_owned(),
            json,
        })
        .await
}
