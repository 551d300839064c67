//! `custody iam-policy`: the committed `cdk/generated/step-actions.json` (what the CDK app grants)
//! must equal what the code declares, so a step that starts calling a new action fails here
//! until the file is regenerated:
//! `custody iam-policy --all --json > cdk/generated/step-actions.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn custody(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(args)
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn committed_step_actions_match_the_code() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdk/generated/step-actions.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let current = json(&custody(&["iam-policy", "--all", "--json"]));
    assert_eq!(
        committed, current,
        "cdk/generated/step-actions.json is stale: regenerate it with \
         `custody iam-policy --all --json > cdk/generated/step-actions.json`"
    );
}

#[test]
fn every_step_is_listed_with_actions_and_an_account_split() {
    let out = json(&custody(&["iam-policy", "--all", "--json"]));
    let steps = out["steps"].as_object().unwrap();
    assert_eq!(steps.len(), 14);
    for (name, actions) in steps {
        let actions: Vec<&str> = actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(!actions.is_empty(), "{name} has no actions");
        let mut sorted = actions.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, actions, "{name}: not sorted and unique");
        assert!(
            actions.iter().all(|a| a.contains(':')),
            "{name}: {actions:?}"
        );
        let split = &out["accounts"][name];
        let mut union: Vec<&str> = ["forensic", "target"]
            .iter()
            .flat_map(|k| {
                split[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
            })
            .collect();
        union.sort_unstable();
        union.dedup();
        assert_eq!(union, actions, "{name}: the split loses or adds actions");
    }
}

#[test]
fn one_step_prints_only_that_step() {
    let out = json(&custody(&["iam-policy", "--step", "isolate", "--json"]));
    let steps = out["steps"].as_object().unwrap();
    assert_eq!(steps.keys().collect::<Vec<_>>(), ["isolate"]);
    let target = out["accounts"]["isolate"]["target"].as_array().unwrap();
    assert!(
        target
            .iter()
            .any(|a| a == "ec2:ModifyNetworkInterfaceAttribute")
    );
    assert!(
        !out["accounts"]["isolate"]["forensic"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "ec2:ModifyNetworkInterfaceAttribute")
    );
}

#[test]
fn an_unknown_step_is_refused_by_name() {
    let o = custody(&["iam-policy", "--step", "isolate;rm", "--json"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown step \"isolate;rm\""), "{err}");
}

#[test]
fn step_and_all_are_exclusive_and_one_is_required() {
    assert!(!custody(&["iam-policy", "--json"]).status.success());
    assert!(
        !custody(&["iam-policy", "--all", "--step", "report"])
            .status
            .success()
    );
}
