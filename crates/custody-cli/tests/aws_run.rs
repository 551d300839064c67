//! `custody run … --aws` end to end: the real `custody` binary runs the forensic-triage state
//! machine against moto (over TLS, with the SSM Agent stand-in of tests/support/moto_ssm_agent.py
//! running custody's real documents), for an EC2 instance target. The world is seeded and the
//! effects are checked through the public APIs with boto3 (tests/support/aws_world.py), so this
//! binary links no AWS SDK of its own.
//!
//! The whole EC2 case: triage (memory through the real capture document, snapshots and their KMS
//! copies, isolation of interfaces, subnet ACL, instance profile and role sessions, the
//! investigation on a workstation, the report and the Security Hub note), the same execution run
//! again (nothing new is made), then release (the instance is as before, the evidence stays).
//!
//! Also the per-step IAM drift check: every SDK request a step made (recorded by custody-aws's
//! interceptor, per step with `--record-actions`) must be an action that step declares, and every
//! action a step declares must have been exercised by that step in these runs, except the listed
//! exceptions, each with its reason.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use custody_testkit::{Moto, repo_root, venv_python};
use serde_json::Value;

/// Any step.
const ANY: &str = "*";

/// Declared actions a step's runs here do not exercise, as (step or [`ANY`], action or [`ANY`],
/// why). Checked per step, and checked to be still declared and still unexercised: a stale entry
/// fails the test too.
const NOT_EXERCISED: &[(&str, &str, &str)] = &[
    (
        ANY,
        "dynamodb:PutItem",
        "no request of its own: IAM authorises each Put inside TransactWriteItems as dynamodb:PutItem",
    ),
    (
        ANY,
        "s3:ListBucket",
        "no request of its own: it makes S3 answer HeadObject/GetObject of a missing key 404, not 403, so absence reads as Custody.NotFound",
    ),
    (
        ANY,
        "eks:DescribeCluster",
        "EKS targets only; this run's target is an EC2 instance (the cluster side is tested over kmock in custody-scenarios)",
    ),
    ("map-pods", ANY, "EKS targets only"),
    ("check-pod-map", ANY, "EKS targets only"),
    (
        "record-failure",
        ANY,
        "runs only when a step fails: failed_runs_end_with_named_errors_on_the_case_and_steps_call_only_what_they_declare runs it and checks recorded ⊆ declared",
    ),
    (
        "capture-memory",
        "s3:AbortMultipartUpload",
        "after an attempt that crashed before sending its command; the adapter is tested in custody-aws's moto binary (evidence.rs)",
    ),
    (
        "capture-memory",
        "sns:Publish",
        "the responders are told when a host's SSM agent is offline; every agent here is online",
    ),
    (
        "check-memory",
        "s3:AbortMultipartUpload",
        "a capture whose command failed; this capture succeeds",
    ),
    (
        "check-snapshots",
        "ec2:ModifySnapshotAttribute",
        "shares a source snapshot with the forensic account when the target is another account; this moto world is one account",
    ),
    (
        "isolate",
        "ec2:RevokeSecurityGroupIngress",
        "removes ingress someone added to an existing quarantine group; a group custody creates has none",
    ),
    (
        "release",
        "iam:PutRolePolicy",
        "puts back a role policy of custody's name that existed before the case; this role had none",
    ),
];

/// Whether `(step, action)` is listed in [`NOT_EXERCISED`].
fn excused(step: &str, action: &str) -> bool {
    NOT_EXERCISED
        .iter()
        .any(|(s, a, _)| (*s == ANY || *s == step) && (*a == ANY || *a == action))
}

/// Asserts that each step exercised every action it declares, except [`NOT_EXERCISED`], and that
/// every exception is still needed.
fn assert_exercised(exercised: &BTreeMap<String, BTreeSet<String>>) {
    let declared = declared();
    let none = BTreeSet::new();
    let mut unused = Vec::new();
    for (step, actions) in &declared {
        let used = exercised.get(step).unwrap_or(&none);
        unused.extend(
            actions
                .difference(used)
                .filter(|a| !excused(step, a))
                .map(|a| format!("{step}: {a}")),
        );
    }
    assert!(
        unused.is_empty(),
        "declared but never exercised by these runs (and not excused): {unused:#?}"
    );
    for (step, action, _) in NOT_EXERCISED {
        let steps: Vec<&String> = declared
            .keys()
            .filter(|s| *step == ANY || s.as_str() == *step)
            .collect();
        assert!(!steps.is_empty(), "stale exception: {step:?} is not a step");
        let applies = steps.iter().any(|s| {
            let used = exercised.get(*s).unwrap_or(&none);
            declared[*s]
                .iter()
                .any(|a| (*action == ANY || a == action) && !used.contains(a))
        });
        assert!(
            applies,
            "stale exception: ({step:?}, {action:?}) is exercised or no longer declared"
        );
    }
}

