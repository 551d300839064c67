//! SNS: responder notifications.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use custody_core::error::StepError;
use custody_steps::ports::{Notification, Notifier};

use crate::error::sdk_error;

/// SNS's limit on a message, in bytes.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// SNS's limit on a subject, in characters.
const MAX_SUBJECT_CHARS: usize = 100;

/// The forensic account's notification topic.
#[derive(Debug, Clone)]
pub struct Sns {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Sns {
    /// Publishes to `topic_arn` through a client built by this crate.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

/// A subject SNS accepts: printable ASCII on one line, at most 100 characters. Anything else
/// (a pod name from the attacker's cluster with a newline in it) is replaced, never rejected:
/// a notification must go out.
fn subject(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(MAX_SUBJECT_CHARS)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "custody notification".to_owned()
    } else {
        clean.to_owned()
    }
}

/// The message body: per protocol, readable text for e-mail and the structured case for
/// machines (SQS, Lambda, HTTPS), in SNS's `MessageStructure=json` form. When the structured
/// payload would exceed SNS's limit, machines get the text and a marker instead of a failure.
fn body(notification: &Notification) -> Result<String, serde_json::Error> {
    let machine = serde_json::to_string(&notification.json)?;
    let structured = |machine: &str| {
        serde_json::to_string(&serde_json::json!({
            "default": machine,
            "email": notification.text,
        }))
    };
    let full = structured(&machine)?;
    if full.len() <= MAX_MESSAGE_BYTES {
        return Ok(full);
    }
    let text: String = notification.text.chars().take(100_000).collect();
    let small = serde_json::to_string(&serde_json::json!({
        "caseId": notification.case_id,
        "truncated": true,
        "reason": "the structured case exceeded SNS's 256 KiB message limit; read the case record",
        "text": text,
    }))?;
    let structured_small =
        serde_json::to_string(&serde_json::json!({ "default": small, "email": text }))?;
    Ok(structured_small)
}

#[async_trait]
impl Notifier for Sns {
    async fn publish(&self, notification: &Notification) -> Result<String, StepError> {
        let context = format!("sns:Publish for {}", notification.case_id);
        let message = body(notification).map_err(|e| {
            crate::error::invalid(format!("{context}: the payload does not serialise: {e}"))
        })?;
        let case_attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(notification.case_id.as_str())
            .build()
            .map_err(|e| crate::error::invalid(format!("{context}: {e}")))?;
        let out = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject(&notification.subject))
            .message_structure("json")
            .message(message)
            .message_attributes("caseId", case_attribute)
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        out.message_id()
            .map(str::to_owned)
            .ok_or_else(|| crate::error::missing(&context, "message id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_made_acceptable() {
        assert_eq!(
            subject("Case case-1: pod \"x\nrm\" isolated"),
            "Case case-1: pod \"x?rm\" isolated"
        );
        assert_eq!(subject("é"), "?");
        assert_eq!(subject("  "), "custody notification");
        assert_eq!(subject(&"a".repeat(300)).len(), 100);
    }
}
