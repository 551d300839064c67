//! What a port operation needs from the cloud, declared next to the operation.
//!
//! Every port method has one [`Capability`] constant. Steps list the capabilities they use, and
//! `custody iam-policy --step NAME` prints the union of their IAM actions: the CDK app builds each
//! function's policy from that output, so code and policy cannot drift. The simulated world and the
//! SDK interceptor record which capability each call exercised, so tests can assert that a step
//! calls exactly what it declares, and that no mutating call touched a protected resource.

use serde::Serialize;

/// The port an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortName {
    /// EC2 reads and instance-level protection ([`crate::ports::Compute`]).
    Compute,
    /// EBS snapshots ([`crate::ports::Snapshots`]).
    Snapshots,
    /// Network quarantine: security groups, ENIs, NACLs ([`crate::ports::Quarantine`]).
    Quarantine,
    /// The forensic workstation in the forensic account ([`crate::ports::Workstation`]).
    Workstation,
    /// SSM Run Command ([`crate::ports::NodeCommands`]).
    NodeCommands,
    /// IAM role policies ([`crate::ports::Identity`]).
    Identity,
    /// The evidence bucket ([`crate::ports::EvidenceStore`]).
    EvidenceStore,
    /// The case table ([`crate::ports::CaseStore`]).
    CaseStore,
    /// SNS ([`crate::ports::Notifier`]).
    Notifier,
    /// Security Hub ([`crate::ports::FindingsHub`]).
    FindingsHub,
    /// EKS and the Kubernetes API ([`crate::ports::ClusterConnector`], [`crate::ports::Cluster`]).
    Cluster,
}

/// Whether an operation can change the subject or the world.
///
/// The guardrail is defined in these terms: no [`Effect::Mutate`] operation may ever name a
/// protected resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Reads only.
    Read,
    /// Creates, changes or deletes something.
    Mutate,
}

/// One operation of one port and the permissions it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Capability {
    /// The port.
    pub port: PortName,
    /// The port method, as named in the trait (`create_snapshots`).
    pub operation: &'static str,
    /// IAM actions the AWS adapter needs for it (`ec2:CreateSnapshots`). Empty for Kubernetes-only
    /// operations, which are authorised by RBAC instead.
    pub iam_actions: &'static [&'static str],
    /// Kubernetes RBAC rules it needs, as `resource:verb` (`pods:patch`).
    pub rbac: &'static [&'static str],
    /// Read or mutate.
    pub effect: Effect,
}

impl Capability {
    /// A read-only AWS operation.
    pub const fn read(
        port: PortName,
        operation: &'static str,
        iam_actions: &'static [&'static str],
    ) -> Self {
        Self {
            port,
            operation,
            iam_actions,
            rbac: &[],
            effect: Effect::Read,
        }
    }

    /// A mutating AWS operation.
    pub const fn mutate(
        port: PortName,
        operation: &'static str,
        iam_actions: &'static [&'static str],
    ) -> Self {
        Self {
            port,
            operation,
            iam_actions,
            rbac: &[],
            effect: Effect::Mutate,
        }
    }

    /// A Kubernetes API operation.
    pub const fn kube(
        operation: &'static str,
        rbac: &'static [&'static str],
        effect: Effect,
    ) -> Self {
        Self {
            port: PortName::Cluster,
            operation,
            iam_actions: &[],
            rbac,
            effect,
        }
    }
}

/// The sorted, de-duplicated IAM actions of a set of capabilities.
pub fn iam_actions(capabilities: &[&Capability]) -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = capabilities
        .iter()
        .flat_map(|c| c.iam_actions.iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The sorted, de-duplicated RBAC rules of a set of capabilities.
pub fn rbac_rules(capabilities: &[&Capability]) -> Vec<&'static str> {
    let mut rules: Vec<&'static str> = capabilities
        .iter()
        .flat_map(|c| c.rbac.iter().copied())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    rules
}
