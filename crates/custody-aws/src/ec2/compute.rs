//! EC2 reads and the instance attributes that protect evidence.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, EbsInstanceBlockDeviceSpecification, IamInstanceProfileAssociationState,
    IamInstanceProfileSpecification, Instance, InstanceAttributeName,
    InstanceBlockDeviceMappingSpecification, InstanceType,
};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{
    Arn, InstanceId, NetworkInterfaceId, SecurityGroupId, SubnetId, VolumeId, VpcId,
};
use custody_core::inventory::{EniFacts, InstanceFacts, VolumeFacts};
use custody_steps::ports::{Compute, ProfileAssociation};

use super::{Ec2, filter, parse_id, tag_map};
use crate::error::sdk_error;

/// What DescribeVolumes adds to a block device mapping.
struct VolumeDetails {
    size_gib: u64,
    encrypted: bool,
    kms_key_id: Option<String>,
}

impl Ec2 {
    async fn volume_details(
        &self,
        ids: Vec<String>,
    ) -> Result<HashMap<String, VolumeDetails>, StepError> {
        let mut details = HashMap::new();
        if ids.is_empty() {
            return Ok(details);
        }
        let context = format!("ec2:DescribeVolumes for {} volume(s)", ids.len());
        let mut pages = self
            .client
            .describe_volumes()
            .set_volume_ids(Some(ids))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            for v in page.volumes() {
                if let Some(id) = v.volume_id() {
                    details.insert(
                        id.to_owned(),
                        VolumeDetails {
                            size_gib: v.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                            encrypted: v.encrypted().unwrap_or(false),
                            kms_key_id: v.kms_key_id().map(str::to_owned),
                        },
                    );
                }
            }
        }
        Ok(details)
    }

    /// RAM of each instance type, MiB (sizes the memory upload).
    async fn memory_of(&self, types: Vec<InstanceType>) -> Result<HashMap<String, u64>, StepError> {
        let mut memory = HashMap::new();
        if types.is_empty() {
            return Ok(memory);
        }
        let context = format!("ec2:DescribeInstanceTypes for {} type(s)", types.len());
        let out = self
            .client
            .describe_instance_types()
            .set_instance_types(Some(types))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        for t in out.instance_types() {
            if let (Some(name), Some(mib)) = (
                t.instance_type(),
                t.memory_info().and_then(|m| m.size_in_mib()),
            ) {
                memory.insert(name.as_str().to_owned(), u64::try_from(mib).unwrap_or(0));
            }
        }
        Ok(memory)
    }

    async fn associations(
        &self,
        context: &str,
        instance: Option<&InstanceId>,
    ) -> Result<Vec<(String, String, String)>, StepError> {
        let mut call = self
            .client
            .describe_iam_instance_profile_associations()
            .filters(filter("state", ["associated"]));
        if let Some(instance) = instance {
            call = call.filters(filter("instance-id", [instance.as_str()]));
        }
        let mut pages = call.into_paginator().send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(context, e))?;
            for a in page.iam_instance_profile_associations() {
                if a.state() != Some(&IamInstanceProfileAssociationState::Associated) {
                    continue;
                }
                if let (Some(id), Some(instance), Some(arn)) = (
                    a.association_id(),
                    a.instance_id(),
                    a.iam_instance_profile().and_then(|p| p.arn()),
                ) {
                    found.push((id.to_owned(), instance.to_owned(), arn.to_owned()));
                }
            }
        }
        Ok(found)
    }
}

