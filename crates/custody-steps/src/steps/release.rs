//! `release`: undo a case's isolation from the recorded prior state.

use std::sync::Arc;

use custody_core::case::{Action, ActionStatus, Actor, CaseStatus, PriorState};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::CaseId;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, cluster, compute, identity, notifier, quarantine};
use crate::ports::{Cluster, Environment, TargetPorts};
use crate::steps::{guard, notify};
use crate::support::{case_update, failure};

const STEP: StepName = StepName::Release;

/// Every port operation release may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &cluster::CONNECT,
    &cluster::RESTORE_POD_LABEL,
    &cluster::DELETE_POLICY,
    &cluster::SET_UNSCHEDULABLE,
    &compute::SET_TERMINATION_PROTECTION,
    &compute::SET_DELETE_ON_TERMINATION,
    &compute::PROFILE_ASSOCIATION,
    &compute::ASSOCIATE_PROFILE,
    &quarantine::SET_ENI_GROUPS,
    &quarantine::SUBNET_ACL,
    &quarantine::REPLACE_ACL_ASSOCIATION,
    &identity::PUT_ROLE_POLICY,
    &identity::DELETE_ROLE_POLICY,
    &notifier::PUBLISH,
];

/// Input: who asks, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseInput {
    /// The case.
    pub case_id: CaseId,
    /// The principal asking (recorded as the human actor of every undo).
    pub requested_by: String,
    /// Why.
    pub reason: String,
}

/// Output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseOutput {
    /// Actions undone by this run.
    pub released: Vec<String>,
    /// Always empty on success (a failed undo fails the step).
    pub failed: Vec<String>,
}

/// Undoes every Applied action from its recorded prior state, newest first.
///
/// # Idempotency
/// Undone actions are marked Released and skipped on a re-run; every undo is itself idempotent
/// (restoring a label that is already restored, deleting a missing policy, …).
///
/// # Guardrail
/// Touches only resources the case itself changed, as recorded in its actions.
///
/// # Errors
/// `Custody.InvalidInput` (empty `requestedBy`), `Custody.NotFound` (no such case); if any undo
/// failed, the `Custody.<Reason>` of the first, naming every failed undo (the others are done).
///
/// # Caveats
/// A node is uncordoned only if custody cordoned it (it was schedulable before). A detached
/// instance profile is re-associated only if the instance has none now. The revoke policy is
/// deleted (or its prior document restored): sessions it denied meanwhile stay ended.
pub async fn release(
    input: ReleaseInput,
    env: &dyn Environment,
) -> Result<ReleaseOutput, StepError> {
    let span = tracing::info_span!("release", case = %input.case_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

async fn body(input: &ReleaseInput, env: &dyn Environment) -> Result<ReleaseOutput, StepError> {
    let by = input.requested_by.trim();
    if by.is_empty() {
        return Err(StepError::invalid_input(
            "release input at $.requestedBy: must name the principal asking",
        ));
    }
    let case_id = &input.case_id;
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    let (account, region) = case.request.target.account_region();
    let ports = env.target(account, region, case_id).await?;
    let api = match guard::case_cluster(&case) {
        Some(cluster)
            if case
                .actions
                .iter()
                .any(|a| a.status == ActionStatus::Applied && is_kube(&a.prior)) =>
        {
            Some(
                ports
                    .clusters
                    .connect(account, region, cluster, case_id)
                    .await?
                    .1,
            )
        }
        _ => None,
    };
    let mut released = Vec::new();
    let mut failed: Vec<(String, StepError)> = Vec::new();
    for action in case
        .actions
        .iter()
        .rev()
        .filter(|a| a.status == ActionStatus::Applied)
    {
        match undo(action, case_id, &ports, api.as_ref()).await {
            Ok(()) => {
                let now = env.clock().now();
                let actor = Actor::Human {
                    principal: by.to_owned(),
                };
                let detail = format!("released by {by:?}: {:?}", input.reason);
                case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
                    c.release_action(&action.id, actor.clone(), detail.clone(), now)
                })
                .await?;
                released.push(action.id.clone());
            }
            Err(err) => failed.push((action.id.clone(), err)),
        }
    }
    if failed.is_empty() && !released.is_empty() {
        let now = env.clock().now();
        case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
            if c.status != CaseStatus::Released {
                c.transition(CaseStatus::Released, now)?;
            }
            Ok(())
        })
        .await?;
    }
    let text = format!(
        "Release of case {case_id} requested by {by:?} ({:?}): {} action(s) undone{}",
        input.reason,
        released.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(
                "; FAILED: {}",
                failed
                    .iter()
                    .map(|(id, e)| format!("{id} ({}: {})", e.name.as_str(), e.cause))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    );
    notify::send(
        env,
        case_id,
        &format!("custody {case_id}: released by {by:?}"),
        &text,
    )
    .await?;
    if let Some((_, first)) = failed.first() {
        return Err(StepError::new(first.name, text));
    }
    Ok(ReleaseOutput {
        released,
        failed: Vec::new(),
    })
}

