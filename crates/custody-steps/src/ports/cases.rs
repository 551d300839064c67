//! The case store: the record of a case, its timeline, evidence and actions.

use async_trait::async_trait;
use custody_core::case::{Case, CaseStatus};
use custody_core::error::StepError;
use custody_core::id::{CaseId, Timestamp};
use serde::{Deserialize, Serialize};

/// What [`CaseStore::create`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    /// The case was written.
    Created,
    /// A case with this id already exists (a retried triage): here it is, unchanged.
    AlreadyExists(Box<Case>),
}

/// One line of a case listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseSummary {
    /// The case.
    pub case_id: CaseId,
    /// Its status.
    pub status: CaseStatus,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// A short description of the subject.
    pub subject: String,
}

/// Durable case records with optimistic concurrency.
///
/// # Contract
/// `save` succeeds only if the stored version equals `expected_version`; it then stores the case
/// with `version = expected_version + 1` and returns that. Otherwise it fails with
/// `Custody.StaleCase` (transient: the caller reloads and re-applies its change). Timeline entries
/// are append-only: an implementation never drops or rewrites an entry it already holds.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Writes a new case if no case has its id.
    async fn create(&self, case: &Case) -> Result<CreateOutcome, StepError>;

    /// Loads a case.
    async fn load(&self, id: &CaseId) -> Result<Option<Case>, StepError>;

    /// Saves a changed case if nobody else saved since `expected_version`.
    async fn save(&self, case: &Case, expected_version: u64) -> Result<u64, StepError>;

    /// Cases, newest first, optionally only those with a status.
    async fn list(&self, status: Option<CaseStatus>) -> Result<Vec<CaseSummary>, StepError>;
}

/// Capabilities of [`CaseStore`].
pub mod ops {
    use crate::capability::{Capability, PortName::CaseStore as P};

    /// [`super::CaseStore::create`]
    /// (Query: a case that already exists is read back and returned.)
    /// (IAM authorises each Put inside a TransactWriteItems as `dynamodb:PutItem`: the adapter
    /// writes only Puts, conditioned on the version, so neither UpdateItem nor DeleteItem.)
    pub const CREATE: Capability = Capability::mutate(
        P,
        "create",
        &[
            "dynamodb:TransactWriteItems",
            "dynamodb:PutItem",
            "dynamodb:Query",
        ],
    );
    /// [`super::CaseStore::load`]
    pub const LOAD: Capability = Capability::read(P, "load", &["dynamodb:Query"]);
    /// [`super::CaseStore::save`]
    pub const SAVE: Capability = Capability::mutate(
        P,
        "save",
        &[
            "dynamodb:TransactWriteItems",
            "dynamodb:PutItem",
            // The stored collection is read to write only what is new (append-only check).
            "dynamodb:Query",
        ],
    );
    /// [`super::CaseStore::list`]
    pub const LIST: Capability = Capability::read(P, "list", &["dynamodb:Query"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[&CREATE, &LOAD, &SAVE, &LIST];
}
