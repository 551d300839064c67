//! EC2 containment of one instance: evidence protection, network quarantine, credentials.

use custody_core::case::{ActionKind, PriorState};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, InstanceId, SecurityGroupId, VpcId};
use custody_core::inventory::InstanceFacts;

use crate::name::StepName;
use crate::ports::{Environment, TargetPorts};
use crate::support::actions::{self, ActionLog, Planned};
use crate::support::tags::case_tags;

/// The quarantine security group of a VPC: one per VPC, found by this name.
pub(crate) fn quarantine_group_name(vpc: &VpcId) -> String {
    format!("custody-quarantine-{vpc}")
}

/// The inline policy that revokes a role's older sessions, one per case.
pub(crate) fn revoke_policy_name(case: &CaseId) -> String {
    format!("custody-revoke-{case}")
}

/// The revoke policy document: deny everything to sessions issued before `now` (the
/// `AWSRevokeOlderSTSSessions` shape), built as JSON, not by string concatenation.
pub(crate) fn revoke_policy_document(now: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CustodyRevokeOlderSessions",
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}}
        }]
    })
    .to_string()
}

/// EC2 containment for one case.
pub(crate) struct Ec2Isolation<'a> {
    /// Where the step runs.
    pub env: &'a dyn Environment,
    /// Ports into the instance's account.
    pub ports: &'a TargetPorts,
    /// The case.
    pub case: &'a CaseId,
    /// The step applying the actions.
    pub step: StepName,
    /// The actions the plan lists for this target.
    pub actions: &'a [ActionKind],
}

