//! GuardDuty findings in their native JSON (`GetFindings`, the `detail` of a "GuardDuty Finding"
//! event, or what a SIEM forwards).
//!
//! Covered: EKS audit-log findings and EKS Runtime Monitoring findings (`resourceType`
//! `EKSCluster`, or `Container` with EKS details), and EC2 findings (`Instance`).

use std::sync::LazyLock;

use regex::Regex;

use super::InputError;
use super::json::{Node, truncate};
use super::request::{FindingRef, Target};
use super::subject::KubeDetails;
use crate::id::{AccountId, Arn, ClusterName, InstanceId, Partition, Region};

/// GuardDuty finding types: `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.
static FINDING_TYPE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\A[A-Za-z]+:[A-Za-z0-9]+/[A-Za-z0-9.!&_-]+\z").ok());

/// Checks a GuardDuty finding id (found at `node`). Ids are 32 hex digits today; any short token
/// is accepted so that a format change is not an outage.
pub(crate) fn check_finding_id(node: &Node<'_>, id: &str) -> Result<String, InputError> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(node.error(format!(
            "finding id {:?} must be 1-128 letters, digits, '-', '_' or '.'",
            truncate(id)
        )));
    }
    Ok(id.to_owned())
}

/// True if this object looks like a native GuardDuty finding (sniffing only; parsing validates).
pub(crate) fn looks_like(node: &Node<'_>) -> bool {
    node.has("schemaVersion") && node.has("type") && node.has("resource") && node.has("accountId")
}

/// The Security Hub product ARN of GuardDuty in a region.
fn product_arn(region: &Region) -> String {
    format!(
        "arn:{}:securityhub:{region}::product/aws/guardduty",
        region.partition()
    )
}

/// Parses a native GuardDuty finding into its target and a reference to it.
pub(crate) fn parse(node: &Node<'_>) -> Result<(Target, FindingRef), InputError> {
    node.object()?;
    node.field("schemaVersion")?.str()?;
    let account = node.field("accountId")?.id(AccountId::parse)?;
    let region_node = node.field("region")?;
    let region = region_node.id(Region::parse)?;
    if let Some(p) = node.opt("partition")? {
        let partition = p.id(Partition::parse)?;
        if partition != region.partition() {
            return Err(p.error(format!(
                "partition {:?} does not match region {region} (partition {:?})",
                partition.as_str(),
                region.partition().as_str()
            )));
        }
    }
    let id_node = node.field("id")?;
    let id = check_finding_id(&id_node, id_node.str()?)?;
    let arn = match node.opt("arn")? {
        Some(a) => {
            let arn = a.id(Arn::parse)?;
            let consistent = arn.service() == "guardduty"
                && arn.account() == Some(&account)
                && arn.region() == Some(&region)
                && arn.resource().ends_with(&format!("/finding/{id}"));
            if !consistent {
                return Err(a.error(format!(
                    "finding ARN must be a GuardDuty finding ARN for account {account}, region {region} and id {id:?}"
                )));
            }
            Some(arn)
        }
        None => None,
    };
    let type_node = node.field("type")?;
    let finding_type = type_node.str()?;
    if !FINDING_TYPE
        .as_ref()
        .is_some_and(|re| re.is_match(finding_type))
    {
        return Err(type_node.error(format!(
            "finding type {:?} is not of the form ThreatPurpose:ResourceType/ThreatName",
            truncate(finding_type)
        )));
    }
    let severity = match node.opt("severity")? {
        Some(s) => {
            let v = s.number()?;
            if !(0.0..=10.0).contains(&v) {
                return Err(s.error(format!(
                    "GuardDuty severity must be between 0 and 10, got {v}"
                )));
            }
            Some(v)
        }
        None => None,
    };
    let title = node.opt("title")?.map(|t| t.text(1024)).transpose()?;

    let target = target(&node.field("resource")?, account.clone(), region.clone())?;
    let finding = FindingRef {
        id,
        product: "GuardDuty".to_owned(),
        finding_type: finding_type.to_owned(),
        severity,
        title,
        account,
        region: region.clone(),
        product_arn: Some(product_arn(&region)),
        asff_id: arn.map(|a| a.as_str().to_owned()),
    };
    Ok((target, finding))
}

/// The subject named by `resource`.
fn target(resource: &Node<'_>, account: AccountId, region: Region) -> Result<Target, InputError> {
    let ty_node = resource.field("resourceType")?;
    match ty_node.str()? {
        "Instance" => {
            let instance_id = resource.field("instanceDetails")?.field("instanceId")?.id(InstanceId::parse)?;
            Ok(Target::Instance { account, region, instance_id })
        }
        "EKSCluster" => kube_target(resource, account, region),
        "Container" => {
            if resource.has("eksClusterDetails") {
                kube_target(resource, account, region)
            } else if let Some(details) = resource.opt("instanceDetails")? {
                // A container on a plain EC2 host (Runtime Monitoring for EC2): the host is the subject.
                let instance_id = details.field("instanceId")?.id(InstanceId::parse)?;
                Ok(Target::Instance { account, region, instance_id })
            } else {
                Err(resource.error(
                    "a Container finding without eksClusterDetails or instanceDetails is an ECS/Fargate task; custody handles EKS and EC2 only",
                ))
            }
        }
        other => Err(ty_node.error(format!(
            "unsupported resource type {:?}: custody handles Instance, EKSCluster and Container (EKS or EC2) findings",
            truncate(other)
        ))),
    }
}

/// An EKS subject: the cluster from `eksClusterDetails`, the workload or caller from
/// `kubernetesDetails`.
fn kube_target(
    resource: &Node<'_>,
    account: AccountId,
    region: Region,
) -> Result<Target, InputError> {
    let cluster_details = resource.field("eksClusterDetails")?;
    let cluster = cluster_details.field("name")?.id(ClusterName::parse)?;
    if let Some(arn_node) = cluster_details.opt("arn")? {
        let arn = arn_node.id(Arn::parse)?;
        let consistent = arn.service() == "eks"
            && arn.account() == Some(&account)
            && arn.region() == Some(&region)
            && arn.resource() == format!("cluster/{cluster}");
        if !consistent {
            return Err(arn_node.error(format!(
                "cluster ARN does not match cluster {cluster} in account {account}, region {region}"
            )));
        }
    }
    let mut details = KubeDetails::default();
    if let Some(k8s) = resource.opt("kubernetesDetails")? {
        if let Some(w) = k8s.opt("kubernetesWorkloadDetails")? {
            details.type_path = w.child_path("type");
            details.namespace_path = w.child_path("namespace");
            details.workload_name = w.opt("name")?;
            details.workload_type = w.opt("type")?;
            details.workload_namespace = w.opt("namespace")?;
        }
        if let Some(u) = k8s.opt("kubernetesUserDetails")? {
            details.username = u.opt("username")?;
        }
    }
    details.target(account, region, cluster)
}
