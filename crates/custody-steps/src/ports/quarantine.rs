//! Network quarantine of an instance: security groups on every ENI, optionally the subnet's NACL.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{NetworkAclId, NetworkInterfaceId, SecurityGroupId, SubnetId, VpcId};
use serde::{Deserialize, Serialize};

use super::Tags;

/// A subnet's network ACL association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AclAssociation {
    /// `aclassoc-…`; replacing an ACL goes through it.
    pub association_id: String,
    /// The ACL currently associated.
    pub acl_id: NetworkAclId,
}

/// Security groups, ENIs and NACLs.
#[async_trait]
pub trait Quarantine: Send + Sync {
    /// The security group with this name in the VPC, if it exists (groups are found by name so
    /// exactly one quarantine group exists per VPC, whatever the retries).
    async fn find_security_group(
        &self,
        vpc: &VpcId,
        name: &str,
    ) -> Result<Option<SecurityGroupId>, StepError>;

    /// Creates a group with NO rules at all (the default egress rule is revoked before the group is
    /// returned, and it is attached to nothing until then, so it is never briefly open).
    async fn create_quarantine_group(
        &self,
        vpc: &VpcId,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> Result<SecurityGroupId, StepError>;

    /// The groups on an ENI now.
    async fn eni_groups(&self, eni: &NetworkInterfaceId)
    -> Result<Vec<SecurityGroupId>, StepError>;

    /// Replaces the groups on an ENI; idempotent.
    async fn set_eni_groups(
        &self,
        eni: &NetworkInterfaceId,
        groups: &[SecurityGroupId],
    ) -> Result<(), StepError>;

    /// The subnet's ACL association.
    async fn subnet_acl(&self, subnet: &SubnetId) -> Result<AclAssociation, StepError>;

    /// The quarantine ACL of the VPC (deny all in and out), created if absent, found by name.
    async fn ensure_quarantine_acl(
        &self,
        vpc: &VpcId,
        name: &str,
        tags: &Tags,
    ) -> Result<NetworkAclId, StepError>;

    /// Points a subnet's association at another ACL; returns the new association id.
    async fn replace_acl_association(
        &self,
        association_id: &str,
        acl: &NetworkAclId,
    ) -> Result<String, StepError>;
}

/// Capabilities of [`Quarantine`].
pub mod ops {
    use crate::capability::{Capability, PortName::Quarantine as P};

    /// [`super::Quarantine::find_security_group`]
    pub const FIND_SECURITY_GROUP: Capability =
        Capability::read(P, "find_security_group", &["ec2:DescribeSecurityGroups"]);
    /// [`super::Quarantine::create_quarantine_group`]
    pub const CREATE_QUARANTINE_GROUP: Capability = Capability::mutate(
        P,
        "create_quarantine_group",
        &[
            "ec2:CreateSecurityGroup",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:CreateTags",
            // A retry takes over the group it made before and closes whatever rules it has.
            "ec2:DescribeSecurityGroups",
            "ec2:RevokeSecurityGroupIngress",
        ],
    );
    /// [`super::Quarantine::eni_groups`]
    pub const ENI_GROUPS: Capability =
        Capability::read(P, "eni_groups", &["ec2:DescribeNetworkInterfaces"]);
    /// [`super::Quarantine::set_eni_groups`]
    pub const SET_ENI_GROUPS: Capability = Capability::mutate(
        P,
        "set_eni_groups",
        &["ec2:ModifyNetworkInterfaceAttribute"],
    );
    /// [`super::Quarantine::subnet_acl`]
    pub const SUBNET_ACL: Capability =
        Capability::read(P, "subnet_acl", &["ec2:DescribeNetworkAcls"]);
    /// [`super::Quarantine::ensure_quarantine_acl`]
    pub const ENSURE_QUARANTINE_ACL: Capability = Capability::mutate(
        P,
        "ensure_quarantine_acl",
        &[
            "ec2:DescribeNetworkAcls",
            "ec2:CreateNetworkAcl",
            "ec2:CreateNetworkAclEntry",
            "ec2:CreateTags",
        ],
    );
    /// [`super::Quarantine::replace_acl_association`]
    pub const REPLACE_ACL_ASSOCIATION: Capability = Capability::mutate(
        P,
        "replace_acl_association",
        &["ec2:ReplaceNetworkAclAssociation"],
    );

    /// All of them.
    pub const ALL: &[&Capability] = &[
        &FIND_SECURITY_GROUP,
        &CREATE_QUARANTINE_GROUP,
        &ENI_GROUPS,
        &SET_ENI_GROUPS,
        &SUBNET_ACL,
        &ENSURE_QUARANTINE_ACL,
        &REPLACE_ACL_ASSOCIATION,
    ];
}
