//! The driver: plays the state machine's part (Map iterations, Wait loops) over a simulated world,
//! calling the real step handlers through `run_step`, the same entry the Lambda bootstrap and the
//! CLI use.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test driver: a broken fixture or a failed step must stop the test loudly"
)]

use std::time::Duration;

use custody_core::case::Case;
use custody_core::error::{ErrorName, StepError};
use custody_core::id::CaseId;
use custody_sim::{CallRecord, SimEnvironment, World};
use custody_steps::StepName;
use custody_steps::ports::Environment;
use serde_json::{Value, json};

/// One step invocation: the step, its input, its result.
pub type Invocation = (StepName, Value, Result<Value, StepError>);

/// A world and the environment over it.
pub struct Scenario {
    pub world: World,
    pub env: SimEnvironment,
    /// Every step invocation made by the driver, with its input and result.
    pub log: std::sync::Mutex<Vec<Invocation>>,
    /// Invoke every step twice in a row with the same input (a retried Lambda).
    pub double: bool,
}

/// What a whole run produced.
pub struct CaseRun {
    pub case_id: CaseId,
    pub triage: Value,
    /// The first failure, if a step failed (the run stops there, as the state machine would
    /// after record-failure).
    pub failure: Option<(StepName, StepError)>,
}

pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/worlds/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A plain request against pods of prod-payments.
pub fn pods_request(pods: &[&str], isolate: bool) -> Value {
    json!({
        "target": {"cluster": "prod-payments", "namespace": "payments", "pods": pods},
        "account": "111122223333",
        "region": "us-east-1",
        "isolate": isolate,
        "requestedBy": "arn:aws:iam::111122223333:user/alice",
        "reason": "scenario test"
    })
}

/// A plain request against one instance.
pub fn instance_request(instance: &str, isolate: bool) -> Value {
    json!({
        "target": {"instanceId": instance},
        "account": "111122223333",
        "region": "us-east-1",
        "isolate": isolate,
        "requestedBy": "arn:aws:iam::111122223333:user/alice",
        "reason": "scenario test"
    })
}

pub const API_POD_1: &str = "payments-api-7d9f8b6c5d-x2k4q";
pub const API_POD_2: &str = "payments-api-7d9f8b6c5d-m8n3z";
pub const NODE_1: &str = "i-0abc1230000000001";
pub const NODE_2: &str = "i-0abc1230000000002";
pub const NODE_3: &str = "i-0abc1230000000003";
pub const BASTION: &str = "i-0123456789abcdef0";
pub const BASTION_2: &str = "i-0123456789abcdef1";

impl Scenario {
    pub fn new(world: &str) -> Scenario {
        let world = World::from_json(&fixture(world)).expect("world fixture loads");
        Scenario::over(world)
    }

    /// A scenario whose world reads time from `clock` (the ASL engine's virtual clock).
    pub fn with_clock(world: &str, clock: custody_sim::SimClock) -> Scenario {
        let world = World::from_json(&fixture(world))
            .expect("world fixture loads")
            .with_clock(clock);
        Scenario::over(world)
    }

    fn over(world: World) -> Scenario {
        let env = SimEnvironment::new(&world).expect("environment over the world");
        Scenario {
            world,
            env,
            log: std::sync::Mutex::new(Vec::new()),
            double: false,
        }
    }

    /// Every step will be invoked twice in a row; the first result must succeed too.
    pub fn doubled(mut self) -> Scenario {
        self.double = true;
        self
    }

    /// Runs a step, retrying the errors the state machine retries (same names, same back-off:
    /// 2 s doubling, 6 attempts), with virtual time advancing between attempts.
    pub async fn step(&self, step: StepName, input: Value) -> Result<Value, StepError> {
        if self.double {
            let first = self.attempt(step, input.clone()).await;
            let second = self.attempt(step, input).await;
            assert_eq!(
                first.is_ok(),
                second.is_ok(),
                "{step} twice: {first:?} then {second:?}"
            );
            return second;
        }
        self.attempt(step, input).await
    }