impl Ec2Isolation<'_> {
    fn planned(&self, id: String, kind: ActionKind, target: String, detail: String) -> Planned<'_> {
        Planned {
            id,
            kind,
            target,
            detail: Some(detail),
            step: self.step,
            case: self.case,
        }
    }

    /// Every EC2 action, each recorded and applied on its own; failures are logged and the rest
    /// still run.
    pub(crate) async fn contain_instance(
        &self,
        triaged: &InstanceFacts,
        log: &mut ActionLog,
        notes: &mut Vec<String>,
    ) {
        let id = &triaged.instance_id;
        // Live state: the prior state recorded must be what is there now, not at triage time.
        let live = match self
            .ports
            .compute
            .describe_instances(std::slice::from_ref(id))
            .await
        {
            Ok(mut found) if !found.is_empty() => found.remove(0),
            Ok(_) => {
                log.failed_before_record(
                    format!("describe/{id}"),
                    StepError::new(
                        ErrorName::NotFound,
                        format!("instance {id} no longer exists"),
                    ),
                );
                return;
            }
            Err(err) => {
                log.failed_before_record(format!("describe/{id}"), err);
                return;
            }
        };
        let planned = |kind: ActionKind| self.actions.contains(&kind);
        if planned(ActionKind::TerminationProtection) {
            self.termination_protection(id, log).await;
        }
        if planned(ActionKind::PreserveVolumes) {
            self.preserve_volumes(&live, log).await;
        }
        if planned(ActionKind::QuarantineSecurityGroup) {
            self.quarantine_network(&live, log).await;
        }
        if planned(ActionKind::RevokeRoleSessions) {
            self.revoke_sessions(triaged, log, notes).await;
        }
        if planned(ActionKind::InstanceProfile) {
            self.detach_profile(id, log).await;
        }
        if planned(ActionKind::NaclIsolation) && self.env.settings().isolate_subnet_nacl {
            self.nacl(&live, log).await;
        }
    }

    async fn termination_protection(&self, id: &InstanceId, log: &mut ActionLog) {
        let compute = &self.ports.compute;
        let planned = self.planned(
            format!("termination-protection/{id}"),
            ActionKind::TerminationProtection,
            format!("instance {id}"),
            "DisableApiTermination=true".to_owned(),
        );
        actions::apply(
            self.env,
            log,
            planned,
            async || {
                Ok(PriorState::TerminationProtection {
                    instance: id.clone(),
                    prior: compute.termination_protection(id).await?,
                })
            },
            async |_| compute.set_termination_protection(id, true).await,
        )
        .await;
    }

    async fn preserve_volumes(&self, live: &InstanceFacts, log: &mut ActionLog) {
        let id = &live.instance_id;
        let compute = &self.ports.compute;
        let planned = self.planned(
            format!("preserve-volumes/{id}"),
            ActionKind::PreserveVolumes,
            format!("instance {id}"),
            format!(
                "DeleteOnTermination=false on {} volume(s)",
                live.volumes.len()
            ),
        );
        actions::apply(
            self.env,
            log,
            planned,
            async || {
                Ok(PriorState::DeleteOnTermination {
                    instance: id.clone(),
                    volumes: live
                        .volumes
                        .iter()
                        .map(|v| (v.device.clone(), v.delete_on_termination))
                        .collect(),
                })
            },
            async |_| {
                for volume in &live.volumes {
                    compute
                        .set_delete_on_termination(id, &volume.device, false)
                        .await?;
                }
                Ok(())
            },
        )
        .await;
    }

    async fn quarantine_network(&self, live: &InstanceFacts, log: &mut ActionLog) {
        let id = &live.instance_id;
        let Some(vpc) = live.vpc_id.as_ref() else {
            log.failed_before_record(
                format!("sg/{id}"),
                StepError::new(
                    ErrorName::Unsupported,
                    format!(
                        "instance {id} is in no VPC; it cannot be quarantined by security group"
                    ),
                ),
            );
            return;
        };
        let group = match self.quarantine_group(vpc).await {
            Ok(group) => group,
            Err(err) => {
                log.failed_before_record(format!("sg/{vpc}"), err);
                return;
            }
        };
        let quarantine = &self.ports.quarantine;
        for eni in &live.network_interfaces {
            let eni_id = &eni.id;
            let planned = self.planned(
                format!("sg/{eni_id}"),
                ActionKind::QuarantineSecurityGroup,
                format!("network interface {eni_id} of {id}"),
                format!("security groups replaced by {group} (no rules)"),
            );
            actions::apply(
                self.env,
                log,
                planned,
                async || {
                    Ok(PriorState::SecurityGroups {
                        eni: eni_id.clone(),
                        groups: quarantine.eni_groups(eni_id).await?,
                    })
                },
                async |_| {
                    quarantine
                        .set_eni_groups(eni_id, std::slice::from_ref(&group))
                        .await
                },
            )
            .await;
        }
    }

    /// Finds the VPC's quarantine group or creates it (with no rules); a creation race lost to
    /// another node's isolation is resolved by finding the winner's group.
    async fn quarantine_group(&self, vpc: &VpcId) -> Result<SecurityGroupId, StepError> {
        let name = quarantine_group_name(vpc);
        let quarantine = &self.ports.quarantine;
        if let Some(group) = quarantine.find_security_group(vpc, &name).await? {
            return Ok(group);
        }
        let tags = case_tags(self.case, &[("custody:purpose", "quarantine")]);
        match quarantine
            .create_quarantine_group(
                vpc,
                &name,
                "custody quarantine: no inbound or outbound rules",
                &tags,
            )
            .await
        {
            Ok(group) => Ok(group),
            Err(err) if err.name == ErrorName::Conflict => quarantine
                .find_security_group(vpc, &name)
                .await?
                .ok_or_else(|| {
                    StepError::new(
                        ErrorName::Conflict,
                        format!("quarantine group {name:?} in {vpc} exists but cannot be found"),
                    )
                }),
            Err(err) => Err(err),
        }
    }

    async fn revoke_sessions(
        &self,
        triaged: &InstanceFacts,
        log: &mut ActionLog,
        notes: &mut Vec<String>,
    ) {
        if !self.env.settings().revoke_role_sessions {
            return;
        }
        let id = &triaged.instance_id;
        // The profile as triage saw it: a retry after the profile was detached still knows it.
        let Some(profile) = triaged.instance_profile.as_ref() else {
            return;
        };
        let roles = match self.ports.identity.instance_profile_roles(profile).await {
            Ok(roles) => roles,
            Err(err) => {
                log.failed_before_record(format!("revoke/{id}"), err);
                return;
            }
        };
        let shared_with: Vec<InstanceId> =
            match self.ports.compute.instances_with_profile(profile).await {
                Ok(others) => others.into_iter().filter(|o| o != id).collect(),
                Err(err) => {
                    notes.push(format!(
                        "could not list other instances using profile {profile}: {}",
                        err.cause
                    ));
                    Vec::new()
                }
            };
        if !shared_with.is_empty() {
            notes.push(format!(
                "revoking the sessions of profile {profile}'s role(s) also affects {}",
                shared_with
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let name = revoke_policy_name(self.case);
        let identity = &self.ports.identity;
        let now = self.env.clock().now().to_string();
        for role in roles {
            let planned = self.planned(
                format!("revoke/{role}"),
                ActionKind::RevokeRoleSessions,
                format!("role {role}"),
                format!("inline policy {name} denying sessions issued before {now}"),
            );
            let document = revoke_policy_document(&now);
            let shared = shared_with.clone();
            actions::apply(
                self.env,
                log,
                planned,
                async || {
                    Ok(PriorState::RoleSessions {
                        role: role.clone(),
                        policy_name: name.clone(),
                        prior_document: identity.role_policy(&role, &name).await?,
                        shared_with: shared,
                    })
                },
                async |_| {
                    // Written once: a retry keeps the first cut-off time rather than moving it.
                    if identity.role_policy(&role, &name).await?.is_none() {
                        identity.put_role_policy(&role, &name, &document).await?;
                    }
                    Ok(())
                },
            )
            .await;
        }
    }

    async fn detach_profile(&self, id: &InstanceId, log: &mut ActionLog) {
        let compute = &self.ports.compute;
        let association = match compute.profile_association(id).await {
            Ok(association) => association,
            Err(err) => {
                log.failed_before_record(format!("profile/{id}"), err);
                return;
            }
        };
        let planned = self.planned(
            format!("profile/{id}"),
            ActionKind::InstanceProfile,
            format!("instance {id}"),
            "instance profile disassociated".to_owned(),
        );
        let current = association.clone();
        actions::apply(
            self.env,
            log,
            planned,
            async || {
                Ok(PriorState::InstanceProfile {
                    instance: id.clone(),
                    profile: current.map(|a| a.profile_arn),
                })
            },
            async |_| match &association {
                Some(a) => compute.disassociate_profile(&a.association_id).await,
                None => Ok(()),
            },
        )
        .await;
    }

    async fn nacl(&self, live: &InstanceFacts, log: &mut ActionLog) {
        let (Some(subnet), Some(vpc)) = (live.subnet_id.as_ref(), live.vpc_id.as_ref()) else {
            return;
        };
        let quarantine = &self.ports.quarantine;
        let planned = self.planned(
            format!("nacl/{subnet}"),
            ActionKind::NaclIsolation,
            format!("subnet {subnet}"),
            "network ACL replaced by the VPC's deny-all quarantine ACL (affects every instance in the subnet)".to_owned(),
        );
        let tags = case_tags(self.case, &[("custody:purpose", "quarantine")]);
        actions::apply(
            self.env,
            log,
            planned,
            async || {
                Ok(PriorState::NetworkAcl {
                    subnet: subnet.clone(),
                    acl: quarantine.subnet_acl(subnet).await?.acl_id,
                })
            },
            async |_| {
                let acl = quarantine
                    .ensure_quarantine_acl(vpc, &format!("custody-quarantine-{vpc}"), &tags)
                    .await?;
                let current = quarantine.subnet_acl(subnet).await?;
                if current.acl_id != acl {
                    quarantine
                        .replace_acl_association(&current.association_id, &acl)
                        .await?;
                }
                Ok(())
            },
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_document_denies_older_sessions() {
        let doc: serde_json::Value =
            serde_json::from_str(&revoke_policy_document("2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(doc["Statement"][0]["Effect"], "Deny");
        assert_eq!(
            doc["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
            "2026-01-01T00:00:00Z"
        );
    }
}
