//! What a named resource belongs to, so the call record can answer "did anything touch this
//! subject?" for an instance or a cluster as a whole.

use custody_core::id::{AccountId, Region};

use crate::model::{Account, WorldState};
use crate::validate::provider_instance;

/// Resource name of a cluster in the call record.
pub fn cluster_resource(cluster: &str) -> String {
    format!("eks:{cluster}")
}

/// Resource name of a node.
pub fn node_resource(cluster: &str, node: &str) -> String {
    format!("eks:{cluster}/node/{node}")
}

/// Resource name of a pod.
pub fn pod_resource(cluster: &str, namespace: &str, pod: &str) -> String {
    format!("eks:{cluster}/pod/{namespace}/{pod}")
}

/// Resource name of a NetworkPolicy.
pub fn policy_resource(cluster: &str, namespace: &str, name: &str) -> String {
    format!("eks:{cluster}/networkpolicy/{namespace}/{name}")
}

fn push(out: &mut Vec<String>, s: String) {
    if !out.contains(&s) {
        out.push(s);
    }
}

/// The instance id and the cluster/node an instance backs.
fn instance_relations(account: &Account, instance: &str, out: &mut Vec<String>) {
    push(out, instance.to_string());
    for c in &account.clusters {
        for n in &c.nodes {
            if provider_instance(&n.provider_id).is_some_and(|i| i.as_str() == instance) {
                push(out, node_resource(c.name.as_str(), n.name.as_str()));
                push(out, cluster_resource(c.name.as_str()));
            }
        }
    }
}

/// Everything the resources belong to (not including themselves unless they are also an owner of
/// another listed resource).
pub(crate) fn related(
    st: &WorldState,
    account: &AccountId,
    region: &Region,
    resources: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    if resources.len() > 1 {
        for r in resources {
            push(&mut out, r.clone());
        }
    }
    // Related resources live in the calling account, except snapshots, which may be copies of
    // another account's.
    let accounts: Vec<&Account> = st
        .accounts
        .iter()
        .filter(|a| &a.id == account && &a.region == region)
        .chain(
            st.accounts
                .iter()
                .filter(|a| !(&a.id == account && &a.region == region)),
        )
        .collect();
    for r in resources {
        for a in &accounts {
            relate_one(st, a, r, &mut out);
        }
    }
    out
}

fn relate_one(st: &WorldState, a: &Account, r: &str, out: &mut Vec<String>) {
    if let Some(rest) = r.strip_prefix("eks:") {
        let mut parts = rest.split('/');
        let cluster = parts.next().unwrap_or_default();
        let Some(c) = a.clusters.iter().find(|c| c.name.as_str() == cluster) else {
            return;
        };
        push(out, cluster_resource(cluster));
        let kind = parts.next();
        let rest: Vec<&str> = parts.collect();
        let node = match (kind, rest.as_slice()) {
            (Some("pod"), [ns, name]) => c
                .pods
                .iter()
                .find(|p| p.namespace.as_str() == *ns && p.name.as_str() == *name)
                .map(|p| p.node.clone()),
            (Some("node"), [name]) => c
                .nodes
                .iter()
                .find(|n| n.name.as_str() == *name)
                .map(|n| n.name.clone()),
            _ => None,
        };
        if let Some(node) = node {
            push(out, node_resource(cluster, node.as_str()));
            if let Some(n) = c.nodes.iter().find(|n| n.name == node)
                && let Some(i) = provider_instance(&n.provider_id)
            {
                instance_relations(a, i.as_str(), out);
            }
        }
        return;
    }
    if r.starts_with("i-") {
        if a.instances.iter().any(|i| i.id.as_str() == r) {
            instance_relations(a, r, out);
        }
        return;
    }
    for inst in &a.instances {
        let owns = inst.network_interfaces.iter().any(|e| e.id.as_str() == r)
            || inst.volumes.iter().any(|v| v.id.as_str() == r)
            || inst
                .profile
                .as_ref()
                .is_some_and(|p| p.association_id == r || p.profile_arn.as_str() == r);
        if owns {
            instance_relations(a, inst.id.as_str(), out);
        }
    }
    if r.starts_with("snap-") {
        if let Some(s) = st.runtime.snapshots.iter().find(|s| s.id.as_str() == r) {
            if let Some(v) = &s.volume_id {
                push(out, v.to_string());
            }
            if let Some(i) = &s.instance_id {
                instance_relations(a, i.as_str(), out);
            }
        }
        return;
    }
    // A role relates to the instances whose profile holds it.
    if r.contains(":role/") {
        for p in a
            .instance_profiles
            .iter()
            .filter(|p| p.roles.iter().any(|x| x.as_str() == r))
        {
            push(out, p.arn.to_string());
            for inst in a
                .instances
                .iter()
                .filter(|i| i.profile.as_ref().is_some_and(|x| x.profile_arn == p.arn))
            {
                instance_relations(a, inst.id.as_str(), out);
            }
        }
    }
    // A subnet (or its ACL association) relates to its VPC and the instances in it.
    for vpc in &a.vpcs {
        if let Some(subnet) = vpc
            .subnets
            .iter()
            .find(|s| s.id.as_str() == r || s.acl_association_id == r)
        {
            push(out, vpc.id.to_string());
            for inst in a.instances.iter().filter(|i| {
                i.network_interfaces
                    .iter()
                    .any(|e| e.subnet_id == subnet.id)
            }) {
                instance_relations(a, inst.id.as_str(), out);
            }
        }
        if vpc.security_groups.iter().any(|g| g.id.as_str() == r)
            || vpc.network_acls.iter().any(|n| n.id.as_str() == r)
        {
            push(out, vpc.id.to_string());
        }
    }
}
