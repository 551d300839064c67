//! `custody run … --aws` end to end: the real `custody` binary runs the forensic-triage state
//! machine against moto (over TLS, with the SSM Agent stand-in of tests/support/moto_ssm_agent.py
//! running custody's real documents), for an EC2 instance target. The world is seeded and the
//! effects are checked through the public APIs with boto3 (tests/support/aws_world.py), so this
//! binary links no AWS SDK of its own.
//!
//! Also the per-step IAM drift check: every SDK request a step made (recorded by custody-aws's
//! interceptor, per step with `--record-actions`) must be an action that step declares, and every
//! declared action must have been exercised by these runs, except the listed exceptions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use custody_testkit::{Moto, repo_root, venv_python};
use serde_json::Value;

/// Declared actions no run here exercises, each with why; checked to still be declared (a stale
/// entry fails the test too).
const NOT_EXERCISED: &[(&str, &str)] = &[];

/// Actions the environment exercises on behalf of every step, granted to every function by the
/// CDK stack (cdk/lib/forensic/step-lambdas.ts) rather than by a step's capabilities.
const ENVIRONMENT_ACTIONS: &[(&str, &str)] = &[(
    "sts:AssumeRole",
    "the responder role in the target account, assumed once per case by AwsEnvironment::target",
)];

/// Asserts that every action each step exercised is one it declares (or an environment action).
fn assert_declared(recorded: &BTreeMap<String, BTreeSet<String>>) {
    let declared = declared();
    for (step, actions) in recorded {
        let allowed = declared
            .get(step)
            .unwrap_or_else(|| panic!("{step:?} is not a step"));
        let undeclared: Vec<&String> = actions
            .difference(allowed)
            .filter(|a| !ENVIRONMENT_ACTIONS.iter().any(|(e, _)| e == a))
            .collect();
        assert!(
            undeclared.is_empty(),
            "step {step} made requests needing {undeclared:?}, which it does not declare"
        );
    }
}

struct World {
    moto: Moto,
    dir: tempfile::TempDir,
    ids: Value,
}

