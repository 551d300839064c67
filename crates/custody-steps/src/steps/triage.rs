//! `triage`: parse the start input, resolve the subject, apply the guardrail, plan, open the case.

use std::collections::{BTreeMap, BTreeSet};

use custody_core::case::Case;
use custody_core::error::StepError;
use custody_core::id::{CaseId, InstanceId, NodeName, Timestamp};
use custody_core::inventory::{ClusterFacts, InstanceFacts, Inventory, NodeFacts, PodFacts};
use custody_core::plan::{Plan, PlanConfig};
use custody_core::trigger::{CaseRequest, Target};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, cluster, commands, compute};
use crate::ports::{Cluster, CreateOutcome, Environment, PodSelector, TargetPorts};
use crate::target::{InstanceRef, MemoryTargetRef};

const STEP: StepName = StepName::Triage;

/// Every port operation triage may call. All reads, except opening the case.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::CREATE,
    &cluster::CONNECT,
    &cluster::GET_POD,
    &cluster::LIST_PODS,
    &cluster::WORKLOAD_SELECTOR,
    &cluster::GET_NODE,
    &compute::DESCRIBE_INSTANCES,
    &commands::AGENT_STATUS,
];

/// `$$.Execution` as Step Functions passes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionContext {
    /// The execution ARN.
    #[serde(rename = "Id")]
    pub id: String,
    /// The execution name.
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    /// When it started; with the id it determines the case id.
    #[serde(rename = "StartTime")]
    pub start_time: Timestamp,
}

/// Triage's input: the execution's start input and its context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriageInput {
    /// The start input (EventBridge event, GuardDuty finding, ASFF, or a plain request).
    pub event: serde_json::Value,
    /// `$$.Execution`.
    pub execution: ExecutionContext,
}

/// A resource the guardrail (or the planner) refused, as the state machine and the operator see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusalOut {
    /// The resource.
    pub resource: String,
    /// Why.
    pub reason: String,
}

/// Triage's output: the compact plan the state machine iterates over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriageOutput {
    /// The case.
    pub case_id: CaseId,
    /// Whether anything may be acquired at all.
    pub eligible: bool,
    /// Whether isolation was asked for (and anything may be isolated).
    pub isolate: bool,
    /// Per node/instance: capture, pod map, isolation.
    pub memory_targets: Vec<MemoryTargetRef>,
    /// Per instance: snapshots.
    pub disk_targets: Vec<InstanceRef>,
    /// Whether the investigation phase runs.
    pub investigate: bool,
    /// What the guardrail or the planner refused, and why.
    pub refusals: Vec<RefusalOut>,
}

