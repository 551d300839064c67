//! The guardrail as the steps apply it: every mutating step checks the case's plan first.
//!
//! The plan (made by custody-core at triage, stored in the case) is the only authority on what
//! may be touched. The state machine's data is not trusted for this: a step asked to act on a
//! resource the plan refused answers `Custody.Protected` before calling any port.

use custody_core::case::Case;
use custody_core::error::StepError;
use custody_core::id::{ClusterName, InstanceId};
use custody_core::inventory::{InstanceFacts, PodFacts};
use custody_core::plan::{IsolationTarget, Plan};

use crate::steps::isolate::protected;

fn plan(case: &Case) -> Result<&Plan, StepError> {
    case.plan
        .as_ref()
        .ok_or_else(|| StepError::internal(format!("case {} has no plan", case.id)))
}

/// Refuses with `Custody.Protected` when the plan refused `instance` (or its node); otherwise
/// `Custody.InvalidInput` naming the phase the instance is not planned for.
fn not_planned(case: &Case, instance: &InstanceId, phase: &str) -> StepError {
    let plan = case.plan.as_ref();
    let facts = instance_facts(case, instance);
    let refusal = plan.and_then(|p| {
        p.refusals.iter().find(|r| {
            r.resource == instance.as_str()
                || facts
                    .and_then(|f| f.node.as_ref())
                    .is_some_and(|n| r.resource == n.as_str())
        })
    });
    match refusal {
        Some(r) => protected(&format!("instance {instance}"), &r.reason.to_string()),
        None => StepError::invalid_input(format!(
            "instance {instance} is not a {phase} target of case {}",
            case.id
        )),
    }
}

/// What triage learnt about an instance.
pub(crate) fn instance_facts<'c>(
    case: &'c Case,
    instance: &InstanceId,
) -> Option<&'c InstanceFacts> {
    case.inventory
        .instances
        .iter()
        .find(|i| &i.instance_id == instance)
}

fn facts_or_error<'c>(
    case: &'c Case,
    instance: &InstanceId,
) -> Result<&'c InstanceFacts, StepError> {
    instance_facts(case, instance).ok_or_else(|| {
        StepError::internal(format!(
            "instance {instance} is planned in case {} but missing from its inventory",
            case.id
        ))
    })
}

/// The instance, if the plan captures its memory.
pub(crate) fn memory_target<'c>(
    case: &'c Case,
    instance: &InstanceId,
) -> Result<&'c InstanceFacts, StepError> {
    if !plan(case)?
        .memory
        .iter()
        .any(|t| &t.instance_id == instance)
    {
        return Err(not_planned(case, instance, "memory"));
    }
    facts_or_error(case, instance)
}

/// The instance, if the plan snapshots its disks.
pub(crate) fn disk_target<'c>(
    case: &'c Case,
    instance: &InstanceId,
) -> Result<&'c InstanceFacts, StepError> {
    if !plan(case)?.disk.iter().any(|t| &t.instance_id == instance) {
        return Err(not_planned(case, instance, "disk"));
    }
    facts_or_error(case, instance)
}

/// The instance, if the plan isolates it.
pub(crate) fn isolation_target<'c>(
    case: &'c Case,
    instance: &InstanceId,
) -> Result<&'c InstanceFacts, StepError> {
    if !plan(case)?
        .isolation
        .iter()
        .any(|t| &t.instance_id == instance)
    {
        return Err(not_planned(case, instance, "isolation"));
    }
    facts_or_error(case, instance)
}

/// The plan's isolation entry for the instance (its actions and pods).
pub(crate) fn isolation_plan<'c>(
    case: &'c Case,
    instance: &InstanceId,
) -> Result<&'c IsolationTarget, StepError> {
    plan(case)?
        .isolation
        .iter()
        .find(|t| &t.instance_id == instance)
        .ok_or_else(|| not_planned(case, instance, "isolation"))
}

/// The case's pods scheduled on the node backed by `instance`.
pub(crate) fn pods_on(case: &Case, instance: &InstanceId) -> Vec<PodFacts> {
    let Some(node) = instance_facts(case, instance).and_then(|f| f.node.as_ref()) else {
        return Vec::new();
    };
    case.inventory
        .cluster
        .as_ref()
        .map(|c| {
            c.pods
                .iter()
                .filter(|p| p.node.as_ref() == Some(node))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The case's cluster, for EKS subjects.
pub(crate) fn case_cluster(case: &Case) -> Option<&ClusterName> {
    case.request.target.cluster()
}
