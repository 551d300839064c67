//! The main job end to end: `custody run … --world`, `case show`, `release`, over the bundled
//! fixtures, each in its own state directory.
#![expect(clippy::unwrap_used, clippy::panic, reason = "tests")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn custody(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custody"))
        .current_dir(root())
        .arg_list(args)
        .arg("--state-dir")
        .arg(state)
        .args(if matches!(args.first(), Some(&"run" | &"release")) {
            &["--quiet"][..]
        } else {
            &[]
        })
        .output()
        .unwrap()
}

trait ArgList {
    fn arg_list(&mut self, args: &[&str]) -> &mut Self;
}

impl ArgList for Command {
    fn arg_list(&mut self, args: &[&str]) -> &mut Self {
        self.args(args)
    }
}

fn run_json(state: &Path, event: &str, world: &str) -> (Output, Value) {
    let out = custody(
        state,
        &[
            "run",
            "state-machines/forensic-triage.asl.json",
            "--event",
            event,
            "--world",
            world,
            "--json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, v)
}

const ISOLATION_EKS: &str =
    "tests/fixtures/events/securityhub-isolation-eks-runtime-bitcoin-tool.json";
const THREE_NODES: &str = "tests/fixtures/worlds/eks-three-nodes.json";

fn saved_world(state: &Path, case: &str) -> String {
    std::fs::read_to_string(state.join("cases").join(case).join("world.json")).unwrap()
}

#[test]
fn the_main_command_isolates_and_release_restores() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    // The readable summary.
    let out = custody(
        state,
        &[
            "run",
            "state-machines/forensic-triage.asl.json",
            "--event",
            ISOLATION_EKS,
            "--world",
            THREE_NODES,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "execution SUCCEEDED",
        "status    completed",
        "MemoryImage",
        "EbsSnapshot",
        "sha256   ",
        "CordonNode",
        "QuarantineSecurityGroup",
        "report    ",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let case = text
        .lines()
        .find_map(|l| l.strip_prefix("case      "))
        .unwrap()
        .trim()
        .to_owned();
    let report =
        std::fs::read_to_string(state.join("cases").join(&case).join("report.md")).unwrap();
    // Memory images are hashed by the host that captured them; the report says so.
    assert!(
        report.contains("| computed by the source host, not by S3 |"),
        "{report}"
    );
    let before = saved_world(state, &case);
    assert!(before.contains("custody.io/quarantine"));

    // case show reads the store.
    let shown = custody(state, &["case", "show", &case, "--json"]);
    assert!(shown.status.success());
    let record: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(record["status"], "completed");
    assert!(
        record["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "memoryImage" && e["sha256"].is_string())
    );
    let list = custody(state, &["case", "list"]);
    assert!(String::from_utf8(list.stdout).unwrap().contains(&case));

    // release undoes every action over the saved world.
    let released = custody(
        state,
        &[
            "release",
            &case,
            "--requested-by",
            "arn:aws:iam::111122223333:user/alice",
            "--reason",
            "contained",
            "--json",
        ],
    );
    assert!(
        released.status.success(),
        "{}",
        String::from_utf8_lossy(&released.stderr)
    );
    let v: Value = serde_json::from_slice(&released.stdout).unwrap();
    assert_eq!(v["case"]["status"], "released");
    assert_eq!(v["output"]["release"]["failed"], serde_json::json!([]));
    let undone = v["output"]["release"]["released"].as_array().unwrap().len();
    assert_eq!(undone, v["case"]["actions"].as_array().unwrap().len());
    let mut world: Value = serde_json::from_str(&saved_world(state, &case)).unwrap();
    world.as_object_mut().unwrap().remove("runtime");
    world.as_object_mut().unwrap().remove("settings");
    let nodes = world.to_string();
    assert!(
        !nodes.contains("custody.io/quarantine"),
        "the quarantine label is still on a pod"
    );
    assert!(
        !nodes.contains("custody-deny-all"),
        "the deny-all policy is still there"
    );
}

#[test]
fn a_protected_cluster_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (out, v) = run_json(
        dir.path(),
        ISOLATION_EKS,
        "tests/fixtures/worlds/eks-protected-cluster.json",
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["case"]["status"], "skipped", "{v}");
    assert_eq!(v["case"]["actions"], serde_json::json!([]));
    assert!(!v["case"]["plan"]["refusals"].as_array().unwrap().is_empty());
    let case = v["caseId"].as_str().unwrap();
    // Everything but the run-time records (calls, case, notifications) is as the fixture had it.
    let strip = |mut w: Value| {
        let o = w.as_object_mut().unwrap();
        for k in ["runtime", "now"] {
            o.remove(k);
        }
        w
    };
    let saved: Value = serde_json::from_str(&saved_world(dir.path(), case)).unwrap();
    // The fixture as the simulator writes it (defaults filled in).
    let fixture = custody_sim::World::from_json(
        &std::fs::read_to_string(root().join("tests/fixtures/worlds/eks-protected-cluster.json"))
            .unwrap(),
    )
    .unwrap()
    .to_json()
    .unwrap();
    let fixture: Value = serde_json::from_str(&fixture).unwrap();
    let (saved, fixture) = (strip(saved), strip(fixture));
    for key in fixture.as_object().unwrap().keys() {
        if key != "description" && key != "settings" {
            assert_eq!(saved[key], fixture[key], "{key} changed");
        }
    }
}

#[test]
fn a_bare_ec2_triage_only_event_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (out, v) = run_json(
        dir.path(),
        "tests/fixtures/events/securityhub-triage-ec2-ssh-bruteforce.json",
        "tests/fixtures/worlds/ec2-single.json",
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["case"]["status"], "completed");
    assert_eq!(v["case"]["actions"], serde_json::json!([]));
    assert!(
        v["case"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "ebsSnapshot")
    );
}

#[test]
fn a_failing_world_ends_failed_with_the_failure_on_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut world: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/worlds/ec2-single.json")).unwrap(),
    )
    .unwrap();
    world["faults"] = serde_json::json!([{"kind": "deny", "operation": "set_eni_groups"}]);
    let path = dir.path().join("denied.json");
    std::fs::write(&path, world.to_string()).unwrap();
    let (out, v) = run_json(
        dir.path(),
        "tests/fixtures/events/securityhub-isolation-ec2-ssh-bruteforce.json",
        path.to_str().unwrap(),
    );
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["status"], "FAILED");
    assert_eq!(v["error"], "Custody.AccessDenied");
    assert_eq!(v["case"]["status"], "failed");
    assert!(v["case"]["failure"].is_object());
}
