//! Consistency checks of a parsed world: every reference points at something that exists, and
//! every id is unique. Errors name the JSON path of the offending value.

use std::collections::BTreeSet;

use custody_core::id::InstanceId;

use crate::calls::operation_exists;
use crate::error::{WorldError, invalid};
use crate::model::{Account, Fault, WorldState};

/// The instance id in a node's `providerID` (`aws:///us-east-1a/i-0123…`).
pub fn provider_instance(provider_id: &str) -> Option<InstanceId> {
    custody_core::inventory::instance_id_from_provider_id(provider_id).ok()
}

/// Checks the whole world.
pub fn validate(world: &WorldState) -> Result<(), WorldError> {
    let s = &world.settings;
    if !world
        .accounts
        .iter()
        .any(|a| a.id == s.forensic_account && a.region == s.forensic_region)
    {
        return Err(invalid(
            "$.settings.forensicAccount",
            format!(
                "the forensic account {} in {} is not among $.accounts",
                s.forensic_account, s.forensic_region
            ),
        ));
    }
    let mut seen_accounts = BTreeSet::new();
    let mut seen_ids = BTreeSet::new();
    for (ai, account) in world.accounts.iter().enumerate() {
        let p = format!("$.accounts[{ai}]");
        if !seen_accounts.insert((account.id.to_string(), account.region.to_string())) {
            return Err(invalid(
                format!("{p}.id"),
                format!(
                    "account {} in {} is listed twice",
                    account.id, account.region
                ),
            ));
        }
        validate_account(account, &p, &mut seen_ids)?;
    }
    for (i, release) in world.artifacts.lime_modules.iter().enumerate() {
        if release.is_empty()
            || release.contains(['/', ' '])
            || release.chars().any(char::is_control)
        {
            return Err(invalid(
                format!("$.artifacts.limeModules[{i}]"),
                format!("{release:?} is not a kernel release"),
            ));
        }
    }
    for (i, fault) in world.faults.iter().enumerate() {
        validate_fault(world, fault, &format!("$.faults[{i}]"))?;
    }
    Ok(())
}

fn unique(seen: &mut BTreeSet<String>, id: &str, path: &str) -> Result<(), WorldError> {
    if seen.insert(id.to_string()) {
        Ok(())
    } else {
        Err(invalid(path, format!("{id} is defined twice")))
    }
}

