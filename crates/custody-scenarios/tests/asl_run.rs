//! The whole forensic-triage state machine, run by custody-asl with the steps in-process over the
//! simulated world: the ASL's data flow (ResultSelectors, Map items, Choices, Catch) meets the
//! steps' real inputs and outputs.
//!
//! Time: the engine's `VirtualClock` on tokio's paused clock drives the world's clock, so a `Wait`
//! of 30 s is 30 s of virtual time for the snapshots and commands too, and timeouts race
//! correctly against the work.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a fixture that does not load must stop the test"
)]

use std::sync::Arc;

use async_trait::async_trait;
use custody_asl::{
    Clock as _, Definition, ExecutionInfo, ExecutionStatus, Executor, TaskFailure, TaskInvoker,
    TaskRequest, VirtualClock,
};
use custody_core::case::{ActionStatus, CaseStatus, EvidenceKind};
use custody_core::id::CaseId;
use custody_core::id::Timestamp;
use custody_sim::model::Fault;
use custody_sim::{SimClock, World};
use custody_steps::StepName;
use serde_json::{Value, json};

use crate::support::{API_POD_1, API_POD_2, BASTION, Scenario, instance_request, pods_request};

/// `arn:aws:states:::lambda:invoke` with `FunctionName` = the step's placeholder.
struct InProcess(Arc<Scenario>);

#[async_trait]
impl TaskInvoker for InProcess {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        let function = task.input["FunctionName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let step = StepName::ALL
            .iter()
            .copied()
            .find(|s| format!("${{{}}}", s.function_placeholder()) == function)
            .ok_or_else(|| {
                TaskFailure::new(
                    "Lambda.ResourceNotFoundException",
                    format!("no step for {function:?}"),
                )
            })?;
        let payload = task.input["Payload"].clone();
        match custody_steps::run_step(step, payload, &self.0.env).await {
            Ok(out) => Ok(json!({"StatusCode": 200, "Payload": out})),
            Err(err) => Err(TaskFailure::new(err.name.as_str(), err.cause)),
        }
    }
}

/// A scenario whose world follows the engine's virtual clock.
fn scenario(world: &str) -> (Arc<Scenario>, Arc<VirtualClock>) {
    let start = World::from_json(&crate::support::fixture(world))
        .unwrap()
        .now();
    let clock = Arc::new(VirtualClock::starting_at(start.as_offset_date_time()));
    let source = clock.clone();
    let sim_clock = SimClock::driven_by(move || Timestamp::try_from(source.now()).unwrap());
    (Arc::new(Scenario::with_clock(world, sim_clock)), clock)
}

async fn run(
    scenario: Arc<Scenario>,
    clock: Arc<VirtualClock>,
    event: Value,
) -> custody_asl::ExecutionOutcome {
    let path = format!(
        "{}/../../state-machines/forensic-triage.asl.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let definition: Definition = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    Executor::new(Arc::new(definition), Arc::new(InProcess(scenario)), clock)
        .run(
            event,
            ExecutionInfo::for_machine("custody-forensic-triage", "asl-scenario"),
        )
        .await
        .unwrap()
}

fn case_id(scenario: &Scenario) -> CaseId {
    let cases = scenario.world.snapshot_state().runtime.cases;
    assert_eq!(cases.len(), 1);
    cases.keys().next().unwrap().parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_state_machine_runs_a_whole_isolation_case() {
    let (scenario, clock) = scenario("eks-three-nodes");
    let outcome = run(
        scenario.clone(),
        clock,
        pods_request(&[API_POD_1, API_POD_2], true),
    )
    .await;
    assert_eq!(
        outcome.status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        outcome.error,
        outcome.cause
    );
    let case = scenario.case(&case_id(&scenario)).await;
    assert_eq!(case.status, CaseStatus::Completed);
    for kind in [
        EvidenceKind::MemoryImage,
        EvidenceKind::PodPidMap,
        EvidenceKind::EbsSnapshot,
        EvidenceKind::InvestigationOutput,
    ] {
        assert!(
            case.evidence.iter().any(|e| e.kind == kind),
            "{kind:?} missing"
        );
    }
    assert!(
        !case.actions.is_empty()
            && case
                .actions
                .iter()
                .all(|a| a.status == ActionStatus::Applied)
    );
    let report = &outcome.output.unwrap()["report"];
    assert!(
        report["reportLocation"]
            .as_str()
            .unwrap()
            .ends_with("/report.md"),
        "{report}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_state_machine_skips_a_protected_instance() {
    let (scenario, clock) = scenario("ec2-protected-instance");
    let outcome = run(scenario.clone(), clock, instance_request(BASTION, true)).await;
    assert_eq!(
        outcome.status,
        ExecutionStatus::Succeeded,
        "{:?} {:?}",
        outcome.error,
        outcome.cause
    );
    assert_eq!(
        scenario.case(&case_id(&scenario)).await.status,
        CaseStatus::Skipped
    );
    assert!(scenario.mutations_on(BASTION).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failure_goes_through_record_failure_and_fails_the_execution() {
    let (scenario, clock) = scenario("ec2-single");
    scenario.world.modify(|st| {
        st.faults.push(Fault::Deny {
            operation: "set_eni_groups".into(),
            resource: None,
        })
    });
    let outcome = run(scenario.clone(), clock, instance_request(BASTION, true)).await;
    assert_eq!(outcome.status, ExecutionStatus::Failed);
    assert_eq!(
        outcome.error.as_deref(),
        Some("Custody.AccessDenied"),
        "{:?}",
        outcome.cause
    );
    let case = scenario.case(&case_id(&scenario)).await;
    assert_eq!(case.status, CaseStatus::Failed);
    assert!(case.failure.is_some());
    // No workstation is left behind and the responders were told.
    let state = scenario.world.snapshot_state();
    assert!(
        !serde_json::to_string(&state.accounts)
            .unwrap()
            .contains("\"state\":\"running\",\"instanceType\":\"r5.xlarge\"")
    );
}