fn facts(
    context: &str,
    instance: &Instance,
    volumes: &HashMap<String, VolumeDetails>,
    memory: &HashMap<String, u64>,
) -> Result<InstanceFacts, StepError> {
    let mut facts = InstanceFacts::new(parse_id(
        context,
        "instance id",
        instance.instance_id(),
        InstanceId::parse,
    )?);
    facts.tags = tag_map(instance.tags());
    facts.state = instance
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_owned());
    facts.instance_type = instance.instance_type().map(|t| t.as_str().to_owned());
    facts.memory_mib = facts
        .instance_type
        .as_ref()
        .and_then(|t| memory.get(t))
        .copied();
    facts.availability_zone = instance
        .placement()
        .and_then(|p| p.availability_zone())
        .map(str::to_owned);
    facts.vpc_id = optional(context, "VPC id", instance.vpc_id(), VpcId::parse)?;
    facts.subnet_id = optional(context, "subnet id", instance.subnet_id(), SubnetId::parse)?;
    let mut enis: Vec<(i32, EniFacts)> = Vec::new();
    for eni in instance.network_interfaces() {
        let index = eni
            .attachment()
            .and_then(|a| a.device_index())
            .unwrap_or(i32::MAX);
        enis.push((
            index,
            EniFacts {
                id: parse_id(
                    context,
                    "interface id",
                    eni.network_interface_id(),
                    NetworkInterfaceId::parse,
                )?,
                subnet_id: optional(context, "subnet id", eni.subnet_id(), SubnetId::parse)?,
                private_ip: eni.private_ip_address().map(str::to_owned),
                security_groups: eni
                    .groups()
                    .iter()
                    .map(|g| parse_id(context, "group id", g.group_id(), SecurityGroupId::parse))
                    .collect::<Result<_, _>>()?,
            },
        ));
    }
    enis.sort_by_key(|(index, _)| *index);
    facts.network_interfaces = enis.into_iter().map(|(_, e)| e).collect();
    for mapping in instance.block_device_mappings() {
        let Some(ebs) = mapping.ebs() else { continue };
        let id = parse_id(context, "volume id", ebs.volume_id(), VolumeId::parse)?;
        let details = volumes.get(id.as_str());
        facts.volumes.push(VolumeFacts {
            device: mapping.device_name().unwrap_or_default().to_owned(),
            size_gib: details.map_or(0, |d| d.size_gib),
            encrypted: details.is_some_and(|d| d.encrypted),
            kms_key_id: details.and_then(|d| d.kms_key_id.clone()),
            delete_on_termination: ebs.delete_on_termination().unwrap_or(false),
            id,
        });
    }
    facts.instance_profile = optional(
        context,
        "instance profile ARN",
        instance.iam_instance_profile().and_then(|p| p.arn()),
        Arn::parse,
    )?;
    Ok(facts)
}

fn optional<T>(
    context: &str,
    what: &str,
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, custody_core::id::IdError>,
) -> Result<Option<T>, StepError> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => parse(v)
            .map(Some)
            .map_err(|e| crate::error::unexpected(context, what, e)),
        None => Ok(None),
    }
}

