//! Scenario tests: whole cases over the simulated world (issue 4, "Done when").

mod asl_run;
mod support;

use std::collections::BTreeSet;

use custody_core::case::{ActionStatus, CaseStatus, EvidenceKind};
use custody_core::error::ErrorName;
use custody_sim::model::Fault;
use custody_steps::StepName;
use serde_json::json;
use support::*;

fn evidence_kinds(case: &custody_core::case::Case) -> Vec<(String, EvidenceKind)> {
    case.evidence
        .iter()
        .map(|e| (e.id.clone(), e.kind))
        .collect()
}

#[tokio::test]
async fn triage_only_takes_evidence_and_changes_nothing() {
    let s = Scenario::new("eks-three-nodes");
    let run = s
        .run_case(pods_request(&[API_POD_1, API_POD_2], false))
        .await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    let case = s.case(&run.case_id).await;
    assert_eq!(case.status, CaseStatus::Completed);
    assert!(
        case.actions.is_empty(),
        "no isolation was asked: {:?}",
        case.actions
    );
    let kinds = evidence_kinds(&case);
    for node in [NODE_1, NODE_2] {
        assert!(
            kinds.contains(&(format!("memory/{node}"), EvidenceKind::MemoryImage)),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(format!("pod-pid-map/{node}"), EvidenceKind::PodPidMap)),
            "{kinds:?}"
        );
    }
    assert!(kinds.iter().any(|(_, k)| *k == EvidenceKind::EbsSnapshot));
    // No containment-port mutation anywhere.
    let containment: Vec<_> = s
        .world
        .calls()
        .into_iter()
        .filter(|c| c.is_mutation())
        .filter(|c| {
            matches!(
                c.capability.port,
                custody_steps::capability::PortName::Quarantine
                    | custody_steps::capability::PortName::Identity
                    | custody_steps::capability::PortName::Cluster
            ) || c.capability.operation.starts_with("set_")
                || c.capability.operation.contains("profile")
        })
        .collect();
    assert!(containment.is_empty(), "{containment:?}");
}

#[tokio::test]
async fn three_node_cluster_with_pods_on_two_nodes_touches_only_those_two() {
    let s = Scenario::new("eks-three-nodes");
    let run = s
        .run_case(pods_request(&[API_POD_1, API_POD_2], true))
        .await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    let targets: BTreeSet<String> = run.triage["memoryTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["instanceId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        targets,
        BTreeSet::from([NODE_1.to_owned(), NODE_2.to_owned()])
    );
    // The only mutation that reaches the third node is the revoke policy on the node group's
    // shared role (documented: it is named on the case); nothing acts on the node itself.
    let on_node_3: Vec<_> = s
        .mutations_on(NODE_3)
        .into_iter()
        .filter(|c| c.capability.port != custody_steps::capability::PortName::Identity)
        .collect();
    assert!(on_node_3.is_empty(), "{on_node_3:?}");
    let case = s.case(&run.case_id).await;
    assert!(
        case.timeline.iter().any(|t| t.message.contains(NODE_3)),
        "the shared-role effect on {NODE_3} is named"
    );
}

#[tokio::test]
async fn isolation_records_every_action_with_its_prior_state() {
    let s = Scenario::new("eks-three-nodes");
    let run = s
        .run_case(pods_request(&[API_POD_1, API_POD_2], true))
        .await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    let case = s.case(&run.case_id).await;
    assert_eq!(case.status, CaseStatus::Completed);
    let ids: BTreeSet<&str> = case.actions.iter().map(|a| a.id.as_str()).collect();
    for expected in [
        format!("label/payments/{API_POD_1}"),
        format!("label/payments/{API_POD_2}"),
        "cordon/ip-10-0-1-23.ec2.internal".to_owned(),
        "cordon/ip-10-0-1-57.ec2.internal".to_owned(),
        format!("termination-protection/{NODE_1}"),
        format!("preserve-volumes/{NODE_2}"),
        format!("profile/{NODE_1}"),
    ] {
        assert!(
            ids.contains(expected.as_str()),
            "missing {expected}: {ids:?}"
        );
    }
    assert!(
        ids.iter().any(|i| i.starts_with("netpol/payments/")),
        "{ids:?}"
    );
    assert!(ids.iter().any(|i| i.starts_with("sg/eni-")), "{ids:?}");
    assert!(
        case.actions
            .iter()
            .all(|a| a.status == ActionStatus::Applied),
        "{:?}",
        case.actions
    );
}

