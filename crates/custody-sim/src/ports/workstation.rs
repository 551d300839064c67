//! [`Workstation`] over the forensic account: launched instances boot in virtual time, evidence
//! volumes become available after a delay, and EC2's refusals are kept (a volume attached to a
//! running instance cannot be deleted).

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{CaseId, InstanceId, NetworkInterfaceId, SnapshotId, VolumeId};
use custody_steps::ports::ops::workstation as ops;
use custody_steps::ports::{Tags, VolumeInfo, Workstation, WorkstationInfo, WorkstationSpec};

use super::SimAccount;
use super::snapshots::{instance_missing, snapshot_missing};
use crate::errs;
use crate::model::{Instance, LooseVolume, NetworkInterface};
use crate::time::{plus, reached};
use crate::world::Ctx;

/// Memory of a workstation, in GiB (the analysis AMI's instance types are memory-optimised).
const WORKSTATION_MEMORY_GIB: u64 = 16;

fn ws_info(i: &Instance) -> WorkstationInfo {
    WorkstationInfo {
        instance_id: i.id.clone(),
        state: i.state.clone(),
        availability_zone: i.availability_zone.clone(),
    }
}

fn volume_info(v: &LooseVolume, now: &custody_core::id::Timestamp) -> VolumeInfo {
    let state = if v.attachment.is_some() {
        "in-use"
    } else if reached(&v.available_at, now) {
        "available"
    } else {
        "creating"
    };
    VolumeInfo {
        volume_id: v.id.clone(),
        state: state.into(),
        snapshot_id: v.snapshot_id.clone(),
        attached_to: v.attachment.as_ref().map(|(i, _)| i.clone()),
        device: v.attachment.as_ref().map(|(_, d)| d.clone()),
    }
}

fn tagged_with(tags: &Tags, case: &CaseId) -> bool {
    tags.values().any(|v| v == case.as_str())
}

fn parse_err(e: custody_core::id::IdError) -> StepError {
    errs::invalid("InvalidParameterValue", e.to_string())
}

fn launch(cx: &mut Ctx<'_>, spec: &WorkstationSpec) -> Result<WorkstationInfo, StepError> {
    if let Some(existing) = cx
        .acct()?
        .instances
        .iter()
        .find(|i| i.client_token.as_deref() == Some(spec.client_token.as_str()))
    {
        return Ok(ws_info(existing));
    }
    let id =
        InstanceId::parse(&format!("i-{}", cx.fresh_hex("instance", 17))).map_err(parse_err)?;
    let eni = NetworkInterfaceId::parse(&format!("eni-{}", cx.fresh_hex("eni", 17)))
        .map_err(parse_err)?;
    let running_at = plus(&cx.now, cx.st.latency.instance_boot_seconds);
    let now = cx.now;
    let a = cx.acct()?;
    let Some(vpc) = a
        .vpcs
        .iter()
        .find(|v| v.subnets.iter().any(|s| s.id == spec.subnet))
    else {
        return Err(errs::not_found(
            "InvalidSubnetID.NotFound",
            format!("subnet {} does not exist", spec.subnet),
        ));
    };
    if !vpc
        .security_groups
        .iter()
        .any(|g| g.id == spec.security_group)
    {
        return Err(errs::not_found(
            "InvalidGroup.NotFound",
            format!(
                "security group {} is not in {}",
                spec.security_group, vpc.id
            ),
        ));
    }
    let profile_suffix = format!(":instance-profile/{}", spec.instance_profile);
    let Some(profile) = a
        .instance_profiles
        .iter()
        .find(|p| p.arn.as_str().ends_with(&profile_suffix))
    else {
        return Err(errs::invalid(
            "InvalidParameterValue",
            format!(
                "invalid IAM instance profile name {:?}",
                spec.instance_profile
            ),
        ));
    };
    let az = vpc
        .subnets
        .iter()
        .find(|s| s.id == spec.subnet)
        .map(|s| s.availability_zone.clone())
        .unwrap_or_default();
    let mut tags = spec.tags.clone();
    tags.entry(custody_steps::ports::CASE_TAG.into())
        .or_insert_with(|| spec.case.to_string());
    let inst = Instance {
        id: id.clone(),
        tags,
        state: "pending".into(),
        instance_type: spec.instance_type.clone(),
        availability_zone: az,
        platform: "Amazon Linux".into(),
        kernel_release: "6.1.0-custody-workstation".into(),
        memory_gib: WORKSTATION_MEMORY_GIB,
        ssm_managed: true,
        ssm_ping_status: "Online".into(),
        network_interfaces: vec![NetworkInterface {
            id: eni,
            subnet_id: spec.subnet.clone(),
            private_ip: None,
            security_groups: vec![spec.security_group.clone()],
        }],
        volumes: Vec::new(),
        profile: Some(crate::model::ProfileAttachment {
            association_id: format!("iip-assoc-{}", &id.as_str()[2..]),
            profile_arn: profile.arn.clone(),
        }),
        termination_protection: false,
        launch_time: Some(now),
        client_token: Some(spec.client_token.clone()),
        running_at: Some(running_at),
        terminated_at: None,
    };
    let info = ws_info(&inst);
    a.instances.push(inst);
    Ok(info)
}

