//! The forensic workstation and its evidence volumes, in the forensic account.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    HttpTokensState, IamInstanceProfileSpecification, Instance, InstanceMetadataOptionsRequest,
    ResourceType, Volume, VolumeType,
};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, InstanceId, SnapshotId, VolumeId};
use custody_steps::ports::{Tags, VolumeInfo, Workstation, WorkstationInfo, WorkstationSpec};

use super::{CASE_TAG, Ec2, ROLE_TAG, filter, parse_id, require_case_tag, tag_spec};
use crate::error::{invalid, sdk_error};

/// The value of [`ROLE_TAG`] on a workstation.
const WORKSTATION: &str = "workstation";

/// Instance states that still count as "the case's workstation".
const LIVE_STATES: [&str; 5] = ["pending", "running", "stopping", "stopped", "shutting-down"];

fn workstation_info(context: &str, instance: &Instance) -> Result<WorkstationInfo, StepError> {
    Ok(WorkstationInfo {
        instance_id: parse_id(
            context,
            "instance id",
            instance.instance_id(),
            InstanceId::parse,
        )?,
        state: instance
            .state()
            .and_then(|s| s.name())
            .map_or_else(|| "unknown".to_owned(), |n| n.as_str().to_owned()),
        availability_zone: instance
            .placement()
            .and_then(|p| p.availability_zone())
            .ok_or_else(|| crate::error::missing(context, "availability zone"))?
            .to_owned(),
    })
}

fn volume_info(context: &str, volume: &Volume) -> Result<VolumeInfo, StepError> {
    let attachment = volume.attachments().first();
    Ok(VolumeInfo {
        volume_id: parse_id(context, "volume id", volume.volume_id(), VolumeId::parse)?,
        state: volume
            .state()
            .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned()),
        snapshot_id: match volume.snapshot_id().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                SnapshotId::parse(s)
                    .map_err(|e| crate::error::unexpected(context, "snapshot id", e))?,
            ),
            None => None,
        },
        attached_to: match attachment.and_then(|a| a.instance_id()) {
            Some(i) => Some(
                InstanceId::parse(i)
                    .map_err(|e| crate::error::unexpected(context, "instance id", e))?,
            ),
            None => None,
        },
        device: attachment.and_then(|a| a.device()).map(str::to_owned),
    })
}

#[async_trait]
impl Workstation for Ec2 {
    async fn find_workstation(&self, case: &CaseId) -> Result<Option<WorkstationInfo>, StepError> {
        let context = format!("ec2:DescribeInstances for the workstation of {case}");
        let mut pages = self
            .client
            .describe_instances()
            .filters(filter(&format!("tag:{CASE_TAG}"), [case.as_str()]))
            .filters(filter(&format!("tag:{ROLE_TAG}"), [WORKSTATION]))
            .filters(filter("instance-state-name", LIVE_STATES))
            .into_paginator()
            .send();
        let mut newest: Option<(Option<i64>, WorkstationInfo)> = None;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            for instance in page.reservations().iter().flat_map(|r| r.instances()) {
                let launched = instance.launch_time().map(|t| t.secs());
                let info = workstation_info(&context, instance)?;
                if newest.as_ref().is_none_or(|(t, _)| launched > *t) {
                    newest = Some((launched, info));
                }
            }
        }
        Ok(newest.map(|(_, info)| info))
    }

    async fn launch_workstation(
        &self,
        spec: &WorkstationSpec,
    ) -> Result<WorkstationInfo, StepError> {
        let context = format!("ec2:RunInstances workstation for {}", spec.case);
        if spec.client_token.is_empty() || spec.client_token.len() > 64 {
            return Err(invalid(format!(
                "{context}: the client token must be 1-64 characters"
            )));
        }
        let mut tags = spec.tags.clone();
        tags.insert(CASE_TAG.to_owned(), spec.case.to_string());
        tags.insert(ROLE_TAG.to_owned(), WORKSTATION.to_owned());
        let out = self
            .client
            .run_instances()
            .image_id(spec.image.as_str())
            .instance_type(spec.instance_type.as_str().into())
            .min_count(1)
            .max_count(1)
            .subnet_id(spec.subnet.as_str())
            .security_group_ids(spec.security_group.as_str())
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(&spec.instance_profile)
                    .build(),
            )
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .build(),
            )
            .client_token(&spec.client_token)
            .tag_specifications(tag_spec(ResourceType::Instance, &tags))
            .tag_specifications(tag_spec(ResourceType::Volume, &tags))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        let instance = out
            .instances()
            .first()
            .ok_or_else(|| crate::error::missing(&context, "instance"))?;
        workstation_info(&context, instance)
    }

    async fn find_case_volumes(&self, case: &CaseId) -> Result<Vec<VolumeInfo>, StepError> {
        let context = format!("ec2:DescribeVolumes for {case}");
        let mut pages = self
            .client
            .describe_volumes()
            .filters(filter(&format!("tag:{CASE_TAG}"), [case.as_str()]))
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            for volume in page.volumes() {
                found.push(volume_info(&context, volume)?);
            }
        }
        Ok(found)
    }

    async fn create_evidence_volume(
        &self,
        snapshot: &SnapshotId,
        availability_zone: &str,
        client_token: &str,
        tags: &Tags,
    ) -> Result<VolumeId, StepError> {
        let context = format!("ec2:CreateVolume from {snapshot} in {availability_zone:?}");
        require_case_tag(tags, &context)?;
        if client_token.is_empty() || client_token.len() > 64 {
            return Err(invalid(format!(
                "{context}: the client token must be 1-64 characters"
            )));
        }
        let out = self
            .client
            .create_volume()
            .snapshot_id(snapshot.as_str())
            .availability_zone(availability_zone)
            .volume_type(VolumeType::Gp3)
            .client_token(client_token)
            .tag_specifications(tag_spec(ResourceType::Volume, tags))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        parse_id(&context, "volume id", out.volume_id(), VolumeId::parse)
    }

    /// A volume already attached to this instance at this device (a retried step) is success.
    async fn attach_volume(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        device: &str,
    ) -> Result<(), StepError> {
        let context = format!("ec2:AttachVolume {volume} to {instance} at {device:?}");
        let sent = self
            .client
            .attach_volume()
            .volume_id(volume.as_str())
            .instance_id(instance.as_str())
            .device(device)
            .send()
            .await;
        let error = match sent {
            Ok(_) => return Ok(()),
            Err(e) => sdk_error(&context, e),
        };
        if error.name != ErrorName::Conflict {
            return Err(error);
        }
        let out = self
            .client
            .describe_volumes()
            .volume_ids(volume.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        let already = out
            .volumes()
            .iter()
            .flat_map(|v| v.attachments())
            .any(|a| a.instance_id() == Some(instance.as_str()) && a.device() == Some(device));
        if already { Ok(()) } else { Err(error) }
    }

    async fn terminate_workstation(&self, instance: &InstanceId) -> Result<(), StepError> {
        let context = format!("ec2:TerminateInstances {instance}");
        match self
            .client
            .terminate_instances()
            .instance_ids(instance.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match sdk_error(&context, e) {
                // Terminated instances disappear from EC2 after a while: gone is terminated.
                gone if gone.name == ErrorName::NotFound => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn delete_volume(&self, volume: &VolumeId) -> Result<(), StepError> {
        let context = format!("ec2:DeleteVolume {volume}");
        match self
            .client
            .delete_volume()
            .volume_id(volume.as_str())
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
}
