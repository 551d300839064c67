//! [`Quarantine`] over the world's VPCs.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{NetworkAclId, NetworkInterfaceId, SecurityGroupId, SubnetId, VpcId};
use custody_steps::ports::ops::quarantine as ops;
use custody_steps::ports::{AclAssociation, Quarantine, Tags};

use super::SimAccount;
use crate::errs;
use crate::model::{Account, NetworkAcl, SecurityGroup, Vpc};

fn vpc_mut<'a>(a: &'a mut Account, vpc: &VpcId) -> Result<&'a mut Vpc, StepError> {
    a.vpcs.iter_mut().find(|v| &v.id == vpc).ok_or_else(|| {
        errs::not_found("InvalidVpcID.NotFound", format!("VPC {vpc} does not exist"))
    })
}

#[async_trait]
impl Quarantine for SimAccount {
    async fn find_security_group(
        &self,
        vpc: &VpcId,
        name: &str,
    ) -> Result<Option<SecurityGroupId>, StepError> {
        self.call(&ops::FIND_SECURITY_GROUP, vec![vpc.to_string()], |cx| {
            let v = vpc_mut(cx.acct()?, vpc)?;
            Ok(v.security_groups
                .iter()
                .find(|g| g.name == name)
                .map(|g| g.id.clone()))
        })
    }

