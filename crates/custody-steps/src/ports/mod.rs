//! Capability ports: the narrow traits through which steps touch the world.
//!
//! The steps own these traits and speak domain types; `custody-aws` and `custody-kube` implement
//! them over the AWS SDK and kube-rs, `custody-sim` over a simulated account and cluster. Every
//! method returns [`StepError`](custody_core::error::StepError) so that an adapter's failure already
//! carries its `Custody.<Reason>` name when it reaches a step. Every method has a
//! [`Capability`](crate::capability::Capability) constant in the `ops` module next to its trait,
//! naming the IAM actions (or RBAC rules) it needs and whether it mutates.
//!
//! # Idempotency contract for implementers
//! Lambda and Step Functions deliver at least once. Methods that create something either take a
//! client token (and pass it to the API), or are documented as "find, then create", and the steps
//! call the finder first. Methods that set a state are naturally idempotent (setting a value twice
//! is the same as once) and return the state they replaced so the step can record it.

mod cases;
mod cluster;
mod commands;
mod compute;
mod environment;
mod evidence;
mod findings;
mod identity;
mod notifier;
mod quarantine;
mod snapshots;
mod workstation;

pub use cases::{CaseStore, CaseSummary, CreateOutcome};
pub use cluster::{Cluster, ClusterConnector, ClusterInfo, PodSelector};
pub use commands::{AgentStatus, CommandRequest, CommandStatus, Invocation, NodeCommands};
pub use compute::{Compute, ProfileAssociation};
pub use environment::{
    Clock, DocumentSettings, Environment, ForensicPorts, Settings, TargetPorts, WorkstationSettings,
};
pub use evidence::{
    Bucket, EvidenceStore, ListedPart, StoredObject, UploadTicket, UploadedPart, etag_unquoted,
};
pub use findings::{FindingsHub, WorkflowStatus};
pub use identity::Identity;
pub use notifier::{Notification, Notifier};
pub use quarantine::{AclAssociation, Quarantine};
pub use snapshots::{CopySnapshotRequest, SnapshotInfo, SnapshotState, Snapshots};
pub use workstation::{VolumeInfo, Workstation, WorkstationInfo, WorkstationSpec};

/// The capability constants of every port, by port.
pub mod ops {
    pub use super::cases::ops as cases;
    pub use super::cluster::ops as cluster;
    pub use super::commands::ops as commands;
    pub use super::compute::ops as compute;
    pub use super::evidence::ops as evidence;
    pub use super::findings::ops as findings;
    pub use super::identity::ops as identity;
    pub use super::notifier::ops as notifier;
    pub use super::quarantine::ops as quarantine;
    pub use super::snapshots::ops as snapshots;
    pub use super::workstation::ops as workstation;

    use crate::capability::Capability;

    /// Every capability of every port, for policy generation and drift tests.
    pub fn all() -> Vec<&'static Capability> {
        [
            cases::ALL,
            cluster::ALL,
            commands::ALL,
            compute::ALL,
            evidence::ALL,
            findings::ALL,
            identity::ALL,
            notifier::ALL,
            quarantine::ALL,
            snapshots::ALL,
            workstation::ALL,
        ]
        .concat()
    }
}

/// The tag key that ties a resource to its case: finders search by it, so every resource a
/// finder must find again (snapshots, volumes, the workstation) carries it. One constant, because
/// the steps write it, the AWS adapters filter on it and the simulated world honours it; if they
/// spelled it differently, a retry would create a second copy instead of finding the first.
pub const CASE_TAG: &str = "custody:case";

/// Tags custody puts on everything it creates, so a retry can find what an earlier attempt made
/// and a responder can see why a resource exists.
pub type Tags = std::collections::BTreeMap<String, String>;
