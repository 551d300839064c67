//! Security Hub: the finding that started the case gets a note and a workflow status.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::trigger::FindingRef;
use serde::{Deserialize, Serialize};

/// Security Hub workflow status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkflowStatus {
    /// Being worked on.
    Notified,
    /// Done.
    Resolved,
}

/// Security Hub findings.
#[async_trait]
pub trait FindingsHub: Send + Sync {
    /// Sets a note and a workflow status on each finding (findings Security Hub does not know are
    /// reported in the error, not ignored).
    async fn annotate(
        &self,
        findings: &[FindingRef],
        note: &str,
        status: WorkflowStatus,
    ) -> Result<(), StepError>;
}

/// Capabilities of [`FindingsHub`].
pub mod ops {
    use crate::capability::{Capability, PortName::FindingsHub as P};

    /// [`super::FindingsHub::annotate`]
    pub const ANNOTATE: Capability =
        Capability::mutate(P, "annotate", &["securityhub:BatchUpdateFindings"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[&ANNOTATE];
}
