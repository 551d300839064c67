//! What triage resolved about the subject: the facts the planner decides on.
//!
//! Triage reads these from EC2, SSM and the Kubernetes API (through ports) and stores them in
//! the case, so every later decision (and every later reader of the case) sees the same facts
//! the plan was made from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{
    Arn, ClusterName, ContainerId, IdError, InstanceId, Namespace, NetworkInterfaceId, NodeName,
    PodName, SecurityGroupId, ServiceAccountName, SubnetId, VolumeId, VpcId,
};

/// Everything triage resolved for a case.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    /// The EC2 instances involved (the instance itself, or the nodes the pods run on).
    pub instances: Vec<InstanceFacts>,
    /// The cluster, for EKS subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterFacts>,
}

impl Inventory {
    /// The instance with this id.
    pub fn instance(&self, id: &InstanceId) -> Option<&InstanceFacts> {
        self.instances.iter().find(|i| &i.instance_id == id)
    }
}

/// An EC2 instance as triage saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceFacts {
    /// The instance.
    pub instance_id: InstanceId,
    /// Its tags (the guardrail tag `IsTriageRequired` among them).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// EC2 state name (`running`, `stopped`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Instance type, e.g. `m5.xlarge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// RAM in MiB (EC2 `MemoryInfo.SizeInMiB`): sizes the memory image upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    /// Availability zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// VPC of the primary interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<VpcId>,
    /// Subnet of the primary interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<SubnetId>,
    /// Network interfaces, primary first, with the security groups on each.
    #[serde(default)]
    pub network_interfaces: Vec<EniFacts>,
    /// Attached EBS volumes.
    #[serde(default)]
    pub volumes: Vec<VolumeFacts>,
    /// The instance profile associated at triage, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_profile: Option<Arn>,
    /// Whether the SSM agent is online (memory capture and the pod map need it).
    #[serde(default)]
    pub ssm_managed: bool,
    /// Platform as SSM reports it (`Amazon Linux`, `Bottlerocket`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `uname -r`, when known: selects the LiME module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_release: Option<String>,
    /// The Kubernetes node this instance backs, for EKS subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeName>,
}

impl InstanceFacts {
    /// Facts with only the id known; the rest empty. For adapters that fill fields in turn.
    pub fn new(instance_id: InstanceId) -> Self {
        Self {
            instance_id,
            tags: BTreeMap::new(),
            state: None,
            instance_type: None,
            memory_mib: None,
            availability_zone: None,
            vpc_id: None,
            subnet_id: None,
            network_interfaces: Vec::new(),
            volumes: Vec::new(),
            instance_profile: None,
            ssm_managed: false,
            platform: None,
            kernel_release: None,
            node: None,
        }
    }

    /// RAM in bytes, when known.
    pub fn memory_bytes(&self) -> Option<u64> {
        self.memory_mib.map(|m| m.saturating_mul(1024 * 1024))
    }
}

/// A network interface of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EniFacts {
    /// The interface.
    pub id: NetworkInterfaceId,
    /// Its subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<SubnetId>,
    /// Private IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    /// The security groups on it.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroupId>,
}

/// An EBS volume attached to an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeFacts {
    /// The volume.
    pub id: VolumeId,
    /// Device name, e.g. `/dev/xvda`.
    pub device: String,
    /// Size in GiB.
    pub size_gib: u64,
    /// Whether it is encrypted.
    #[serde(default)]
    pub encrypted: bool,
    /// Its KMS key, when encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Whether EC2 deletes it when the instance terminates (isolation turns this off).
    #[serde(default)]
    pub delete_on_termination: bool,
}

/// An EKS cluster as triage saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFacts {
    /// The cluster.
    pub name: ClusterName,
    /// Its ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<Arn>,
    /// Its tags (the guardrail tag may be here and then covers every node).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The nodes the subject's pods run on (or the named node).
    #[serde(default)]
    pub nodes: Vec<NodeFacts>,
    /// The pods the subject resolved to.
    #[serde(default)]
    pub pods: Vec<PodFacts>,
}

impl ClusterFacts {
    /// The node with this name.
    pub fn node(&self, name: &NodeName) -> Option<&NodeFacts> {
        self.nodes.iter().find(|n| &n.name == name)
    }
}

/// A Kubernetes node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeFacts {
    /// The node.
    pub name: NodeName,
    /// The EC2 instance behind it, from `spec.providerID` (see [`instance_id_from_provider_id`]);
    /// `None` for Fargate or non-AWS nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<InstanceId>,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `spec.unschedulable` (cordoned).
    #[serde(default)]
    pub unschedulable: bool,
}

/// A pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodFacts {
    /// Its namespace.
    pub namespace: Namespace,
    /// Its name.
    pub name: PodName,
    /// `metadata.uid`: tells a pod from a later pod of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The node it is scheduled on (`None` while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeName>,
    /// The service account it runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccountName>,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its containers' runtime ids (from `status.containerStatuses[].containerID`).
    #[serde(default)]
    pub container_ids: Vec<ContainerId>,
}

/// The instance id in a node's `spec.providerID`, `aws:///<az>/<instance-id>`.
///
/// # Errors
/// [`IdError`] if the provider id is not of that form (Fargate nodes and other clouds are not
/// EC2 instances) or the id is invalid.
pub fn instance_id_from_provider_id(provider_id: &str) -> Result<InstanceId, IdError> {
    let fail = |reason: &str| IdError::new("provider id", provider_id, reason);
    let Some(rest) = provider_id.strip_prefix("aws:///") else {
        return Err(fail("must start with \"aws:///\""));
    };
    let Some((zone, id)) = rest.split_once('/') else {
        return Err(fail("must be aws:///<availability-zone>/<instance-id>"));
    };
    if zone.is_empty()
        || !zone
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(fail(
            "availability zone must be lowercase letters, digits and '-'",
        ));
    }
    InstanceId::parse(id).map_err(|e| fail(&e.reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids() {
        assert_eq!(
            instance_id_from_provider_id("aws:///us-east-1a/i-0123456789abcdef0")
                .unwrap()
                .as_str(),
            "i-0123456789abcdef0"
        );
        for bad in [
            "",
            "aws://us-east-1a/i-0123456789abcdef0",
            "aws:///us-east-1a",
            "aws:///us-east-1a/i-0123456789abcdef0/x",
            "aws:///us-east-1a/fargate-ip-10-0-1-23",
            "gce://project/zone/name",
            "aws:///US-EAST-1A/i-0123456789abcdef0",
        ] {
            assert!(
                instance_id_from_provider_id(bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn memory_bytes_from_mib() {
        let mut facts = InstanceFacts::new(InstanceId::parse("i-0123456789abcdef0").unwrap());
        assert_eq!(facts.memory_bytes(), None);
        facts.memory_mib = Some(16384);
        assert_eq!(facts.memory_bytes(), Some(16 * 1024 * 1024 * 1024));
    }

    #[test]
    fn minimal_json_deserialises() {
        let facts: InstanceFacts =
            serde_json::from_str(r#"{"instanceId": "i-0123456789abcdef0"}"#).unwrap();
        assert_eq!(
            facts,
            InstanceFacts::new(InstanceId::parse("i-0123456789abcdef0").unwrap())
        );
    }
}