impl World {
    fn seed() -> World {
        let moto = Moto::start_with_agent();
        let dir = tempfile::tempdir().unwrap();
        let out = python(&[
            "seed",
            moto.endpoint(),
            cert(&moto).to_str().unwrap(),
            repo_root()
                .join("tests/fixtures/events/securityhub-isolation-ec2-ssh-bruteforce.json")
                .to_str()
                .unwrap(),
            dir.path().to_str().unwrap(),
        ]);
        let ids = serde_json::from_slice(&out.stdout).unwrap();
        World { moto, dir, ids }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn id(&self, key: &str) -> String {
        self.ids[key].as_str().unwrap().to_owned()
    }

    /// Runs forensic-triage with `event` as execution `name`; (exit code, the --json output).
    fn run(&self, event: &Path, name: &str) -> (i32, Value) {
        let out = Command::new(env!("CARGO_BIN_EXE_custody"))
            .current_dir(repo_root())
            .args(["run", "state-machines/forensic-triage.asl.json", "--aws"])
            .arg("--event")
            .arg(event)
            .args(["--endpoint-url", self.moto.endpoint()])
            .arg("--settings")
            .arg(self.path("settings.json"))
            .args(["--name", name, "--clock", "virtual", "--quiet", "--json"])
            .arg("--state-dir")
            .arg(self.path("state"))
            .arg("--record-actions")
            .arg(self.path(&format!("actions-{name}.json")))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("SSL_CERT_FILE", cert(&self.moto))
            .env("CUSTODY_CASE_TABLE", self.id("table"))
            .env("CUSTODY_TOPIC_ARN", self.id("topicArn"))
            .env("CUSTODY_RESPONDER_ROLE", self.id("responderRole"))
            .env("CUSTODY_RESPONDER_EXTERNAL_ID", self.id("externalId"))
            .env("CUSTODY_OBJECT_LOCK_DAYS", "1")
            .env("CUSTODY_MAX_ATTEMPTS", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "custody printed no JSON ({e}); stdout:\n{stdout}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), json)
    }

    fn inspect(&self, case: &str) -> Value {
        let out = python(&[
            "inspect",
            self.moto.endpoint(),
            cert(&self.moto).to_str().unwrap(),
            self.path("world.json").to_str().unwrap(),
            case,
        ]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn recorded(&self, name: &str) -> BTreeMap<String, BTreeSet<String>> {
        let text = std::fs::read_to_string(self.path(&format!("actions-{name}.json"))).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        serde_json::from_value(v["steps"].clone()).unwrap()
    }
}

fn cert(moto: &Moto) -> PathBuf {
    moto.ca_certificate().unwrap()
}

fn python(args: &[&str]) -> Output {
    let out = Command::new(venv_python())
        .arg(repo_root().join("tests/support/aws_world.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "aws_world.py {}: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Step name → the IAM actions its capabilities declare (`custody iam-policy --all --json`).
fn declared() -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["iam-policy", "--all", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    serde_json::from_value(v["steps"].clone()).unwrap()
}

#[test]
#[ignore = "not yet passing: with head_object's SHA-256 and moto's ListParts fixed, the run now reaches check-memory, which refuses the capture report (Custody.EvidenceMismatch: S3 holds a different part 1 than the host reported), i.e. the report part was uploaded twice with different bytes. Suspected: capture-memory re-sends the document because moto's ListCommands does not answer the step's lookup, and the SSM Agent stand-in runs each SendCommand synchronously. See the issue 5 note."]
fn ec2_triage_against_moto_acquires_isolates_and_reports_and_a_rerun_changes_nothing() {
    let world = World::seed();
    let instance = world.id("instance");
    let event = world.path("event.json");

    let (code, first) = world.run(&event, "triage-1");
    assert_eq!(first["status"], "SUCCEEDED", "{first:#}");
    assert_eq!(code, 0);
    let case_id = first["caseId"].as_str().unwrap().to_owned();
    let after_first = world.inspect(&case_id);

    // The same execution again: every step runs again as the same case, and finds what it made.
    let (code, again) = world.run(&event, "triage-1");
    assert_eq!(again["status"], "SUCCEEDED", "{again:#}");
    assert_eq!(code, 0);
    assert_eq!(again["caseId"].as_str(), Some(case_id.as_str()));
    let fx = world.inspect(&case_id);

    // Memory: the image is in the evidence bucket under Object Lock, with the hash the case
    // records, and it is the host stand-in's image byte for byte.
    let case = &again["case"];
    let memory: Vec<&Value> = case["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "memoryImage")
        .collect();
    assert_eq!(memory.len(), 1, "{:#}", case["evidence"]);
    let image_key = format!("cases/{case_id}/memory/{instance}.lime");
    let image = &fx["objects"][&image_key];
    assert_eq!(image["lockMode"], "GOVERNANCE", "{image:#}");
    assert!(image["retainUntil"].is_string());
    assert_eq!(memory[0]["sha256"], image["sha256"]);
    let host_image = std::fs::read(
        world
            .moto
            .agent_dir()
            .unwrap()
            .join("hosts")
            .join(&instance)
            .join("image.lime"),
    )
    .unwrap();
    assert_eq!(image["bytes"].as_u64(), Some(host_image.len() as u64));

    // Disks: exactly one snapshot per volume, tagged with the case, after two runs.
    let volumes: BTreeSet<&str> = fx["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let snapshots = fx["snapshots"].as_array().unwrap();
    let source: Vec<&Value> = snapshots
        .iter()
        .filter(|s| volumes.contains(s["volume"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(source.len(), volumes.len(), "{snapshots:#?}");
    assert_eq!(
        fx["snapshots"], after_first["snapshots"],
        "a re-run made snapshots"
    );
    for s in &source {
        assert_eq!(s["tags"]["custody:case"].as_str(), Some(case_id.as_str()));
    }

    // Isolation: the instance's groups are the quarantine group only; its role's sessions are
    // revoked by an inline policy.
    let groups = fx["instanceGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let original = world.id("securityGroup");
    assert_ne!(groups[0].as_str(), Some(original.as_str()));
    let quarantine = &fx["securityGroups"][groups[0].as_str().unwrap()];
    assert_eq!(quarantine["ingress"], 0, "{quarantine:#}");
    assert_eq!(quarantine["egress"], 0, "{quarantine:#}");
    let policies = fx["rolePolicies"].as_object().unwrap();
    assert_eq!(policies.len(), 1, "{policies:#?}");
    let policy = policies.values().next().unwrap().to_string();
    assert!(policy.contains("aws:TokenIssueTime"), "{policy}");

    // The case: stored in DynamoDB (read back through the adapter by the CLI and seen raw),
    // with evidence and actions, and the report.
    assert!(fx["caseItems"].as_u64().unwrap() > 1, "{fx:#}");
    assert!(case["actions"].as_array().unwrap().len() >= 2, "{case:#}");
    let report = &fx["objects"][&format!("cases/{case_id}/report.md")];
    assert!(
        report["text"].as_str().unwrap().contains(&case_id),
        "{report:#}"
    );
    let local = world
        .path("state")
        .join("cases")
        .join(&case_id)
        .join("report.md");
    assert_eq!(
        std::fs::read_to_string(local).unwrap(),
        report["text"].as_str().unwrap()
    );

    // IAM drift, per step.
    let declared = declared();
    let mut exercised: BTreeSet<String> = BTreeSet::new();
    let recorded = world.recorded("triage-1");
    assert_declared(&recorded);
    exercised.extend(recorded.into_values().flatten());
    let all_declared: BTreeSet<String> = declared.values().flatten().cloned().collect();
    let excused: BTreeSet<String> = NOT_EXERCISED.iter().map(|(a, _)| (*a).to_owned()).collect();
    let unused: Vec<&String> = all_declared
        .difference(&exercised)
        .filter(|a| !excused.contains(*a))
        .collect();
    assert!(
        unused.is_empty(),
        "declared but never exercised by these runs (and not excused): {unused:?}"
    );
    let stale: Vec<&String> = excused
        .iter()
        .filter(|a| !all_declared.contains(*a) || exercised.contains(*a))
        .collect();
    assert!(stale.is_empty(), "stale exceptions: {stale:?}");
}

#[test]
fn failed_runs_end_with_named_errors_on_the_case_and_steps_call_only_what_they_declare() {
    let world = World::seed();
    let instance = world.id("instance");
    let event = world.path("event.json");
    // A failure: an instance that does not exist ends FAILED with a named error, recorded.
    let ghost = world.path("ghost.json");
    std::fs::write(
        &ghost,
        std::fs::read_to_string(&event)
            .unwrap()
            .replace(&instance, "i-0aaaaaaaaaaaaaaaa"),
    )
    .unwrap();
    let (code, failed) = world.run(&ghost, "ghost-1");
    assert_eq!(code, 1, "{failed:#}");
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.starts_with("Custody."), "{failed:#}");
    if let Some(case) = failed["case"].as_object() {
        assert!(case["failure"].is_object(), "{case:#?}");
    }

    assert_declared(&world.recorded("ghost-1"));

    // A deployment without capture tools: the case exists, and the failure is written to it.
    python(&[
        "remove-tools",
        world.moto.endpoint(),
        cert(&world.moto).to_str().unwrap(),
    ]);
    let (code, failed) = world.run(&event, "no-tools-1");
    assert_eq!(code, 1, "{failed:#}");
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    assert_eq!(failed["error"], "Custody.NotFound", "{failed:#}");
    let case = &failed["case"];
    assert_eq!(case["status"], "failed", "{case:#}");
    assert_eq!(
        case["failure"]["error"]["name"], "Custody.NotFound",
        "{case:#}"
    );
    let case_id = failed["caseId"].as_str().unwrap();
    let fx = world.inspect(case_id);
    assert!(fx["caseItems"].as_u64().unwrap() > 1, "{fx:#}");
    assert_eq!(
        fx["instanceGroups"],
        serde_json::json!([world.id("securityGroup")]),
        "nothing was isolated"
    );
    assert_declared(&world.recorded("no-tools-1"));
}