#[tokio::test]
async fn protected_instance_is_never_mutated() {
    let s = Scenario::new("ec2-protected-instance");
    let run = s.run_case(instance_request(BASTION, true)).await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    assert_eq!(run.triage["eligible"], json!(false));
    assert!(!run.triage["refusals"].as_array().unwrap().is_empty());
    let case = s.case(&run.case_id).await;
    assert_eq!(case.status, CaseStatus::Skipped);
    // Asked directly, the mutating steps refuse before touching anything.
    let item = json!({"caseId": run.case_id, "target": {"account": "111122223333", "region": "us-east-1", "instanceId": BASTION}});
    let err = s.step(StepName::Isolate, item.clone()).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Protected, "{err:?}");
    let err = s.step(StepName::SnapshotDisks, item).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Protected, "{err:?}");
    assert!(
        s.mutations_on(BASTION).is_empty(),
        "{:?}",
        s.mutations_on(BASTION)
    );
}

#[tokio::test]
async fn protected_cluster_is_never_mutated() {
    let s = Scenario::new("eks-protected-cluster");
    let run = s
        .run_case(pods_request(&[API_POD_1, API_POD_2], true))
        .await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    assert_eq!(run.triage["eligible"], json!(false));
    assert_eq!(s.case(&run.case_id).await.status, CaseStatus::Skipped);
    for resource in [NODE_1, NODE_2, NODE_3] {
        assert!(
            s.mutations_on(resource).is_empty(),
            "{resource}: {:?}",
            s.mutations_on(resource)
        );
    }
    let cluster = custody_sim::cluster_resource("prod-payments");
    assert!(
        s.mutations_on(&cluster).is_empty(),
        "{:?}",
        s.mutations_on(&cluster)
    );
}

#[tokio::test]
async fn bare_ec2_instance_is_captured_snapshotted_and_isolated() {
    let s = Scenario::new("ec2-single");
    let run = s.run_case(instance_request(BASTION, true)).await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    let case = s.case(&run.case_id).await;
    assert_eq!(case.status, CaseStatus::Completed);
    let memory = case
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::MemoryImage)
        .expect("memory image");
    assert_eq!(
        memory.method.as_deref(),
        Some("avml"),
        "no LiME module for this kernel"
    );
    assert!(memory.sha256.is_some());
    // The image's digest is the host's, and the record says so (S3 never computed it); the part
    // list S3 held was checked against the host's report before completion.
    assert_eq!(
        memory.digest_source,
        Some(custody_core::case::DigestSource::SourceHost)
    );
    assert!(memory.details["parts"]["count"].as_u64().unwrap() > 0);
    assert!(
        memory.details["integrity"]
            .as_str()
            .unwrap()
            .contains("not by S3")
    );
    // The investigation re-hashed the image it read and the case says so.
    assert!(
        case.timeline.iter().any(|t| t.kind == "evidence-reverified"
            && t.message.contains(&memory.id)
            && t.message.contains(memory.sha256.as_ref().unwrap().as_str())),
        "{:?}",
        case.timeline
    );
    assert!(
        case.actions.iter().any(|a| a.id.starts_with("revoke/")),
        "{:?}",
        case.actions
    );
    // The other instance sharing the profile is named on the case.
    assert!(
        case.timeline.iter().any(|t| t.message.contains(BASTION_2)),
        "{:?}",
        case.timeline
    );
    let on_other: Vec<_> = s
        .mutations_on(BASTION_2)
        .into_iter()
        .filter(|c| c.capability.port != custody_steps::capability::PortName::Identity)
        .collect();
    assert!(on_other.is_empty(), "{on_other:?}");
}