    async fn attempt(&self, step: StepName, input: Value) -> Result<Value, StepError> {
        let mut wait = Duration::from_secs(2);
        let mut attempt = 0;
        loop {
            let before = self.world.calls().len();
            let out = custody_steps::run_step(step, input.clone(), &self.env).await;
            self.assert_declared(step, before);
            let retry = matches!(&out, Err(e) if matches!(e.name, ErrorName::Throttled | ErrorName::ServiceUnavailable | ErrorName::StaleCase));
            if !retry || attempt == 6 {
                self.log.lock().unwrap().push((step, input, out.clone()));
                return out;
            }
            attempt += 1;
            self.world.advance(wait);
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    }

    /// `$$.Execution` for a test execution.
    pub fn execution(&self, name: &str) -> Value {
        json!({
            "Id": format!("arn:aws:states:us-east-1:444455556666:execution:custody-forensic-triage:{name}"),
            "Name": name,
            "StartTime": self.world.now().to_string(),
        })
    }

    pub async fn triage(&self, event: Value, execution: &Value) -> Result<Value, StepError> {
        self.step(
            StepName::Triage,
            json!({"event": event, "execution": execution}),
        )
        .await
    }

    /// Calls a check step until it says `done`, advancing virtual time between calls.
    pub async fn poll(
        &self,
        step: StepName,
        input: Value,
        every: Duration,
    ) -> Result<Value, StepError> {
        for _ in 0..2_000 {
            let out = self.step(step, input.clone()).await?;
            if out["done"] == json!(true) {
                return Ok(out);
            }
            self.world.advance(every);
        }
        panic!("{step} never finished");
    }

    /// Runs a whole case the way forensic-triage.asl.json does (sequentially).
    pub async fn run_case(&self, event: Value) -> CaseRun {
        let execution = self.execution("scenario");
        let triage = self
            .triage(event, &execution)
            .await
            .expect("triage succeeds");
        let case_id: CaseId = serde_json::from_value(triage["caseId"].clone()).unwrap();
        let mut run = CaseRun {
            case_id: case_id.clone(),
            triage: triage.clone(),
            failure: None,
        };
        if let Err((step, err)) = self.acquire_and_report(&triage).await {
            self.step(
                StepName::RecordFailure,
                json!({"caseId": case_id, "execution": execution, "error": err.name.as_str(), "cause": err.cause, "state": step.as_str()}),
            )
            .await
            .expect("record-failure succeeds");
            run.failure = Some((step, err));
        }
        run
    }

    async fn acquire_and_report(&self, triage: &Value) -> Result<(), (StepName, StepError)> {
        let case_id = triage["caseId"].clone();
        let at = |step: StepName| move |e: StepError| (step, e);
        if triage["eligible"] == json!(true) {
            for target in triage["memoryTargets"].as_array().unwrap() {
                let item = json!({"caseId": case_id, "target": target});
                let mut memory = Ok(());
                if target["capture"] == json!(true) {
                    memory = self.memory(&item).await;
                }
                if target["isolate"] == json!(true) {
                    self.step(StepName::Isolate, item.clone())
                        .await
                        .map_err(at(StepName::Isolate))?;
                }
                memory?;
            }
            for target in triage["diskTargets"].as_array().unwrap() {
                let item = json!({"caseId": case_id, "target": target});
                let started = self
                    .step(StepName::SnapshotDisks, item.clone())
                    .await
                    .map_err(at(StepName::SnapshotDisks))?;
                let check = json!({"caseId": case_id, "target": target, "snapshotIds": started["snapshotIds"], "deadline": started["deadline"]});
                self.poll(StepName::CheckSnapshots, check, Duration::from_secs(60))
                    .await
                    .map_err(at(StepName::CheckSnapshots))?;
            }
            if triage["investigate"] == json!(true) {
                let input = json!({"caseId": case_id});
                let investigated = async {
                    self.step(StepName::InvestigateStart, input.clone())
                        .await
                        .map_err(at(StepName::InvestigateStart))?;
                    self.poll(
                        StepName::InvestigateCheck,
                        input.clone(),
                        Duration::from_secs(60),
                    )
                    .await
                    .map_err(at(StepName::InvestigateCheck))
                }
                .await;
                self.poll(
                    StepName::InvestigateTeardown,
                    input.clone(),
                    Duration::from_secs(20),
                )
                .await
                .map_err(at(StepName::InvestigateTeardown))?;
                investigated?;
            }
        }
        self.step(StepName::Report, json!({"caseId": case_id}))
            .await
            .map_err(at(StepName::Report))?;
        Ok(())
    }

    async fn memory(&self, item: &Value) -> Result<(), (StepName, StepError)> {
        let at = |step: StepName| move |e: StepError| (step, e);
        let started = self
            .step(StepName::CaptureMemory, item.clone())
            .await
            .map_err(at(StepName::CaptureMemory))?;
        if started["status"] == json!("started") {
            let mut check = item.clone();
            check["commandId"] = started["commandId"].clone();
            check["uploadId"] = started["uploadId"].clone();
            check["deadline"] = started["deadline"].clone();
            self.poll(StepName::CheckMemory, check, Duration::from_secs(30))
                .await
                .map_err(at(StepName::CheckMemory))?;
        }
        if item["target"]["mapPods"] == json!(true) {
            let started = self
                .step(StepName::MapPods, item.clone())
                .await
                .map_err(at(StepName::MapPods))?;
            if started["status"] == json!("started") {
                let mut check = item.clone();
                check["commandId"] = started["commandId"].clone();
                check["deadline"] = started["deadline"].clone();
                self.poll(StepName::CheckPodMap, check, Duration::from_secs(10))
                    .await
                    .map_err(at(StepName::CheckPodMap))?;
            }
        }
        Ok(())
    }

    /// Every port call the step made since `before` is one its `CAPABILITIES` declare: the IAM
    /// policy built from that list would allow exactly what the step does.
    fn assert_declared(&self, step: StepName, before: usize) {
        let declared = step.capabilities();
        for call in self.world.calls().iter().skip(before) {
            assert!(
                declared
                    .iter()
                    .any(|c| c.port == call.capability.port
                        && c.operation == call.capability.operation),
                "{step} called {:?}.{} without declaring it",
                call.capability.port,
                call.capability.operation
            );
        }
    }

    pub async fn case(&self, id: &CaseId) -> Case {
        self.env
            .forensic()
            .cases
            .load(id)
            .await
            .unwrap()
            .expect("case exists")
    }

    /// Mutating calls that concern `resource` (or something that belongs to it).
    pub fn mutations_on(&self, resource: &str) -> Vec<CallRecord> {
        self.world
            .calls()
            .into_iter()
            .filter(|c| c.is_mutation() && c.concerns(resource))
            .collect()
    }
}
