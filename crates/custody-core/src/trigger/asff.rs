//! Findings in the AWS Security Finding Format (ASFF), as Security Hub sends them in a custom
//! action event or a SIEM forwards them.
//!
//! The subject is chosen by resource `Type`, never by position: a GuardDuty EKS finding lists
//! the cluster, and may list the node's instance and containers too, in any order.

use super::InputError;
use super::guardduty::check_finding_id;
use super::json::{Node, truncate};
use super::request::{FindingRef, Target};
use super::subject::KubeDetails;
use crate::id::{AccountId, Arn, ClusterName, InstanceId, Partition, Region};

/// Resource types custody can act on.
const SUPPORTED: [&str; 3] = ["AwsEksCluster", "AwsEc2Instance", "Container"];

/// The `Details.Other` keys GuardDuty flattens its Kubernetes details into.
const OTHER_WORKLOAD_NAME: &str = "kubernetesDetails/kubernetesWorkloadDetails/name";
const OTHER_WORKLOAD_TYPE: &str = "kubernetesDetails/kubernetesWorkloadDetails/type";
const OTHER_WORKLOAD_NAMESPACE: &str = "kubernetesDetails/kubernetesWorkloadDetails/namespace";
const OTHER_USERNAME: &str = "kubernetesDetails/kubernetesUserDetails/username";

/// True if this object looks like an ASFF finding.
pub(crate) fn looks_like(node: &Node<'_>) -> bool {
    node.has("SchemaVersion") && node.has("ProductArn") && node.has("Resources")
}

/// Parses one ASFF finding into its target and a reference to it.
pub(crate) fn parse(node: &Node<'_>) -> Result<(Target, FindingRef), InputError> {
    node.object()?;
    node.field("SchemaVersion")?.str()?;
    let asff_id_node = node.field("Id")?;
    let asff_id = asff_id_node.text(512)?;
    let product_arn_node = node.field("ProductArn")?;
    let product_arn = product_arn_node.id(Arn::parse)?;
    if product_arn.service() != "securityhub" || !product_arn.resource().starts_with("product/") {
        return Err(product_arn_node.error(
            "must be a Security Hub product ARN (arn:…:securityhub:<region>:<account>:product/…)",
        ));
    }
    let account = node.field("AwsAccountId")?.id(AccountId::parse)?;
    let region = match node.opt("Region")? {
        Some(r) => r.id(Region::parse)?,
        None => product_arn
            .region()
            .cloned()
            .ok_or_else(|| node.error("has no Region and its ProductArn names none"))?,
    };
    let is_guardduty = product_arn.resource() == "product/aws/guardduty";
    let id = if is_guardduty {
        // The ASFF Id of a GuardDuty finding is the finding's ARN; the finding id is its tail.
        // (GeneratorId is the detector, which identifies nothing.)
        let arn = asff_id_node.id(Arn::parse)?;
        let Some((_, tail)) = arn.resource().rsplit_once("/finding/") else {
            return Err(asff_id_node.error(
                "a GuardDuty finding's Id must be its finding ARN (…:detector/<d>/finding/<id>)",
            ));
        };
        if arn.account() != Some(&account) {
            return Err(asff_id_node.error(format!(
                "finding ARN account does not match AwsAccountId {account}"
            )));
        }
        check_finding_id(&asff_id_node, tail)?
    } else {
        asff_id.clone()
    };
    let product = match node.opt("ProductName")? {
        Some(p) => p.text(128)?,
        None if is_guardduty => "GuardDuty".to_owned(),
        None => product_arn.resource_name().to_owned(),
    };
    let types = node.field("Types")?;
    let finding_type = match types.array()?.first() {
        Some(first) => first.text(256)?,
        None => return Err(types.error("must list at least one finding type")),
    };
    let severity = match node.opt("Severity")? {
        Some(s) => match (s.opt("Product")?, s.opt("Normalized")?) {
            (Some(p), _) => Some(p.number()?),
            (None, Some(n)) => Some(n.number()?),
            (None, None) => None,
        },
        None => None,
    };
    let title = node.opt("Title")?.map(|t| t.text(1024)).transpose()?;
    let target = target(&node.field("Resources")?, &account, &region)?;
    let finding = FindingRef {
        id,
        product,
        finding_type,
        severity,
        title,
        account,
        region,
        product_arn: Some(product_arn.as_str().to_owned()),
        asff_id: Some(asff_id),
    };
    Ok((target, finding))
}

/// Checks a resource's own `Partition` and `Region`, when given, against the finding's.
fn check_location(resource: &Node<'_>, region: &Region) -> Result<(), InputError> {
    if let Some(p) = resource.opt("Partition")? {
        let partition = p.id(Partition::parse)?;
        if partition != region.partition() {
            return Err(p.error(format!(
                "partition {:?} does not match region {region} (partition {:?})",
                partition.as_str(),
                region.partition().as_str()
            )));
        }
    }
    if let Some(r) = resource.opt("Region")? {
        let own = r.id(Region::parse)?;
        if &own != region {
            return Err(r.error(format!(
                "resource region {own} differs from the finding's region {region}"
            )));
        }
    }
    Ok(())
}