/// What the environment, not a step's capabilities, sends on a step's behalf: sts:AssumeRole of
/// the responder role, for the steps that act in the target account (the CDK stack grants it to
/// exactly those, cdk/lib/forensic/step-lambdas.ts, AssumeResponderRole).
const ASSUME_RESPONDER: &str = "sts:AssumeRole";

/// Asserts that every action each step exercised is one it declares, or sts:AssumeRole for a step
/// that acts in the target account.
fn assert_declared(recorded: &BTreeMap<String, BTreeSet<String>>) {
    let policies = policies();
    let declared = declared();
    for (step, actions) in recorded {
        let allowed = declared
            .get(step)
            .unwrap_or_else(|| panic!("{step:?} is not a step"));
        let in_target = policies["accounts"][step]["target"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        let undeclared: Vec<&String> = actions
            .difference(allowed)
            .filter(|a| !(in_target && *a == ASSUME_RESPONDER))
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

    /// The file the `attempt`th run of execution `name` records its requests in.
    fn actions_file(&self, name: &str, attempt: u32) -> PathBuf {
        self.path(&format!("actions-{name}-{attempt}.json"))
    }

    /// Runs forensic-triage with `event` as execution `name`; (exit code, the --json output).
    fn run(&self, event: &Path, name: &str) -> (i32, Value) {
        self.run_machine("forensic-triage", event, name)
    }

    /// Runs state-machines/`machine`.asl.json with `input` as execution `name`; (exit code, the
    /// --json output). Each run of a name records its requests in a file of its own.
    fn run_machine(&self, machine: &str, input: &Path, name: &str) -> (i32, Value) {
        let attempt = (1..)
            .find(|n| !self.actions_file(name, *n).exists())
            .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_custody"))
            .current_dir(repo_root())
            .arg("run")
            .arg(format!("state-machines/{machine}.asl.json"))
            .arg("--aws")
            .arg("--event")
            .arg(input)
            .args(["--endpoint-url", self.moto.endpoint()])
            .arg("--settings")
            .arg(self.path("settings.json"))
            .args(["--name", name, "--clock", "virtual", "--quiet", "--json"])
            .arg("--state-dir")
            .arg(self.path("state"))
            .arg("--record-actions")
            .arg(self.actions_file(name, attempt))
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

    /// Step → the actions its requests needed, over every run of execution `name`.
    fn recorded(&self, name: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut all: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for attempt in (1..).take_while(|n| self.actions_file(name, *n).exists()) {
            let text = std::fs::read_to_string(self.actions_file(name, attempt)).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            let steps: BTreeMap<String, BTreeSet<String>> =
                serde_json::from_value(v["steps"].clone()).unwrap();
            for (step, actions) in steps {
                all.entry(step).or_default().extend(actions);
            }
        }
        assert!(!all.is_empty(), "no run of {name:?} recorded anything");
        all
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

/// `custody iam-policy --all --json`: step → declared actions, and their split by account.
/// Asked once per test binary: the answer depends only on the binary.
fn policies() -> &'static Value {
    static POLICIES: OnceLock<Value> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_custody"))
            .args(["iam-policy", "--all", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    })
}

/// Step name → the IAM actions its capabilities declare.
fn declared() -> BTreeMap<String, BTreeSet<String>> {
    serde_json::from_value(policies()["steps"].clone()).unwrap()
}

#[test]
fn ec2_triage_acquires_isolates_and_reports_a_rerun_changes_nothing_and_release_restores() {
    let world = World::seed();
    let instance = world.id("instance");
    let event = world.path("event.json");
    // The subnet holds the suspect alone here, so its network ACL may be isolated too.
    let settings_file = world.path("settings.json");
    let mut settings: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings_file).unwrap()).unwrap();
    settings["isolateSubnetNacl"] = Value::Bool(true);
    std::fs::write(&settings_file, settings.to_string()).unwrap();
    let before = world.inspect("none");

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

    // Disks: after two runs, exactly one snapshot per volume, tagged with the case, and exactly
    // one copy of each under the configured KMS key (tagged with its idempotency token).
    let volumes: BTreeSet<&str> = fx["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let snapshots = fx["snapshots"].as_array().unwrap();
    let (copies, originals): (Vec<&Value>, Vec<&Value>) = snapshots
        .iter()
        .partition(|s| s["tags"]["custody:copy-token"].is_string());
    let snapshotted: BTreeSet<&str> = originals
        .iter()
        .map(|s| s["volume"].as_str().unwrap())
        .collect();
    assert_eq!(originals.len(), volumes.len(), "{snapshots:#?}");
    assert_eq!(snapshotted, volumes, "{snapshots:#?}");
    assert_eq!(copies.len(), originals.len(), "{snapshots:#?}");
    for original in &originals {
        let token = format!("{case_id}-{}", original["id"].as_str().unwrap());
        let copy = copies
            .iter()
            .find(|c| c["tags"]["custody:copy-token"] == token.as_str())
            .unwrap_or_else(|| panic!("no copy of {original:#}"));
        assert_eq!(copy["encrypted"], true, "{copy:#}");
    }
    for s in snapshots {
        assert_eq!(s["tags"]["custody:case"].as_str(), Some(case_id.as_str()));
    }
    assert_eq!(
        fx["snapshots"], after_first["snapshots"],
        "a re-run made snapshots"
    );

    // Isolation: every network interface of the instance is in the quarantine group alone (the
    // instance-level SecurityGroups moto answers is not updated from its interfaces, so the
    // interfaces are what is checked), termination protection is on, the instance profile is
    // gone and the role's sessions are revoked by an inline policy.
    let original = world.id("securityGroup");
    let eni_groups = fx["eniGroups"].as_array().unwrap();
    assert!(!eni_groups.is_empty(), "{fx:#}");
    let quarantine_id = eni_groups[0][0].as_str().unwrap();
    assert_ne!(quarantine_id, original);
    for groups in eni_groups {
        assert_eq!(
            groups,
            &serde_json::json!([quarantine_id]),
            "{eni_groups:?}"
        );
    }
    let quarantine = &fx["securityGroups"][quarantine_id];
    assert_eq!(quarantine["ingress"], 0, "{quarantine:#}");
    assert_eq!(quarantine["egress"], 0, "{quarantine:#}");
    assert_eq!(fx["disableApiTermination"], true, "{fx:#}");
    assert_eq!(fx["profileAssociations"], serde_json::json!([]), "{fx:#}");
    let policies = fx["rolePolicies"].as_object().unwrap();
    assert_eq!(policies.len(), 1, "{policies:#?}");
    let policy = policies.values().next().unwrap().to_string();
    assert!(policy.contains("aws:TokenIssueTime"), "{policy}");

    // The case: stored in DynamoDB (read back through the adapter by the CLI and seen raw),
    // with evidence and actions, and the report.
    assert!(fx["caseItems"].as_u64().unwrap() > 1, "{fx:#}");
    assert!(case["actions"].as_array().unwrap().len() >= 2, "{case:#}");
    let report = &fx["objects"][&format!("cases/{case_id}/report.md")];
    let text = report["text"].as_str().unwrap();
    assert!(text.contains(&case_id), "{report:#}");
    assert!(
        text.contains("| computed by the source host, not by S3 |"),
        "{text}"
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

    // The subnet's network ACL is custody's, denying everything both ways.
    let acl = &fx["subnetAcl"][0];
    assert_ne!(acl["id"], before["subnetAcl"][0]["id"], "{fx:#}");
    let entries = acl["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{acl:#}");
    assert!(entries.iter().all(|e| e["action"] == "deny"), "{acl:#}");

    // Security Hub: the finding that started the case carries custody's note, NOTIFIED.
    let findings = fx["findings"].as_object().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = findings.values().next().unwrap();
    assert_eq!(finding["workflow"], "NOTIFIED", "{finding:#}");
    assert_eq!(finding["note"]["UpdatedBy"], "custody", "{finding:#}");
    assert!(
        finding["note"]["Text"].as_str().unwrap().contains(&case_id),
        "{finding:#}"
    );

    // Release: a responder lifts the isolation, and the instance is as it was before the case;
    // the evidence stays.
    let release = world.path("release.json");
    std::fs::write(
        &release,
        serde_json::json!({
            "caseId": case_id,
            "requestedBy": "arn:aws:iam::123456789012:user/responder",
            "reason": "rehearsal: the finding was a planned penetration test",
        })
        .to_string(),
    )
    .unwrap();
    let (code, released) = world.run_machine("forensic-release", &release, "release-1");
    assert_eq!(released["status"], "SUCCEEDED", "{released:#}");
    assert_eq!(code, 0);
    let after = world.inspect(&case_id);
    for fact in [
        "eniGroups",
        "subnetAcl",
        "disableApiTermination",
        "profileAssociations",
        "rolePolicies",
    ] {
        assert_eq!(after[fact], before[fact], "release left {fact} changed");
    }
    assert_eq!(after["snapshots"], fx["snapshots"]);
    assert_eq!(after["objects"][&image_key], fx["objects"][&image_key]);

    // IAM drift, per step, over the triage runs and the release.
    let mut exercised: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in ["triage-1", "release-1"] {
        let recorded = world.recorded(name);
        assert_declared(&recorded);
        for (step, actions) in recorded {
            exercised.entry(step).or_default().extend(actions);
        }
    }
    assert_exercised(&exercised);
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
    // Containment does not wait on evidence: the isolation the event asked for is applied even
    // though memory could not be captured, and the case holds it (so it can be released).
    let original = serde_json::json!([world.id("securityGroup")]);
    let eni_groups = fx["eniGroups"].as_array().unwrap();
    assert!(!eni_groups.is_empty(), "{fx:#}");
    assert!(eni_groups.iter().all(|g| *g != original), "{fx:#}");
    assert!(
        case["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "quarantineSecurityGroup" && a["status"] == "applied"),
        "{case:#}"
    );
    assert_declared(&world.recorded("no-tools-1"));
}