#[tokio::test]
async fn agent_offline_skips_memory_but_keeps_disk_and_isolation() {
    let s = Scenario::new("eks-agent-offline");
    let run = s
        .run_case(pods_request(&[API_POD_1, API_POD_2], true))
        .await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    let case = s.case(&run.case_id).await;
    assert_eq!(case.status, CaseStatus::Completed);
    let ids: BTreeSet<&str> = case.evidence.iter().map(|e| e.id.as_str()).collect();
    assert!(ids.contains(format!("memory/{NODE_1}").as_str()));
    assert!(!ids.contains(format!("memory/{NODE_2}").as_str()));
    assert!(
        case.timeline
            .iter()
            .any(|t| t.message.contains("not capturable") && t.message.contains(NODE_2))
    );
    assert!(
        case.actions
            .iter()
            .any(|a| a.id == format!("termination-protection/{NODE_2}"))
    );
    assert!(
        case.evidence.iter().any(
            |e| e.kind == EvidenceKind::EbsSnapshot && e.details["instanceId"] == json!(NODE_2)
        )
    );
}

#[tokio::test]
async fn a_denied_isolation_action_is_recorded_and_fails_the_step_after_the_others() {
    let s = Scenario::new("ec2-single");
    s.world.modify(|st| {
        st.faults.push(Fault::Deny {
            operation: "set_termination_protection".into(),
            resource: None,
        })
    });
    let run = s.run_case(instance_request(BASTION, true)).await;
    let (step, err) = run.failure.expect("isolation fails");
    assert_eq!(step, StepName::Isolate);
    assert_eq!(err.name, ErrorName::AccessDenied);
    assert!(
        err.cause.contains("termination-protection"),
        "{}",
        err.cause
    );
    let case = s.case(&run.case_id).await;
    assert_eq!(case.status, CaseStatus::Failed);
    let tp = case
        .actions
        .iter()
        .find(|a| a.id.starts_with("termination-protection/"))
        .unwrap();
    assert_eq!(tp.status, ActionStatus::Failed);
    // The other actions were still applied.
    assert!(
        case.actions
            .iter()
            .any(|a| a.id.starts_with("sg/") && a.status == ActionStatus::Applied)
    );
}

#[tokio::test]
async fn release_restores_exactly_the_prior_state() {
    let s = Scenario::new("eks-three-nodes");
    let target = |s: &Scenario| {
        let accounts = serde_json::to_value(s.world.snapshot_state().accounts).unwrap();
        accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == json!("111122223333"))
            .cloned()
            .unwrap()
    };
    let before = strip_created(target(&s));
    let run = s
        .run_case(pods_request(&[API_POD_1, API_POD_2], true))
        .await;
    assert!(run.failure.is_none(), "{:?}", run.failure);
    assert_ne!(
        strip_created(target(&s)),
        before,
        "isolation changed the account"
    );
    let out = s
        .step(StepName::Release, json!({"caseId": run.case_id, "requestedBy": "arn:aws:iam::111122223333:user/bob", "reason": "false positive"}))
        .await
        .unwrap();
    assert!(!out["released"].as_array().unwrap().is_empty());
    let after = strip_created(target(&s));
    let mut differences = Vec::new();
    diff("$", &before, &after, &mut differences);
    assert!(
        differences.is_empty(),
        "release left differences: {differences:#?}"
    );
    let case = s.case(&run.case_id).await;
    assert!(
        case.actions
            .iter()
            .all(|a| a.status == ActionStatus::Released),
        "{:?}",
        case.actions
    );
    assert!(
        case.timeline
            .iter()
            .any(|t| format!("{:?}", t.actor).contains("bob"))
    );
}

