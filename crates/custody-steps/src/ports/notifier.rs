//! SNS notifications to the responders.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::CaseId;
use serde::{Deserialize, Serialize};

/// One message: a readable summary for e-mail and the structured case for machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The case it is about.
    pub case_id: CaseId,
    /// Subject line (SNS limits it to 100 characters; the adapter truncates on a char boundary).
    pub subject: String,
    /// Plain-text summary.
    pub text: String,
    /// The structured payload (the case summary, evidence, actions).
    pub json: serde_json::Value,
}

/// The notification topic.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Publishes; returns the message id.
    async fn publish(&self, notification: &Notification) -> Result<String, StepError>;
}

/// Capabilities of [`Notifier`].
pub mod ops {
    use crate::capability::{Capability, PortName::Notifier as P};

    /// [`super::Notifier::publish`]
    pub const PUBLISH: Capability = Capability::mutate(P, "publish", &["sns:Publish"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[&PUBLISH];
}
