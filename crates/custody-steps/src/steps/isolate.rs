//! `isolate`: contain one node/instance and the case's pods on it.
//!
//! Runs per node as soon as that node's memory is captured or skipped (memory first: isolation
//! kills connections). Kubernetes containment (label, deny-all NetworkPolicy, cordon) is in
//! [`isolate_kube`](super::isolate_kube); EC2 containment (termination protection, volumes kept,
//! quarantine security group on every ENI, instance profile detached, role sessions revoked,
//! optional NACL) in [`isolate_ec2`](super::isolate_ec2).

use custody_core::case::ActionKind;
use custody_core::error::{ErrorName, StepError};
use custody_core::id::CaseId;
use custody_core::trigger::Target;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::Environment;
use crate::ports::ops::{cases, cluster, compute, identity, notifier, quarantine};
use crate::steps::{guard, isolate_ec2, isolate_kube, notify};
use crate::support::actions::{self, ActionLog};
use crate::support::{case_update, failure};
use crate::target::InstanceRef;

const STEP: StepName = StepName::Isolate;

/// Every port operation isolate may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &cluster::CONNECT,
    &cluster::GET_POD,
    &cluster::LABEL_POD,
    &cluster::ENSURE_DENY_ALL_POLICY,
    &cluster::ALLOWING_POLICIES,
    &cluster::GET_NODE,
    &cluster::SET_UNSCHEDULABLE,
    &compute::DESCRIBE_INSTANCES,
    &compute::INSTANCES_WITH_PROFILE,
    &compute::TERMINATION_PROTECTION,
    &compute::SET_TERMINATION_PROTECTION,
    &compute::SET_DELETE_ON_TERMINATION,
    &compute::PROFILE_ASSOCIATION,
    &compute::DISASSOCIATE_PROFILE,
    &quarantine::FIND_SECURITY_GROUP,
    &quarantine::CREATE_QUARANTINE_GROUP,
    &quarantine::ENI_GROUPS,
    &quarantine::SET_ENI_GROUPS,
    &quarantine::SUBNET_ACL,
    &quarantine::ENSURE_QUARANTINE_ACL,
    &quarantine::REPLACE_ACL_ASSOCIATION,
    &identity::INSTANCE_PROFILE_ROLES,
    &identity::ROLE_POLICY,
    &identity::PUT_ROLE_POLICY,
    &notifier::PUBLISH,
];

/// Input: the case and the node/instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IsolateInput {
    /// The case.
    pub case_id: CaseId,
    /// The node/instance to contain.
    pub target: InstanceRef,
}

/// Output (only on full success: any failed action fails the step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IsolateOutput {
    /// Always `isolated`.
    pub status: String,
    /// The ids of the actions applied or confirmed.
    pub actions: Vec<String>,
}

/// Contains the node/instance and the case's pods on it, recording each action's prior state.
///
/// # Idempotency
/// Actions have deterministic ids (`label/<ns>/<pod>`, `sg/<eni>`, …). A re-run reuses the prior
/// state recorded by the first run (never re-reads custody's own change as "prior") and re-applies
/// idempotent mutations; the quarantine group is found by name before it is created; the revoke
/// policy is written once per role and case.
///
/// # Guardrail
/// The instance must be an isolation target of the case's plan, and only the actions and pods
/// the plan lists for it are applied. A resource the plan refused
/// (`IsTriageRequired=false` on it or its cluster) is refused with `Custody.Protected` before any
/// port is called; so is an instance the plan does not isolate.
///
/// # Errors
/// `Custody.Protected`; if any action failed, the `Custody.<Reason>` of the first failure, naming
/// every failed action (the others were still applied and recorded).
///
/// # Caveats
/// NetworkPolicies only work where the CNI enforces them, and other policies that allow traffic to
/// a pod keep it reachable (policies are additive): those are named on the case. Revoking role
/// sessions affects every principal using the role; other instances sharing the profile are named.
pub async fn isolate(
    input: IsolateInput,
    env: &dyn Environment,
) -> Result<IsolateOutput, StepError> {
    let span =
        tracing::info_span!("isolate", case = %input.case_id, instance = %input.target.instance_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

async fn body(input: &IsolateInput, env: &dyn Environment) -> Result<IsolateOutput, StepError> {
    let case_id = &input.case_id;
    let instance = &input.target.instance_id;
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    let facts = guard::isolation_target(&case, instance)?.clone();
    let planned = guard::isolation_plan(&case, instance)?;
    let ports = env
        .target(&input.target.account, &input.target.region, case_id)
        .await?;
    let mut log = ActionLog::default();
    let mut notes = Vec::new();

    if let Some(cluster) = guard::case_cluster(&case) {
        // A node finding contains the node (cordon, EC2 quarantine); labelling every pod on it,
        // DaemonSets and the CNI included, would only break the node's networking for nothing.
        let pods: Vec<_> = if matches!(case.request.target, Target::Node { .. }) {
            Vec::new()
        } else {
            guard::pods_on(&case, instance)
                .into_iter()
                .filter(|p| {
                    planned
                        .pods
                        .iter()
                        .any(|r| r.namespace == p.namespace && r.name == p.name)
                })
                .collect()
        };
        let (_, api) = ports
            .clusters
            .connect(
                &input.target.account,
                &input.target.region,
                cluster,
                case_id,
            )
            .await?;
        let kube = isolate_kube::KubeIsolation {
            env,
            api: api.as_ref(),
            case: case_id,
            step: STEP,
            actions: &planned.actions,
        };
        kube.contain_pods(&pods, &mut log, &mut notes).await;
        if let Some(node) = facts.node.as_ref()
            && planned.actions.contains(&ActionKind::CordonNode)
        {
            kube.cordon(node, &mut log).await;
        }
    }
    let ec2 = isolate_ec2::Ec2Isolation {
        env,
        ports: &ports,
        case: case_id,
        step: STEP,
        actions: &planned.actions,
    };
    ec2.contain_instance(&facts, &mut log, &mut notes).await;

    if !notes.is_empty() {
        let now = env.clock().now();
        case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
            for note in &notes {
                c.note(STEP.as_str(), "isolation-caveat", note, now);
            }
            Ok(())
        })
        .await?;
    }
    let summary = format!(
        "isolation of {instance}: {} action(s) applied, {} failed{}",
        log.applied.len(),
        log.failed.len(),
        if notes.is_empty() {
            String::new()
        } else {
            format!("; {}", notes.join("; "))
        }
    );
    notify::send(
        env,
        case_id,
        &format!("custody {case_id}: {instance} isolated"),
        &summary,
    )
    .await?;
    actions::finish(&log, &format!("isolation of {instance}"))?;
    Ok(IsolateOutput {
        status: "isolated".to_owned(),
        actions: log.applied,
    })
}

/// Refusal for a resource the plan protects.
pub(crate) fn protected(resource: &str, reason: &str) -> StepError {
    StepError::new(
        ErrorName::Protected,
        format!("{resource} is protected by the guardrail: {reason}"),
    )
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: IsolateInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&isolate(input, env).await?)
}
