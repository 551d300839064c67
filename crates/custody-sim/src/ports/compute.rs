//! [`Compute`] over the world's instances.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{Arn, InstanceId};
use custody_core::inventory::InstanceFacts;
use custody_steps::ports::ops::compute as ops;
use custody_steps::ports::{Compute, ProfileAssociation};

use super::SimAccount;
use super::snapshots::instance_missing;
use crate::errs;
use crate::model::{Account, Instance};
use crate::world::Ctx;

fn instance_mut<'a>(a: &'a mut Account, id: &InstanceId) -> Result<&'a mut Instance, StepError> {
    a.instances
        .iter_mut()
        .find(|i| &i.id == id)
        .ok_or_else(|| instance_missing(id))
}

fn facts(cx: &mut Ctx<'_>, id: &InstanceId) -> Result<InstanceFacts, StepError> {
    let a = cx.acct()?;
    let inst = a
        .instances
        .iter()
        .find(|i| &i.id == id)
        .ok_or_else(|| instance_missing(id))?;
    Ok(crate::ports::facts::instance_facts(a, inst))
}

#[async_trait]
impl Compute for SimAccount {
    async fn describe_instances(
        &self,
        ids: &[InstanceId],
    ) -> Result<Vec<InstanceFacts>, StepError> {
        self.call(
            &ops::DESCRIBE_INSTANCES,
            ids.iter().map(ToString::to_string).collect(),
            |cx| ids.iter().map(|id| facts(cx, id)).collect(),
        )
    }

    async fn instances_with_profile(&self, profile: &Arn) -> Result<Vec<InstanceId>, StepError> {
        self.call(
            &ops::INSTANCES_WITH_PROFILE,
            vec![profile.to_string()],
            |cx| {
                Ok(cx
                    .acct()?
                    .instances
                    .iter()
                    .filter(|i| i.state != "terminated")
                    .filter(|i| {
                        i.profile
                            .as_ref()
                            .is_some_and(|p| &p.profile_arn == profile)
                    })
                    .map(|i| i.id.clone())
                    .collect())
            },
        )
    }

    async fn termination_protection(&self, instance: &InstanceId) -> Result<bool, StepError> {
        self.call(
            &ops::TERMINATION_PROTECTION,
            vec![instance.to_string()],
            |cx| Ok(instance_mut(cx.acct()?, instance)?.termination_protection),
        )
    }

    async fn set_termination_protection(
        &self,
        instance: &InstanceId,
        enabled: bool,
    ) -> Result<(), StepError> {
        self.call(
            &ops::SET_TERMINATION_PROTECTION,
            vec![instance.to_string()],
            |cx| {
                instance_mut(cx.acct()?, instance)?.termination_protection = enabled;
                Ok(())
            },
        )
    }

    async fn set_delete_on_termination(
        &self,
        instance: &InstanceId,
        device: &str,
        delete: bool,
    ) -> Result<(), StepError> {
        self.call(
            &ops::SET_DELETE_ON_TERMINATION,
            vec![instance.to_string()],
            |cx| {
                let inst = instance_mut(cx.acct()?, instance)?;
                let vol = inst
                    .volumes
                    .iter_mut()
                    .find(|v| v.device == device)
                    .ok_or_else(|| {
                        errs::invalid(
                            "InvalidInstanceAttributeValue",
                            format!("no block device {device:?} is mapped on {instance}"),
                        )
                    })?;
                vol.delete_on_termination = delete;
                Ok(())
            },
        )
    }

    async fn profile_association(
        &self,
        instance: &InstanceId,
    ) -> Result<Option<ProfileAssociation>, StepError> {
        self.call(
            &ops::PROFILE_ASSOCIATION,
            vec![instance.to_string()],
            |cx| {
                Ok(instance_mut(cx.acct()?, instance)?
                    .profile
                    .as_ref()
                    .map(|p| ProfileAssociation {
                        association_id: p.association_id.clone(),
                        profile_arn: p.profile_arn.clone(),
                    }))
            },
        )
    }

    async fn disassociate_profile(&self, association_id: &str) -> Result<(), StepError> {
        self.call(
            &ops::DISASSOCIATE_PROFILE,
            vec![association_id.to_string()],
            |cx| {
                let a = cx.acct()?;
                let inst = a
                    .instances
                    .iter_mut()
                    .find(|i| {
                        i.profile
                            .as_ref()
                            .is_some_and(|p| p.association_id == association_id)
                    })
                    .ok_or_else(|| {
                        errs::not_found(
                            "InvalidAssociationID.NotFound",
                            format!("association {association_id:?} does not exist"),
                        )
                    })?;
                inst.profile = None;
                Ok(())
            },
        )
    }

    async fn associate_profile(
        &self,
        instance: &InstanceId,
        profile: &Arn,
    ) -> Result<(), StepError> {
        self.call(&ops::ASSOCIATE_PROFILE, vec![instance.to_string()], |cx| {
            let hex = cx.fresh_hex("iip-assoc", 17);
            let a = cx.acct()?;
            if !a.instance_profiles.iter().any(|p| &p.arn == profile) {
                return Err(errs::invalid(
                    "InvalidParameterValue",
                    format!("instance profile {profile} does not exist"),
                ));
            }
            let inst = instance_mut(a, instance)?;
            match &inst.profile {
                Some(p) if &p.profile_arn == profile => Ok(()),
                Some(p) => Err(errs::conflict(
                    "IncorrectState",
                    format!(
                        "instance {instance} already has profile {} associated",
                        p.profile_arn
                    ),
                )),
                None => {
                    inst.profile = Some(crate::model::ProfileAttachment {
                        association_id: format!("iip-assoc-{hex}"),
                        profile_arn: profile.clone(),
                    });
                    Ok(())
                }
            }
        })
    }
}
