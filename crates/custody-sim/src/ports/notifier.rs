//! [`Notifier`]: messages are recorded for assertions (`world.inspect(|s| s.runtime.notifications…)`).

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_steps::ports::ops::notifier as ops;
use custody_steps::ports::{Notification, Notifier};

use super::SimAccount;
use crate::errs;
use crate::model::PublishedNotification;

/// SNS's message size limit.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[async_trait]
impl Notifier for SimAccount {
    async fn publish(&self, notification: &Notification) -> Result<String, StepError> {
        self.call(
            &ops::PUBLISH,
            vec![notification.case_id.to_string()],
            |cx| {
                if notification.subject.chars().count() > 100
                    || notification.subject.chars().any(char::is_control)
                    || notification.subject.is_empty()
                {
                    return Err(errs::invalid(
                        "InvalidParameter",
                        "Subject must be 1-100 printable characters with no line breaks",
                    ));
                }
                let size = notification.text.len() + notification.json.to_string().len();
                if size > MAX_MESSAGE_BYTES {
                    return Err(errs::invalid(
                        "InvalidParameter",
                        format!("message of {size} bytes exceeds 256 KiB"),
                    ));
                }
                let h = cx.fresh_hex("sns", 32);
                let message_id = format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..32]
                );
                cx.st.runtime.notifications.push(PublishedNotification {
                    message_id: message_id.clone(),
                    at: cx.now,
                    notification: notification.clone(),
                });
                Ok(message_id)
            },
        )
    }
}
