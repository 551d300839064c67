//! Conversions from the world's model to custody-core's inventory facts: what the AWS and
//! Kubernetes adapters would read from `DescribeInstances`, `GET pod` and `GET node`.

use custody_core::case::Case;
use custody_core::inventory::{EniFacts, InstanceFacts, NodeFacts, PodFacts, VolumeFacts};

use crate::model::{Account, Instance, Node, Pod};
use crate::validate::provider_instance;

/// An instance as `DescribeInstances` (+ `DescribeVolumes`, SSM) reports it.
pub(crate) fn instance_facts(a: &Account, inst: &Instance) -> InstanceFacts {
    let primary_subnet = inst.network_interfaces.first().map(|e| e.subnet_id.clone());
    let vpc_id = primary_subnet.as_ref().and_then(|s| {
        a.vpcs
            .iter()
            .find(|v| v.subnets.iter().any(|x| &x.id == s))
            .map(|v| v.id.clone())
    });
    let node = a.clusters.iter().flat_map(|c| &c.nodes).find_map(|n| {
        provider_instance(&n.provider_id)
            .filter(|i| i == &inst.id)
            .map(|_| n.name.clone())
    });
    let mut f = InstanceFacts::new(inst.id.clone());
    f.tags = inst.tags.clone();
    f.state = Some(inst.state.clone());
    f.instance_type = Some(inst.instance_type.clone());
    f.memory_mib = Some(inst.memory_gib * 1024);
    f.availability_zone = Some(inst.availability_zone.clone());
    f.vpc_id = vpc_id;
    f.subnet_id = primary_subnet;
    f.network_interfaces = inst
        .network_interfaces
        .iter()
        .map(|e| EniFacts {
            id: e.id.clone(),
            subnet_id: Some(e.subnet_id.clone()),
            private_ip: e.private_ip.clone(),
            security_groups: e.security_groups.clone(),
        })
        .collect();
    f.volumes = inst
        .volumes
        .iter()
        .map(|v| VolumeFacts {
            id: v.id.clone(),
            device: v.device.clone(),
            size_gib: v.size_gib,
            encrypted: v.encrypted,
            kms_key_id: v.kms_key_id.clone(),
            delete_on_termination: v.delete_on_termination,
        })
        .collect();
    f.instance_profile = inst.profile.as_ref().map(|p| p.profile_arn.clone());
    f.ssm_managed = inst.ssm_managed;
    f.platform = Some(inst.platform.clone());
    f.kernel_release = Some(inst.kernel_release.clone());
    f.node = node;
    f
}

/// A pod as the Kubernetes API reports it.
pub(crate) fn pod_facts(p: &Pod) -> PodFacts {
    PodFacts {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        uid: Some(p.uid.clone()),
        node: Some(p.node.clone()),
        service_account: Some(p.service_account.clone()),
        labels: p.labels.clone(),
        container_ids: p.containers.iter().map(|c| c.id.clone()).collect(),
    }
}

/// A node as the Kubernetes API reports it.
pub(crate) fn node_facts(n: &Node) -> NodeFacts {
    NodeFacts {
        name: n.name.clone(),
        instance_id: provider_instance(&n.provider_id),
        labels: n.labels.clone(),
        unschedulable: n.unschedulable,
    }
}

/// A short description of a case's subject for listings.
pub(crate) fn case_subject(c: &Case) -> String {
    c.request.target.to_string()
}