/// Picks the subject among `Resources` by type.
fn target(
    resources: &Node<'_>,
    account: &AccountId,
    region: &Region,
) -> Result<Target, InputError> {
    let list = resources.array()?;
    if list.is_empty() {
        return Err(resources.error("must list at least one resource"));
    }
    let mut eks = Vec::new();
    let mut ec2 = Vec::new();
    let mut containers = 0usize;
    let mut seen = Vec::new();
    for r in &list {
        let ty = r.field("Type")?.str()?;
        match ty {
            "AwsEksCluster" => eks.push(r.clone()),
            "AwsEc2Instance" => ec2.push(r.clone()),
            "Container" => containers += 1,
            other => seen.push(format!("{:?}", truncate(other))),
        }
    }
    if let Some(first) = eks.first() {
        if eks.len() > 1 {
            return Err(resources.error(format!(
                "names {} EKS clusters; custody opens one case per subject",
                eks.len()
            )));
        }
        return eks_target(first, account, region);
    }
    match ec2.as_slice() {
        [one] => return ec2_target(one, account, region),
        [] => {}
        many => {
            return Err(resources.error(format!(
                "names {} EC2 instances; custody opens one case per subject",
                many.len()
            )));
        }
    }
    if containers > 0 {
        return Err(resources.error(
            "lists a Container with no EKS cluster or EC2 instance (an ECS/Fargate task); custody handles EKS and EC2 only",
        ));
    }
    Err(resources.error(format!(
        "has no resource of a supported type ({}); found {}",
        SUPPORTED.join(", "),
        seen.join(", ")
    )))
}

/// An `AwsEc2Instance` resource: the instance id from its ARN.
fn ec2_target(
    resource: &Node<'_>,
    account: &AccountId,
    region: &Region,
) -> Result<Target, InputError> {
    check_location(resource, region)?;
    let id_node = resource.field("Id")?;
    let arn = id_node.id(Arn::parse)?;
    let Some(id) = arn.resource().strip_prefix("instance/") else {
        return Err(id_node
            .error("must be an EC2 instance ARN (arn:…:ec2:<region>:<account>:instance/i-…)"));
    };
    if arn.service() != "ec2" || arn.account() != Some(account) || arn.region() != Some(region) {
        return Err(id_node.error(format!(
            "instance ARN must be in account {account} and region {region}"
        )));
    }
    let instance_id = InstanceId::parse(id).map_err(|e| id_node.error(e.to_string()))?;
    Ok(Target::Instance {
        account: account.clone(),
        region: region.clone(),
        instance_id,
    })
}

/// An `AwsEksCluster` resource: the cluster from its ARN (and name, which must agree), the
/// workload or caller from the `Details.Other` keys GuardDuty writes.
fn eks_target(
    resource: &Node<'_>,
    account: &AccountId,
    region: &Region,
) -> Result<Target, InputError> {
    check_location(resource, region)?;
    let id_node = resource.field("Id")?;
    let arn = id_node.id(Arn::parse)?;
    let Some(name) = arn.resource().strip_prefix("cluster/") else {
        return Err(id_node
            .error("must be an EKS cluster ARN (arn:…:eks:<region>:<account>:cluster/<name>)"));
    };
    if arn.service() != "eks" || arn.account() != Some(account) || arn.region() != Some(region) {
        return Err(id_node.error(format!(
            "cluster ARN must be in account {account} and region {region}"
        )));
    }
    let cluster = ClusterName::parse(name).map_err(|e| id_node.error(e.to_string()))?;
    let mut details = KubeDetails::default();
    if let Some(d) = resource.opt("Details")? {
        if let Some(name_node) = d
            .opt("AwsEksClusterDetails")?
            .map(|c| c.opt("Name"))
            .transpose()?
            .flatten()
        {
            let named = name_node.id(ClusterName::parse)?;
            if named != cluster {
                return Err(name_node.error(format!(
                    "cluster name {named} differs from the resource ARN's {cluster}"
                )));
            }
        }
        if let Some(other) = d.opt("Other")? {
            details.type_path = other.child_path(OTHER_WORKLOAD_TYPE);
            details.namespace_path = other.child_path(OTHER_WORKLOAD_NAMESPACE);
            details.workload_name = other.opt(OTHER_WORKLOAD_NAME)?;
            details.workload_type = other.opt(OTHER_WORKLOAD_TYPE)?;
            details.workload_namespace = other.opt(OTHER_WORKLOAD_NAMESPACE)?;
            details.username = other.opt(OTHER_USERNAME)?;
        }
    }
    details.target(account.clone(), region.clone(), cluster)
}