/// Parses the start input, resolves cluster → pods → nodes → instances, reads tags, plans, and
/// opens the case. Touches no target.
///
/// # Idempotency
/// The case id is derived from the execution (`CaseId::for_execution`), so a retried triage of the
/// same execution finds the case it opened and returns the same output from the stored plan,
/// without resolving anything again. `CaseStore::create` is conditional; a lost race returns the
/// winner's case.
///
/// # Guardrail
/// Reads only. The guardrail (`IsTriageRequired`) is applied by the planner; refusals are stored
/// in the case and returned in `refusals`, and refused resources appear in no target list.
///
/// # Errors
/// `Custody.InvalidInput` (the start input, with its JSON path), `Custody.NotFound` (the named
/// instance or cluster does not exist), `Custody.AccessDenied`, `Custody.Throttled`,
/// `Custody.ServiceUnavailable` from the ports.
///
/// # Caveats
/// Pods named in the finding but already gone are not an error: the planner refuses them with a
/// reason. A failure before the case is opened cannot be recorded on a case; `record-failure`
/// derives the same case id from the execution and notifies.
pub async fn triage(input: TriageInput, env: &dyn Environment) -> Result<TriageOutput, StepError> {
    let case_id = CaseId::for_execution(input.execution.start_time, &input.execution.id);
    let span = tracing::info_span!("triage", case = %case_id);
    async move {
        let cases = env.forensic().cases.clone();
        if let Some(existing) = cases.load(&case_id).await? {
            tracing::info!("case already opened by an earlier attempt");
            return output_from_case(&existing);
        }
        let request = custody_core::trigger::parse_start(&input.event, &env.settings().trigger)
            .map_err(|e| {
                StepError::invalid_input(format!("start input at {}: {}", e.path, e.reason))
            })?;
        let (account, region) = request.target.account_region();
        let ports = env.target(account, region, &case_id).await?;
        let inventory = resolve(&request, &ports, &case_id).await?;
        let settings = env.settings();
        let config = PlanConfig {
            isolate_nacl: settings.isolate_subnet_nacl,
            revoke_sessions: settings.revoke_role_sessions,
        };
        let plan = custody_core::plan::plan(&request, &inventory, &config);
        let now = env.clock().now();
        let case = Case::open(
            case_id.clone(),
            input.execution.id.clone(),
            request,
            inventory,
            plan,
            now,
        );
        let case = match cases.create(&case).await? {
            CreateOutcome::Created => case,
            CreateOutcome::AlreadyExists(winner) => *winner,
        };
        tracing::info!(eligible = case_plan(&case)?.eligible(), "case opened");
        output_from_case(&case)
    }
    .instrument(span)
    .await
}

fn case_plan(case: &Case) -> Result<&Plan, StepError> {
    case.plan.as_ref().ok_or_else(|| {
        StepError::internal(format!(
            "case {} has no plan although triage opened it",
            case.id
        ))
    })
}

/// The output, computed from a stored case (so a retry returns exactly what the first run did).
pub(crate) fn output_from_case(case: &Case) -> Result<TriageOutput, StepError> {
    let plan = case_plan(case)?;
    let (account, region) = case.request.target.account_region();
    let node_of = |id: &InstanceId| -> Option<NodeName> {
        case.inventory
            .instances
            .iter()
            .find(|i| &i.instance_id == id)
            .and_then(|i| i.node.clone())
    };
    let isolated: BTreeSet<&InstanceId> = plan.isolation.iter().map(|t| &t.instance_id).collect();
    let mut memory: BTreeMap<InstanceId, MemoryTargetRef> = BTreeMap::new();
    for target in &plan.memory {
        memory.insert(
            target.instance_id.clone(),
            MemoryTargetRef {
                account: account.clone(),
                region: region.clone(),
                instance_id: target.instance_id.clone(),
                node: target.node.clone(),
                capture: true,
                map_pods: !target.pods.is_empty() && target.ssm_managed,
                isolate: isolated.contains(&target.instance_id),
            },
        );
    }
    for target in &plan.isolation {
        memory
            .entry(target.instance_id.clone())
            .or_insert_with(|| MemoryTargetRef {
                account: account.clone(),
                region: region.clone(),
                instance_id: target.instance_id.clone(),
                node: node_of(&target.instance_id),
                capture: false,
                map_pods: false,
                isolate: true,
            });
    }
    let disk_targets: Vec<InstanceRef> = plan
        .disk
        .iter()
        .map(|t| InstanceRef {
            account: account.clone(),
            region: region.clone(),
            instance_id: t.instance_id.clone(),
            node: node_of(&t.instance_id),
        })
        .collect();
    let eligible = plan.eligible();
    Ok(TriageOutput {
        case_id: case.id.clone(),
        eligible,
        isolate: eligible && !plan.isolation.is_empty(),
        investigate: eligible && (!disk_targets.is_empty() || !plan.memory.is_empty()),
        memory_targets: memory.into_values().collect(),
        disk_targets,
        refusals: plan
            .refusals
            .iter()
            .map(|r| RefusalOut {
                resource: r.resource.clone(),
                reason: r.reason.to_string(),
            })
            .collect(),
    })
}