#[async_trait]
impl Workstation for SimAccount {
    async fn find_workstation(&self, case: &CaseId) -> Result<Option<WorkstationInfo>, StepError> {
        self.call(&ops::FIND_WORKSTATION, vec![case.to_string()], |cx| {
            Ok(cx
                .acct()?
                .instances
                .iter()
                .filter(|i| i.client_token.is_some() && tagged_with(&i.tags, case))
                .find(|i| i.state != "terminated")
                .map(ws_info))
        })
    }

    async fn launch_workstation(
        &self,
        spec: &WorkstationSpec,
    ) -> Result<WorkstationInfo, StepError> {
        self.call(
            &ops::LAUNCH_WORKSTATION,
            vec![spec.case.to_string()],
            |cx| launch(cx, spec),
        )
    }

    async fn find_case_volumes(&self, case: &CaseId) -> Result<Vec<VolumeInfo>, StepError> {
        self.call(&ops::FIND_CASE_VOLUMES, vec![case.to_string()], |cx| {
            let now = cx.now;
            Ok(cx
                .acct()?
                .volumes
                .iter()
                .filter(|v| !v.deleted && tagged_with(&v.tags, case))
                .map(|v| volume_info(v, &now))
                .collect())
        })
    }

    async fn create_evidence_volume(
        &self,
        snapshot: &SnapshotId,
        availability_zone: &str,
        client_token: &str,
        tags: &Tags,
    ) -> Result<VolumeId, StepError> {
        self.call(
            &ops::CREATE_EVIDENCE_VOLUME,
            vec![snapshot.to_string()],
            |cx| {
                if let Some(v) = cx
                    .acct()?
                    .volumes
                    .iter()
                    .find(|v| v.client_token.as_deref() == Some(client_token))
                {
                    if v.snapshot_id.as_ref() != Some(snapshot) {
                        return Err(errs::conflict(
                            "IdempotentParameterMismatch",
                            format!("client token {client_token:?} was used for another volume"),
                        ));
                    }
                    return Ok(v.id.clone());
                }
                let me = cx.account.clone();
                let snap = cx
                    .st
                    .runtime
                    .snapshots
                    .iter()
                    .find(|s| &s.id == snapshot && (s.owner == me || s.shared_with.contains(&me)))
                    .cloned()
                    .ok_or_else(|| snapshot_missing(snapshot))?;
                if !snap
                    .completes_at
                    .as_ref()
                    .is_some_and(|t| reached(t, &cx.now))
                {
                    return Err(errs::invalid(
                        "IncorrectState",
                        format!("snapshot {snapshot} is not completed yet"),
                    ));
                }
                let id = VolumeId::parse(&format!("vol-{}", cx.fresh_hex("vol", 17)))
                    .map_err(parse_err)?;
                let available_at = plus(&cx.now, cx.st.latency.volume_create_seconds);
                let az_known = cx
                    .acct()?
                    .vpcs
                    .iter()
                    .flat_map(|v| &v.subnets)
                    .any(|s| s.availability_zone == availability_zone);
                if !az_known {
                    return Err(errs::invalid(
                        "InvalidParameterValue",
                        format!(
                            "availability zone {availability_zone:?} has no subnet in the account"
                        ),
                    ));
                }
                cx.acct()?.volumes.push(LooseVolume {
                    id: id.clone(),
                    snapshot_id: Some(snapshot.clone()),
                    size_gib: snap.size_gib,
                    availability_zone: availability_zone.to_string(),
                    tags: tags.clone(),
                    client_token: Some(client_token.to_string()),
                    available_at,
                    attachment: None,
                    deleted: false,
                });
                Ok(id)
            },
        )
    }

