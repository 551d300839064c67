//! EC2 reads and instance-level evidence protection.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{Arn, InstanceId};
use custody_core::inventory::InstanceFacts;
use serde::{Deserialize, Serialize};

/// An instance profile association, as EC2 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileAssociation {
    /// `iip-assoc-…`; needed to disassociate.
    pub association_id: String,
    /// The associated instance profile.
    pub profile_arn: Arn,
}

/// EC2 reads and the instance attributes that protect evidence.
#[async_trait]
pub trait Compute: Send + Sync {
    /// Everything triage needs about these instances: tags, network, volumes, profile.
    /// Unknown ids are `Custody.NotFound`.
    async fn describe_instances(&self, ids: &[InstanceId])
    -> Result<Vec<InstanceFacts>, StepError>;

    /// Other instances that use the same instance profile: they share its role, so revoking the
    /// role's sessions affects them too, and the case must name them.
    async fn instances_with_profile(&self, profile: &Arn) -> Result<Vec<InstanceId>, StepError>;

    /// Whether termination protection (`DisableApiTermination`) is on.
    async fn termination_protection(&self, instance: &InstanceId) -> Result<bool, StepError>;

    /// Sets termination protection; idempotent.
    async fn set_termination_protection(
        &self,
        instance: &InstanceId,
        enabled: bool,
    ) -> Result<(), StepError>;

    /// Sets `DeleteOnTermination` of the volume attached at `device`; idempotent.
    async fn set_delete_on_termination(
        &self,
        instance: &InstanceId,
        device: &str,
        delete: bool,
    ) -> Result<(), StepError>;

    /// The instance's current profile association, if any.
    async fn profile_association(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<ProfileAssociation>, StepError>;

    /// Removes a profile association (the instance keeps running without role credentials).
    async fn disassociate_profile(&self, association_id: &str) -> Result<(), StepError>;

    /// Associates a profile (used by release to restore the recorded one).
    async fn associate_profile(
        &self,
        instance: &InstanceId,
        profile: &Arn,
    ) -> Result<(), StepError>;
}

/// Capabilities of [`Compute`].
pub mod ops {
    use crate::capability::{Capability, PortName::Compute as P};

    /// [`super::Compute::describe_instances`]
    pub const DESCRIBE_INSTANCES: Capability = Capability::read(
        P,
        "describe_instances",
        // DescribeInstanceTypes: the instance's memory size, which sizes the memory upload.
        &[
            "ec2:DescribeInstances",
            "ec2:DescribeVolumes",
            "ec2:DescribeInstanceTypes",
        ],
    );
    /// [`super::Compute::instances_with_profile`]
    pub const INSTANCES_WITH_PROFILE: Capability = Capability::read(
        P,
        "instances_with_profile",
        &["ec2:DescribeIamInstanceProfileAssociations"],
    );
    /// [`super::Compute::termination_protection`]
    pub const TERMINATION_PROTECTION: Capability = Capability::read(
        P,
        "termination_protection",
        &["ec2:DescribeInstanceAttribute"],
    );
    /// [`super::Compute::set_termination_protection`]
    pub const SET_TERMINATION_PROTECTION: Capability = Capability::mutate(
        P,
        "set_termination_protection",
        &["ec2:ModifyInstanceAttribute"],
    );
    /// [`super::Compute::set_delete_on_termination`]
    pub const SET_DELETE_ON_TERMINATION: Capability = Capability::mutate(
        P,
        "set_delete_on_termination",
        &["ec2:ModifyInstanceAttribute"],
    );
    /// [`super::Compute::profile_association`]
    pub const PROFILE_ASSOCIATION: Capability = Capability::read(
        P,
        "profile_association",
        &["ec2:DescribeIamInstanceProfileAssociations"],
    );
    /// [`super::Compute::disassociate_profile`]
    pub const DISASSOCIATE_PROFILE: Capability = Capability::mutate(
        P,
        "disassociate_profile",
        &["ec2:DisassociateIamInstanceProfile"],
    );
    /// [`super::Compute::associate_profile`]
    pub const ASSOCIATE_PROFILE: Capability = Capability::mutate(
        P,
        "associate_profile",
        &["ec2:AssociateIamInstanceProfile", "iam:PassRole"],
    );

    /// All of them.
    pub const ALL: &[&Capability] = &[
        &DESCRIBE_INSTANCES,
        &INSTANCES_WITH_PROFILE,
        &TERMINATION_PROTECTION,
        &SET_TERMINATION_PROTECTION,
        &SET_DELETE_ON_TERMINATION,
        &PROFILE_ASSOCIATION,
        &DISASSOCIATE_PROFILE,
        &ASSOCIATE_PROFILE,
    ];
}
