//! EC2, IAM and VPC resources of a simulated account, as the fixture describes them and as the
//! world keeps them (the same types: a fixture is a world at its start).

use std::collections::BTreeMap;

use custody_core::id::{
    AccountId, Arn, InstanceId, NetworkAclId, NetworkInterfaceId, Region, RoleArn, SecurityGroupId,
    SubnetId, Timestamp, VolumeId, VpcId,
};
use serde::{Deserialize, Serialize};

/// One account in one region: the forensic account, or a target (application) account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    /// The account id.
    pub id: AccountId,
    /// The region simulated for it.
    pub region: Region,
    /// VPCs with their subnets, security groups and network ACLs.
    #[serde(default)]
    pub vpcs: Vec<Vpc>,
    /// EC2 instances (nodes, bare instances, and workstations once launched).
    #[serde(default)]
    pub instances: Vec<Instance>,
    /// IAM instance profiles.
    #[serde(default)]
    pub instance_profiles: Vec<InstanceProfile>,
    /// IAM roles.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// EKS clusters.
    #[serde(default)]
    pub clusters: Vec<super::eks::EksCluster>,
    /// Evidence volumes created from snapshots (runtime; a fixture normally has none).
    #[serde(default)]
    pub volumes: Vec<LooseVolume>,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vpc {
    /// The VPC id.
    pub id: VpcId,
    /// Its subnets.
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    /// Its security groups.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroup>,
    /// Its network ACLs.
    #[serde(default)]
    pub network_acls: Vec<NetworkAcl>,
}

/// A subnet and its ACL association.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subnet {
    /// The subnet id.
    pub id: SubnetId,
    /// Its availability zone.
    pub availability_zone: String,
    /// The ACL associated with it.
    pub network_acl: NetworkAclId,
    /// The association id (`aclassoc-…`); changes every time the association is replaced.
    pub acl_association_id: String,
}

/// A security group. Rules are kept as opaque strings: the sim only needs to know whether a group
/// has any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityGroup {
    /// The group id.
    pub id: SecurityGroupId,
    /// The group name (unique per VPC, as in EC2).
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Ingress rules.
    #[serde(default)]
    pub ingress: Vec<String>,
    /// Egress rules (EC2 gives a new group `allow all` egress until it is revoked).
    #[serde(default)]
    pub egress: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A network ACL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkAcl {
    /// The ACL id.
    pub id: NetworkAclId,
    /// Its `Name` tag, by which custody finds its quarantine ACL.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it allows any traffic (the quarantine ACL denies everything).
    #[serde(default = "yes")]
    pub allows_traffic: bool,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

/// An EC2 instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Instance {
    /// The instance id.
    pub id: InstanceId,
    /// Tags (`IsTriageRequired` among them).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// EC2 state name (`running`, `pending`, `shutting-down`, `terminated`).
    #[serde(default = "running")]
    pub state: String,
    /// Instance type.
    #[serde(default = "default_type")]
    pub instance_type: String,
    /// Availability zone.
    pub availability_zone: String,
    /// Platform as SSM reports it (`Amazon Linux`, `Bottlerocket`, `Ubuntu`).
    #[serde(default = "default_platform")]
    pub platform: String,
    /// `uname -r`: picks the LiME module.
    pub kernel_release: String,
    /// RAM in GiB: the size of a memory image.
    pub memory_gib: u64,
    /// Whether SSM manages the instance.
    #[serde(default)]
    pub ssm_managed: bool,
    /// SSM ping status when managed (`Online`, `ConnectionLost`, `Inactive`).
    #[serde(default = "online")]
    pub ssm_ping_status: String,
    /// Network interfaces, primary first.
    pub network_interfaces: Vec<NetworkInterface>,
    /// Attached EBS volumes.
    #[serde(default)]
    pub volumes: Vec<AttachedVolume>,
    /// The instance profile association, if any.
    #[serde(default)]
    pub profile: Option<ProfileAttachment>,
    /// `DisableApiTermination`.
    #[serde(default)]
    pub termination_protection: bool,
    /// Launch time.
    #[serde(default)]
    pub launch_time: Option<Timestamp>,
    /// For instances launched in the world: the client token that launched them.
    #[serde(default)]
    pub client_token: Option<String>,
    /// For instances launched in the world: when they become `running`.
    #[serde(default)]
    pub running_at: Option<Timestamp>,
    /// For instances being terminated: when they become `terminated`.
    #[serde(default)]
    pub terminated_at: Option<Timestamp>,
}

fn running() -> String {
    "running".into()
}
fn default_type() -> String {
    "m5.xlarge".into()
}
fn default_platform() -> String {
    "Amazon Linux".into()
}
fn online() -> String {
    "Online".into()
}

/// An ENI attached to an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkInterface {
    /// The ENI id.
    pub id: NetworkInterfaceId,
    /// Its subnet (the VPC follows from it).
    pub subnet_id: SubnetId,
    /// Private IPv4 address.
    #[serde(default)]
    pub private_ip: Option<String>,
    /// Security groups on it now.
    pub security_groups: Vec<SecurityGroupId>,
}

/// An EBS volume attached to an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachedVolume {
    /// The volume id.
    pub id: VolumeId,
    /// Device name (`/dev/xvda`).
    pub device: String,
    /// Size in GiB.
    pub size_gib: u64,
    /// Whether it is encrypted.
    #[serde(default)]
    pub encrypted: bool,
    /// Its KMS key (`alias/aws/ebs` is the AWS-managed default key, which cannot be shared).
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// `DeleteOnTermination` of the attachment.
    #[serde(default = "yes")]
    pub delete_on_termination: bool,
}

/// An instance profile association.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileAttachment {
    /// The association id (`iip-assoc-…`).
    pub association_id: String,
    /// The profile.
    pub profile_arn: Arn,
}

/// An IAM instance profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceProfile {
    /// Its ARN.
    pub arn: Arn,
    /// Its roles (IAM allows one).
    pub roles: Vec<RoleArn>,
}

/// An IAM role and its inline policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    /// Its ARN.
    pub arn: RoleArn,
    /// Inline policies by name.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
}

/// A volume not attached at creation: the workstation's evidence volumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LooseVolume {
    /// The volume id.
    pub id: VolumeId,
    /// The snapshot it was made from.
    pub snapshot_id: Option<custody_core::id::SnapshotId>,
    /// Size in GiB.
    pub size_gib: u64,
    /// Availability zone.
    pub availability_zone: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The client token that created it.
    #[serde(default)]
    pub client_token: Option<String>,
    /// When it becomes `available`.
    pub available_at: Timestamp,
    /// The instance and device it is attached to.
    #[serde(default)]
    pub attachment: Option<(InstanceId, String)>,
    /// Deleted (kept for the record; reads no longer see it).
    #[serde(default)]
    pub deleted: bool,
}

/// The account an [`Account`] is, for lookups by `(id, region)`.
pub fn same_account(a: &Account, id: &AccountId, region: &Region) -> bool {
    &a.id == id && &a.region == region
}
