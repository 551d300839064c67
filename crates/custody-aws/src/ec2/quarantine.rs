//! Network quarantine: security groups on every ENI, optionally the subnet's NACL.

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, RuleAction, SecurityGroup};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{NetworkAclId, NetworkInterfaceId, SecurityGroupId, SubnetId, VpcId};
use custody_steps::ports::{AclAssociation, Quarantine, Tags};
use sha2::{Digest, Sha256};

use super::{Ec2, filter, parse_id, tag_spec};
use crate::error::{invalid, sdk_error};

impl Ec2 {
    async fn group_by_name(
        &self,
        vpc: &VpcId,
        name: &str,
    ) -> Result<Option<SecurityGroup>, StepError> {
        let context = format!("ec2:DescribeSecurityGroups for {name:?} in {vpc}");
        let out = self
            .client
            .describe_security_groups()
            .filters(filter("vpc-id", [vpc.as_str()]))
            .filters(filter("group-name", [name]))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(out.security_groups().first().cloned())
    }

    /// Revokes every rule the group still has, so it is closed whatever happened before.
    async fn seal(&self, group: &SecurityGroup, id: &SecurityGroupId) -> Result<(), StepError> {
        if !group.ip_permissions_egress().is_empty() {
            let context = format!("ec2:RevokeSecurityGroupEgress on {id}");
            self.client
                .revoke_security_group_egress()
                .group_id(id.as_str())
                .set_ip_permissions(Some(group.ip_permissions_egress().to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error(&context, e))?;
        }
        if !group.ip_permissions().is_empty() {
            let context = format!("ec2:RevokeSecurityGroupIngress on {id}");
            self.client
                .revoke_security_group_ingress()
                .group_id(id.as_str())
                .set_ip_permissions(Some(group.ip_permissions().to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error(&context, e))?;
        }
        Ok(())
    }
}

/// Whether a group has no rule at all.
fn is_sealed(group: &SecurityGroup) -> bool {
    group.ip_permissions().is_empty() && group.ip_permissions_egress().is_empty()
}

#[async_trait]
impl Quarantine for Ec2 {
    /// Returns the group only when it has no rule at all: a group with this name that still has
    /// rules (a creation interrupted before its egress rule was revoked, or a group someone
    /// opened) is reported absent, so the caller's "find, then create" goes to
    /// [`create_quarantine_group`](Quarantine::create_quarantine_group), which closes it.
    async fn find_security_group(
        &self,
        vpc: &VpcId,
        name: &str,
    ) -> Result<Option<SecurityGroupId>, StepError> {
        let context = format!("ec2:DescribeSecurityGroups for {name:?} in {vpc}");
        match self.group_by_name(vpc, name).await? {
            Some(group) if is_sealed(&group) => parse_id(
                &context,
                "group id",
                group.group_id(),
                SecurityGroupId::parse,
            )
            .map(Some),
            _ => Ok(None),
        }
    }

    /// Creates the group, or takes over an existing one with this name (a retry), and revokes
    /// every rule it has (the default egress rule included) before returning it.
    async fn create_quarantine_group(
        &self,
        vpc: &VpcId,
        name: &str,
        description: &str,
        tags: &Tags,
    ) -> Result<SecurityGroupId, StepError> {
        let context = format!("ec2:CreateSecurityGroup {name:?} in {vpc}");
        let created = self
            .client
            .create_security_group()
            .vpc_id(vpc.as_str())
            .group_name(name)
            .description(description)
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags))
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) => {
                let error = sdk_error(&context, e);
                if error.name != ErrorName::Conflict {
                    return Err(error);
                }
            }
        }
        let group = self
            .group_by_name(vpc, name)
            .await?
            .ok_or_else(|| crate::error::missing(&context, "group after creating it"))?;
        let id = parse_id(
            &context,
            "group id",
            group.group_id(),
            SecurityGroupId::parse,
        )?;
        self.seal(&group, &id).await?;
        Ok(id)
    }

    async fn eni_groups(
        &self,
        eni: &NetworkInterfaceId,
    ) -> Result<Vec<SecurityGroupId>, StepError> {
        let context = format!("ec2:DescribeNetworkInterfaces for {eni}");
        let out = self
            .client
            .describe_network_interfaces()
            .network_interface_ids(eni.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        let interface = out.network_interfaces().first().ok_or_else(|| {
            crate::error::step_error(
                ErrorName::NotFound,
                format!("{context}: no such interface"),
                None,
                None,
            )
        })?;
        interface
            .groups()
            .iter()
            .map(|g| parse_id(&context, "group id", g.group_id(), SecurityGroupId::parse))
            .collect()
    }

    async fn set_eni_groups(
        &self,
        eni: &NetworkInterfaceId,
        groups: &[SecurityGroupId],
    ) -> Result<(), StepError> {
        let context = format!("ec2:ModifyNetworkInterfaceAttribute groups of {eni}");
        if groups.is_empty() {
            return Err(invalid(format!(
                "{context}: an interface needs at least one security group"
            )));
        }
        self.client
            .modify_network_interface_attribute()
            .network_interface_id(eni.as_str())
            .set_groups(Some(groups.iter().map(ToString::to_string).collect()))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(())
    }

    async fn subnet_acl(&self, subnet: &SubnetId) -> Result<AclAssociation, StepError> {
        let context = format!("ec2:DescribeNetworkAcls for {subnet}");
        let out = self
            .client
            .describe_network_acls()
            .filters(filter("association.subnet-id", [subnet.as_str()]))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        for acl in out.network_acls() {
            for association in acl.associations() {
                if association.subnet_id() == Some(subnet.as_str()) {
                    return Ok(AclAssociation {
                        association_id: association
                            .network_acl_association_id()
                            .ok_or_else(|| crate::error::missing(&context, "association id"))?
                            .to_owned(),
                        acl_id: parse_id(
                            &context,
                            "network ACL id",
                            acl.network_acl_id(),
                            NetworkAclId::parse,
                        )?,
                    });
                }
            }
        }
        Err(crate::error::step_error(
            ErrorName::NotFound,
            format!("{context}: no network ACL is associated with the subnet"),
            None,
            None,
        ))
    }

    async fn ensure_quarantine_acl(
        &self,
        vpc: &VpcId,
        name: &str,
        tags: &Tags,
    ) -> Result<NetworkAclId, StepError> {
        let context = format!("quarantine network ACL {name:?} in {vpc}");
        let found = self
            .client
            .describe_network_acls()
            .filters(filter("vpc-id", [vpc.as_str()]))
            .filters(filter("tag:Name", [name]))
            .send()
            .await
            .map_err(|e| sdk_error(format!("ec2:DescribeNetworkAcls for {context}"), e))?;
        let acl = match found.network_acls().first() {
            Some(acl) => parse_id(
                &context,
                "network ACL id",
                acl.network_acl_id(),
                NetworkAclId::parse,
            )?,
            None => {
                let mut tags = tags.clone();
                tags.insert("Name".to_owned(), name.to_owned());
                let out = self
                    .client
                    .create_network_acl()
                    .vpc_id(vpc.as_str())
                    .client_token(acl_token(vpc, name))
                    .tag_specifications(tag_spec(ResourceType::NetworkAcl, &tags))
                    .send()
                    .await
                    .map_err(|e| sdk_error(format!("ec2:CreateNetworkAcl for {context}"), e))?;
                let acl = out
                    .network_acl()
                    .ok_or_else(|| crate::error::missing(&context, "network ACL"))?;
                parse_id(
                    &context,
                    "network ACL id",
                    acl.network_acl_id(),
                    NetworkAclId::parse,
                )?
            }
        };
        // A new custom ACL already denies everything through its fixed `*` rules; the explicit
        // rules make the intent visible in the console and survive someone adding allows after
        // them (lower numbers win).
        for egress in [false, true] {
            let sent = self
                .client
                .create_network_acl_entry()
                .network_acl_id(acl.as_str())
                .rule_number(1)
                .protocol("-1")
                .rule_action(RuleAction::Deny)
                .egress(egress)
                .cidr_block("0.0.0.0/0")
                .send()
                .await;
            if let Err(e) = sent {
                let error = sdk_error(format!("ec2:CreateNetworkAclEntry on {acl}"), e);
                if error.name != ErrorName::Conflict {
                    return Err(error);
                }
            }
        }
        Ok(acl)
    }

    async fn replace_acl_association(
        &self,
        association_id: &str,
        acl: &NetworkAclId,
    ) -> Result<String, StepError> {
        let context = format!("ec2:ReplaceNetworkAclAssociation {association_id:?} to {acl}");
        let out = self
            .client
            .replace_network_acl_association()
            .association_id(association_id)
            .network_acl_id(acl.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        out.new_association_id()
            .map(str::to_owned)
            .ok_or_else(|| crate::error::missing(&context, "new association id"))
    }
}

/// CreateNetworkAcl's client token: the same VPC and name give the same token (at most 64).
fn acl_token(vpc: &VpcId, name: &str) -> String {
    let digest = Sha256::digest(format!("{vpc}/{name}").as_bytes());
    format!("custody-{}", &hex::encode(digest)[..48])
}