    async fn attach_volume(
        &self,
        volume: &VolumeId,
        instance: &InstanceId,
        device: &str,
    ) -> Result<(), StepError> {
        self.call(
            &ops::ATTACH_VOLUME,
            vec![volume.to_string(), instance.to_string()],
            |cx| {
                let now = cx.now;
                let a = cx.acct()?;
                let inst = a
                    .instances
                    .iter()
                    .find(|i| &i.id == instance)
                    .ok_or_else(|| instance_missing(instance))?;
                if inst.state != "running" {
                    return Err(errs::invalid(
                        "IncorrectInstanceState",
                        format!("instance {instance} is {:?}, not running", inst.state),
                    ));
                }
                let az = inst.availability_zone.clone();
                let device_taken = inst.volumes.iter().any(|v| v.device == device)
                    || a.volumes.iter().any(|v| {
                        !v.deleted
                            && v.id != *volume
                            && v.attachment
                                .as_ref()
                                .is_some_and(|(i, d)| i == instance && d == device)
                    });
                let v = a
                    .volumes
                    .iter_mut()
                    .find(|v| &v.id == volume && !v.deleted)
                    .ok_or_else(|| {
                        errs::not_found(
                            "InvalidVolume.NotFound",
                            format!("volume {volume} does not exist"),
                        )
                    })?;
                if let Some((i, d)) = &v.attachment {
                    if i == instance && d == device {
                        return Ok(());
                    }
                    return Err(errs::conflict(
                        "VolumeInUse",
                        format!("volume {volume} is attached to {i}"),
                    ));
                }
                if !reached(&v.available_at, &now) {
                    return Err(errs::invalid(
                        "IncorrectState",
                        format!("volume {volume} is still being created"),
                    ));
                }
                if v.availability_zone != az {
                    return Err(errs::invalid(
                        "InvalidVolume.ZoneMismatch",
                        format!(
                            "volume {volume} is in {:?}, instance {instance} in {az:?}",
                            v.availability_zone
                        ),
                    ));
                }
                if device_taken {
                    return Err(errs::invalid(
                        "InvalidParameterValue",
                        format!("attachment point {device:?} is already in use on {instance}"),
                    ));
                }
                v.attachment = Some((instance.clone(), device.to_string()));
                Ok(())
            },
        )
    }

    async fn terminate_workstation(&self, instance: &InstanceId) -> Result<(), StepError> {
        self.call(
            &ops::TERMINATE_WORKSTATION,
            vec![instance.to_string()],
            |cx| {
                let done = plus(&cx.now, cx.st.latency.instance_terminate_seconds);
                let a = cx.acct()?;
                let inst = a
                    .instances
                    .iter_mut()
                    .find(|i| &i.id == instance)
                    .ok_or_else(|| instance_missing(instance))?;
                if inst.termination_protection {
                    return Err(errs::invalid(
                        "OperationNotPermitted",
                        format!("instance {instance} has termination protection"),
                    ));
                }
                if inst.terminated_at.is_none() {
                    inst.terminated_at = Some(done);
                    inst.state = "shutting-down".into();
                }
                Ok(())
            },
        )
    }

    async fn delete_volume(&self, volume: &VolumeId) -> Result<(), StepError> {
        self.call(&ops::DELETE_VOLUME, vec![volume.to_string()], |cx| {
            let a = cx.acct()?;
            let Some(v) = a.volumes.iter_mut().find(|v| &v.id == volume && !v.deleted) else {
                return Ok(());
            };
            if let Some((i, _)) = &v.attachment {
                return Err(errs::conflict(
                    "VolumeInUse",
                    format!("volume {volume} is attached to {i}"),
                ));
            }
            v.deleted = true;
            Ok(())
        })
    }
}