    async fn create_quarantine_group(
        &self,
        vpc: &VpcId,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> Result<SecurityGroupId, StepError> {
        self.call(&ops::CREATE_QUARANTINE_GROUP, vec![vpc.to_string()], |cx| {
            let hex = cx.fresh_hex("sg", 17);
            let v = vpc_mut(cx.acct()?, vpc)?;
            if v.security_groups.iter().any(|g| g.name == name) {
                return Err(errs::conflict(
                    "InvalidGroup.Duplicate",
                    format!("the security group {name:?} already exists for VPC {vpc}"),
                ));
            }
            let id = SecurityGroupId::parse(&format!("sg-{hex}"))
                .map_err(|e| errs::invalid("InvalidParameterValue", e.to_string()))?;
            // EC2 gives a new group an allow-all egress rule; the port revokes it before returning,
            // and the group is attached to nothing in between, so it is stored without rules.
            v.security_groups.push(SecurityGroup {
                id: id.clone(),
                name: name.to_string(),
                description: description.to_string(),
                ingress: Vec::new(),
                egress: Vec::new(),
                tags: tags.clone(),
            });
            Ok(id)
        })
    }

    async fn eni_groups(
        &self,
        eni: &NetworkInterfaceId,
    ) -> Result<Vec<SecurityGroupId>, StepError> {
        self.call(&ops::ENI_GROUPS, vec![eni.to_string()], |cx| {
            let a = cx.acct()?;
            a.instances
                .iter()
                .flat_map(|i| &i.network_interfaces)
                .find(|e| &e.id == eni)
                .map(|e| e.security_groups.clone())
                .ok_or_else(|| eni_missing(eni))
        })
    }

    async fn set_eni_groups(
        &self,
        eni: &NetworkInterfaceId,
        groups: &[SecurityGroupId],
    ) -> Result<(), StepError> {
        self.call(&ops::SET_ENI_GROUPS, vec![eni.to_string()], |cx| {
            if groups.is_empty() {
                return Err(errs::invalid(
                    "InvalidParameterValue",
                    "a network interface needs at least one security group",
                ));
            }
            let a = cx.acct()?;
            let subnet = a
                .instances
                .iter()
                .flat_map(|i| &i.network_interfaces)
                .find(|e| &e.id == eni)
                .map(|e| e.subnet_id.clone())
                .ok_or_else(|| eni_missing(eni))?;
            let vpc = a
                .vpcs
                .iter()
                .find(|v| v.subnets.iter().any(|s| s.id == subnet))
                .ok_or_else(|| {
                    errs::not_found(
                        "InvalidSubnetID.NotFound",
                        format!("subnet {subnet} is gone"),
                    )
                })?;
            if let Some(g) = groups
                .iter()
                .find(|g| !vpc.security_groups.iter().any(|x| &x.id == *g))
            {
                return Err(errs::not_found(
                    "InvalidGroup.NotFound",
                    format!("security group {g} does not exist in {}", vpc.id),
                ));
            }
            for e in a
                .instances
                .iter_mut()
                .flat_map(|i| i.network_interfaces.iter_mut())
            {
                if &e.id == eni {
                    e.security_groups = groups.to_vec();
                }
            }
            Ok(())
        })
    }

    async fn subnet_acl(&self, subnet: &SubnetId) -> Result<AclAssociation, StepError> {
        self.call(&ops::SUBNET_ACL, vec![subnet.to_string()], |cx| {
            let a = cx.acct()?;
            a.vpcs
                .iter()
                .flat_map(|v| &v.subnets)
                .find(|s| &s.id == subnet)
                .map(|s| AclAssociation {
                    association_id: s.acl_association_id.clone(),
                    acl_id: s.network_acl.clone(),
                })
                .ok_or_else(|| {
                    errs::not_found(
                        "InvalidSubnetID.NotFound",
                        format!("subnet {subnet} does not exist"),
                    )
                })
        })
    }

    async fn ensure_quarantine_acl(
        &self,
        vpc: &VpcId,
        name: &str,
        tags: &Tags,
    ) -> Result<NetworkAclId, StepError> {
        self.call(&ops::ENSURE_QUARANTINE_ACL, vec![vpc.to_string()], |cx| {
            let hex = cx.fresh_hex("acl", 17);
            let v = vpc_mut(cx.acct()?, vpc)?;
            if let Some(acl) = v
                .network_acls
                .iter()
                .find(|a| a.name.as_deref() == Some(name))
            {
                if acl.allows_traffic {
                    return Err(errs::conflict(
                        "InvalidNetworkAcl.Duplicate",
                        format!(
                            "network ACL {} is named {name:?} but allows traffic",
                            acl.id
                        ),
                    ));
                }
                return Ok(acl.id.clone());
            }
            let id = NetworkAclId::parse(&format!("acl-{hex}"))
                .map_err(|e| errs::invalid("InvalidParameterValue", e.to_string()))?;
            let mut tags = tags.clone();
            tags.insert("Name".into(), name.to_string());
            v.network_acls.push(NetworkAcl {
                id: id.clone(),
                name: Some(name.to_string()),
                allows_traffic: false,
                tags,
            });
            Ok(id)
        })
    }

    async fn replace_acl_association(
        &self,
        association_id: &str,
        acl: &NetworkAclId,
    ) -> Result<String, StepError> {
        self.call(
            &ops::REPLACE_ACL_ASSOCIATION,
            vec![association_id.to_string()],
            |cx| {
                let hex = cx.fresh_hex("aclassoc", 17);
                let a = cx.acct()?;
                let vpc = a
                    .vpcs
                    .iter_mut()
                    .find(|v| {
                        v.subnets
                            .iter()
                            .any(|s| s.acl_association_id == association_id)
                    })
                    .ok_or_else(|| {
                        errs::not_found(
                            "InvalidAssociationID.NotFound",
                            format!("association {association_id:?} does not exist"),
                        )
                    })?;
                if !vpc.network_acls.iter().any(|n| &n.id == acl) {
                    return Err(errs::not_found(
                        "InvalidNetworkAclID.NotFound",
                        format!("network ACL {acl} is not in {}", vpc.id),
                    ));
                }
                let new_id = format!("aclassoc-{hex}");
                for s in vpc
                    .subnets
                    .iter_mut()
                    .filter(|s| s.acl_association_id == association_id)
                {
                    s.network_acl = acl.clone();
                    s.acl_association_id = new_id.clone();
                }
                Ok(new_id)
            },
        )
    }
}

fn eni_missing(eni: &NetworkInterfaceId) -> StepError {
    errs::not_found(
        "InvalidNetworkInterfaceID.NotFound",
        format!("network interface {eni} does not exist"),
    )
}