/// Resolves the request's target to an inventory: cluster → pods → nodes → instances.
async fn resolve(
    request: &CaseRequest,
    ports: &TargetPorts,
    case: &CaseId,
) -> Result<Inventory, StepError> {
    match &request.target {
        Target::Instance { instance_id, .. } => {
            let instances = describe(ports, std::slice::from_ref(instance_id)).await?;
            Ok(Inventory {
                instances,
                cluster: None,
            })
        }
        Target::Pods {
            account,
            region,
            cluster,
            ..
        }
        | Target::Workload {
            account,
            region,
            cluster,
            ..
        }
        | Target::ServiceAccount {
            account,
            region,
            cluster,
            ..
        }
        | Target::Node {
            account,
            region,
            cluster,
            ..
        }
        | Target::Cluster {
            account,
            region,
            cluster,
        } => {
            let (info, api) = ports
                .clusters
                .connect(account, region, cluster, case)
                .await?;
            let pods = find_pods(&request.target, api.as_ref()).await?;
            let mut node_names: BTreeSet<NodeName> =
                pods.iter().filter_map(|p| p.node.clone()).collect();
            if let Target::Node { node, .. } = &request.target {
                node_names.insert(node.clone());
            }
            let mut nodes: Vec<NodeFacts> = Vec::new();
            for name in &node_names {
                if let Some(node) = api.get_node(name).await? {
                    nodes.push(node);
                }
            }
            let ids: Vec<InstanceId> = nodes.iter().filter_map(|n| n.instance_id.clone()).collect();
            let mut instances = if ids.is_empty() {
                Vec::new()
            } else {
                describe(ports, &ids).await?
            };
            for instance in &mut instances {
                instance.node = nodes
                    .iter()
                    .find(|n| n.instance_id.as_ref() == Some(&instance.instance_id))
                    .map(|n| n.name.clone());
            }
            Ok(Inventory {
                instances,
                cluster: Some(ClusterFacts {
                    name: info.name,
                    arn: Some(info.arn),
                    tags: info.tags,
                    nodes,
                    pods,
                }),
            })
        }
    }
}

/// Describes instances and marks which ones SSM can reach.
async fn describe(
    ports: &TargetPorts,
    ids: &[InstanceId],
) -> Result<Vec<InstanceFacts>, StepError> {
    let mut instances = ports.compute.describe_instances(ids).await?;
    let statuses = ports.commands.agent_status(ids).await?;
    for instance in &mut instances {
        instance.ssm_managed = statuses
            .iter()
            .any(|s| s.instance_id == instance.instance_id && s.online);
    }
    Ok(instances)
}

/// The pods the request is about.
async fn find_pods(target: &Target, api: &dyn Cluster) -> Result<Vec<PodFacts>, StepError> {
    match target {
        Target::Pods {
            namespace, pods, ..
        } => {
            let mut found = Vec::new();
            for pod in pods {
                if let Some(facts) = api.get_pod(namespace, pod).await? {
                    found.push(facts);
                }
            }
            Ok(found)
        }
        Target::Workload {
            namespace,
            kind,
            name,
            ..
        } => {
            match api
                .workload_selector(namespace, kind.as_str(), name)
                .await?
            {
                Some(labels) if !labels.is_empty() => {
                    api.list_pods(Some(namespace), &PodSelector::Labels(labels))
                        .await
                }
                _ => Ok(Vec::new()),
            }
        }
        Target::ServiceAccount {
            namespace, name, ..
        } => {
            api.list_pods(Some(namespace), &PodSelector::ServiceAccount(name.clone()))
                .await
        }
        Target::Node { node, .. } => api.list_pods(None, &PodSelector::Node(node.clone())).await,
        Target::Cluster { .. } | Target::Instance { .. } => Ok(Vec::new()),
    }
}

/// Runs triage from JSON (the dispatcher's entry).
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: TriageInput = crate::support::input::parse(STEP.as_str(), input)?;
    let out = triage(input, env).await?;
    crate::steps::to_json(&out)
}