#[async_trait]
impl Compute for Ec2 {
    /// Also reads the instances' volumes (size, encryption) and instance types (memory size).
    async fn describe_instances(
        &self,
        ids: &[InstanceId],
    ) -> Result<Vec<InstanceFacts>, StepError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let context = format!("ec2:DescribeInstances for {} instance(s)", ids.len());
        let mut pages = self
            .client
            .describe_instances()
            .set_instance_ids(Some(ids.iter().map(ToString::to_string).collect()))
            .into_paginator()
            .send();
        let mut instances = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            instances.extend(
                page.reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .cloned(),
            );
        }
        let volume_ids: Vec<String> = instances
            .iter()
            .flat_map(|i| i.block_device_mappings())
            .filter_map(|m| m.ebs().and_then(|e| e.volume_id()).map(str::to_owned))
            .collect();
        let mut types: Vec<InstanceType> = instances
            .iter()
            .filter_map(|i| i.instance_type().cloned())
            .collect();
        types.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        types.dedup();
        let volumes = self.volume_details(volume_ids).await?;
        let memory = self.memory_of(types).await?;
        let mut by_id: BTreeMap<String, InstanceFacts> = BTreeMap::new();
        for instance in &instances {
            let f = facts(&context, instance, &volumes, &memory)?;
            by_id.insert(f.instance_id.to_string(), f);
        }
        ids.iter()
            .map(|id| {
                by_id.remove(id.as_str()).ok_or_else(|| {
                    crate::error::step_error(
                        ErrorName::NotFound,
                        format!("{context}: {id} is not there"),
                        None,
                        None,
                    )
                })
            })
            .collect()
    }

    async fn instances_with_profile(&self, profile: &Arn) -> Result<Vec<InstanceId>, StepError> {
        let context = format!("ec2:DescribeIamInstanceProfileAssociations for {profile}");
        let mut found: Vec<InstanceId> = self
            .associations(&context, None)
            .await?
            .into_iter()
            .filter(|(_, _, arn)| arn == profile.as_str())
            .map(|(_, instance, _)| {
                InstanceId::parse(&instance)
                    .map_err(|e| crate::error::unexpected(&context, "instance id", e))
            })
            .collect::<Result<_, _>>()?;
        found.sort();
        found.dedup();
        Ok(found)
    }

    async fn termination_protection(&self, instance: &InstanceId) -> Result<bool, StepError> {
        let context = format!("ec2:DescribeInstanceAttribute disableApiTermination of {instance}");
        let out = self
            .client
            .describe_instance_attribute()
            .instance_id(instance.as_str())
            .attribute(InstanceAttributeName::DisableApiTermination)
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(out
            .disable_api_termination()
            .and_then(|v| v.value())
            .unwrap_or(false))
    }

    async fn set_termination_protection(
        &self,
        instance: &InstanceId,
        enabled: bool,
    ) -> Result<(), StepError> {
        let context =
            format!("ec2:ModifyInstanceAttribute disableApiTermination={enabled} on {instance}");
        self.client
            .modify_instance_attribute()
            .instance_id(instance.as_str())
            .disable_api_termination(AttributeBooleanValue::builder().value(enabled).build())
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(())
    }

    async fn set_delete_on_termination(
        &self,
        instance: &InstanceId,
        device: &str,
        delete: bool,
    ) -> Result<(), StepError> {
        let context = format!(
            "ec2:ModifyInstanceAttribute deleteOnTermination={delete} for {device:?} on {instance}"
        );
        self.client
            .modify_instance_attribute()
            .instance_id(instance.as_str())
            .block_device_mappings(
                InstanceBlockDeviceMappingSpecification::builder()
                    .device_name(device)
                    .ebs(
                        EbsInstanceBlockDeviceSpecification::builder()
                            .delete_on_termination(delete)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(())
    }

    async fn profile_association(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<ProfileAssociation>, StepError> {
        let context = format!("ec2:DescribeIamInstanceProfileAssociations for {instance}");
        let found = self.associations(&context, Some(instance)).await?;
        match found.into_iter().find(|(_, i, _)| i == instance.as_str()) {
            Some((association_id, _, arn)) => Ok(Some(ProfileAssociation {
                association_id,
                profile_arn: Arn::parse(&arn)
                    .map_err(|e| crate::error::unexpected(&context, "profile ARN", e))?,
            })),
            None => Ok(None),
        }
    }

    /// An association that is already gone is success.
    async fn disassociate_profile(&self, association_id: &str) -> Result<(), StepError> {
        let context = format!("ec2:DisassociateIamInstanceProfile {association_id:?}");
        match self
            .client
            .disassociate_iam_instance_profile()
            .association_id(association_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match sdk_error(&context, e) {
                gone if gone.name == ErrorName::NotFound => Ok(()),
                other => Err(other),
            },
        }
    }

    /// # Errors
    /// `Custody.Conflict` if the instance already has a profile (EC2's `IncorrectState`).
    async fn associate_profile(
        &self,
        instance: &InstanceId,
        profile: &Arn,
    ) -> Result<(), StepError> {
        let context = format!("ec2:AssociateIamInstanceProfile {profile} to {instance}");
        self.client
            .associate_iam_instance_profile()
            .instance_id(instance.as_str())
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .arn(profile.as_str())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(())
    }
}