fn is_kube(prior: &PriorState) -> bool {
    matches!(
        prior,
        PriorState::PodLabel { .. }
            | PriorState::NetworkPolicyAbsent { .. }
            | PriorState::Unschedulable { .. }
    )
}

fn needs_cluster() -> StepError {
    StepError::new(
        ErrorName::Internal,
        "a Kubernetes action is recorded but the case names no cluster".to_owned(),
    )
}

/// Undoes one action from its prior state.
async fn undo(
    action: &Action,
    case_id: &CaseId,
    ports: &TargetPorts,
    api: Option<&Arc<dyn Cluster>>,
) -> Result<(), StepError> {
    match &action.prior {
        PriorState::PodLabel {
            namespace,
            pod,
            key,
            prior,
        } => {
            let api = api.ok_or_else(needs_cluster)?;
            // custody's label value is always the case id.
            api.restore_pod_label(namespace, pod, key, case_id.as_str(), prior.as_deref())
                .await
        }
        PriorState::NetworkPolicyAbsent { namespace, name } => {
            api.ok_or_else(needs_cluster)?
                .delete_policy(namespace, name)
                .await
        }
        PriorState::Unschedulable { node, prior } => {
            if *prior {
                Ok(())
            } else {
                api.ok_or_else(needs_cluster)?
                    .set_unschedulable(node, false)
                    .await
                    .map(|_| ())
            }
        }
        PriorState::TerminationProtection { instance, prior } => {
            ports
                .compute
                .set_termination_protection(instance, *prior)
                .await
        }
        PriorState::DeleteOnTermination { instance, volumes } => {
            for (device, prior) in volumes {
                ports
                    .compute
                    .set_delete_on_termination(instance, device, *prior)
                    .await?;
            }
            Ok(())
        }
        PriorState::SecurityGroups { eni, groups } => {
            ports.quarantine.set_eni_groups(eni, groups).await
        }
        PriorState::InstanceProfile { instance, profile } => match profile {
            Some(profile) if ports.compute.profile_association(instance).await?.is_none() => {
                ports.compute.associate_profile(instance, profile).await
            }
            _ => Ok(()),
        },
        PriorState::RoleSessions {
            role,
            policy_name,
            prior_document,
            ..
        } => match prior_document {
            Some(document) => {
                ports
                    .identity
                    .put_role_policy(role, policy_name, document)
                    .await
            }
            None => ports.identity.delete_role_policy(role, policy_name).await,
        },
        PriorState::NetworkAcl { subnet, acl } => {
            let current = ports.quarantine.subnet_acl(subnet).await?;
            if &current.acl_id != acl {
                ports
                    .quarantine
                    .replace_acl_association(&current.association_id, acl)
                    .await?;
            }
            Ok(())
        }
    }
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: ReleaseInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&release(input, env).await?)
}