fn validate_account(
    account: &Account,
    p: &str,
    seen: &mut BTreeSet<String>,
) -> Result<(), WorldError> {
    for (vi, vpc) in account.vpcs.iter().enumerate() {
        let vp = format!("{p}.vpcs[{vi}]");
        unique(seen, vpc.id.as_str(), &format!("{vp}.id"))?;
        for (si, subnet) in vpc.subnets.iter().enumerate() {
            let sp = format!("{vp}.subnets[{si}]");
            unique(seen, subnet.id.as_str(), &format!("{sp}.id"))?;
            if !vpc.network_acls.iter().any(|a| a.id == subnet.network_acl) {
                return Err(invalid(
                    format!("{sp}.networkAcl"),
                    format!("{} is not an ACL of {}", subnet.network_acl, vpc.id),
                ));
            }
        }
        let mut names = BTreeSet::new();
        for (gi, group) in vpc.security_groups.iter().enumerate() {
            unique(
                seen,
                group.id.as_str(),
                &format!("{vp}.securityGroups[{gi}].id"),
            )?;
            if !names.insert(group.name.as_str()) {
                return Err(invalid(
                    format!("{vp}.securityGroups[{gi}].name"),
                    format!("group name {:?} is used twice in {}", group.name, vpc.id),
                ));
            }
        }
        for (ni, acl) in vpc.network_acls.iter().enumerate() {
            unique(seen, acl.id.as_str(), &format!("{vp}.networkAcls[{ni}].id"))?;
        }
    }
    for (ii, inst) in account.instances.iter().enumerate() {
        let ip = format!("{p}.instances[{ii}]");
        unique(seen, inst.id.as_str(), &format!("{ip}.id"))?;
        if inst.network_interfaces.is_empty() {
            return Err(invalid(
                format!("{ip}.networkInterfaces"),
                "an instance has at least one ENI",
            ));
        }
        for (ei, eni) in inst.network_interfaces.iter().enumerate() {
            let ep = format!("{ip}.networkInterfaces[{ei}]");
            unique(seen, eni.id.as_str(), &format!("{ep}.id"))?;
            let Some(vpc) = account
                .vpcs
                .iter()
                .find(|v| v.subnets.iter().any(|s| s.id == eni.subnet_id))
            else {
                return Err(invalid(
                    format!("{ep}.subnetId"),
                    format!("subnet {} is not in any VPC of the account", eni.subnet_id),
                ));
            };
            for (gi, sg) in eni.security_groups.iter().enumerate() {
                if !vpc.security_groups.iter().any(|g| &g.id == sg) {
                    return Err(invalid(
                        format!("{ep}.securityGroups[{gi}]"),
                        format!("{sg} is not a security group of {}", vpc.id),
                    ));
                }
            }
        }
        for (vi, vol) in inst.volumes.iter().enumerate() {
            unique(seen, vol.id.as_str(), &format!("{ip}.volumes[{vi}].id"))?;
        }
        if let Some(profile) = &inst.profile
            && !account
                .instance_profiles
                .iter()
                .any(|ip| ip.arn == profile.profile_arn)
        {
            return Err(invalid(
                format!("{ip}.profile.profileArn"),
                format!(
                    "{} is not an instance profile of the account",
                    profile.profile_arn
                ),
            ));
        }
        if inst.memory_gib == 0 {
            return Err(invalid(
                format!("{ip}.memoryGib"),
                "an instance has some memory",
            ));
        }
    }
    for (pi, profile) in account.instance_profiles.iter().enumerate() {
        for (ri, role) in profile.roles.iter().enumerate() {
            if !account.roles.iter().any(|r| &r.arn == role) {
                return Err(invalid(
                    format!("{p}.instanceProfiles[{pi}].roles[{ri}]"),
                    format!("{role} is not a role of the account"),
                ));
            }
        }
    }
    for (ci, cluster) in account.clusters.iter().enumerate() {
        let cp = format!("{p}.clusters[{ci}]");
        for (ni, node) in cluster.nodes.iter().enumerate() {
            let np = format!("{cp}.nodes[{ni}]");
            let Some(id) = provider_instance(&node.provider_id) else {
                return Err(invalid(
                    format!("{np}.providerId"),
                    format!("{:?} is not aws:///<zone>/<instance-id>", node.provider_id),
                ));
            };
            if !account.instances.iter().any(|i| i.id == id) {
                return Err(invalid(
                    format!("{np}.providerId"),
                    format!("instance {id} is not an instance of the account"),
                ));
            }
        }
        let mut pods = BTreeSet::new();
        for (pi, pod) in cluster.pods.iter().enumerate() {
            let pp = format!("{cp}.pods[{pi}]");
            if !pods.insert((pod.namespace.to_string(), pod.name.to_string())) {
                return Err(invalid(
                    format!("{pp}.name"),
                    format!("pod {:?} is defined twice", pod.name.as_str()),
                ));
            }
            if !cluster.nodes.iter().any(|n| n.name == pod.node) {
                return Err(invalid(
                    format!("{pp}.node"),
                    format!("node {:?} is not a node of the cluster", pod.node.as_str()),
                ));
            }
        }
    }
    Ok(())
}

fn validate_fault(world: &WorldState, fault: &Fault, p: &str) -> Result<(), WorldError> {
    let has_instance = |id: &InstanceId| {
        world
            .accounts
            .iter()
            .any(|a| a.instances.iter().any(|i| &i.id == id))
    };
    match fault {
        Fault::Throttle { operation, .. } | Fault::Deny { operation, .. } => {
            if !operation_exists(operation) {
                return Err(invalid(
                    format!("{p}.operation"),
                    format!("{operation:?} is not an operation of any port"),
                ));
            }
        }
        Fault::AgentOffline { instance_id }
        | Fault::CommandFails {
            instance_id: Some(instance_id),
            ..
        } => {
            if !has_instance(instance_id) {
                return Err(invalid(
                    format!("{p}.instanceId"),
                    format!("{instance_id} is not in the world"),
                ));
            }
        }
        Fault::CommandFails {
            instance_id: None, ..
        } => {}
        Fault::SnapshotStuck { volume_id } => {
            if !world.accounts.iter().any(|a| {
                a.instances
                    .iter()
                    .any(|i| i.volumes.iter().any(|v| &v.id == volume_id))
            }) {
                return Err(invalid(
                    format!("{p}.volumeId"),
                    format!("{volume_id} is not in the world"),
                ));
            }
        }
    }
    Ok(())
}