/// The quarantine group is created once per VPC and kept for the next case (release moves every
/// ENI back off it); it is taken out of the comparison, and so are instance-profile association
/// ids (re-associating the recorded profile necessarily gets a new association id from EC2).
fn strip_created(mut account: serde_json::Value) -> serde_json::Value {
    if let Some(instances) = account["instances"].as_array_mut() {
        for instance in instances {
            if let Some(profile) = instance["profile"].as_object_mut() {
                profile.remove("associationId");
            }
        }
    }
    if let Some(vpcs) = account["vpcs"].as_array_mut() {
        for vpc in vpcs {
            if let Some(groups) = vpc["securityGroups"].as_array_mut() {
                groups.retain(|g| {
                    !g["name"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("custody-quarantine-")
                });
            }
        }
    }
    account
}

/// Paths where two JSON values differ.
fn diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            for key in x.keys().chain(y.keys()).collect::<BTreeSet<_>>() {
                let null = serde_json::Value::Null;
                diff(
                    &format!("{path}.{key}"),
                    x.get(key).unwrap_or(&null),
                    y.get(key).unwrap_or(&null),
                    out,
                );
            }
        }
        (serde_json::Value::Array(x), serde_json::Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} -> {b}")),
        _ => {}
    }
}

#[tokio::test]
async fn every_step_run_twice_creates_nothing_twice() {
    // The same case twice: once normally, once with every step invoked twice in a row with the
    // same input (as a Lambda retry after a lost response would). The world must end up with the
    // same resources, and the case with the same evidence and actions.
    let once = Scenario::new("eks-three-nodes");
    let run_once = once
        .run_case(pods_request(&[API_POD_1, API_POD_2], true))
        .await;
    assert!(run_once.failure.is_none(), "{:?}", run_once.failure);
    let twice = Scenario::new("eks-three-nodes").doubled();
    let run_twice = twice
        .run_case(pods_request(&[API_POD_1, API_POD_2], true))
        .await;
    assert!(run_twice.failure.is_none(), "{:?}", run_twice.failure);
    assert_eq!(
        run_once.case_id, run_twice.case_id,
        "same execution, same case"
    );

    let (a, b) = (
        once.case(&run_once.case_id).await,
        twice.case(&run_twice.case_id).await,
    );
    let ids = |c: &custody_core::case::Case| {
        (
            // Snapshot ids are the world's own and differ between the two worlds.
            c.evidence
                .iter()
                .map(|e| {
                    if e.id.starts_with("snapshot/") {
                        "snapshot/*".to_owned()
                    } else {
                        e.id.clone()
                    }
                })
                .collect::<Vec<_>>(),
            c.actions
                .iter()
                .map(|x| (x.id.clone(), x.status))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(ids(&a), ids(&b), "no second evidence or action");
    assert_eq!(b.status, CaseStatus::Completed);
    let (sa, sb) = (once.world.snapshot_state(), twice.world.snapshot_state());
    assert_eq!(
        sa.runtime.snapshots.len(),
        sb.runtime.snapshots.len(),
        "no second snapshot"
    );
    assert_eq!(
        sa.runtime.commands.len(),
        sb.runtime.commands.len(),
        "no second command"
    );
    assert_eq!(sb.runtime.cases.len(), 1, "no second case");
    let count = |st: &custody_sim::model::WorldState, needle: &str| {
        serde_json::to_value(&st.accounts)
            .unwrap()
            .to_string()
            .matches(needle)
            .count()
    };
    for needle in [
        "custody-quarantine-",
        "custody-revoke-",
        "custody-deny-all-",
        "\"clientToken\":\"case-",
    ] {
        assert_eq!(count(&sa, needle), count(&sb, needle), "no second {needle}");
    }
}
